"""Order session with the paper venue: journal before send, persist before act, reconcile after restart."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from leand.execution import ReconcileReport
from leand.live.execution import JournaledExecutionClient
from leand.model import Order, OrderStatus, OrderType, UpdateRequest
from leand.simulator.paper import ExecReport, PaperVenue

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.live.journal import Journal

log = structlog.get_logger("leand.paper")


class PaperSession:
    """One per venue: owns the route from client order ids to engines and the queue of venue reports."""

    def __init__(self, venue: PaperVenue, journal: Journal, boot: int) -> None:
        self.venue = venue
        self.journal = journal
        self.boot = boot
        self.reports: asyncio.Queue[ExecReport] = asyncio.Queue()
        #: client order id -> (strategy id, order)
        self.routes: dict[str, tuple[str, Order]] = {}
        self.sent = 0
        self.recorder = None  # a leand.replay.recorder.Recorder when the session is recorded

    def client(self, strategy_id: str):
        """A factory the engine calls with itself (``Engine(..., brokerage=session.client(id))``)."""
        return lambda engine: PaperExecutionClient(engine, self, strategy_id)

    def push(self, reports: list[ExecReport]) -> None:
        for r in reports:
            self.reports.put_nowait(r)

    def persist(self, r: ExecReport) -> bool:
        """Write a report to the journal before anyone acts on it. False for a fill already journaled."""
        j = self.journal
        if r.fill_quantity:
            return j.fill(r.fill_id, r.client_order_id, r.symbol, r.fill_quantity, r.fill_price, r.fee,
                          r.fee_currency, r.liquidity, r.time_ns, r.status)
        j.set_status(r.client_order_id, r.status, r.time_ns, code=r.reason, message=r.reason)
        return True

    # -- recovery ------------------------------------------------------------------------------------
    def reconcile(self) -> list[dict]:
        """Resolve in-flight intents and missing fills against the venue before any strategy runs."""
        mismatches: list[dict] = []
        j, v = self.journal, self.venue
        for r in v.fills_since(j.last_fill_id()):
            if j.fill(r.fill_id, r.client_order_id, r.symbol, r.fill_quantity, r.fill_price, r.fee,
                      r.fee_currency, r.liquidity, r.time_ns, r.status, recovered=True):
                mismatches.append({"kind": "fill_recovered", "client_order_id": r.client_order_id,
                                   "fill_id": r.fill_id, "quantity": r.fill_quantity, "price": r.fill_price})
        for it in j.open_intents():
            cid = it["client_order_id"]
            vo = v.order_by_client_id(cid)
            if vo is None:
                j.set_status(cid, "not_sent", it["updated_ns"], code="RECOVERED_UNSENT",
                             message="journaled but never reached the venue; not resent")
                mismatches.append({"kind": "intent_not_sent", "client_order_id": cid})
            elif vo.status != it["status"]:
                j.set_status(cid, vo.status, it["updated_ns"], code="RECONCILED",
                             message=f"journal said {it['status']}, venue says {vo.status}")
                mismatches.append({"kind": "status", "client_order_id": cid, "journal": it["status"],
                                   "venue": vo.status})
        for m in mismatches:
            log.warning("reconcile.mismatch", **m)
        return mismatches


class PaperExecutionClient(JournaledExecutionClient):
    name = "paper"
    session: PaperSession

    def _submit(self, order: Order, now_ns: int) -> None:
        s = self.session
        cid = self._journal_intent(order, now_ns)
        type_ = "limit" if order.type is OrderType.LIMIT else "market" if order.type is OrderType.MARKET \
            else order.type.value
        reports = s.venue.submit(cid, order.symbol, order.quantity, type_, order.limit_price, now_ns)
        s.sent += 1
        s.journal.set_status(cid, "sent", now_ns)
        s.push(reports)

    def _cancel(self, order: Order, now_ns: int) -> bool:
        self._record_cancel(order, now_ns)
        self.session.push([self.session.venue.cancel(order.client_order_id, now_ns)])
        return True

    def _modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        raise NotImplementedError("the paper venue does not modify orders: cancel and replace")

    def reconcile(self) -> ReconcileReport:
        v = self.session.venue
        return ReconcileReport(balances=v.balances())


def apply_report(engine: Engine, order: Order, r: ExecReport) -> None:
    """Apply a persisted venue report to the engine (and so to the strategy)."""
    st = r.status
    if r.fill_quantity:
        if order.status is OrderStatus.SUBMITTED:
            order.transition(OrderStatus.ACCEPTED)
        engine.on_fill(order, r.fill_quantity, r.fill_price, r.fee, r.fee_currency, trade_id=r.fill_id)
    elif st == "accepted":
        if order.status is OrderStatus.SUBMITTED:
            order.transition(OrderStatus.ACCEPTED)
    elif st == "canceled":
        engine.on_venue_closed(order, OrderStatus.CANCELED, r.reason)
    elif st == "rejected":
        if order.status is OrderStatus.PENDING_CANCEL:  # a cancel that came too late
            order.transition(OrderStatus.ACCEPTED if not order.filled_quantity else OrderStatus.PARTIALLY_FILLED)
        elif order.status.is_open:
            engine.on_venue_closed(order, OrderStatus.REJECTED, r.reason)
