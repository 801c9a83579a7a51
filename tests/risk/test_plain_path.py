"""The gate's short path for market orders under plain limits decides what its full check decides: for random
limits, states, prices, instruments and quantities, ``check_new`` approves exactly the orders ``_check`` passes
and refuses the others with the same code and message (through either kind of risk context)."""

from __future__ import annotations

from typing import Any

from fakes import BTC, IBM, SPY, World
from hypothesis import given, settings
from hypothesis import strategies as st

from leand.model import OrderType, Symbol
from leand.risk import RiskGate
from leand.risk.gate import Approved, Rejection

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
    "max_position_quantity": st.floats(0, 50),
    "check_buying_power": st.booleans(),
    "prevent_self_trade": st.booleans(),
})


@settings(max_examples=300, deadline=None)
@given(glob=limits, inst=limits, view=st.booleans(), state=st.sampled_from(["active", "reducing", "halted"]),
       symbol=st.sampled_from([SPY, IBM, BTC, UNKNOWN]),
       qty=st.sampled_from([0.0, 1.0, -3.0, 0.5, 2.5e-4, 0.00015, 1e6, -40.0]),
       price=st.sampled_from([0.0, 100.0]), mid=st.sampled_from([0.0, 99.5]), untradable=st.booleans(),
       pos=st.sampled_from([0.0, 5.0, -5.0]))
def test_short_path_decides_as_the_full_check(glob: dict, inst: dict, view: bool, state: str, symbol: Symbol,
                                              qty: float, price: float, mid: float, untradable: bool,
                                              pos: float) -> None:
    cfg = {"global": glob, "per_instrument": {"SPY": inst}}
    w = ViewWorld() if view else World()
    w.prices[symbol] = price
    w.mids[symbol] = mid
    w.pos[symbol] = pos
    if untradable:
        w.untradable.add(symbol)
    gate = RiskGate(cfg, w)
    if state == "halted":
        gate.halt("test", cancel_all=False)
    elif state == "reducing":
        gate.reduce_only("test")
    for _ in range(2):  # the first order resolves the limits; the second takes the short path if they are plain
        order = w.order(symbol, qty, OrderType.MARKET)
        full = gate._check(order, order.quantity, order.limit_price, order.stop_price, None)
        got = gate.check_new(order)
        if full is None:
            assert isinstance(got, Approved)
            got.revoke()
        else:
            assert isinstance(got, Rejection)
            assert (got.code, got.message) == (full.code, full.message)
