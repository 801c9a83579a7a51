"""Account-level risk: strategies sharing one venue account are limited together (order rate, open orders,
exposure, daily loss and drawdown), and trading states apply per strategy, per account and globally."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from fakes import BTC, IBM, SPY, World

from leand.risk import RiskGate
from leand.risk.account import AccountRisk, StateLevel
from leand.risk.limits import RiskLimits


def two_strategies(limits: RiskLimits, gate_cfg: dict | None = None, glob: StateLevel | None = None):
    """Two strategies (each its own world: positions, prices) on one account; the clock is the first's."""
    a, b = World(), World()
    acct = AccountRisk("paper", limits, now_ns=lambda: a.now, global_state=glob or StateLevel("global"))
    ga = RiskGate(gate_cfg or {}, a, account=acct)
    gb = RiskGate(gate_cfg or {}, b, account=acct)
    acct.register("a", a)
    acct.register("b", b)
    return a, b, acct, ga, gb


def sync(a: World, b: World) -> None:
    b.now = a.now


def test_account_order_rate_holds_across_two_strategies() -> None:
    """The issue's case: with an account limit of 1 order/s, two strategies each got an order approved in the
    same instant. Now the second is refused until a second has passed."""
    a, b, acct, ga, gb = two_strategies(RiskLimits(order_rate_per_second=1.0, order_burst=1))
    oa, ob = a.order(strategy="a"), b.order(strategy="b")
    assert ga.check_new(oa).approved
    r = gb.check_new(ob)
    assert not r.approved and r.code == "RISK_ACCOUNT_ORDER_RATE" and "'paper'" in r.message
    a.now += 1_000_000_000
    sync(a, b)
    assert gb.check_new(b.order(strategy="b")).approved
    # a strategy's own limit still applies inside the account's
    a2, b2, _, ga2, _ = two_strategies(RiskLimits(order_rate_per_second=100.0), {"global": {
        "order_rate_per_second": 1.0, "order_burst": 1}})
    assert ga2.check_new(a2.order(strategy="a")).approved
    assert ga2.check_new(a2.order(strategy="a")).code == "RISK_ORDER_RATE"


def test_an_account_rejection_gives_the_strategy_its_token_back() -> None:
    a, b, acct, ga, gb = two_strategies(RiskLimits(order_rate_per_second=2.0, order_burst=1),
                                        {"global": {"order_rate_per_second": 1.0, "order_burst": 1}})
    assert gb.check_new(b.order(strategy="b")).approved  # b takes the account's only token
    assert ga.check_new(a.order(strategy="a")).code == "RISK_ACCOUNT_ORDER_RATE"
    a.now += 500_000_000  # the account has refilled (2/s); a's own bucket (1/s) only would have, had it spent
    sync(a, b)
    assert ga.check_new(a.order(strategy="a")).approved  # a's own token was given back by the refusal


def test_halts_per_account_and_globally() -> None:
    glob = StateLevel("global")
    a, b, acct, ga, gb = two_strategies(RiskLimits(), glob=glob)
    other = AccountRisk("sim", RiskLimits(), now_ns=lambda: a.now, global_state=glob)
    c = World()
    gc = RiskGate({}, c, account=other)
    acct.halt("ops: account halt")
    for g, w, s in ((ga, a, "a"), (gb, b, "b")):
        r = g.check_new(w.order(strategy=s))
        assert r.code == "RISK_HALTED" and "account:paper" in r.message
    assert gc.check_new(c.order(strategy="c")).approved  # another account trades on
    acct.resume("ops")
    assert ga.check_new(a.order(strategy="a")).approved
    glob.set("halted", "kill switch")
    assert gc.check_new(c.order(strategy="c")).code == "RISK_HALTED"
    assert gb.check_new(b.order(strategy="b")).code == "RISK_HALTED"
    glob.set("active", "resumed")
    assert gb.check_new(b.order(strategy="b")).approved
    with pytest.raises(ValueError):
        glob.set("paused", "?")


def test_open_orders_and_exposure_count_every_strategy_on_the_account() -> None:
    a, b, acct, ga, gb = two_strategies(RiskLimits(max_open_orders=2, max_gross_exposure=5_000.0))
    oa = a.order(strategy="a", qty=10, limit=100.0)
    assert ga.check_new(oa).approved
    ga.on_order_opened(oa)
    ob = b.order(strategy="b", symbol=IBM, qty=10, limit=50.0)
    assert gb.check_new(ob).approved
    gb.on_order_opened(ob)
    r = gb.check_new(b.order(strategy="b", qty=1, limit=100.0))
    assert r.code == "RISK_ACCOUNT_MAX_OPEN_ORDERS" and "all strategies" in r.message
    ga.on_order_closed(oa)
    gb.on_order_closed(ob)
    assert acct.open_order_count == 0
    # exposure: a holds 30 SPY (3,000), b 30 IBM (1,500): b buying 20 more SPY at 100 would make 6,500 gross
    a.pos[SPY] = 30.0
    b.pos[IBM] = 30.0
    r = gb.check_new(b.order(strategy="b", qty=20, limit=100.0))
    assert r.code == "RISK_ACCOUNT_GROSS_EXPOSURE", r
    assert gb.check_new(b.order(strategy="b", qty=5, limit=100.0)).approved  # 5,000 exactly is allowed


def test_account_daily_loss_and_drawdown() -> None:
    a, b, acct, ga, gb = two_strategies(RiskLimits(daily_loss_limit=1_000.0, max_drawdown_pct=0.05))
    acct.on_equity(100_000.0, a.now)
    acct.on_equity(99_500.0, a.now)
    assert acct.level.state == "active"
    acct.on_equity(98_900.0, a.now)
    assert acct.level.state == "reducing"  # daily loss breached: both may only reduce
    a.pos[SPY] = 10.0
    assert ga.check_new(a.order(strategy="a", qty=5)).code == "RISK_REDUCE_ONLY"
    assert ga.check_new(a.order(strategy="a", qty=-5)).approved
    acct.on_equity(94_000.0, a.now)
    assert acct.level.state == "halted" and "drawdown" in acct.level.reason
    assert gb.check_new(b.order(strategy="b", qty=-1)).code == "RISK_HALTED"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 400_000_000), st.booleans()), min_size=1,
                max_size=60),
       st.floats(0.5, 20.0), st.integers(1, 5), st.integers(1, 6))
def test_account_rate_and_open_orders_hold_whatever_the_interleaving(steps, rate, burst, max_open) -> None:
    """Three strategies submit and close orders in any interleaving: approvals by the account in any window of
    T seconds never exceed burst + rate * T, and the account's open orders never exceed its limit."""
    worlds = [World() for _ in range(3)]
    clock = {"now": worlds[0].now}
    acct = AccountRisk("x", RiskLimits(order_rate_per_second=rate, order_burst=burst, max_open_orders=max_open),
                       now_ns=lambda: clock["now"], global_state=StateLevel("g"))
    gates = [RiskGate({}, w, account=acct) for w in worlds]
    for i, w in enumerate(worlds):
        acct.register(str(i), w)
    approved: list[int] = []
    opened: list[tuple[int, object]] = []
    for who, dt, close in steps:
        clock["now"] += dt
        for w in worlds:
            w.now = clock["now"]
        if close and opened:
            i, o = opened.pop(0)
            gates[i].on_order_closed(o)
            continue
        o = worlds[who].order(strategy=str(who), symbol=BTC, qty=0.01, limit=20_000.0)
        d = gates[who].check_new(o)
        if d.approved:
            d.revoke()
            approved.append(clock["now"])
            gates[who].on_order_opened(o)
            opened.append((who, o))
        assert acct.open_order_count <= max_open
    for i, t0 in enumerate(approved):
        for t1 in approved[i:]:
            n = sum(1 for t in approved if t0 <= t <= t1)
            assert n <= burst + rate * (t1 - t0) / 1e9 + 1e-9
