"""Buy and hold: put the whole portfolio in SPY on the first bar and keep it."""

from leand import Resolution, Strategy


class BuyAndHold(Strategy):
    parameters = {"ticker": "SPY"}

    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.set_cash(100_000)
        self.symbol = self.add_equity(self.get_parameter("ticker", "SPY"), Resolution.MINUTE).symbol

    def on_data(self, data) -> None:
        if not self.portfolio.invested:
            self.set_holdings(self.symbol, 1.0)
