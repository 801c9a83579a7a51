"""The order manager applies every venue's reports through one path: late, duplicated and reordered reports
never move an order backwards, never overfill it and never count a fill twice."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leand import Strategy
from leand.clock import VirtualClock
from leand.engine import Engine
from leand.execution import ExecutionClient
from leand.model import STATUS_RANK, ExecReport, Order, OrderStatus, QuoteTick, ReportKind, UpdateRequest

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"
T0 = 1_700_000_000_000_000_000
S = OrderStatus


class Venue(ExecutionClient):
    """A live-like venue that answers later: the test delivers its reports."""

    name = "test"

    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []

    def _submit(self, order: Order, now_ns: int) -> None:
        self.sent.append(("submit", order.id))

    def _cancel(self, order: Order, now_ns: int) -> bool:
        self.sent.append(("cancel", order.id))
        return True

    def _modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        self.sent.append(("modify", order.id))

    def async_cancel(self, order: Order) -> bool:
        return True

    def async_modify(self, order: Order) -> bool:
        return True


class Quiet(Strategy):
    def initialize(self) -> None:
        self.set_cash(1_000_000)
        self.btc = self.add_crypto("BTCUSD").symbol
        self.events: list = []

    def on_order_event(self, event) -> None:
        self.events.append(event)


def live_engine() -> Engine:
    e = Engine(Quiet(), DATA, live_mode=True, clock=VirtualClock(T0), brokerage=lambda _e: Venue())
    e.start_live()
    sym = e.strategy.btc
    e.on_live_slice(T0 + 1, (QuoteTick(sym, T0 + 1, 100.0, 5.0, 100.5, 5.0),))
    return e


def report(order: Order, status: OrderStatus, *, kind: ReportKind = ReportKind.STATUS, qty: float = 0.0,
           fill_id: int = 0, reason: str = "", **kw) -> ExecReport:
    return ExecReport(client_order_id=order.client_order_id, status=status, symbol=order.symbol.id, time_ns=T0,
                      kind=kind, fill_quantity=qty, fill_price=100.0 if qty else 0.0, fill_id=fill_id, fee=0.0,
                      reason=reason, **kw)


def test_a_cancel_refused_after_the_fill_leaves_the_order_filled() -> None:
    e = live_engine()
    om = e.order_manager
    t = e.strategy.limit_order(e.strategy.btc, 1.0, 99.0)
    o = t.order
    t.cancel()
    assert o.status is S.PENDING_CANCEL
    om.apply_report(o, report(o, S.FILLED, qty=1.0, fill_id=1))
    om.apply_report(o, report(o, S.FILLED, kind=ReportKind.CANCEL_REJECTED, reason="ORDER_FILLED"))
    om.apply_report(o, report(o, S.REJECTED, reason="late"))
    om.apply_report(o, report(o, S.CANCELED))
    assert o.status is S.FILLED and o.filled_quantity == 1.0
    assert [ev.status for ev in e.strategy.events] == [S.SUBMITTED, S.PENDING_CANCEL, S.FILLED]


def test_a_refused_cancel_reopens_and_a_refused_update_keeps_the_old_terms() -> None:
    e = live_engine()
    om = e.order_manager
    t = e.strategy.limit_order(e.strategy.btc, 2.0, 99.0)
    o = t.order
    om.apply_report(o, report(o, S.ACCEPTED))
    t.cancel()
    om.apply_report(o, report(o, S.ACCEPTED, kind=ReportKind.CANCEL_REJECTED, reason="busy"))
    assert o.status is S.ACCEPTED and o.is_open
    assert t.update(limit_price=98.0)
    assert o.limit_price == 99.0  # waits for the venue
    om.apply_report(o, report(o, S.ACCEPTED, kind=ReportKind.UPDATE_REJECTED, reason="no"))
    assert o.limit_price == 99.0
    assert t.update(limit_price=97.0, quantity=3.0)
    om.apply_report(o, report(o, S.ACCEPTED, kind=ReportKind.UPDATE_ACCEPTED))
    assert (o.limit_price, o.quantity) == (97.0, 3.0)
    ev = e.strategy.events
    assert [(x.status, x.code) for x in ev[-3:]] == [(S.ACCEPTED, "CANCEL_REJECTED"), (S.ACCEPTED, "UPDATE_REJECTED"),
                                                     (S.ACCEPTED, "")]


def test_duplicated_fill_is_counted_once_and_overfill_is_dropped() -> None:
    e = live_engine()
    om = e.order_manager
    o = e.strategy.market_order(e.strategy.btc, 1.0).order
    r = report(o, S.PARTIALLY_FILLED, qty=0.5, fill_id=11)
    om.apply_report(o, r)
    om.apply_report(o, r)
    om.apply_report(o, report(o, S.FILLED, qty=0.75, fill_id=12))  # more than is left
    assert o.filled_quantity == 0.5 and len(om.fills) == 1 and o.status is S.PARTIALLY_FILLED
    assert e.portfolio.securities[o.symbol].holdings.quantity == 0.5


def test_an_impossible_update_is_an_event_not_an_exception() -> None:
    e = live_engine()
    t = e.strategy.limit_order(e.strategy.btc, 1.0, 99.0)
    assert not t.update(quantity=-1.0)
    assert not t.update(trailing_amount=1.0)
    assert [x.code for x in e.strategy.events[-2:]] == ["INVALID_UPDATE_QUANTITY", "INVALID_UPDATE"]


# ---- property: any sequence, in any order, late and duplicated -------------------------------------------
OPS = st.lists(st.tuples(
    st.sampled_from(["submit", "cancel", "update", "accepted", "fill", "canceled", "rejected", "expired",
                     "cancel_rejected", "update_accepted", "update_rejected", "replay"]),
    st.integers(0, 3), st.sampled_from([0.25, 0.5, 1.0, 1.5])), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_no_report_sequence_breaks_an_order(ops: list[tuple[str, int, float]]) -> None:
    e = live_engine()
    om = e.order_manager
    strat = e.strategy
    orders: list[Order] = []
    sent: list[tuple[Order, ExecReport]] = []
    next_fill = [1]
    last: dict[int, tuple[int, OrderStatus, float]] = {}
    for op, i, x in ops:
        if op == "submit" or not orders:
            t = strat.limit_order(strat.btc, 2.0 if i % 2 == 0 else -2.0, 99.0)
            orders.append(t.order)
            continue
        o = orders[i % len(orders)]
        side = 1.0 if o.quantity > 0 else -1.0
        if op == "cancel":
            strat.cancel_order(o.id)
        elif op == "update":
            e.update_order(o.id, quantity=side * (2.0 + x), limit_price=98.0 + x)
        elif op == "replay" and sent:
            oo, r = sent[i % len(sent)]
            om.apply_report(oo, r)
        else:
            if op == "fill":
                r = report(o, S.PARTIALLY_FILLED, qty=side * x, fill_id=next_fill[0])
                next_fill[0] += 1
            elif op in ("cancel_rejected", "update_accepted", "update_rejected"):
                r = report(o, S.ACCEPTED, kind=ReportKind(op), quantity=side * (2.0 + x) if op == "update_accepted"
                           else None)
            elif op == "replay":
                continue
            else:
                r = report(o, OrderStatus(op))
            sent.append((o, r))
            om.apply_report(o, r)
        for oo in orders:
            # never beyond the quantity, never on the wrong side
            assert abs(oo.filled_quantity) <= abs(oo.quantity) + 1e-9
            assert oo.filled_quantity == 0 or (oo.filled_quantity > 0) == (oo.quantity > 0)
            prev = last.get(oo.id)
            rank = STATUS_RANK[oo.status]
            if prev is not None:
                prank, pstatus, pfilled = prev
                if pstatus.is_terminal:
                    assert oo.status is pstatus  # final is final
                assert abs(oo.filled_quantity) >= abs(pfilled) - 1e-12
                if oo.status not in (S.PENDING_CANCEL, S.PENDING_UPDATE, S.ACCEPTED):
                    assert rank >= prank or pstatus in (S.PENDING_CANCEL, S.PENDING_UPDATE)
            last[oo.id] = (rank, oo.status, oo.filled_quantity)
            assert oo.is_open == (oo.id in om.open_orders)
    # every fill counted once: the fills list, the orders and the position agree
    ids = [f.trade_id for f in om.fills]
    assert len(ids) == len(set(ids))
    by_order: dict[int, float] = {}
    for f in om.fills:
        by_order[f.order_id] = by_order.get(f.order_id, 0.0) + f.quantity
    for oo in orders:
        assert abs(by_order.get(oo.id, 0.0) - oo.filled_quantity) < 1e-9
    assert abs(e.portfolio.securities[strat.btc].holdings.quantity - sum(by_order.values())) < 1e-9
