"""No execution client can be handed an order that did not pass the gate."""

from __future__ import annotations

import msgspec
import pytest
from fakes import World

from leand.execution import ExecutionClient
from leand.model import UpdateRequest
from leand.risk import Approved, Rejection, RiskGate, UnapprovedOrderError
from leand.risk.gate import _issue


class Venue(ExecutionClient):
    def __init__(self) -> None:
        self.sent = []

    def _submit(self, order, now_ns):
        self.sent.append(order.id)

    def _modify(self, order, update, now_ns):
        self.sent.append(("mod", order.id))

    def _cancel(self, order, now_ns):
        return True


def setup():
    w = World()
    return w, RiskGate({"global": {"max_order_quantity": 50}}, w), Venue()


def test_approved_order_reaches_the_venue_once() -> None:
    w, g, v = setup()
    o = w.order(qty=10)
    d = g.check_new(o)
    v.submit(d, o, w.now)
    assert v.sent == [o.id]
    with pytest.raises(UnapprovedOrderError, match="already used"):
        v.submit(d, o, w.now)  # replay
    assert v.sent == [o.id]


def test_rejected_or_missing_approval_fails_loudly() -> None:
    w, g, v = setup()
    o = w.order(qty=60)
    d = g.check_new(o)
    assert not d.approved
    with pytest.raises(UnapprovedOrderError):
        v.submit(d, o, w.now)
    with pytest.raises(UnapprovedOrderError):
        v.submit(None, o, w.now)
    assert v.sent == []


def test_forged_approvals_fail() -> None:
    w, g, v = setup()
    o = w.order(qty=10)
    with pytest.raises(UnapprovedOrderError, match="only be issued by the risk gate"):
        Approved(o.id, o.quantity, o.limit_price, o.stop_price, "new")
    with pytest.raises(UnapprovedOrderError):
        Approved(o.id, o.quantity, o.limit_price, o.stop_price, "new", b"0" * 16)
    fake = Approved.__new__(Approved)  # skipping __init__ does not help either
    fake.order_id, fake.quantity, fake.limit_price, fake.stop_price, fake.kind = o.id, 10.0, o.limit_price, None, "new"
    fake._token = b"x" * 16
    with pytest.raises(UnapprovedOrderError):
        v.submit(fake, o, w.now)
    assert v.sent == []


def test_approval_is_bound_to_the_order_and_its_values() -> None:
    w, g, v = setup()
    a, b = w.order(qty=10), w.order(qty=10)
    da = g.check_new(a)
    with pytest.raises(UnapprovedOrderError):
        v.submit(da, b, w.now)  # another order
    a.quantity = 500  # mutated after approval
    with pytest.raises(UnapprovedOrderError, match="changed after approval"):
        v.submit(da, a, w.now)
    assert v.sent == []


def test_modify_needs_its_own_approval() -> None:
    w, g, v = setup()
    o = w.order(qty=10)
    v.submit(g.check_new(o), o, w.now)
    up = UpdateRequest(order_id=o.id, quantity=20)
    with pytest.raises(UnapprovedOrderError):
        v.modify(g.check_new(msgspec.structs.replace(o, quantity=20)), o, up, w.now)  # a "new" approval
    dm = g.check_modify(o, up)
    with pytest.raises(UnapprovedOrderError, match="differs"):
        v.modify(dm, o, UpdateRequest(order_id=o.id, quantity=40), w.now)
    v.modify(dm, o, up, w.now)
    assert v.sent == [o.id, ("mod", o.id)]


def test_subclasses_cannot_override_the_gatekeeping_methods() -> None:
    with pytest.raises(TypeError, match="may not override submit"):
        class Sneaky(ExecutionClient):
            def submit(self, approved, order, now_ns):
                pass


def test_issuing_outside_the_gate_is_private() -> None:
    # the only constructor path is the gate's private issuer; it exists, but nothing public exposes it
    assert _issue.__module__ == "leand.risk.gate"
    import leand.risk as public
    assert "_issue" not in dir(public)


def test_backtest_engine_routes_every_order_through_the_gate() -> None:
    """The backtest brokerage is an ExecutionClient: handing it an order directly raises."""
    from pathlib import Path

    from leand import Resolution, Strategy
    from leand.engine import Engine

    class S(Strategy):
        def initialize(self):
            self.set_start_date(2013, 10, 7)
            self.set_end_date(2013, 10, 7)
            self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
            self.set_risk_limits({"global": {"max_order_quantity": 100}})
            self.done = False

        def on_data(self, data):
            if not self.done:
                self.done = True
                self.big = self.market_order(self.spy, 1000)
                self.small = self.market_order(self.spy, 10)

    e = Engine(S(), Path(__file__).resolve().parents[2] / "data" / "lean")
    e.run()
    s = e.strategy
    assert s.big.status.value == "rejected" and s.small.status.value == "filled"
    rogue = e.orders[s.small.order_id]
    with pytest.raises(UnapprovedOrderError):
        e.brokerage.submit(None, rogue, e.clock.now_ns())
    # its entry for an order handed over without an approval (the order manager's quiet path) asks the gate itself:
    # what the gate refuses comes back refused and is not taken
    sec, now = e.securities[s.spy], e.clock.now_ns()
    too_big = msgspec.structs.replace(rogue, id=10_000, quantity=1000.0)
    assert isinstance(e.brokerage.gated_fill_price(too_big, sec, now), Rejection)
    e.risk_gate.halt("test")
    small = msgspec.structs.replace(rogue, id=10_001, quantity=10.0)
    refusal = e.brokerage.gated_fill_price(small, sec, now)
    assert isinstance(refusal, Rejection) and refusal.code == "RISK_HALTED"
    assert not {10_000, 10_001} & set(e.brokerage.pending)
