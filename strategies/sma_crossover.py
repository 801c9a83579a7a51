"""SMA crossover, long only: hold SPY while the fast average is above the slow one."""

from leand import Resolution, Strategy


class SmaCrossover(Strategy):
    parameters = {"fast": 10, "slow": 30}

    def initialize(self) -> None:
        self.set_start_date(2004, 1, 1)
        self.set_end_date(2014, 12, 31)
        self.set_cash(100_000)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
        self.fast = self.sma(self.spy, int(self.get_parameter("fast", 10)))
        self.slow = self.sma(self.spy, int(self.get_parameter("slow", 30)))

    def on_data(self, data) -> None:
        if not self.slow.is_ready:
            return
        invested = self.portfolio[self.spy].quantity > 0
        if self.fast.value > self.slow.value and not invested:
            self.set_holdings(self.spy, 1.0)
        elif self.fast.value < self.slow.value and invested:
            self.liquidate(self.spy)
