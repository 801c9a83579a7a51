"""Property tests: under random order streams the gate keeps every limit, whatever fills or cancels."""

from __future__ import annotations

from fakes import IBM, SPY, World
from hypothesis import given, settings
from hypothesis import strategies as st

from leand.model import OrderType
from leand.risk import RiskGate, TradingState

LIMITS = {"max_order_quantity": 40, "max_position_quantity": 100, "max_position_notional": 9_000,
          "max_gross_exposure": 12_000, "max_net_exposure": 8_000, "max_open_orders_per_instrument": 3,
          "max_open_orders": 5, "order_rate_per_second": 5, "order_burst": 5, "max_order_notional": 3_000}

action = st.one_of(
    st.tuples(st.just("order"), st.sampled_from([SPY, IBM]), st.integers(-60, 60).filter(bool),
              st.sampled_from([OrderType.LIMIT, OrderType.MARKET]), st.integers(-3, 3)),
    st.tuples(st.just("fill"), st.integers(0, 50)),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("wait"), st.integers(1, 2_000)),
)


def worst_case(world: World, symbol) -> float:
    pos = world.position(symbol)
    buys = sum(o.quantity for o in world.open_orders() if o.symbol == symbol and o.quantity > 0)
    sells = sum(o.quantity for o in world.open_orders() if o.symbol == symbol and o.quantity < 0)
    return max(abs(pos + buys), abs(pos + sells))


def run(actions, state=TradingState.ACTIVE):
    w = World()
    g = RiskGate({"global": LIMITS}, w)
    w.pos = {SPY: 0.0, IBM: 0.0}
    if state is TradingState.REDUCING:
        w.pos = {SPY: 50.0, IBM: -30.0}
        g.reduce_only("test")
    elif state is TradingState.HALTED:
        g.halt("test")
    sent_times: list[int] = []
    for a in actions:
        kind = a[0]
        if kind == "order":
            _, sym, qty, typ, off = a
            px = w.prices[sym] + off * 0.01
            before_pos = w.position(sym)
            before_worst = worst_case(w, sym)
            o = w.order(symbol=sym, qty=float(qty), type_=typ, limit=px)
            d = w.place(g, o)
            if state is TradingState.HALTED:
                assert not d.approved
            if d.approved:
                sent_times.append(w.now)
                if state is TradingState.REDUCING:
                    # no approved order increases exposure: worst case never grows beyond the position
                    assert worst_case(w, sym) <= max(abs(before_pos), before_worst)
        elif kind == "fill":
            opens = w.open_orders()
            if opens:
                w.fill(g, opens[a[1] % len(opens)])
        elif kind == "cancel":
            opens = w.open_orders()
            if opens:
                w.cancel(g, opens[a[1] % len(opens)])
        else:
            w.now += a[1] * 1_000_000
        # invariants after every step
        opens = w.open_orders()
        assert len(opens) <= LIMITS["max_open_orders"]
        for sym in (SPY, IBM):
            assert sum(1 for o in opens if o.symbol == sym) <= LIMITS["max_open_orders_per_instrument"]
            if state is TradingState.ACTIVE:
                assert abs(w.position(sym)) <= LIMITS["max_position_quantity"]
                assert worst_case(w, sym) <= LIMITS["max_position_quantity"]
                assert abs(w.position(sym)) * w.prices[sym] <= LIMITS["max_position_notional"] + 1e-6
        if state is TradingState.ACTIVE:
            gross = sum(abs(q) * w.prices[s] for s, q in w.pos.items())
            net = sum(q * w.prices[s] for s, q in w.pos.items())
            assert gross <= LIMITS["max_gross_exposure"] + 1e-6
            assert abs(net) <= LIMITS["max_net_exposure"] + 1e-6
        for o in opens:
            assert abs(o.quantity) <= LIMITS["max_order_quantity"]
            assert abs(o.quantity) * (o.limit_price or w.prices[o.symbol]) <= LIMITS["max_order_notional"] + 1e-6
    # the throttle: never more than burst + rate × elapsed orders in any window
    for i, t0 in enumerate(sent_times):
        in_window = [t for t in sent_times[i:] if t - t0 < 1_000_000_000]
        assert len(in_window) <= LIMITS["order_burst"] + LIMITS["order_rate_per_second"]


@settings(max_examples=150, deadline=None)
@given(st.lists(action, max_size=80))
def test_limits_hold_under_random_streams(actions) -> None:
    run(actions)


@settings(max_examples=100, deadline=None)
@given(st.lists(action, max_size=60))
def test_reducing_never_increases_exposure(actions) -> None:
    run(actions, TradingState.REDUCING)


@settings(max_examples=50, deadline=None)
@given(st.lists(action, max_size=40))
def test_halted_passes_nothing(actions) -> None:
    run(actions, TradingState.HALTED)
