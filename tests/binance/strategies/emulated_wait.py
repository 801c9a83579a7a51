"""Binance restart test strategy: one order of a type the venue lacks (a limit-if-touched far below the market,
emulated by the order manager and never sent until it triggers), placed once; a restarted daemon adopts it."""

from leand import Resolution, Strategy
from leand.model import QuoteTick


class EmulatedWait(Strategy):
    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSDT", Resolution.TICK, market="binance").symbol
        self.placed = False

    def on_order_event(self, event) -> None:
        self.log(f"EVENT {event.status.value} {event.code} {event.client_order_id}")

    def on_data(self, data) -> None:
        if self.placed or self.get_open_orders():  # after a restart the adopted order is the one placed
            self.placed = True
            return
        ticks = data.ticks.get(self.symbol)
        q = next((t for t in reversed(ticks or ()) if isinstance(t, QuoteTick)), None)
        if q is None or not (q.bid_price and q.ask_price):
            return
        far = round(q.bid_price * 0.5, 2)
        self.limit_if_touched_order(self.symbol, 0.001, far, far, tag="lit")
        self.placed = True
