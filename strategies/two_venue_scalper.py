"""A small live example trading on two venues at once: it leans against short-term moves of each symbol's mid.

``symbols`` names each market as ``TICKER@market`` (``BTCUSD@coinbase`` is the paper venue's, ``BTCUSDT@binance``
is ``leand sim serve``'s); the daemon sends each order to the venue that trades its symbol. For every symbol on
its own: every few quotes, below a short average it buys a clip (alternately at market and with a limit at the
bid), above it sells what it holds with a limit at the ask; a limit still working at the next decision is
cancelled. It trades often on purpose, so both venues' order paths and the accounts have work to do.
"""

from collections import deque

from leand import Resolution, Strategy
from leand.model import QuoteTick


class TwoVenueScalper(Strategy):
    parameters = {"symbols": "BTCUSD@coinbase,BTCUSDT@binance", "clip": 0.001, "lookback": 10, "every": 3,
                  "max_position": 0.005}

    def initialize(self) -> None:
        self.set_cash(100_000)
        self.legs = {}
        for spec in str(self.get_parameter("symbols", "")).split(","):
            ticker, _, market = spec.strip().partition("@")
            sym = self.add_crypto(ticker, Resolution.TICK, market=market or "coinbase").symbol
            self.legs[sym] = {"mids": deque(maxlen=int(self.get_parameter("lookback", 10))), "count": 0,
                              "working": None}

    def on_data(self, data) -> None:
        for sym, leg in self.legs.items():
            ticks = data.ticks.get(sym)
            q = next((t for t in reversed(ticks or ()) if isinstance(t, QuoteTick)), None)
            if q is not None and q.bid_price and q.ask_price:
                self._decide(sym, leg, q)

    def _decide(self, sym, leg, q) -> None:
        mid = (q.bid_price + q.ask_price) / 2
        mids = leg["mids"]
        mids.append(mid)
        leg["count"] += 1
        every = int(self.get_parameter("every", 3))
        if leg["count"] % every or len(mids) < mids.maxlen:
            return
        working = leg["working"]
        if working is not None and working.order.is_open:
            working.cancel("stale")
            return
        avg = sum(mids) / len(mids)
        clip = float(self.get_parameter("clip", 0.001))
        held = self.securities[sym].holdings.quantity  # what this strategy holds on this symbol's venue
        if mid <= avg and held + clip <= float(self.get_parameter("max_position", 0.005)) + 1e-12:
            if (leg["count"] // every) % 2:
                leg["working"] = self.market_order(sym, clip)
            else:
                leg["working"] = self.limit_order(sym, clip, q.bid_price)
        elif held >= clip - 1e-12:
            leg["working"] = self.limit_order(sym, -clip, q.ask_price)

    def get_state(self) -> dict:
        return {str(s): leg["count"] for s, leg in self.legs.items()}

    def set_state(self, state: dict) -> None:
        for s, leg in self.legs.items():
            leg["count"] = int(state.get(str(s), 0))
