"""LEAN BasicTemplateDailyAlgorithm: the same on daily bars (orders at 16:00 become market-on-open)."""

from leand import Resolution, Strategy


class BasicTemplateDailyAlgorithm(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 8)
        self.set_end_date(2013, 10, 17)
        self.set_cash(100000)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol

    def on_data(self, data):
        if not self.portfolio.invested:
            self.set_holdings(self.spy, 1)
