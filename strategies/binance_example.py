"""A small live example for a Binance-protocol venue (Binance, its testnet or ``leand sim serve``).

It leans against short-term moves of the BTCUSDT mid: every few quotes, below a short average it buys a clip
(alternately at market and with a limit at the bid), above it sells what it holds with a limit at the ask; a
limit still working at the next decision is cancelled. It trades often on purpose, so the adapter's order
path, user-data stream and reconciliation have work to do. Trade ticks (``trades = true``) only update prices.
"""

from collections import deque

from leand import Resolution, Strategy
from leand.model import QuoteTick


class BinanceExample(Strategy):
    parameters = {"ticker": "BTCUSDT", "market": "binance", "clip": 0.001, "lookback": 10, "every": 3,
                  "max_position": 0.005}

    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto(str(self.get_parameter("ticker", "BTCUSDT")), Resolution.TICK,
                                      market=str(self.get_parameter("market", "binance"))).symbol
        self.mids: deque[float] = deque(maxlen=int(self.get_parameter("lookback", 10)))
        self.count = 0
        self.working = None

    def on_data(self, data) -> None:
        ticks = data.ticks.get(self.symbol)
        q = next((t for t in reversed(ticks or ()) if isinstance(t, QuoteTick)), None)
        if q is None or not (q.bid_price and q.ask_price):
            return
        mid = (q.bid_price + q.ask_price) / 2
        self.mids.append(mid)
        self.count += 1
        if self.count % int(self.get_parameter("every", 3)) or len(self.mids) < self.mids.maxlen:
            return
        if self.working is not None and self.working.order.is_open:
            self.working.cancel("stale")
            return
        avg = sum(self.mids) / len(self.mids)
        clip = float(self.get_parameter("clip", 0.001))
        held = self.securities[self.symbol].holdings.quantity  # what this strategy bought, not the account
        buy_room = held + clip <= float(self.get_parameter("max_position", 0.005)) + 1e-12
        if mid <= avg and buy_room:
            if (self.count // int(self.get_parameter("every", 3))) % 2:
                self.working = self.market_order(self.symbol, clip)
            else:
                self.working = self.limit_order(self.symbol, clip, q.bid_price)
        elif held >= clip - 1e-12:
            if (self.count // int(self.get_parameter("every", 3))) % 3 == 0:
                self.working = self.market_order(self.symbol, -clip)
            else:
                self.working = self.limit_order(self.symbol, -clip, q.ask_price)

    def get_state(self) -> dict:
        return {"count": self.count}

    def set_state(self, state: dict) -> None:
        self.count = int(state.get("count", 0))
