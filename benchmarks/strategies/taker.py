"""Benchmark strategy: a market order every ``every``-th quote, alternating buy and sell (the position stays
flat), so tick-to-order is measured on orders the quote itself caused."""

from leand import Resolution, Strategy


class Taker(Strategy):
    parameters = {"ticker": "BTCUSD", "market": "", "every": 10, "clip": 0.001}

    def initialize(self) -> None:
        self.set_cash(1_000_000)
        market = str(self.get_parameter("market", "")) or None
        self.symbol = self.add_crypto(str(self.get_parameter("ticker", "BTCUSD")), Resolution.TICK,
                                      market=market).symbol
        self.every = int(self.get_parameter("every", 10))
        self.clip = float(self.get_parameter("clip", 0.001))
        self.n = 0
        self.side = 1.0

    def on_data(self, data) -> None:
        self.n += 1
        if self.n % self.every == 0:
            self.market_order(self.symbol, self.side * self.clip)
            self.side = -self.side
