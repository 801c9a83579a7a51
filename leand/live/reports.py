"""Venue reports on the daemon's side, the same for every venue: journal a report before anyone acts on it,
apply it to the engine, and apply a venue's reconciliation view to the journal at start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from leand.live.faults import kill_point
from leand.model import CANCEL_REJECTED, TRANSITIONS, ExecReport, Order, OrderStatus

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.live.journal import Journal
    from leand.venue import VenueView

log = structlog.get_logger("leand.reports")


def persist_report(j: Journal, r: ExecReport) -> bool:
    """Write a report to the journal before anyone acts on it. False for a fill already journaled."""
    if r.fill_quantity:
        return j.fill(r.fill_id, r.client_order_id, r.symbol, r.fill_quantity, r.fill_price, r.fee,
                      r.fee_currency, r.liquidity, r.time_ns, r.status)
    if r.reason.startswith(CANCEL_REJECTED):  # an event only: the order itself is unchanged
        j.event(r.client_order_id, "cancel_rejected", r.time_ns, CANCEL_REJECTED, r.reason)
        return True
    j.set_status(r.client_order_id, r.status, r.time_ns, code=r.reason, message=r.reason)
    return True


def apply_report(engine: Engine, order: Order, r: ExecReport) -> None:
    """Apply a persisted report to the engine (and so to the strategy). A refused cancel leaves the order as it
    was; a closed order is never moved again."""
    st = order.status
    if r.fill_quantity:
        if not st.is_open:  # journaled; the account check at the next start will show it
            log.error("report.fill_on_closed_order", client_order_id=r.client_order_id, status=st.value,
                      fill_id=r.fill_id)
            return
        if st is OrderStatus.SUBMITTED:
            order.transition(OrderStatus.ACCEPTED)
        engine.on_fill(order, r.fill_quantity, r.fill_price, r.fee, r.fee_currency, trade_id=r.fill_id)
    elif r.reason.startswith(CANCEL_REJECTED):
        if st is OrderStatus.PENDING_CANCEL:
            order.transition(OrderStatus.PARTIALLY_FILLED if order.filled_quantity else OrderStatus.ACCEPTED)
    elif r.status == "accepted":
        if st is OrderStatus.SUBMITTED:
            order.transition(OrderStatus.ACCEPTED)
    elif r.status in ("canceled", "rejected") and st.is_open:
        want = OrderStatus.REJECTED if r.status == "rejected" else \
            OrderStatus.EXPIRED if r.reason == "EXPIRED" else OrderStatus.CANCELED
        if want not in TRANSITIONS[st]:  # e.g. a pending cancel of an order the venue never had
            want = OrderStatus.CANCELED
        engine.on_venue_closed(order, want, r.reason)


def apply_view(j: Journal, view: VenueView) -> list[dict[str, Any]]:
    """Resolve missing fills and in-flight intents against the venue's view, before any strategy runs: fills
    recovered by fill id (never twice), an intent the venue never heard of marked ``not_sent`` (never resent),
    a status that moved while the daemon was away brought up to the venue's. Returns the mismatches."""
    mismatches: list[dict[str, Any]] = list(view.foreign)
    for r in view.fills:
        kill_point("reconcile")
        if j.fill(r.fill_id, r.client_order_id, r.symbol, r.fill_quantity, r.fill_price, r.fee, r.fee_currency,
                  r.liquidity, r.time_ns, r.status, recovered=True):
            mismatches.append({"kind": "fill_recovered", "client_order_id": r.client_order_id,
                               "fill_id": r.fill_id, "quantity": r.fill_quantity, "price": r.fill_price})
    for it in j.open_intents():
        cid = it["client_order_id"]
        if cid not in view.orders:
            continue
        vo = view.orders[cid]
        if vo is None:
            j.set_status(cid, "not_sent", it["updated_ns"], code="RECOVERED_UNSENT",
                         message="journaled but unknown to the venue; not resent")
            mismatches.append({"kind": "intent_not_sent", "client_order_id": cid})
        elif vo.status != it["status"]:
            j.set_status(cid, vo.status, it["updated_ns"], code="RECONCILED",
                         message=f"journal said {it['status']}, venue says {vo.status}")
            mismatches.append({"kind": "status", "client_order_id": cid, "journal": it["status"],
                               "venue": vo.status})
    for m in mismatches:
        log.warning("reconcile.mismatch", **m)
    return mismatches
