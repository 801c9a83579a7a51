"""Contingent orders, the same in every mode: one-cancels-other pairs and brackets (an entry whose exits, a
take-profit limit and a stop-loss stop, are armed when it fills and cancel each other).

They live in the order manager, above the venue boundary, so a backtest, the paper venue and a live venue
behave alike: the order manager watches the legs' fills and closes and sends what follows.

* One-cancels-other: the first fill of either leg cancels the other (reason ``OCO``). A leg closed without a
  fill (canceled, expired, rejected) leaves the other working on its own.
* Bracket: the exits are armed for the entry's filled quantity once the entry is done (filled, or closed
  after a partial fill); a stop-loss is emulated where the venue has no stops. On a venue with native
  one-cancels-other lists (``Capabilities.oco``) the exits go out as one list, so the venue itself ends one
  when the other works; there, canceling one exit cancels both (the venue's rule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leand.model import Order, OrderType, Symbol

if TYPE_CHECKING:
    from leand.orders.manager import OrderManager
    from leand.tickets import OrderTicket


class BracketTicket:
    """What ``bracket_order`` returns: the entry's ticket now, the exits' once the entry has filled."""

    __slots__ = ("entry", "stop_loss", "stop_loss_price", "tag", "take_profit", "take_profit_price")

    def __init__(self, take_profit_price: float, stop_loss_price: float, tag: str) -> None:
        self.entry: OrderTicket | None = None
        self.take_profit: OrderTicket | None = None
        self.stop_loss: OrderTicket | None = None
        self.take_profit_price = take_profit_price
        self.stop_loss_price = stop_loss_price
        self.tag = tag

    @property
    def armed(self) -> bool:
        return self.take_profit is not None or self.stop_loss is not None

    def __repr__(self) -> str:
        return f"BracketTicket(entry={self.entry!r}, take_profit={self.take_profit!r}, stop_loss={self.stop_loss!r})"


class Contingent:
    """The order manager's contingent-order bookkeeping: OCO links and brackets waiting for their entry."""

    def __init__(self, manager: OrderManager) -> None:
        self.manager = manager
        #: order id -> the order id it cancels on its first fill
        self.oco: dict[int, int] = {}
        #: entry order id -> its bracket
        self.brackets: dict[int, BracketTicket] = {}

    def link(self, a: int, b: int, *, restored: bool = False) -> None:
        self.oco[a] = b
        self.oco[b] = a
        if not restored:  # a live brokerage journals the link, so it survives a restart
            m = self.manager
            m.engine.brokerage.on_linked(m.orders[a], m.orders[b])

    def unlink(self, order_id: int) -> int | None:
        other = self.oco.pop(order_id, None)
        if other is not None:
            self.oco.pop(other, None)
        return other

    def bracket(self, symbol: Symbol | str, quantity: float, take_profit: float, stop_loss: float,
                entry_limit: float | None, tag: str) -> BracketTicket:
        m = self.manager
        b = BracketTicket(take_profit, stop_loss, tag)
        entry_type = OrderType.MARKET if entry_limit is None else OrderType.LIMIT
        b.entry = m.submit(symbol, quantity, entry_type, limit_price=entry_limit, tag=tag or "bracket entry",
                           bracket=b)
        return b

    # ---- what the order manager tells us -------------------------------------------------------------
    def on_fill(self, order: Order) -> None:
        other = self.unlink(order.id)
        if other is not None:
            m = self.manager
            if other in m.open_orders and not m.engine.brokerage.venue_links(m.orders[other]):
                m.cancel(other, "OCO: the other order filled")
        if not order.status.is_open:
            self._arm(order)

    def on_closed(self, order: Order) -> None:
        self.unlink(order.id)
        self._arm(order)

    def _arm(self, entry: Order) -> None:
        b = self.brackets.pop(entry.id, None)
        if b is None or not entry.filled_quantity:
            return
        m = self.manager
        qty = -entry.filled_quantity
        tag = b.tag or "bracket"
        brokerage = m.engine.brokerage
        native = brokerage.collect_oco(entry)  # a venue with order lists gets the exits as one OCO list
        tp = m.submit(entry.symbol, qty, OrderType.LIMIT, limit_price=b.take_profit_price, tag=f"{tag} take-profit")
        sl = m.submit(entry.symbol, qty, OrderType.STOP_MARKET, stop_price=b.stop_loss_price, tag=f"{tag} stop-loss")
        if native:
            brokerage.send_oco(entry, m.engine.clock.now_ns())
        b.take_profit, b.stop_loss = tp, sl
        if tp.order_id and sl.order_id and tp.order_id in m.open_orders and sl.order_id in m.open_orders:
            self.link(tp.order_id, sl.order_id)
        elif tp.order_id in m.open_orders and sl.order.filled_quantity:
            m.cancel(tp.order_id, "OCO: the other order filled")
        elif sl.order_id in m.open_orders and tp.order.filled_quantity:
            m.cancel(sl.order_id, "OCO: the other order filled")
