"""LEAN BasicTemplateCryptoAlgorithm: Coinbase cash account, several pairs and currencies."""

from leand import AccountType, OrderType, Resolution, Strategy


class BasicTemplateCryptoAlgorithm(Strategy):
    def initialize(self):
        self.set_start_date(2018, 4, 4)
        self.set_end_date(2018, 4, 4)
        self.set_cash(10000)
        self.set_cash("EUR", 10000)
        self.set_cash("BTC", 1)
        self.set_cash("ETH", 5)
        self.set_brokerage_model("coinbase", AccountType.CASH)
        self.btcusd = self.add_crypto("BTCUSD", Resolution.MINUTE).symbol
        self.ethusd = self.add_crypto("ETHUSD", Resolution.MINUTE).symbol
        self.btceur = self.add_crypto("BTCEUR", Resolution.MINUTE).symbol
        self.ltcusd = self.add_crypto("LTCUSD", Resolution.MINUTE).symbol
        self.fast = self.ema(self.ltcusd, 30, Resolution.MINUTE)
        self.slow = self.ema(self.ltcusd, 60, Resolution.MINUTE)

    def on_data(self, data):
        t = self.time
        cash = self.portfolio.cash_book
        if t.hour == 1 and t.minute == 0:
            limit = round(self.securities[self.ethusd].price * 1.01, 2)
            self.limit_order(self.ethusd, -cash["ETH"].amount, limit)
        elif t.hour == 2 and t.minute == 0:
            usd = cash["USD"].amount
            limit = round(self.securities[self.btcusd].price * 0.95, 2)
            self.limit_order(self.btcusd, usd * 0.5 / limit, limit)
        elif t.hour == 2 and t.minute == 1:
            usd_total = cash["USD"].amount
            usd_reserved = sum(o.quantity * o.limit_price for o in self.get_open_orders()
                               if o.quantity > 0 and o.type is OrderType.LIMIT
                               and o.symbol in (self.btcusd, self.ethusd))
            usd_available = usd_total - usd_reserved
            limit = round(self.securities[self.ethusd].price * 1.01, 2)
            self.limit_order(self.ethusd, usd_available / limit, limit)
            self.limit_order(self.ethusd, usd_available * 0.5 / limit, limit)
        elif t.hour == 11 and t.minute == 0:
            self.set_holdings(self.btcusd, 0)
        elif t.hour == 12 and t.minute == 0:
            self.market_order(self.btceur, 1)
            limit = round(self.securities[self.btceur].price * 1.1, 2)
            self.limit_order(self.btceur, -1, limit)
        elif t.hour == 13 and t.minute == 0:
            self.cancel_open_orders(self.btceur)
        elif t.hour > 13:
            if self.fast.value > self.slow.value:
                if cash["LTC"].amount == 0:
                    self.market_order(self.ltcusd, 10)
            elif cash["LTC"].amount > 0:
                self.liquidate(self.ltcusd)
