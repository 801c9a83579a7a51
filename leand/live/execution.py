"""The daemon's side of every venue: write-ahead journaling of what is sent, the route back to strategies, and
the emulation of what a venue lacks.

An engine's brokerage in the daemon is a :class:`JournaledExecutionClient`: it journals the intent, records the
request, then hands the order to the venue's :class:`~leand.venue.ExecutionClient` (one per venue account,
found through the venue registry). Venue adapters never see the journal's write side or the engine.

An order whose type the venue lacks (its ``capabilities.order_types``) but leand can emulate (stops,
stop-limits, trailing stops) is journaled as emulated and held here: no request leaves until its trigger is
crossed; then the venue gets a market (or limit) order under the same client order id, so its reports reach
the same order. The trigger is journaled before that request is sent, so a restart neither loses an armed stop
nor fires it twice; a trailing stop's moves are journaled as they happen. An operation the venue cannot do
(an update where it has no modify) is a rejected report with a code and a message, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import msgspec

from leand.clock import datetime_to_ns, ns_to_datetime
from leand.execution import ExecutionClient
from leand.live.faults import kill_point
from leand.model import ExecReport, Order, OrderStatus, OrderType, ReportKind, TimeInForce, UpdateRequest
from leand.orders.manager import trailing_stop_price
from leand.replay.records import Outbound

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.live.journal import Journal
    from leand.replay.recorder import Recorder
    from leand.venue import ExecutionClient as VenueExecutionClient

#: what the order manager can emulate on a venue that lacks it
EMULATED = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP,
                      OrderType.LIMIT_IF_TOUCHED})


class OrderRoutes:
    """What the daemon's execution clients share for one venue: the journal, the boot number, the recorder and
    the routes from client order ids back to (strategy, order)."""

    def __init__(self, venue: VenueExecutionClient, journal: Journal, boot: int) -> None:
        self.venue = venue
        self.journal = journal
        self.boot = boot
        self.recorder: Recorder | None = None
        #: client order id -> (strategy id, order)
        self.routes: dict[str, tuple[str, Order]] = {}

    def client(self, strategy_id: str) -> Callable[[Engine], JournaledExecutionClient]:
        """``Engine(..., brokerage=routes.client(id))``."""
        return lambda engine: JournaledExecutionClient(engine, self, strategy_id)


class JournaledExecutionClient(ExecutionClient):
    """An execution client of the live daemon: the intent is journaled, and the request recorded, before the
    venue hears of it; what the venue lacks is emulated here."""

    name = "live"

    def __init__(self, engine: Engine, routes: OrderRoutes, strategy_id: str) -> None:
        self.engine = engine
        self.session = routes
        self.venue = routes.venue
        self.strategy_id = strategy_id
        #: emulated orders not yet triggered, by order id
        self.held: dict[int, Order] = {}
        #: orders whose time in force (DAY, GTD) the venue cannot keep: order id -> (order, expiry)
        self.expiries: dict[int, tuple[Order, int]] = {}

    @property
    def venue_name(self) -> str:
        return type(self.venue).__name__

    # -- the execution client ---------------------------------------------------------------------------------
    def _submit(self, order: Order, now_ns: int) -> None:
        t = order.type
        if t in self.venue.capabilities.order_types:
            self._journal_intent(order, now_ns)
            kill_point("intent_journaled")
            self.venue.submit(order, now_ns)
            kill_point("sent_unacked")
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
                self.session.journal.update_terms(order.client_order_id, None, None, update.trigger_price, now_ns)
            self._report(order, ReportKind.UPDATE_ACCEPTED, order.status, "EMULATED", quantity=update.quantity,
                         limit_price=update.limit_price, stop_price=stop)
            return
        if not self.venue.capabilities.modify:
            self._report(order, ReportKind.UPDATE_REJECTED, order.status,
                         f"UNSUPPORTED_MODIFY: {self.venue_name} does not modify orders; cancel and place a new one")
            return
        self.venue.modify(order, update, now_ns)

    def on_linked(self, a: Order, b: Order) -> None:
        self.session.journal.link(a.client_order_id, b.client_order_id)

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
        """A report made here (about an emulated order, or a refusal) takes the venue reports' path: the daemon
        journals it, then the order manager applies it."""
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
                    self.session.journal.update_terms(order.client_order_id, None, None, trail, now_ns)
            if order.type is OrderType.LIMIT_IF_TOUCHED:  # touched from the other side: at or below for a buy
                trig = order.trigger_price
                if trig is None or (px > trig if buy else px < trig):
                    continue
            else:
                stop = order.stop_price
                if stop is None or (px < stop if buy else px > stop):
                    continue
            self._trigger(order, px, now_ns)

    def _trigger(self, order: Order, px: float, now_ns: int) -> None:
        self.held.pop(order.id, None)
        order.stop_triggered = True
        limit_leg = order.type is OrderType.STOP_LIMIT or order.type is OrderType.LIMIT_IF_TOUCHED
        leg_type = OrderType.LIMIT if limit_leg else OrderType.MARKET
        self.session.journal.triggered(order.client_order_id, leg_type, now_ns)
        trig = order.trigger_price if order.type is OrderType.LIMIT_IF_TOUCHED else order.stop_price
        self.engine.order_manager.emit(order, order.status, code="EMULATED_TRIGGERED",
                                       message=f"{order.type.value} triggered at {px:g} (trigger {trig:g}):"
                                               f" sent to {self.venue_name} as {leg_type.value}")
        leg = msgspec.structs.replace(order, type=leg_type, quantity=order.remaining)
        self.venue.submit(leg, now_ns)
        if order.time_in_force is TimeInForce.IOC or order.time_in_force is TimeInForce.FOK:
            self._time_in_force(leg, now_ns)

    # -- journal and recording ------------------------------------------------------------------------------------
    def _journal_intent(self, order: Order, now_ns: int, emulated: bool = False) -> str:
        """Write the order intent ahead of sending it (a crash after this and before the send is resolved by
        asking the venue at restart, never by resending); returns its client order id."""
        s = self.session
        cid = order.client_order_id
        # the journal's stop column holds a limit-if-touched order's trigger
        stop = order.trigger_price if order.type is OrderType.LIMIT_IF_TOUCHED else order.stop_price
        s.journal.intent(cid, self.strategy_id, order.symbol, order.quantity, order.type, order.limit_price,
                         stop, order.time_in_force, order.tag, now_ns, s.boot, emulated=emulated,
                         trailing_amount=order.trailing_amount, trailing_pct=order.trailing_as_percentage)
        s.routes[cid] = (self.strategy_id, order)
        self._record(order, now_ns, "submit")
        return cid

    def _record(self, order: Order, now_ns: int, kind: str) -> None:
        if self.session.recorder is not None:
            self.session.recorder.write(Outbound(recv_ns=now_ns, client_order_id=order.client_order_id, kind=kind))
