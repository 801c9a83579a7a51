"""LEAN StatisticsResultsAlgorithm: SPY and IBM EMA signals (all EMAs on SPY closes), minute data."""

from leand import Resolution, Strategy


class StatisticsResultsAlgorithm(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.set_cash(100000)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.ibm = self.add_equity("IBM", Resolution.MINUTE).symbol
        self.fast_spy = self.ema(self.spy, 30, Resolution.MINUTE)
        self.slow_spy = self.ema(self.spy, 60, Resolution.MINUTE)
        self.fast_ibm = self.ema(self.spy, 10, Resolution.MINUTE)
        self.slow_ibm = self.ema(self.spy, 30, Resolution.MINUTE)
        self.trade_counts = {self.spy: 0, self.ibm: 0}

    def on_data(self, data):
        if not self.slow_spy.is_ready:
            return
        if self.fast_spy.value > self.slow_spy.value:
            self.set_holdings(self.spy, 0.5)
        elif self.portfolio[self.spy].invested:
            self.liquidate(self.spy)
        if self.fast_ibm.value > self.slow_ibm.value:
            self.set_holdings(self.ibm, 0.2)
        elif self.portfolio[self.ibm].invested:
            self.liquidate(self.ibm)

    def on_order_event(self, event):
        if event.fill_quantity:
            self.trade_counts[event.symbol] += 1

    def on_end_of_algorithm(self):
        most = max(self.trade_counts, key=lambda s: self.trade_counts[s])
        self.set_summary_statistic("Most Traded Security", most.value)
        self.set_summary_statistic("Most Traded Security Trade Count", self.trade_counts[most])
