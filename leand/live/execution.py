"""The daemon's side of every venue: write-ahead journaling of what is sent, and the route back to strategies.

An engine's brokerage in the daemon is a :class:`JournaledExecutionClient`: it journals the intent, records the
request, then hands the order to the venue's :class:`~leand.venue.ExecutionClient` (one per venue account,
found through the venue registry). Venue adapters never see the journal's write side or the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from leand.execution import ExecutionClient
from leand.live.faults import kill_point
from leand.model import Order, UpdateRequest
from leand.replay.records import Outbound

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.live.journal import Journal
    from leand.replay.recorder import Recorder
    from leand.venue import ExecutionClient as VenueExecutionClient


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
    venue hears of it."""

    name = "live"

    def __init__(self, engine: Engine, routes: OrderRoutes, strategy_id: str) -> None:
        self.engine = engine
        self.session = routes
        self.venue = routes.venue
        self.strategy_id = strategy_id

    def _submit(self, order: Order, now_ns: int) -> None:
        self._journal_intent(order, now_ns)
        kill_point("intent_journaled")
        self.venue.submit(order, now_ns)
        kill_point("sent_unacked")

    def _cancel(self, order: Order, now_ns: int) -> bool:
        self._record(order, now_ns, "cancel")
        self.venue.cancel(order, now_ns)
        return True

    def _modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        if not self.venue.capabilities.modify:
            raise NotImplementedError(f"{self.venue_name} does not modify orders: cancel and replace")
        self._record(order, now_ns, "modify")
        self.venue.modify(order, update, now_ns)

    @property
    def venue_name(self) -> str:
        return type(self.venue).__name__

    def async_cancel(self, order: Order) -> bool:
        return self.venue.capabilities.async_cancel

    def _journal_intent(self, order: Order, now_ns: int) -> str:
        """Write the order intent ahead of sending it (a crash after this and before the send is resolved by
        asking the venue at restart, never by resending); returns its client order id."""
        s = self.session
        cid = order.client_order_id
        s.journal.intent(cid, self.strategy_id, order.symbol, order.quantity, order.type.value, order.limit_price,
                         order.stop_price, order.time_in_force.value, order.tag, now_ns, s.boot)
        s.routes[cid] = (self.strategy_id, order)
        self._record(order, now_ns, "submit")
        return cid

    def _record(self, order: Order, now_ns: int, kind: str) -> None:
        if self.session.recorder is not None:
            self.session.recorder.write(Outbound(recv_ns=now_ns, client_order_id=order.client_order_id, kind=kind))
