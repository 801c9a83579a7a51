"""The daemon's side of every venue: write-ahead journaling of what is sent, the route back to strategies, and
the emulation of what a venue lacks.

An engine's brokerage in the daemon is a :class:`JournaledExecutionClient`: it journals the intent, records the
request, then hands the order to the venue's :class:`~leand.venue.ExecutionClient` (one per venue account,
found through the venue registry). Venue adapters never see the journal's write side or the engine.

What the venue lacks is emulated (:mod:`leand.orders.emulation`); here an emulated order is journaled as such,
its trigger is journaled before its venue order is sent, and a trailing stop's moves as they happen, so a
restart neither loses an armed stop nor fires it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from leand.live.faults import ARMED as _FAULTS
from leand.live.faults import kill_point
from leand.model import Order, OrderType, TimeInForce, UpdateRequest
from leand.orders.emulation import EmulatingClient
from leand.replay.records import Outbound
from leand.risk.gate import Approved, UnapprovedOrderError

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.live.journal import Journal
    from leand.replay.recorder import Recorder
    from leand.venue import ExecutionClient as VenueExecutionClient
    from leand.venue import OrderEntry, ReportSink


class OrderRoutes:
    """What the daemon's execution clients share for one venue: the journal, the boot number, the recorder and
    the routes from client order ids back to (strategy, order)."""

    def __init__(self, venue: VenueExecutionClient, journal: Journal, boot: int) -> None:
        self.venue = venue
        self.journal = journal
        self.boot = boot
        self.recorder: Recorder | None = None
        #: client order id -> (strategy id, order): the open orders and those closed since the last ``prune``
        self.routes: dict[str, tuple[str, Order]] = {}
        self._closed: list[str] = []

    def prune(self) -> int:
        """Forget the routes of orders that were already closed at the previous call (so a report racing the
        close still finds its route); returns how many. A report for a forgotten route is routed by the journal
        (its intent's strategy) and the strategy's order manager (``order_by_client_id``)."""
        routes = self.routes
        n = 0
        for cid in self._closed:
            r = routes.get(cid)
            if r is not None and not r[1].status.is_open:
                del routes[cid]
                n += 1
        # a copy in one C call: a strategy on a worker thread may add a route meanwhile
        self._closed = [cid for cid, (_, o) in list(routes.items()) if not o.status.is_open]
        return n

    def client(self, strategy_id: str) -> Callable[[Engine], JournaledExecutionClient]:
        """``Engine(..., brokerage=routes.client(id))``."""
        return lambda engine: JournaledExecutionClient(engine, self, strategy_id)


class JournaledExecutionClient(EmulatingClient):
    """An execution client of the live daemon: the intent is journaled, and the request recorded, before the
    venue hears of it; what the venue lacks is emulated (:class:`~leand.orders.emulation.EmulatingClient`), with
    what a restart needs journaled."""

    name = "live"

    def __init__(self, engine: Engine, routes: OrderRoutes, strategy_id: str) -> None:
        super().__init__(engine, routes.venue)
        self.session = routes
        self.strategy_id = strategy_id
        #: how journal, recorder and venue calls are made: directly, or posted to the event loop's thread once
        #: the strategy runs on a worker thread (:mod:`leand.live.hotpath`)
        self._effect: Callable[..., None] = _call

    def post_effects(self, post: Callable[..., None]) -> None:
        """The engine now runs on a worker thread: journal writes, recordings and venue requests are posted to
        the loop's thread by ``post(fn, *args)``, in order (so the intent is still journaled before the venue
        hears of the order)."""
        self._effect = post
        self.venue = _PostedVenue(self.venue, post)

    def send_plain(self, approved: Approved, order: Order, now_ns: int,
                   record: Callable[[Order, Approved], None] | None = None) -> bool:
        """``submit`` in one straight call for an order the venue takes as it is (its type native, GTC, no order
        list being collected) on the loop's thread: the approval spent, the route, the intent journaled (one write),
        the crash tests' kill point, the venue's request, the recording of it, the kill point, as ``submit`` does
        them (it records the request before sending it: the same frames in the same order).
        ``record(order, approved)``, when given, is the order manager's recording of the decision and the gate's
        verdict, made after the request left and before the request's own (see ``LiveSubmit.submit_live``).
        False, with nothing done, for any other order: the order manager then calls ``submit``."""
        venue = self.venue
        if self._effect is not _call or self._collecting is not None or order.time_in_force is not _GTC or \
                order.type not in venue.capabilities.order_types:
            return False
        if not isinstance(approved, Approved):
            raise UnapprovedOrderError(f"order {order.id}: submit needs the risk gate's approval, got "
                                       f"{type(approved).__name__}")
        approved.consume(order, "new")
        s = self.session
        cid = order.client_order_id
        s.routes[cid] = (self.strategy_id, order)
        s.journal.intent(cid, self.strategy_id, order.symbol, order.quantity, order.type, order.limit_price,
                         order.stop_price, _GTC, order.tag, now_ns, s.boot)
        if _FAULTS:
            kill_point("intent_journaled")
        try:
            venue.submit(order, now_ns)
        finally:
            # recorded after the request left (``submit`` records it before): nothing records a frame in between
            # (a venue's synchronous report is handled after the strategy's handler returns), so the recording is
            # the same, and a frame's making is no longer between the journal and the socket
            if record is not None:
                record(order, approved)
            if s.recorder is not None:
                s.recorder.write(Outbound(recv_ns=now_ns, client_order_id=cid, kind="submit"))
        if _FAULTS:
            kill_point("sent_unacked")
        return True

    # The crash tests' kill points go the way the journal write and the venue request went: on a worker thread
    # those are posted to the loop's thread, and a kill point reached on the worker would fire before they ran
    def _after_journal(self, order: Order) -> None:
        self._effect(kill_point, "intent_journaled")

    def _after_send(self, order: Order) -> None:
        self._effect(kill_point, "sent_unacked")

    def on_linked(self, a: Order, b: Order) -> None:
        self._effect(self.session.journal.link, a.client_order_id, b.client_order_id)

    def on_bracket(self, entry: Order, take_profit: float, stop_loss: float, tag: str,
                   exits: tuple[Order, Order] | None = None) -> None:
        self._effect(self.session.journal.bracket, entry.client_order_id, take_profit, stop_loss, tag,
                     None if exits is None else (exits[0].client_order_id, exits[1].client_order_id))

    def on_bracket_armed(self, entry: Order) -> None:
        self._effect(self.session.journal.bracket_armed, entry.client_order_id)

    def on_bracket_exits(self, entry: Order, take_profit: Order, stop_loss: Order) -> None:
        self._effect(self.session.journal.bracket_exits, entry.client_order_id, take_profit.client_order_id,
                     stop_loss.client_order_id)

    def _journal_triggered(self, order: Order, leg_type: OrderType, now_ns: int) -> None:
        self._effect(self.session.journal.triggered, order.client_order_id, leg_type, now_ns)

    def _journal_stop(self, order: Order, stop: float, now_ns: int) -> None:
        self._effect(self.session.journal.update_terms, order.client_order_id, None, None, stop, now_ns)

    # -- journal and recording ------------------------------------------------------------------------------------
    def _journal_intent(self, order: Order, now_ns: int, emulated: bool = False) -> str:
        """Write the order intent ahead of sending it (a crash after this and before the send is resolved by
        asking the venue at restart, never by resending); returns its client order id."""
        s = self.session
        cid = order.client_order_id
        # the journal's stop column holds a limit-if-touched order's trigger
        stop = order.trigger_price if order.type is OrderType.LIMIT_IF_TOUCHED else order.stop_price
        s.routes[cid] = (self.strategy_id, order)
        if self._effect is _call:
            s.journal.intent(cid, self.strategy_id, order.symbol, order.quantity, order.type, order.limit_price,
                             stop, order.time_in_force, order.tag, now_ns, s.boot, emulated=emulated,
                             trailing_amount=order.trailing_amount, trailing_pct=order.trailing_as_percentage,
                             expire_ns=order.expire_time)
        else:
            self._effect(partial(s.journal.intent, cid, self.strategy_id, order.symbol, order.quantity, order.type,
                                 order.limit_price, stop, order.time_in_force, order.tag, now_ns, s.boot,
                                 emulated=emulated, trailing_amount=order.trailing_amount,
                                 trailing_pct=order.trailing_as_percentage, expire_ns=order.expire_time))
        self._record(order, now_ns, "submit")
        return cid

    def _record(self, order: Order, now_ns: int, kind: str) -> None:
        if self.session.recorder is not None:
            self._effect(self.session.recorder.write, Outbound(recv_ns=now_ns, client_order_id=order.client_order_id,
                                                               kind=kind))


def _call(fn: Callable[..., object], *args: object) -> None:
    fn(*args)


_GTC = TimeInForce.GTC


class _PostedVenue:
    """A venue client whose requests are posted to the event loop's thread (for an engine on a worker thread);
    what it declares and where it reports stay the venue's own (its report channel is thread-safe)."""

    def __init__(self, venue: OrderEntry, post: Callable[..., None]) -> None:
        self._venue = venue
        self._post = post
        self.capabilities = venue.capabilities

    @property
    def reports(self) -> ReportSink:
        return self._venue.reports

    def submit(self, order: Order, now_ns: int) -> None:
        self._post(self._venue.submit, order, now_ns)

    def modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        self._post(self._venue.modify, order, update, now_ns)

    def cancel(self, order: Order, now_ns: int) -> None:
        self._post(self._venue.cancel, order, now_ns)
