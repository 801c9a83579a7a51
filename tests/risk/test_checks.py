"""One test per check, asserting the machine code and the human reason with the limit and the values."""

from __future__ import annotations

import pytest
from fakes import BTC, IBM, SPY, World

from leand.model import OrderType, UpdateRequest
from leand.risk import RiskConfigError, RiskGate, TradingState, load_config


def gate_with(world: World, **limits) -> RiskGate:
    return RiskGate({"global": limits}, world)


def rejected(world, gate, **kw):
    d = world.place(gate, world.order(**kw))
    assert not d.approved, "expected a rejection"
    return d


def test_defaults_let_a_sane_order_through() -> None:
    w = World()
    assert w.place(RiskGate(None, w), w.order()).approved


def test_unknown_and_untradable_instruments() -> None:
    w = World()
    g = RiskGate(None, w)
    from leand.model import Symbol
    d = rejected(w, g, symbol=Symbol.equity("ZZZ"))
    assert d.code == "RISK_UNKNOWN_INSTRUMENT" and "equity:usa:ZZZ" in d.message
    w.untradable.add(IBM)
    assert rejected(w, g, symbol=IBM, limit=50).code == "RISK_NOT_TRADABLE"
    g2 = RiskGate({"per_instrument": {"SPY": {"tradable": False}}}, w)
    assert rejected(w, g2).code == "RISK_NOT_TRADABLE"


def test_quantity_zero_and_lot_size() -> None:
    w = World()
    g = RiskGate(None, w)
    assert rejected(w, g, qty=0).code == "RISK_ZERO_QUANTITY"
    d = rejected(w, g, symbol=BTC, qty=0.00015, limit=20000)
    assert d.code == "RISK_LOT_SIZE" and "0.00015" in d.message and "lot size 0.0001" in d.message
    assert w.place(g, w.order(symbol=BTC, qty=0.0002, limit=20000)).approved


def test_tick_grid() -> None:
    w = World()
    d = rejected(w, RiskGate(None, w), limit=100.005)
    assert d.code == "RISK_TICK_SIZE" and "100.005" in d.message and "0.01" in d.message


def test_price_collar_percent_and_ticks_against_last_or_mid() -> None:
    w = World()
    d = rejected(w, gate_with(w, price_collar_pct=0.05), limit=106.0)
    assert d.code == "RISK_PRICE_COLLAR" and "106" in d.message and "last price 100" in d.message
    assert w.place(gate_with(w, price_collar_pct=0.05), w.order(limit=104.99)).approved
    d = rejected(w, gate_with(w, price_collar_ticks=10), limit=100.11)
    assert d.code == "RISK_PRICE_COLLAR"
    w.mids[SPY] = 110.0
    assert w.place(gate_with(w, price_collar_pct=0.05, collar_reference="mid"), w.order(limit=108.0)).approved


def test_max_order_quantity_and_notional() -> None:
    w = World()
    d = rejected(w, gate_with(w, max_order_quantity=50), qty=51)
    assert d.code == "RISK_MAX_ORDER_QUANTITY" and "51 exceeds max_order_quantity 50" in d.message
    d = rejected(w, gate_with(w, max_order_notional=10_000), qty=101)
    assert d.code == "RISK_MAX_ORDER_NOTIONAL" and "10100.00 USD exceeds max_order_notional 10000.00" in d.message


def test_max_position_counts_open_orders_on_the_same_side() -> None:
    w = World()
    g = gate_with(w, max_position_quantity=100)
    w.pos[SPY] = 60
    assert w.place(g, w.order(qty=30)).approved
    d = rejected(w, g, qty=20)
    assert d.code == "RISK_MAX_POSITION" and "+110" in d.message and "held +60, open +30" in d.message
    assert w.place(g, w.order(qty=-150)).approved  # a sell that flips to -90 stays inside the limit
    d = rejected(w, gate_with(w, max_position_notional=5_000), qty=60)
    assert d.code == "RISK_MAX_POSITION_NOTIONAL"


def test_gross_and_net_exposure() -> None:
    w = World()
    w.pos[IBM] = -100  # -5,000
    g = gate_with(w, max_gross_exposure=10_000)
    assert w.place(g, w.order(qty=50)).approved  # gross 5,000 + 5,000
    d = rejected(w, g, qty=1)
    assert d.code == "RISK_MAX_GROSS_EXPOSURE" and "10000.00" in d.message
    g = gate_with(w, max_net_exposure=4_000)
    assert w.place(g, w.order(qty=80)).approved  # net 8,000 - 5,000 = 3,000
    assert rejected(w, g, qty=20).code == "RISK_MAX_NET_EXPOSURE"


def test_open_order_limits() -> None:
    w = World()
    g = gate_with(w, max_open_orders_per_instrument=2, max_open_orders=3)
    for _ in range(2):
        assert w.place(g, w.order(limit=99)).approved
    d = rejected(w, g, limit=99)
    assert d.code == "RISK_MAX_OPEN_ORDERS_INSTRUMENT" and "2 open orders for equity:usa:SPY" in d.message
    assert w.place(g, w.order(symbol=IBM, limit=49)).approved
    assert rejected(w, g, symbol=IBM, limit=49).code == "RISK_MAX_OPEN_ORDERS"


def test_order_and_venue_rate_throttles_refill_with_time() -> None:
    w = World()
    g = gate_with(w, order_rate_per_second=2, order_burst=2)
    assert w.place(g, w.order(limit=99)).approved and w.place(g, w.order(limit=99)).approved
    d = rejected(w, g, limit=99)
    assert d.code == "RISK_ORDER_RATE" and "order_rate_per_second 2" in d.message
    w.now += 500_000_000  # half a second buys one token back
    assert w.place(g, w.order(limit=99)).approved
    g = gate_with(w, venue_order_rate_per_second=1, venue_order_burst=1)
    assert w.place(g, w.order(limit=99, strategy="a")).approved
    assert rejected(w, g, limit=99, strategy="b").code == "RISK_VENUE_ORDER_RATE"


def test_cancel_rate_throttle() -> None:
    w = World()
    g = gate_with(w, cancel_rate_per_second=1, cancel_burst=1)
    o = w.order(limit=99)
    w.place(g, o)
    assert g.on_cancel_request(o) is None
    r = g.on_cancel_request(o)
    assert r is not None and r.code == "RISK_CANCEL_RATE"


def test_buying_power() -> None:
    w = World()
    w.cash = 5_000
    d = rejected(w, gate_with(w, check_buying_power=True), qty=60)
    assert d.code == "RISK_BUYING_POWER" and "6000.00 exceeds buying power 5000.00" in d.message


def test_self_trade() -> None:
    w = World()
    g = gate_with(w, prevent_self_trade=True)
    sell = w.order(qty=-10, limit=101)
    assert w.place(g, sell).approved
    assert w.place(g, w.order(qty=10, limit=100.5)).approved  # below own offer: no cross
    d = rejected(w, g, qty=10, limit=101)
    assert d.code == "RISK_SELF_TRADE" and f"own resting order {sell.id}" in d.message
    assert rejected(w, g, qty=5, type_=OrderType.MARKET).code == "RISK_SELF_TRADE"


def test_daily_loss_switches_to_reducing_and_drawdown_halts() -> None:
    w = World()
    states = []
    g = RiskGate({"global": {"daily_loss_limit": 20_000, "max_drawdown_pct": 0.1, "cancel_all_on_halt": True}}, w,
                 on_state_change=lambda s, r, c: states.append((s, c)))
    w.pos[SPY] = 100
    g.on_equity(985_000, w.now)
    assert g.state is TradingState.ACTIVE
    g.on_equity(979_000, w.now)
    assert g.state is TradingState.REDUCING and "daily loss 21000.00" in g.state_reason
    d = rejected(w, g, qty=10)
    assert d.code == "RISK_REDUCE_ONLY" and "would not reduce" in d.message
    assert w.place(g, w.order(qty=-50)).approved
    assert rejected(w, g, qty=-60).code == "RISK_REDUCE_ONLY"  # -50 open + -60 would flip the long
    g.on_equity(890_000, w.now)
    assert g.state is TradingState.HALTED and states[-1] == (TradingState.HALTED, True)
    assert rejected(w, g, qty=-1).code == "RISK_HALTED"
    g.resume("ops")
    assert g.state is TradingState.ACTIVE


def test_kill_switch_and_explicit_resume() -> None:
    w = World()
    g = RiskGate(None, w)
    g.halt("operator pressed the button")
    d = rejected(w, g)
    assert d.code == "RISK_HALTED" and "operator pressed the button" in d.message
    g.resume("ops")
    assert w.place(g, w.order()).approved


def test_modifications_pass_the_gate() -> None:
    w = World()
    g = gate_with(w, max_order_quantity=50)
    o = w.order(qty=40)
    w.place(g, o)
    assert g.check_modify(o, UpdateRequest(order_id=o.id, quantity=45)).approved
    d = g.check_modify(o, UpdateRequest(order_id=o.id, quantity=55))
    assert not d.approved and d.code == "RISK_MAX_ORDER_QUANTITY"


def test_runtime_reload_is_validated_and_atomic() -> None:
    w = World()
    g = gate_with(w, max_order_quantity=50)
    with pytest.raises(RiskConfigError, match=r"global.max_order_quantity = -1"):
        g.set_config({"global": {"max_order_quantity": -1}})
    assert rejected(w, g, qty=60).code == "RISK_MAX_ORDER_QUANTITY"  # old limits still in force
    g.set_config({"global": {"max_order_quantity": 100}})
    assert w.place(g, w.order(qty=60)).approved


def test_config_errors_name_the_key_path() -> None:
    with pytest.raises(RiskConfigError, match=r"per_strategy\.\$\.s1\.max_open_orders|Expected `int"):
        load_config({"per_strategy": {"s1": {"max_open_orders": "lots"}}})
    with pytest.raises(RiskConfigError, match="price_collar_pct = 5"):
        load_config({"global": {"price_collar_pct": 5}})
    with pytest.raises(RiskConfigError, match="unknown field"):
        load_config({"global": {"max_ordr_quantity": 5}})


def test_most_specific_limit_wins() -> None:
    w = World()
    g = RiskGate({"global": {"max_order_quantity": 10}, "per_strategy": {"big": {"max_order_quantity": 100}},
                  "per_instrument": {"equity:usa:IBM": {"max_order_quantity": 5}}}, w)
    assert not w.place(g, w.order(qty=20)).approved
    assert w.place(g, w.order(qty=20, strategy="big")).approved
    assert not w.place(g, w.order(symbol=IBM, qty=6, limit=50, strategy="big")).approved
