"""Minute BTCUSD on Coinbase: buy a dip, sell a rise."""

from leand import Resolution, Strategy


class CryptoDip(Strategy):
    def initialize(self) -> None:
        self.set_start_date(2018, 4, 4)
        self.set_end_date(2018, 4, 5)
        self.set_cash(100_000)
        self.set_brokerage_model("coinbase")
        self.btc = self.add_crypto("BTCUSD", Resolution.MINUTE).symbol
        self.sma = self.sma(self.btc, 30)

    def on_data(self, data) -> None:
        if not self.sma.is_ready:
            return
        price = self.securities[self.btc].price
        held = self.portfolio[self.btc].quantity
        if price < self.sma.value * 0.999 and held <= 0:
            self.market_order(self.btc, 0.5)
        elif price > self.sma.value * 1.001 and held > 0:
            self.liquidate(self.btc)
