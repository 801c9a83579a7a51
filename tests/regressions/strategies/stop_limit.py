"""LEAN StopLimitOrderRegressionAlgorithm: EMA(30)/EMA(60) stop-limit entries and exits on daily bars."""

from leand import OrderStatus, Resolution, Strategy


class StopLimitOrderRegressionAlgorithm(Strategy):
    def initialize(self):
        self.set_start_date(2013, 1, 1)
        self.set_end_date(2017, 1, 1)
        self.set_cash(100000)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
        self.fast = self.ema(self.spy, 30, Resolution.DAILY)
        self.slow = self.ema(self.spy, 60, Resolution.DAILY)
        self.buy = None
        self.sell = None

    def on_data(self, data):
        if not (self.fast.is_ready and self.slow.is_ready):
            return
        bar = data.bars.get(self.spy)
        if bar is None:
            return
        tolerance = 0.001
        if self.buy is None and self.fast.value > self.slow.value * (1 + tolerance):
            self.buy = self.stop_limit_order(self.spy, 100, bar.high * 1.10, bar.high * 1.11)
        elif (self.buy is not None and self.buy.status is OrderStatus.FILLED and self.sell is None
              and self.fast.value < self.slow.value * (1 + tolerance)):
            self.sell = self.stop_limit_order(self.spy, -100, bar.low * 0.99, bar.low * 0.98)
