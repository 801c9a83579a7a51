"""LEAN BasicTemplateAlgorithm: SetHoldings(SPY, 100%) when not invested (minute data)."""

from leand import Resolution, Strategy


class BasicTemplateAlgorithm(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.set_cash(100000)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol

    def on_data(self, data):
        if not self.portfolio.invested:
            self.set_holdings(self.spy, 1)
