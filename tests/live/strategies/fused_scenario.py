"""A scripted live scenario for the fused order path's test: market and limit orders that fill, rest, are
canceled and updated, and orders refused by the order manager (quantity rounding to zero, buying power) and by the
risk gate, plus orders only the general path takes (a ticker, IOC), then set_holdings and liquidate, each at a
fixed quote number. ``QuietScenario`` is the same without an order-event handler (the fused path then records the
decision and the gate's verdict after the request left)."""

from leand import Resolution, Strategy
from leand.model import TimeInForce


class FusedScenario(Strategy):
    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.n = 0
        self.events: list[tuple] = []
        self.tickets: list = []
        self.resting = None
        self.done = False

    def on_data(self, data) -> None:
        self.n += 1
        n, sym = self.n, self.symbol
        q = self.securities[sym]
        bid, ask = q.bid, q.ask
        t = None
        if n == 5:
            t = self.market_order(sym, 0.01)
        elif n == 7:
            t = self.market_order(sym, -0.01, tag="sell")
        elif n == 9:
            t = self.resting = self.limit_order(sym, 0.02, round(bid * 0.9, 2), tag="rest")
        elif n == 11:
            t = self.limit_order(sym, -0.01, round(bid * 0.99, 2), tag="cross")
        elif n == 13:
            t = self.market_order(sym, 5.0)  # the risk gate: max_order_quantity
        elif n == 15:
            t = self.limit_order(sym, 0.9, ask * 50)  # buying power
        elif n == 17:
            t = self.market_order(sym, 0.000001)  # rounds to zero
        elif n == 19:
            self.resting.update(limit_price=round(bid * 0.95, 2))
        elif n == 21:
            self.resting.cancel()
        elif n == 23:
            t = self.market_order("BTCUSD", 0.01)  # a ticker: the general path
        elif n == 25:
            t = self.limit_order(sym, -0.01, round(bid * 0.98, 2), time_in_force=TimeInForce.IOC)
        elif n == 27:
            t = self.limit_order(sym, 0.01, bid + 0.005)  # off the tick grid: rounded
        elif 29 <= n < 69:
            t = self.market_order(sym, 0.001 if n % 2 else -0.001)
        elif n == 70:
            self.tickets += self.set_holdings(sym, 0.01, tag="sized")
        elif n == 72:
            self.tickets += self.liquidate(sym, tag="flat")
        elif n == 74:
            self.done = True
        if t is not None:
            self.tickets.append(t)

    def on_order_event(self, event) -> None:
        self.events.append((event.order_id, event.status.value, event.code, event.message, event.quantity,
                            event.limit_price, event.fill_quantity, event.fill_price, event.fee))


class QuietScenario(FusedScenario):
    on_order_event = Strategy.on_order_event  # not overridden: the engine builds no events
