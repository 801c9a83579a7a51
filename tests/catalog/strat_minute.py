"""Minute SPY and IBM (trades and quotes), adjusted, trading on an EMA cross: the catalogue equality check."""

from leand import Resolution, Strategy


class MinuteCross(Strategy):
    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.set_cash(100_000)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.ibm = self.add_equity("IBM", Resolution.MINUTE).symbol
        self.fast = self.ema(self.spy, 5)
        self.slow = self.ema(self.spy, 20)

    def on_data(self, data) -> None:
        if not self.slow.is_ready:
            return
        if self.fast.value > self.slow.value and not self.portfolio[self.spy].invested:
            self.set_holdings(self.spy, 0.5)
            self.limit_order(self.ibm, 10, round(self.securities[self.ibm].price * 0.999, 2))
        elif self.fast.value < self.slow.value and self.portfolio[self.spy].invested:
            self.liquidate()
