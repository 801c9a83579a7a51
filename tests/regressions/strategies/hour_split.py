"""LEAN HourSplitRegressionAlgorithm: hour bars across AAPL's 7:1 split, benchmark constant 0."""

from datetime import date

from leand import Resolution, Strategy


class HourSplitRegressionAlgorithm(Strategy):
    def initialize(self):
        self.set_start_date(2014, 6, 6)
        self.set_end_date(2014, 6, 9)
        self.set_cash(100000)
        self.set_benchmark(0)
        self.aapl = self.add_equity("AAPL", Resolution.HOUR).symbol
        self.bars = 0
        self.split_warnings = 0
        self.splits = 0

    def on_data(self, data):
        if self.aapl in data.bars:
            self.bars += 1
        for split in data.splits.values():
            if split.warning:
                self.split_warnings += 1
            else:
                self.splits += 1
        if self.time.date() == date(2014, 6, 9) and not self.portfolio.invested and self.aapl in data.bars:
            self.market_order(self.aapl, 1)
