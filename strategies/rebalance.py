"""Multi-symbol rebalance: hold SPY, IBM, AAPL and BAC in equal weight, rebalanced at the start of each month."""

from leand import Resolution, Strategy


class MonthlyRebalance(Strategy):
    parameters = {"tickers": "SPY,IBM,AAPL,BAC"}

    def initialize(self) -> None:
        self.set_start_date(2010, 1, 1)
        self.set_end_date(2014, 12, 31)
        self.set_cash(100_000)
        tickers = str(self.get_parameter("tickers", "SPY,IBM,AAPL,BAC")).split(",")
        self.symbols = [self.add_equity(t, Resolution.DAILY).symbol for t in tickers]
        self.schedule.on(self.date_rules.month_start(self.symbols[0]),
                         self.time_rules.after_market_open(self.symbols[0], 30), self.rebalance)
        self.pending = True

    def rebalance(self) -> None:
        self.pending = True

    def on_data(self, data) -> None:
        if not self.pending or not all(self.securities[s].price for s in self.symbols):
            return
        weight = 1.0 / len(self.symbols)
        self.set_holdings([(s, weight) for s in self.symbols])
        self.pending = False
