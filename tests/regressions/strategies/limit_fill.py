"""LEAN LimitFillRegressionAlgorithm: hourly limit orders at the last price on second data."""

from datetime import datetime

from leand import Resolution, Strategy


class LimitFillRegressionAlgorithm(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.set_cash(100000)
        self.spy = self.add_equity("SPY", Resolution.SECOND).symbol

    def on_data(self, data):
        if self.spy not in data.bars:
            return
        t = self.time
        if t.minute == 0 and t.second == 0:
            price = data.bars[self.spy].close
            qty = 10 if t < datetime(2013, 10, 9) else -10
            self.limit_order(self.spy, qty, price)
