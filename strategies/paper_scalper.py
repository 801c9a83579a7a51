"""A small live example for the paper venue: it leans against short-term moves in BTCUSD quotes.

Every few quotes it compares the mid with a short average of mids: below it, it bids for a clip; above it, it
offers what it holds; a resting order older than a few quotes is cancelled. It trades often on purpose, so the
daemon's journal, reconciliation and crash recovery have work to do.
"""

from collections import deque

from leand import Resolution, Strategy


class PaperScalper(Strategy):
    parameters = {"ticker": "BTCUSD", "clip": 0.01, "lookback": 20, "every": 5, "max_position": 0.05}

    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto(str(self.get_parameter("ticker", "BTCUSD")), Resolution.TICK).symbol
        self.mids: deque[float] = deque(maxlen=int(self.get_parameter("lookback", 20)))
        self.count = 0
        self.working = None

    def on_data(self, data) -> None:
        ticks = data.ticks.get(self.symbol)
        if not ticks:
            return
        q = ticks[-1]
        if not (q.bid_price and q.ask_price):
            return
        mid = (q.bid_price + q.ask_price) / 2
        self.mids.append(mid)
        self.count += 1
        if self.count % int(self.get_parameter("every", 5)) or len(self.mids) < self.mids.maxlen:
            return
        if self.working is not None and self.working.order.is_open:
            self.working.cancel("stale")
            return
        avg = sum(self.mids) / len(self.mids)
        clip = float(self.get_parameter("clip", 0.01))
        held = self.portfolio.cash_book["BTC"].amount if "BTC" in self.portfolio.cash_book else 0.0
        if mid < avg and held + clip <= float(self.get_parameter("max_position", 0.05)) + 1e-12:
            if self.count % 3 == 0:
                self.working = self.market_order(self.symbol, clip)
            else:
                self.working = self.limit_order(self.symbol, clip, q.bid_price)
        elif mid > avg and held >= clip - 1e-12:
            self.working = self.limit_order(self.symbol, -clip, q.ask_price)

    def get_state(self) -> dict:
        return {"count": self.count}

    def set_state(self, state: dict) -> None:
        self.count = int(state.get("count", 0))
