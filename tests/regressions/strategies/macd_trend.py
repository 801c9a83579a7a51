"""LEAN MACDTrendAlgorithm: MACD(12, 26, 9) trend following on daily SPY, once per calendar day."""

from leand import Resolution, Strategy


class MACDTrendAlgorithm(Strategy):
    def initialize(self):
        self.set_start_date(2004, 1, 1)
        self.set_end_date(2015, 1, 1)
        self.set_cash(100000)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
        self.macd = self.macd_indicator = self.indicator("macd", self.spy, 12, 26, 9)
        self.previous = None

    def on_data(self, data):
        if not self.macd.is_ready:
            return
        if self.previous is not None and self.previous.date() == self.time.date():
            return
        tolerance = 0.0025
        holdings = self.portfolio[self.spy].quantity
        signal_delta_percent = (self.macd.value - self.macd.signal.value) / self.macd.fast.value
        if holdings <= 0 and signal_delta_percent > tolerance:
            self.set_holdings(self.spy, 1.0)
        elif holdings >= 0 and signal_delta_percent < -tolerance:
            self.liquidate(self.spy)
        self.previous = self.time
