"""Emulation of what a venue lacks, for any execution client that talks to a venue through the venue boundary:
the live daemon's, and a replay's re-simulated venue, alike.

An order whose type the venue lacks (its ``capabilities.order_types``) but leand can emulate (stops,
stop-limits, trailing stops, limit-if-touched, market-on-open/close) is held here: no request leaves until its
trigger is crossed; then the venue gets a market (or limit) order under the same client order id, so its reports
reach the same order. A market-on-open order's trigger is the first price of the next regular session, a
market-on-close order's the first price at or after the session's close (the exchange's calendar: a venue
without an opening or closing auction gets a market order then). A
time in force the venue lacks is emulated too (IOC/FOK cancel what did not fill at once, DAY/GTD are canceled at
expiry and reported expired). An operation the venue cannot do (an update where it has no modify) is a rejected
report with a code and a message, never an exception. Subclasses journal what must survive a restart through
the ``_journal_*`` hooks.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import msgspec

from leand.clock import datetime_to_ns, ns_to_datetime
from leand.execution import ExecutionClient
from leand.model import (
    ExecReport,
    Order,
    OrderStatus,
    OrderType,
    ReportKind,
    Symbol,
    TimeInForce,
    UpdateRequest,
)
from leand.orders.manager import trailing_stop_price
from leand.venue import OrderListEntry

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.venue import OrderEntry

#: what the order manager can emulate on a venue that lacks it
EMULATED = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP,
                      OrderType.LIMIT_IF_TOUCHED, OrderType.MARKET_ON_OPEN, OrderType.MARKET_ON_CLOSE})
_AUCTION = (OrderType.MARKET_ON_OPEN, OrderType.MARKET_ON_CLOSE)


def replacement_id(client_order_id: str) -> str:
    """The client order id of a cancel-replace's new venue order: ``<id>:1``, then ``<id>:2`` (``:`` is in every
    venue's client-id alphabet, Binance's ``^[.A-Z:/a-z0-9_-]{1,36}$`` included)."""
    base, _, n = client_order_id.partition(":")
    return f"{base}:{int(n or 0) + 1}"


class EmulatingClient(ExecutionClient):
    """An engine's execution client in front of a venue-boundary client (``venue``): native where the venue
    has it, emulated here otherwise."""

    name = "emulating"

    def __init__(self, engine: Engine, venue: OrderEntry) -> None:
        self.engine = engine
        self.venue = venue
        #: emulated orders not yet triggered, by order id
        self.held: dict[int, Order] = {}
        #: orders whose time in force (DAY, GTD) the venue cannot keep: order id -> (order, expiry)
        self.expiries: dict[int, tuple[Order, int]] = {}
        #: updates done as cancel-replace on a venue without modify: order id -> the update, until the venue
        #: confirms the cancel (then the replacement goes out) or refuses it (then the update is refused)
        self.replacing: dict[int, UpdateRequest] = {}
        #: updates sent as one native cancel-replace request: order id -> the client order id it replaces, until
        #: the venue answers (a refusal puts that id back: the old venue order lives on)
        self.native_replacing: dict[int, str] = {}
        #: order id -> how many replacement ids it has used (an id is never reused, even after a refusal)
        self._replace_seq: dict[int, int] = {}
        #: submits being collected into one native OCO list (None: not collecting)
        self._collecting: list[Order] | None = None
        #: ids of orders the venue holds in a native OCO list
        self.native_pairs: set[int] = set()

    # -- hooks: what must survive a restart (the live client journals; a replay needs nothing) -------------------
    def _journal_intent(self, order: Order, now_ns: int, emulated: bool = False) -> str:
        return order.client_order_id

    def _journal_triggered(self, order: Order, leg_type: OrderType, now_ns: int) -> None:
        """An emulated order's trigger was crossed: recorded before its venue order is sent."""

    def _journal_stop(self, order: Order, stop: float, now_ns: int) -> None:
        """An emulated order's stop (or trigger) moved: a trailing stop trailing, or an update."""

    def _record(self, order: Order, now_ns: int, kind: str) -> None:
        """A request that leaves for the venue (a recorded session notes it)."""

    def _after_journal(self, order: Order) -> None:
        """The intent is journaled and nothing is sent yet (the crash tests' fault point)."""

    def _after_send(self, order: Order) -> None:
        """The order is sent and not yet answered (the crash tests' fault point)."""

    @property
    def venue_name(self) -> str:
        return type(self.venue).__name__

    # -- the execution client ---------------------------------------------------------------------------------
    def _submit(self, order: Order, now_ns: int) -> None:
        t = order.type
        if self._collecting is not None and t in self.venue.capabilities.order_types:
            self._journal_intent(order, now_ns)  # sent with its partner by send_oco
            self._collecting.append(order)
            return
        if t in self.venue.capabilities.order_types:
            self._journal_intent(order, now_ns)
            self._after_journal(order)
            self.venue.submit(order, now_ns)
            self._after_send(order)
            self._time_in_force(order, now_ns)
        elif t in EMULATED:
            self._journal_intent(order, now_ns, emulated=True)
            self.hold(order)
            self._report(order, ReportKind.STATUS, OrderStatus.ACCEPTED, "EMULATED")
            self._time_in_force(order, now_ns)
        else:
            self._journal_intent(order, now_ns)
            self._report(order, ReportKind.STATUS, OrderStatus.REJECTED,
                         f"UNSUPPORTED_ORDER_TYPE: {self.venue_name} has no {t.value} orders and leand cannot "
                         "emulate them")

    def _cancel(self, order: Order, now_ns: int) -> bool:
        self._record(order, now_ns, "cancel")
        if self.held.pop(order.id, None) is not None:  # never sent: canceled here
            self._report(order, ReportKind.STATUS, OrderStatus.CANCELED, "EMULATED_CANCELED")
            return True
        if self.replacing.pop(order.id, None) is not None:
            return True  # its venue order is being canceled already: no replacement follows now
        self.venue.cancel(order, now_ns)
        return True

    def _modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        self._record(order, now_ns, "modify")
        if order.id in self.held:  # nothing at the venue yet: the new terms apply here
            stop = update.stop_price
            if update.trailing_amount is not None and stop is None:  # trail the new amount from the price now
                sec = self.engine.securities[order.symbol]
                stop = sec.instrument.round_price(trailing_stop_price(
                    sec.price, order.quantity, update.trailing_amount, order.trailing_as_percentage))
            if update.trigger_price is not None:
                self._journal_stop(order, update.trigger_price, now_ns)
            self._report(order, ReportKind.UPDATE_ACCEPTED, order.status, "EMULATED", quantity=update.quantity,
                         limit_price=update.limit_price, stop_price=stop)
            return
        if self.venue.capabilities.modify:
            self.venue.modify(order, update, now_ns)
            return
        if order.id in self.replacing or order.id in self.native_replacing:
            self._report(order, ReportKind.UPDATE_REJECTED, order.status,
                         "UPDATE_IN_PROGRESS: the previous update of this order is still being placed")
            return
        if self.venue.capabilities.cancel_replace:
            # one request cancels the venue order and places its replacement under a new client order id,
            # journaled first; reports of either id reach this order
            old = order.client_order_id
            self.native_replacing[order.id] = old
            order.client_order_id = self._next_replacement(order)
            self._journal_intent(order, now_ns)
            self.venue.modify(order, msgspec.structs.replace(update, replaces=old), now_ns)
            return
        # cancel-replace: the venue order is canceled; when the venue confirms, a new one with the new terms
        # takes its place under a new client order id, and the strategy's order carries on across both
        self.replacing[order.id] = update
        self.venue.cancel(order, now_ns)

    # -- what the order manager asks while it applies a report ---------------------------------------------------
    def on_venue_canceled(self, order: Order, now_ns: int) -> bool:
        """The venue canceled ``order``'s venue order: if that was the first half of a cancel-replace, place
        the replacement and answer True (the order stays open)."""
        u = self.replacing.pop(order.id, None)
        if u is None:
            return False
        qty = u.quantity if u.quantity is not None else order.quantity
        order.client_order_id = replacement_id(order.client_order_id)
        self._journal_intent(order, now_ns)
        leg = msgspec.structs.replace(order, quantity=qty - order.filled_quantity,
                                      limit_price=u.limit_price if u.limit_price is not None else order.limit_price,
                                      stop_price=u.stop_price if u.stop_price is not None else order.stop_price)
        self.venue.submit(leg, now_ns)
        self._report(order, ReportKind.UPDATE_ACCEPTED, order.status,
                     f"REPLACED: {self.venue_name} has no modify; canceled and placed again as "
                     f"{order.client_order_id}", quantity=u.quantity, limit_price=u.limit_price,
                     stop_price=u.stop_price)
        return True

    def on_adopted(self, order: Order, now_ns: int) -> None:
        if order.time_in_force is TimeInForce.DAY or order.time_in_force is TimeInForce.GTD:
            self._time_in_force(order, now_ns)

    def collect_oco(self, entry: Order) -> bool:
        if not (self.venue.capabilities.oco and isinstance(self.venue, OrderListEntry)):
            return False
        self._collecting = []
        return True

    def send_oco(self, entry: Order, now_ns: int) -> None:
        legs, self._collecting = self._collecting or [], None
        if len(legs) == 2 and isinstance(self.venue, OrderListEntry):
            self.native_pairs.update(o.id for o in legs)
            self._after_journal(legs[0])
            self.venue.submit_oco((legs[0], legs[1]), now_ns)
            return
        for o in legs:  # one leg was refused before it was sent: the other goes out alone
            self.venue.submit(o, now_ns)

    def collect_otoco(self, symbol: Symbol) -> bool:
        caps = self.venue.capabilities
        if not (caps.otoco and isinstance(self.venue, OrderListEntry)) or \
                not {OrderType.LIMIT, OrderType.STOP_MARKET} <= caps.order_types:
            return False  # an emulated stop-loss cannot wait at the venue for the entry
        self._collecting = []
        return True

    def send_otoco(self, symbol: Symbol, now_ns: int) -> bool:
        legs, self._collecting = self._collecting or [], None
        if len(legs) == 3 and isinstance(self.venue, OrderListEntry):
            self.native_pairs.update(o.id for o in legs[1:])
            self._after_journal(legs[0])
            self.venue.submit_otoco((legs[0], legs[1], legs[2]), now_ns)
            return True
        if legs:  # an exit was refused before it was sent: the entry (first) goes alone, the bracket arms itself
            self.venue.submit(legs[0], now_ns)
        for o in legs[1:]:
            self._report(o, ReportKind.STATUS, OrderStatus.REJECTED,
                         "OTOCO_INCOMPLETE: the other exit of the bracket was refused before it was sent")
        return False

    def venue_links(self, order: Order) -> bool:
        if order.id in self.native_pairs:
            return True
        v = self.venue
        return isinstance(v, OrderListEntry) and v.capabilities.oco and v.in_order_list(order.client_order_id)

    def forget_orders(self, ids: list[int]) -> None:
        """Closed orders the order manager packed away: what is kept per order for its life goes with them."""
        seq, pairs = self._replace_seq, self.native_pairs
        if seq or pairs:
            for i in ids:
                seq.pop(i, None)
                pairs.discard(i)

    def _next_replacement(self, order: Order) -> str:
        base, _, n = order.client_order_id.partition(":")
        k = max(int(n or 0), self._replace_seq.get(order.id, 0)) + 1
        self._replace_seq[order.id] = k
        return f"{base}:{k}"

    def on_update_answered(self, order: Order, accepted: bool) -> None:
        old = self.native_replacing.pop(order.id, None)
        if old is not None and not accepted:  # nothing was replaced: the old venue order is the order's again
            order.client_order_id = old

    def on_cancel_refused(self, order: Order) -> bool:
        """The venue refused to cancel ``order`` (it filled, say): True if that cancel was a cancel-replace,
        whose update is then refused."""
        return self.replacing.pop(order.id, None) is not None

    def _time_in_force(self, order: Order, now_ns: int) -> None:
        """Emulate a time in force the venue lacks: IOC/FOK cancel what did not fill at once (the venue answers
        the order before the cancel); DAY/GTD cancel at expiry, reported as expired."""
        tif = order.time_in_force
        if tif in self.venue.capabilities.time_in_force or tif is TimeInForce.GTC:
            return
        if tif is TimeInForce.IOC or tif is TimeInForce.FOK:
            if order.id in self.held:
                return  # its venue order gets the treatment when it is triggered
            self.venue.cancel(order, now_ns)
            return
        expiry = order.expire_time if tif is TimeInForce.GTD else None
        if expiry is None:
            hours = self.engine.securities[order.symbol].exchange_hours
            if hours is None or hours.always_open:
                d = ns_to_datetime(order.created_time).date() + timedelta(days=1)
                expiry = datetime_to_ns(datetime.combine(d, time(0), UTC))
            else:
                expiry = hours.next_close(order.created_time, False)
        self.expiries[order.id] = (order, expiry)

    def _expire_due(self, now_ns: int) -> None:
        for oid, (order, expiry) in list(self.expiries.items()):
            if not order.status.is_open:
                del self.expiries[oid]
            elif now_ns >= expiry:
                del self.expiries[oid]
                if self.held.pop(oid, None) is not None:
                    self._report(order, ReportKind.STATUS, OrderStatus.EXPIRED, "TIME_IN_FORCE")
                else:
                    self.engine.order_manager.expiring(order)
                    self._record(order, now_ns, "cancel")
                    self.venue.cancel(order, now_ns)

    def async_cancel(self, order: Order) -> bool:
        return order.id not in self.held and self.venue.capabilities.async_cancel

    def async_modify(self, order: Order) -> bool:
        return True

    def _report(self, order: Order, kind: ReportKind, status: OrderStatus, reason: str, **terms: Any) -> None:
        """A report made here (about an emulated order, or a refusal) takes the venue reports' path: it goes on the
        venue's report queue, so whoever applies the venue's reports (journaling them first, live) applies it."""
        self.venue.reports.put_nowait(ExecReport(
            client_order_id=order.client_order_id, kind=kind, status=status, symbol=order.symbol.id,
            time_ns=self.engine.clock.now_ns(), reason=reason, **terms))

    # -- emulation ----------------------------------------------------------------------------------------------
    def hold(self, order: Order) -> None:
        """Arm an emulated order (at submission, or again after a restart)."""
        self.held[order.id] = order

    def scan(self, now_ns: int) -> None:
        """Each slice: expire what its time in force ends, trail the trailing stops, trigger what the price has
        crossed."""
        if self.expiries:
            self._expire_due(now_ns)
        if not self.held:
            return
        securities = self.engine.securities
        for order in list(self.held.values()):
            if not order.status.is_open:
                self.held.pop(order.id, None)
                continue
            sec = securities[order.symbol]
            px = sec.price
            if not px:
                continue
            buy = order.quantity > 0
            if order.type is OrderType.TRAILING_STOP and order.trailing_amount:
                trail = sec.instrument.round_price(
                    trailing_stop_price(px, order.quantity, order.trailing_amount, order.trailing_as_percentage))
                if order.stop_price is None or (trail < order.stop_price if buy else trail > order.stop_price):
                    order.stop_price = trail
                    self._journal_stop(order, trail, now_ns)
            if order.type in _AUCTION:
                if self._auction_due(sec, order, now_ns):
                    self._trigger(order, px, now_ns)
                continue
            if order.type is OrderType.LIMIT_IF_TOUCHED:  # touched from the other side: at or below for a buy
                trig = order.trigger_price
                if trig is None or (px > trig if buy else px < trig):
                    continue
            else:
                stop = order.stop_price
                if stop is None or (px < stop if buy else px > stop):
                    continue
            self._trigger(order, px, now_ns)

    @staticmethod
    def _auction_due(sec: Any, order: Order, now_ns: int) -> bool:
        """A market-on-open order is due in the next regular session after it was placed, a market-on-close
        order at that session's close."""
        hours = sec.exchange_hours
        if hours is None or hours.always_open:
            return True  # no sessions (the order manager refuses these orders there): nothing to wait for
        if order.type is OrderType.MARKET_ON_OPEN:
            return now_ns >= hours.next_open(order.created_time, False) and hours.is_open(now_ns, False)
        return now_ns >= hours.next_close(order.created_time, False)

    def _trigger(self, order: Order, px: float, now_ns: int) -> None:
        self.held.pop(order.id, None)
        order.stop_triggered = True
        limit_leg = order.type is OrderType.STOP_LIMIT or order.type is OrderType.LIMIT_IF_TOUCHED
        leg_type = OrderType.LIMIT if limit_leg else OrderType.MARKET
        self._journal_triggered(order, leg_type, now_ns)
        trig = order.trigger_price if order.type is OrderType.LIMIT_IF_TOUCHED else order.stop_price
        why = "the session's open" if order.type is OrderType.MARKET_ON_OPEN else "the session's close" \
            if order.type is OrderType.MARKET_ON_CLOSE else f"trigger {trig:g}"
        self.engine.order_manager.emit(order, order.status, code="EMULATED_TRIGGERED",
                                       message=f"{order.type.value} triggered at {px:g} ({why}):"
                                               f" sent to {self.venue_name} as {leg_type.value}")
        leg = msgspec.structs.replace(order, type=leg_type, quantity=order.remaining)
        self.venue.submit(leg, now_ns)
        if order.time_in_force is TimeInForce.IOC or order.time_in_force is TimeInForce.FOK:
            self._time_in_force(leg, now_ns)
