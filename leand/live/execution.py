"""The daemon's side of every execution client: write-ahead journaling and recording of what is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leand.execution import ExecutionClient
from leand.model import Order
from leand.replay.records import Outbound

if TYPE_CHECKING:
    from leand.engine import Engine


class JournaledExecutionClient(ExecutionClient):
    """An execution client of the live daemon. ``session`` is the venue's order session (it holds the journal,
    the boot number, the routes from client order ids back to strategies, and the recorder). Subclasses send;
    this base makes sure the intent is journaled, and the request recorded, before the venue hears of it."""

    def __init__(self, engine: Engine, session: Any, strategy_id: str) -> None:
        self.engine = engine
        self.session = session
        self.strategy_id = strategy_id

    def _journal_intent(self, order: Order, now_ns: int) -> str:
        """Write the order intent ahead of sending it (a crash after this and before the send is resolved by
        asking the venue at restart, never by resending); returns its client order id."""
        s = self.session
        cid = order.client_order_id
        s.journal.intent(cid, self.strategy_id, order.symbol, order.quantity, order.type.value, order.limit_price,
                         order.stop_price, order.time_in_force.value, order.tag, now_ns, s.boot)
        s.routes[cid] = (self.strategy_id, order)
        if s.recorder is not None:
            s.recorder.write(Outbound(recv_ns=now_ns, client_order_id=cid, kind="submit"))
        return cid

    def _record_cancel(self, order: Order, now_ns: int) -> None:
        if self.session.recorder is not None:
            self.session.recorder.write(Outbound(recv_ns=now_ns, client_order_id=order.client_order_id,
                                                 kind="cancel"))
