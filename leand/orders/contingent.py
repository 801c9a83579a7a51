"""Contingent orders, the same in every mode: one-cancels-other pairs and brackets (an entry whose exits, a
take-profit limit and a stop-loss stop, are armed when it fills and cancel each other).

They live in the order manager, above the venue boundary, so a backtest, the paper venue and a live venue
behave alike: the order manager watches the legs' fills and closes and sends what follows.

* One-cancels-other: the first fill of either leg, a partial one included, cancels all that is left of the
  other (reason ``OCO``): Binance's rule for its own OCO lists, so an emulated pair and a native one end
  alike. A leg closed without a fill (canceled, expired, rejected) leaves the other working on its own.
  ``one_cancels_other`` links two orders already open; no venue links existing orders (Binance's lists are
  placed as one request), so the order manager does it and says so in both orders' events (code
  ``OCO_EMULATED``); the link is journaled and restored after a restart. Emulation has a window a native list
  has not: the other leg may fill at the venue before leand's cancel reaches it; that fill is reported with
  code ``OCO_BOTH_FILLED``.
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
        #: entry order id -> its bracket, sent as one venue order list whose exits wait at the venue
        self.pending: dict[int, BracketTicket] = {}
        #: (entry, bracket) whose entry filled while leand was down, armed once the symbol has a price (restart)
        self.recovered: list[tuple[Order, BracketTicket]] = []
        #: order id -> the order id whose fill made leand cancel it (an emulated OCO leg being canceled)
        self.canceled_for: dict[int, int] = {}
        #: brackets whose exits are armed, oldest first; one whose exits have both closed is dropped when this is
        #: read or has doubled since it was last swept (its exits may close while no contingent hook runs)
        self.armed: list[BracketTicket] = []
        self._sweep_at = 64

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
        if entry_limit is not None:
            try:
                sym = symbol if isinstance(symbol, Symbol) else m.engine.resolve(symbol)
            except Exception:  # submit refuses it with the reason
                sym = None
            if sym is not None and m.engine.brokerage.collect_otoco(sym):
                self._native_bracket(b, sym, quantity, entry_limit)
                return b
        b.entry = m.submit(symbol, quantity, entry_type, limit_price=entry_limit, tag=tag or "bracket entry",
                           bracket=b)
        return b

    def _native_bracket(self, b: BracketTicket, sym: Symbol, quantity: float, entry_limit: float) -> None:
        """The entry and both exits as one venue order list (OTOCO): the venue places the exits when the entry
        has filled, even while leand is down. The exits are orders from the start (pending at the venue), linked
        as a one-cancels-other pair the venue ends itself."""
        m = self.manager
        brokerage = m.engine.brokerage
        tag = b.tag or "bracket"
        b.entry = m.submit(sym, quantity, OrderType.LIMIT, limit_price=entry_limit, tag=b.tag or "bracket entry")
        entry = m.open_orders.get(b.entry.order_id)
        tp = sl = None
        if entry is not None:  # collected, not sent yet: its exits follow it into the list
            qty = -entry.quantity
            tp = m.submit(sym, qty, OrderType.LIMIT, limit_price=b.take_profit_price, tag=f"{tag} take-profit",
                          contingent=True)
            sl = m.submit(sym, qty, OrderType.STOP_MARKET, stop_price=b.stop_loss_price, tag=f"{tag} stop-loss",
                          contingent=True)
        native = brokerage.send_otoco(sym, m.engine.clock.now_ns())
        if entry is None:
            return
        if not native or tp is None or sl is None:  # the entry went alone: the exits are armed when it fills
            if entry.status.is_open:
                self.brackets[entry.id] = b
                brokerage.on_bracket(entry, b.take_profit_price, b.stop_loss_price, b.tag)
            return
        b.take_profit, b.stop_loss = tp, sl
        self.pending[entry.id] = b
        brokerage.on_bracket(entry, b.take_profit_price, b.stop_loss_price, b.tag, (tp.order, sl.order))
        self.link(tp.order_id, sl.order_id)
        for t in (tp, sl):
            m.emit(t.order, t.order.status, code="OTOCO",
                   message=f"pending at the venue: placed with entry {entry.id} as one order list, worked by the "
                           "venue when the entry has filled")

    # ---- what the order manager tells us -------------------------------------------------------------
    def emulated_link(self, a: Order, b: Order) -> None:
        """``one_cancels_other`` on two open orders: linked here (journaled), and each order's event says so."""
        self.link(a.id, b.id)
        m = self.manager
        for o, other in ((a, b), (b, a)):
            m.emit(o, o.status, code="OCO_EMULATED",
                   message=f"linked with order {other.id}: one-cancels-other held by leand's order manager (the "
                           "venue cannot link two open orders); the first fill of either, a partial one included, "
                           "cancels the other")

    def on_fill(self, order: Order) -> None:
        other = self.unlink(order.id)
        m = self.manager
        if other is not None:
            if other in m.open_orders and not m.engine.brokerage.venue_links(m.orders[other]):
                self.canceled_for[other] = order.id
                o = m.orders[other]
                sent = m.cancel(other, f"OCO: the other order filled ({order.id}: {order.filled_quantity:g} of "
                                       f"{order.quantity:g})")
                if not sent or not o.is_open:  # refused (logged), or ended at once: no cancel to overtake
                    self.canceled_for.pop(other, None)
        elif self.canceled_for:
            first = self.canceled_for.pop(order.id, None)
            if first is not None:  # leand's cancel came too late: the venue filled this leg as well
                m.emit(order, order.status, code="OCO_BOTH_FILLED",
                       message=f"filled at the venue before leand's cancel (order {first} had filled first): an "
                               "emulated one-cancels-other pair has this window, a venue's own list has not")
        if not order.status.is_open:
            b = self.pending.pop(order.id, None)
            if b is not None:
                self.manager.engine.brokerage.on_bracket_armed(order)
                self._add_armed(b)
                return  # the venue places the list's exits now
            self._arm(order)

    def on_closed(self, order: Order) -> None:
        self.unlink(order.id)
        if self.canceled_for:
            self.canceled_for.pop(order.id, None)
        b = self.pending.pop(order.id, None)
        if b is not None and order.filled_quantity:
            # the entry of a venue list ended part-filled: the venue ends its pending exits; new ones protect
            # what filled, as for any bracket
            self.brackets[order.id] = b
        self._arm(order)

    def open_brackets(self) -> list[BracketTicket]:
        """Every live bracket: those whose entry has not armed its exits yet (waiting for it, a venue list's with
        its exits waiting at the venue, and those restored after a restart whose entry filled meanwhile, armed
        with the first price), then those armed with an exit still open (after a restart: restored from the
        journal, their exits the adopted orders)."""
        self._sweep()
        return [*self.brackets.values(), *self.pending.values(), *(b for _, b in self.recovered), *self.armed]

    def _add_armed(self, b: BracketTicket) -> None:
        self.armed.append(b)
        if len(self.armed) >= self._sweep_at:
            self._sweep()
            self._sweep_at = max(64, 2 * len(self.armed))

    def _sweep(self) -> None:
        if self.armed:
            self.armed = [b for b in self.armed if self._live(b)]

    def _live(self, b: BracketTicket) -> bool:
        """Whether an armed bracket still protects anything: one of its exits is open."""
        opened = self.manager.open_orders
        return any(t is not None and t.order_id in opened for t in (b.take_profit, b.stop_loss))

    def restore_armed(self, b: BracketTicket, take_profit: Order | None, stop_loss: Order | None) -> None:
        """After a restart: a bracket armed before it, whose exits (those open again) are these orders."""
        tickets = self.manager.tickets
        b.take_profit = tickets.get(take_profit.id) if take_profit is not None else None
        b.stop_loss = tickets.get(stop_loss.id) if stop_loss is not None else None
        if self._live(b):
            self._add_armed(b)

    def restore(self, entry: Order, b: BracketTicket, exits: tuple[Order | None, Order | None] | None) -> None:
        """After a restart: ``entry`` (adopted again, still open) waits for its bracket again; ``exits`` not None:
        the bracket went as one venue list, whose exits (those adopted again) wait at the venue."""
        tickets = self.manager.tickets
        b.entry = tickets.get(entry.id)
        if exits is None:
            self.brackets[entry.id] = b
            return
        tp, sl = exits
        b.take_profit = tickets.get(tp.id) if tp is not None else None
        b.stop_loss = tickets.get(sl.id) if sl is not None else None
        self.pending[entry.id] = b

    def arm_recovered(self, entry: Order, b: BracketTicket) -> bool:
        """After a restart: ``entry`` filled (or ended part-filled) while leand was down and its bracket was not
        armed: its exits are armed once, for what filled, as soon as the symbol has a price (orders need one).
        True while some wait for a price (then call :meth:`arm_ready` as prices come)."""
        self.recovered.append((entry, b))
        return self.arm_ready()

    def arm_ready(self) -> bool:
        """Arm the recovered brackets whose symbol has a price now; True while some still wait for one."""
        securities = self.manager.engine.securities
        waiting = []
        for entry, b in self.recovered:
            sec = securities.get(entry.symbol)
            if sec is not None and sec.price == 0:
                waiting.append((entry, b))
            else:
                self._arm_bracket(entry, b)
        self.recovered = waiting
        return bool(waiting)

    def _arm(self, entry: Order) -> None:
        b = self.brackets.pop(entry.id, None)
        if b is None or not entry.filled_quantity:
            return
        sec = self.manager.engine.securities.get(entry.symbol)
        if sec is not None and sec.price == 0:  # just restarted, no quote yet: armed with the first price
            self.recovered.append((entry, b))
            return
        self._arm_bracket(entry, b)

    def _arm_bracket(self, entry: Order, b: BracketTicket) -> None:
        m = self.manager
        qty = -entry.filled_quantity
        tag = b.tag or "bracket"
        brokerage = m.engine.brokerage
        brokerage.on_bracket_armed(entry)  # journaled before the exits: a crash in between never arms them twice
        native = brokerage.collect_oco(entry)  # a venue with order lists gets the exits as one OCO list
        tp = m.submit(entry.symbol, qty, OrderType.LIMIT, limit_price=b.take_profit_price, tag=f"{tag} take-profit")
        sl = m.submit(entry.symbol, qty, OrderType.STOP_MARKET, stop_price=b.stop_loss_price, tag=f"{tag} stop-loss")
        if native:
            brokerage.send_oco(entry, m.engine.clock.now_ns())
        b.take_profit, b.stop_loss = tp, sl
        if tp.order_id and sl.order_id:  # both placed (a refused exit has no order id)
            brokerage.on_bracket_exits(entry, tp.order, sl.order)
        self._add_armed(b)
        if tp.order_id and sl.order_id and tp.order_id in m.open_orders and sl.order_id in m.open_orders:
            self.link(tp.order_id, sl.order_id)
        elif tp.order_id in m.open_orders and sl.order.filled_quantity:
            m.cancel(tp.order_id, "OCO: the other order filled")
        elif sl.order_id in m.open_orders and tp.order.filled_quantity:
            m.cancel(sl.order_id, "OCO: the other order filled")

