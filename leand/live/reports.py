"""Venue reports on the daemon's side, the same for every venue: journal a report before anyone acts on it,
hand it to the order manager, and apply a venue's reconciliation view to the journal at start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import structlog

from leand.live.faults import kill_point
from leand.model import CANCEL_REJECTED, ExecReport, Order, OrderStatus, ReportKind
from leand.venue import held_locally

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.live.journal import Journal
    from leand.venue import VenueView

log = structlog.get_logger("leand.reports")

# every report's kinds as module constants (an ``Enum.MEMBER`` reference goes through EnumType's __getattr__ slot)
_STATUS, _UPDATE_ACCEPTED = ReportKind.STATUS, ReportKind.UPDATE_ACCEPTED


def persist_report(j: Journal, r: ExecReport) -> bool:
    """Write a report to the journal before anyone acts on it. False for a fill already journaled: the order
    manager must not see it twice."""
    if r.kind is _STATUS and r.reason.startswith(CANCEL_REJECTED):  # the older spelling of a refusal
        r = msgspec.structs.replace(r, kind=ReportKind.CANCEL_REJECTED)
    if r.fill_quantity:
        return j.fill(r.fill_id, r.client_order_id, r.symbol, r.fill_quantity, r.fill_price, r.fee,
                      r.fee_currency, r.liquidity, r.time_ns, r.status)
    if r.kind is _UPDATE_ACCEPTED:
        j.update_terms(r.client_order_id, r.quantity, r.limit_price, r.stop_price, r.time_ns)
    elif r.kind is not _STATUS:  # a refused cancel or update: the order itself is unchanged
        j.event(r.client_order_id, r.kind.value, r.time_ns, r.kind.name, r.reason)
    else:
        j.set_status(r.client_order_id, r.status, r.time_ns, code=r.reason, message=r.reason)
    return True


def apply_report(engine: Engine, order: Order, r: ExecReport) -> None:
    """Apply a persisted report to the engine: the order manager's one path for every venue."""
    engine.order_manager.apply_report(order, r)


def apply_view(j: Journal, view: VenueView) -> list[dict[str, Any]]:
    """Resolve missing fills and in-flight intents against the venue's view, before any strategy runs: fills
    recovered by fill id (never twice), an intent the venue never heard of closed as rejected with code
    ``RECOVERED_UNSENT`` (never resent), a status that moved while the daemon was away brought forward to the
    venue's. An emulated order not yet triggered was never sent: it is left open, to be armed again. Returns
    the mismatches."""
    mismatches: list[dict[str, Any]] = list(view.foreign)
    for r in view.fills:
        kill_point("reconcile")
        if j.fill(r.fill_id, r.client_order_id, r.symbol, r.fill_quantity, r.fill_price, r.fee, r.fee_currency,
                  r.liquidity, r.time_ns, r.status, recovered=True):
            mismatches.append({"kind": "fill_recovered", "client_order_id": r.client_order_id,
                               "fill_id": r.fill_id, "quantity": r.fill_quantity, "price": r.fill_price})
    for it in j.open_intents():
        cid = it["client_order_id"]
        if cid not in view.orders or held_locally(it):
            continue
        vo = view.orders[cid]
        if vo is None:
            j.set_status(cid, OrderStatus.REJECTED, it["updated_ns"], code="RECOVERED_UNSENT",
                         message="journaled but unknown to the venue; not resent")
            mismatches.append({"kind": "intent_not_sent", "client_order_id": cid})
        elif vo.status != it["status"]:
            j.set_status(cid, vo.status, it["updated_ns"], code="RECONCILED",
                         message=f"journal said {it['status']}, venue says {vo.status}")
            mismatches.append({"kind": "status", "client_order_id": cid, "journal": it["status"],
                               "at_venue": str(vo.status)})
    for m in mismatches:
        log.warning("reconcile.mismatch", **m)
    return mismatches
