"""Crash-test strategy: a buy limit rests at the bid; on the quote whose ask reaches it (the paper venue has
filled it before the strategy sees that quote, and reports it after) the strategy sends a market order, which
fills, and is reported, at once: the venue's later fill id reaches the journal before its earlier one."""

from leand import Resolution, Strategy


class CrossThenMarket(Strategy):
    parameters = {"clip": 0.01}

    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.limit = None
        self.done = False

    def on_data(self, data) -> None:
        if self.done or self.portfolio[self.symbol].quantity:  # after a restart: what was done is done
            self.done = True
            return
        ticks = data.ticks.get(self.symbol)
        if not ticks or not (ticks[-1].bid_price and ticks[-1].ask_price):
            return
        q = ticks[-1]
        clip = float(self.get_parameter("clip", 0.01))
        if self.limit is None:
            self.limit = self.limit_order(self.symbol, clip, q.bid_price, tag="rest")
        elif q.ask_price <= self.limit.order.limit_price:  # the venue matched it on this very quote
            self.market_order(self.symbol, clip, tag="chase")
            self.done = True
