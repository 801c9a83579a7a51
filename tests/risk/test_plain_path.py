"""The gate's short path for market and limit orders under plain limits decides what its full check decides: for
random limits, states, prices, instruments, quantities, limit prices and account levels (the daemon's: limits and a
trading state of its own), ``check_new`` approves exactly the orders ``_check`` passes and refuses the others with
the same code and message (through either kind of risk context); ``passes_plain``, the short path asked alone, passes
only orders the full check passes."""

from __future__ import annotations

from typing import Any

from fakes import BTC, IBM, SPY, World
from hypothesis import example, given, settings
from hypothesis import strategies as st

from leand.model import OrderType, Symbol
from leand.risk import RiskGate
from leand.risk.account import AccountRisk, StateLevel
from leand.risk.gate import Approved, Rejection
from leand.risk.limits import RiskLimits

UNKNOWN = Symbol.equity("NOPE")


class ViewWorld(World):
    """A context with the one-call view the engine's has (``order_view``)."""

    def order_view(self, symbol: Symbol, mid: bool) -> tuple[Any, bool, float]:
        inst = self.instrument(symbol)
        if inst is None:
            return None, False, 0.0
        return inst, self.tradable(symbol), self.mid_price(symbol) if mid else self.last_price(symbol)


limits = st.fixed_dictionaries({}, optional={
    "tradable": st.booleans(),
    "check_lot_size": st.booleans(),
    "collar_reference": st.sampled_from(["last", "mid"]),
    "max_order_quantity": st.floats(0, 50),
    "max_order_notional": st.sampled_from([0.0, 50.0, 400.0, 1e9]),
    "check_tick_grid": st.booleans(),
    "max_position_quantity": st.floats(0, 50),
    "check_buying_power": st.booleans(),
    "prevent_self_trade": st.booleans(),
})


account_limits = st.sampled_from([{}, {"max_open_orders": 0}, {"max_open_orders": 5}, {"max_gross_exposure": 0.0},
                                  {"max_net_exposure": 1e9}, {"order_rate_per_second": 0.5},
                                  {"order_rate_per_second": 100.0}])


def gate_for(cfg: dict, w: World, state: str, account: dict | None, account_state: str) -> RiskGate:
    acct = None
    if account is not None:
        acct = AccountRisk("a", RiskLimits(**account), now_ns=w.now_ns, global_state=StateLevel("global"))
        acct.register("s1", w)
        if account_state != "active":
            acct.level.set(account_state, "test")
    gate = RiskGate(cfg, w, account=acct)
    if state == "halted":
        gate.halt("test", cancel_all=False)
    elif state == "reducing":
        gate.reduce_only("test")
    return gate


@settings(max_examples=600, deadline=None)
@example(glob={}, inst={}, view=True, state="active", symbol=SPY, qty=1.0, limit=None, price=100.0, mid=99.5,
         untradable=False, pos=0.0, account={"order_rate_per_second": 0.5}, account_state="active")
@example(glob={"max_order_notional": 400.0}, inst={}, view=False, state="active", symbol=BTC, qty=2.5e-4,
         limit=20_000.01, price=100.0, mid=99.5, untradable=False, pos=0.0, account={}, account_state="reducing")
@example(glob={}, inst={}, view=True, state="active", symbol=SPY, qty=1.0, limit=99.995, price=100.0, mid=99.5,
         untradable=False, pos=0.0, account=None, account_state="active")
@given(glob=limits, inst=limits, view=st.booleans(),
       state=st.sampled_from(["active", "active", "active", "reducing", "halted"]),
       symbol=st.sampled_from([SPY, IBM, BTC, UNKNOWN]),
       qty=st.sampled_from([1.0, -3.0, 2.5e-4, 0.0, 0.5, 0.00015, 1e6, -40.0]),
       limit=st.sampled_from([None, None, 0.0, 100.0, 99.995, 20_000.01]),
       price=st.sampled_from([100.0, 0.0]), mid=st.sampled_from([99.5, 0.0]), untradable=st.booleans(),
       pos=st.sampled_from([0.0, 5.0, -5.0]), account=st.none() | account_limits,
       account_state=st.sampled_from(["active", "active", "active", "reducing", "halted"]))
def test_short_path_decides_as_the_full_check(glob: dict, inst: dict, view: bool, state: str, symbol: Symbol,
                                              qty: float, limit: float | None, price: float, mid: float,
                                              untradable: bool, pos: float, account: dict | None,
                                              account_state: str) -> None:
    cfg = {"global": glob, "per_instrument": {"SPY": inst}}
    w = ViewWorld() if view else World()
    w.prices[symbol] = price
    w.mids[symbol] = mid
    w.pos[symbol] = pos
    if untradable:
        w.untradable.add(symbol)
    gate = gate_for(cfg, w, state, account, account_state)
    twin = gate_for(cfg, w, state, account, account_state)  # the full check's, through the same history
    for _ in range(2):  # the first order resolves the limits; the second takes the short path if they are plain
        order = w.order(symbol, qty, OrderType.MARKET if limit is None else OrderType.LIMIT, limit)
        full = twin._check(order, order.quantity, order.limit_price, order.stop_price, None)
        # the short path alone (the bar brokerage's quiet market orders): it never passes what the full check refuses
        if gate.passes_plain(order.strategy_id, order.symbol, order.quantity, order.limit_price):
            assert full is None
        got = gate.check_new(order)
        if full is None:
            assert isinstance(got, Approved)
            assert (got.quantity, got.limit_price, got.stop_price) == (qty, limit, None)
            got.revoke()
        else:
            assert isinstance(got, Rejection)
            assert (got.code, got.message) == (full.code, full.message)


@settings(max_examples=500, deadline=None)
@example(symbol=BTC, steps=3, off=1e-6, neg=False)
@example(symbol=BTC, steps=3, off=-1.5e-6, neg=True)
@example(symbol=SPY, steps=0, off=0.4999999, neg=False)
@given(symbol=st.sampled_from([SPY, BTC]), steps=st.integers(0, 10**12), neg=st.booleans(),
       off=st.sampled_from([0.0, 1e-7, -1e-7, 1e-6, -1e-6, 1.0000001e-6, -1.0000001e-6, 0.25, 0.5, -0.5])
       | st.floats(-0.5, 0.5))
def test_short_path_lot_rule_is_the_full_checks(symbol: Symbol, steps: int, off: float, neg: bool) -> None:
    """``passes_plain`` tests the lot without ``round()`` (``steps % 1.0``): under limits that leave only the lot
    to refuse a market order it passes exactly the quantities the full check's ``abs(steps - round(steps))`` rule
    passes, at and around whole numbers of lots, for small and huge quantities."""
    w = World()
    w.prices[symbol] = 100.0
    gate = RiskGate({}, w)
    twin = RiskGate({}, w)
    lot = w.instrument(symbol).lot_size
    qty = (steps + off) * lot * (-1.0 if neg else 1.0)
    order = w.order(symbol, qty, OrderType.MARKET, None)
    gate.limits_for(order.strategy_id, symbol)  # resolved: the short path answers from here on
    full = twin._check(order, order.quantity, order.limit_price, order.stop_price, None)
    assert gate.passes_plain(order.strategy_id, order.symbol, order.quantity, None) == (full is None)
