"""Binance native-order-list test strategy: a resting limit buy updated twice (price, then quantity) and a
bracket whose exits are armed when its market entry fills (``bracket = 2``: a resting limit entry, sent with its
exits as one order list; ``oco = 1``: a limit buy and a limit sell linked by ``one_cancels_other``). Each is placed once (a restarted daemon adopts them); every order event is logged so the
test can read what the strategy saw."""

from leand import Resolution, Strategy
from leand.model import QuoteTick


class ReplaceAndBracket(Strategy):
    parameters = {"clip": 0.001, "bracket": 1, "oco": 0}

    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSDT", Resolution.TICK, market="binance").symbol
        self.step = 0
        self.ticks = 0
        self.limit = None

    def on_order_event(self, event) -> None:
        self.log(f"EVENT {event.order_id} {event.status.value} {event.code} {event.client_order_id} "
                 f"q={event.quantity:g} lp={event.limit_price} fq={event.fill_quantity:g} msg={event.message}")

    def on_data(self, data) -> None:
        ticks = data.ticks.get(self.symbol)
        q = next((t for t in reversed(ticks or ()) if isinstance(t, QuoteTick)), None)
        if q is None or not (q.bid_price and q.ask_price):
            return
        self.ticks += 1
        if self.ticks % 5 or self.step > 3:
            return
        if self.step == 0 and self.get_open_orders():  # a restart: the adopted orders are the ones placed
            self.step = 9
            return
        clip = float(self.get_parameter("clip", 0.001))
        bid = q.bid_price
        if self.step == 0:
            self.limit = self.limit_order(self.symbol, clip, round(bid * 0.98, 2), tag="replace-me")
        elif self.step == 1:
            self.limit.update(limit_price=round(bid * 0.97, 2))
        elif self.step == 2:
            self.limit.update(quantity=2 * clip)
        elif self.step == 3 and int(self.get_parameter("oco", 0)):  # two open orders linked by leand
            a = self.limit_order(self.symbol, clip, round(bid * 0.99, 2), tag="oco-buy")
            b = self.limit_order(self.symbol, -clip, round(q.ask_price * 1.01, 2), tag="oco-sell")
            self.one_cancels_other(a, b)
        elif self.step == 3 and int(self.get_parameter("bracket", 1)):
            mid = (q.bid_price + q.ask_price) / 2
            # bracket = 2: a resting limit entry (one native OTOCO list); 1: a market entry (exits as an OCO list)
            entry = round(bid * 0.995, 2) if int(self.get_parameter("bracket", 1)) == 2 else None
            self.bracket_order(self.symbol, clip, take_profit=round(mid * 1.02, 2), stop_loss=round(mid * 0.98, 2),
                               entry_limit=entry, tag="br")
        self.step += 1
