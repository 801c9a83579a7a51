"""Hand-built scenarios for the simulated exchange's order book (``leand.simulator.book.OrderBook``), each with
the exact events the book must emit: order types, times in force, post-only, modify and cancel-replace,
self-trade prevention, fees and validation rejects."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leand.model import OrderType, TimeInForce
from leand.simulator.book import (
    STP,
    Accepted,
    BookError,
    Canceled,
    Expired,
    Modified,
    OrderBook,
    Rejected,
    SimOrder,
    Trade,
    Triggered,
    _on_grid,
)

T = 1_700_000_000_000  # a clock in ms
BUY, SELL = 1, -1


def make_book(**kw) -> OrderBook:
    kw.setdefault("tick_size", 0.01)
    kw.setdefault("lot_size", 1.0)
    kw.setdefault("stp", STP.CANCEL_INCOMING)
    return OrderBook("TEST", **kw)


def lim(oid: int, side: int, qty: float, px: float, owner: str = "", **kw) -> SimOrder:
    return SimOrder(id=oid, owner=owner, side=side, quantity=qty, price=px, **kw)


def mkt(oid: int, side: int, qty: float, owner: str = "", **kw) -> SimOrder:
    return SimOrder(id=oid, owner=owner, side=side, quantity=qty, type=OrderType.MARKET, **kw)


def trade(tid: int, px: float, qty: float, maker: int, taker: int, side: int, *, maker_done: bool,
          taker_done: bool, t: int = T, mo: str = "", to: str = "", mf: float = 0.0, tf: float = 0.0) -> Trade:
    return Trade(t, tid, px, qty, maker, taker, mo, to, side, mf, tf, maker_done, taker_done)


def seed(book: OrderBook, *orders: SimOrder, t: int = T - 1) -> None:
    """Rest ``orders`` (they must not cross) and drop their Accepted events."""
    for o in orders:
        assert book.submit(o, t)
    ev = book.drain()
    assert ev == [Accepted(t, o.id, True) for o in orders], ev


def ids(book: OrderBook, side: int, px: float) -> list[int]:
    return [o.id for o in book.queue(side, px)]


# ---- order types ----------------------------------------------------------------------------------------
def test_market_sweeps_levels_then_cancels_the_rest():
    b = make_book()
    seed(b, lim(1, SELL, 2, 100.00, "m1"), lim(2, SELL, 1, 100.00, "m2"), lim(3, SELL, 3, 100.01, "m1"))
    assert b.submit(mkt(10, BUY, 8, "t"), T)
    assert b.drain() == [
        Accepted(T, 10, False),
        trade(1, 100.00, 2, 1, 10, BUY, maker_done=True, taker_done=False, mo="m1", to="t"),
        trade(2, 100.00, 1, 2, 10, BUY, maker_done=True, taker_done=False, mo="m2", to="t"),
        trade(3, 100.01, 3, 3, 10, BUY, maker_done=True, taker_done=False, mo="m1", to="t"),
        Canceled(T, 10, 2, "market_unfilled"),
    ]
    assert b.top() == ([], [])
    assert b.orders == {}
    assert b.last_trade_price == 100.01


def test_market_fully_filled_leaves_the_rest_of_the_level():
    b = make_book()
    seed(b, lim(1, BUY, 5, 99.0, "m"))
    b.submit(mkt(2, SELL, 3), T)
    assert b.drain() == [Accepted(T, 2, False),
                         trade(1, 99.0, 3, 1, 2, SELL, maker_done=False, taker_done=True, mo="m")]
    assert b.top() == ([(99.0, 2)], [])
    assert b.orders[1].filled == 3 and b.orders[1].remaining == 2


def test_market_into_an_empty_book():
    b = make_book()
    b.submit(mkt(1, SELL, 3), T)
    assert b.drain() == [Accepted(T, 1, False), Canceled(T, 1, 3, "market_unfilled")]


def test_limit_rests_when_not_crossing():
    b = make_book()
    seed(b, lim(1, SELL, 2, 100.02))
    assert b.submit(lim(2, BUY, 3, 100.00, "x"), T)
    assert b.drain() == [Accepted(T, 2, True)]
    assert b.top() == ([(100.00, 3)], [(100.02, 2)])
    assert b.depth(BUY, 100.00) == 3 and b.depth(BUY, 100.01) == 0
    (o,) = b.queue(BUY, 100.00)
    assert (o.id, o.time, o.live, o.filled) == (2, T, True, 0)


def test_limit_crosses_partially_then_rests_at_its_limit():
    b = make_book()
    seed(b, lim(1, SELL, 2, 100.00, "m"), lim(2, SELL, 1, 100.01, "m"), lim(3, SELL, 4, 100.03, "m"))
    assert b.submit(lim(4, BUY, 5, 100.01, "t"), T)
    assert b.drain() == [
        Accepted(T, 4, True),
        trade(1, 100.00, 2, 1, 4, BUY, maker_done=True, taker_done=False, mo="m", to="t"),
        trade(2, 100.01, 1, 2, 4, BUY, maker_done=True, taker_done=False, mo="m", to="t"),
    ]
    # never traded through its limit (100.03 untouched) and rests the remaining 2 at 100.01
    assert b.top() == ([(100.01, 2)], [(100.03, 4)])
    assert b.orders[4].filled == 3


def test_stop_market_triggered_by_a_trade_print():
    b = make_book()
    seed(b, lim(1, BUY, 1, 98.99, "m"), lim(2, BUY, 5, 98.98, "m"))
    stop = SimOrder(id=3, owner="s", side=SELL, quantity=3, type=OrderType.STOP_MARKET, stop_price=99.0)
    assert b.submit(stop, T)
    assert b.drain() == [Accepted(T, 3, False)]
    assert 3 in b.stops and b.top()[0] == [(98.99, 1), (98.98, 5)]
    b.on_trade_print(99.01, T + 1)
    assert b.drain() == []
    b.on_trade_print(99.0, T + 2)  # at the stop price: triggers
    assert b.drain() == [
        Triggered(T + 2, 3, 99.0),
        trade(1, 98.99, 1, 1, 3, SELL, t=T + 2, maker_done=True, taker_done=False, mo="m", to="s"),
        trade(2, 98.98, 2, 2, 3, SELL, t=T + 2, maker_done=False, taker_done=True, mo="m", to="s"),
    ]
    assert b.stops == {} and 3 not in b.orders
    assert b.last_trade_price == 98.98


def test_buy_stop_market_triggers_at_or_above_and_cancels_what_it_cannot_fill():
    b = make_book()
    seed(b, lim(1, SELL, 2, 101.0, "m"))
    b.submit(SimOrder(id=2, side=BUY, quantity=3, type=OrderType.STOP_MARKET, stop_price=100.5), T)
    b.on_trade_print(100.49, T + 1)
    assert b.drain() == [Accepted(T, 2, False)]
    b.on_trade_print(100.7, T + 2)
    assert b.drain() == [
        Triggered(T + 2, 2, 100.5),
        trade(1, 101.0, 2, 1, 2, BUY, t=T + 2, maker_done=True, taker_done=False, mo="m"),
        Canceled(T + 2, 2, 1, "market_unfilled"),
    ]


def test_stop_market_triggered_by_the_books_own_trade():
    b = make_book()
    seed(b, lim(1, BUY, 3, 99.0, "m"), lim(2, BUY, 4, 98.0, "m"))
    b.submit(SimOrder(id=3, owner="s", side=SELL, quantity=2, type=OrderType.STOP_MARKET, stop_price=99.0), T)
    assert b.drain() == [Accepted(T, 3, False)]
    b.submit(lim(4, SELL, 1, 99.0, "x"), T + 1)  # trades at 99: the stop fires and sells into the book
    assert b.drain() == [
        Accepted(T + 1, 4, True),
        trade(1, 99.0, 1, 1, 4, SELL, t=T + 1, maker_done=False, taker_done=True, mo="m", to="x"),
        Triggered(T + 1, 3, 99.0),
        trade(2, 99.0, 2, 1, 3, SELL, t=T + 1, maker_done=True, taker_done=True, mo="m", to="s"),
    ]
    assert b.top() == ([(98.0, 4)], [])


def test_stop_submitted_past_its_trigger_fires_at_once():
    b = make_book()
    seed(b, lim(1, SELL, 5, 101.0))
    b.on_trade_print(100.0, T)
    b.submit(SimOrder(id=2, side=BUY, quantity=1, type=OrderType.STOP_MARKET, stop_price=99.0), T + 1)
    assert b.drain() == [Accepted(T + 1, 2, False), Triggered(T + 1, 2, 99.0),
                         trade(1, 101.0, 1, 1, 2, BUY, t=T + 1, maker_done=False, taker_done=True)]


def test_stop_limit_triggers_then_trades_up_to_its_limit_and_rests():
    b = make_book()
    seed(b, lim(1, SELL, 1, 101.0, "m"), lim(2, SELL, 1, 101.5, "m"), lim(3, SELL, 5, 102.0, "m"))
    sl = SimOrder(id=4, owner="s", side=BUY, quantity=3, type=OrderType.STOP_LIMIT, stop_price=101.0, price=101.5)
    b.submit(sl, T)
    b.on_trade_print(100.99, T + 1)
    assert b.drain() == [Accepted(T, 4, False)]
    b.on_trade_print(101.0, T + 2)
    assert b.drain() == [
        Triggered(T + 2, 4, 101.0),
        trade(1, 101.0, 1, 1, 4, BUY, t=T + 2, maker_done=True, taker_done=False, mo="m", to="s"),
        trade(2, 101.5, 1, 2, 4, BUY, t=T + 2, maker_done=True, taker_done=False, mo="m", to="s"),
    ]
    assert b.top() == ([(101.5, 1)], [(102.0, 5)])
    assert b.orders[4].triggered and b.orders[4].filled == 2


def test_trailing_stop_absolute_ratchets_only_upward_for_a_sell():
    b = make_book()
    seed(b, lim(1, BUY, 5, 90.0, "m"))
    b.on_trade_print(100.0, T)
    ts = SimOrder(id=2, owner="s", side=SELL, quantity=2, type=OrderType.TRAILING_STOP, trailing_amount=1.0)
    b.submit(ts, T)
    assert b.drain() == [Accepted(T, 2, False)]
    assert b.stops[2].stop_price == 99.0
    steps = [(101.0, 100.0), (100.5, 100.0), (100.01, 100.0), (102.0, 101.0), (101.2, 101.0)]
    for i, (px, stop) in enumerate(steps, 1):
        b.on_trade_print(px, T + i)
        assert b.stops[2].stop_price == pytest.approx(stop), px
        assert b.drain() == []
    b.on_trade_print(101.0, T + 10)  # falls to the ratcheted stop: fires as a market order
    assert b.drain() == [
        Triggered(T + 10, 2, 101.0),
        trade(1, 90.0, 2, 1, 2, SELL, t=T + 10, maker_done=False, taker_done=True, mo="m", to="s"),
    ]
    assert b.stops == {}


def test_trailing_stop_percentage_ratchets_only_downward_for_a_buy():
    b = make_book()
    seed(b, lim(1, SELL, 5, 110.0, "m"))
    # submitted before any price: the first print sets the stop
    b.submit(SimOrder(id=2, side=BUY, quantity=1, type=OrderType.TRAILING_STOP, trailing_amount=0.02,
                      trailing_as_percentage=True), T)
    assert b.drain() == [Accepted(T, 2, False)] and b.stops[2].stop_price == 0.0
    b.on_trade_print(100.0, T + 1)
    assert b.stops[2].stop_price == pytest.approx(102.0)
    b.on_trade_print(101.0, T + 2)  # adverse: the stop does not loosen
    assert b.stops[2].stop_price == pytest.approx(102.0)
    b.on_trade_print(95.0, T + 3)  # favorable: 95 * 1.02
    assert b.stops[2].stop_price == pytest.approx(96.9)
    b.on_trade_print(96.8, T + 4)
    assert b.stops[2].stop_price == pytest.approx(96.9)
    assert b.drain() == []
    b.on_trade_print(97.0, T + 5)
    ev = b.drain()
    assert len(ev) == 2
    assert isinstance(ev[0], Triggered) and ev[0].order_id == 2 and ev[0].stop_price == pytest.approx(96.9)
    assert ev[1] == trade(1, 110.0, 1, 1, 2, BUY, t=T + 5, maker_done=False, taker_done=True, mo="m")


# ---- time in force --------------------------------------------------------------------------------------
def test_gtc_rests_through_expiry_checks():
    b = make_book()
    seed(b, lim(1, BUY, 1, 99.0))
    b.expire(T + 10**12)
    assert b.drain() == [] and ids(b, BUY, 99.0) == [1]


@pytest.mark.parametrize("tif", [TimeInForce.DAY, TimeInForce.GTD])
def test_day_and_gtd_expire_exactly_at_their_expire_time(tif):
    b = make_book()
    seed(b, lim(1, SELL, 1, 100.0, "m"))
    b.submit(lim(2, BUY, 3, 100.0, "x", time_in_force=tif, expire_time=T + 1000), T)
    b.submit(lim(3, BUY, 1, 99.0, "y", time_in_force=tif, expire_time=T + 2000), T)
    b.submit(lim(4, BUY, 1, 99.0, "z"), T)
    b.drain()
    b.expire(T + 999)
    assert b.drain() == []
    b.expire(T + 1000)
    assert b.drain() == [Expired(T + 1000, 2, 2)]  # the remaining after its fill
    assert b.top() == ([(99.0, 2)], [])
    b.expire(T + 1999)
    assert b.drain() == []
    b.expire(T + 2500)
    assert b.drain() == [Expired(T + 2500, 3, 1)]
    assert ids(b, BUY, 99.0) == [4]
    with pytest.raises(BookError):
        b.cancel(2, T + 3000)


def test_day_stop_expires_while_waiting():
    b = make_book()
    b.submit(SimOrder(id=1, side=SELL, quantity=1, type=OrderType.STOP_MARKET, stop_price=90.0,
                      time_in_force=TimeInForce.DAY, expire_time=T + 5), T)
    b.expire(T + 5)
    assert b.drain() == [Accepted(T, 1, False), Expired(T + 5, 1, 1)]
    assert b.stops == {} and b.orders == {}


@pytest.mark.parametrize("tif", [TimeInForce.DAY, TimeInForce.GTD])
def test_day_and_gtd_need_an_expire_time(tif):
    b = make_book()
    assert not b.submit(lim(1, BUY, 1, 99.0, time_in_force=tif), T)
    assert b.drain() == [Rejected(T, 1, f"{tif.value} order needs an expire time")]


def test_ioc_fills_what_it_can_and_cancels_the_rest():
    b = make_book()
    seed(b, lim(1, SELL, 2, 100.0, "m"), lim(2, SELL, 2, 100.5, "m"))
    b.submit(lim(3, BUY, 5, 100.0, "t", time_in_force=TimeInForce.IOC), T)
    assert b.drain() == [
        Accepted(T, 3, True),
        trade(1, 100.0, 2, 1, 3, BUY, maker_done=True, taker_done=False, mo="m", to="t"),
        Canceled(T, 3, 3, "ioc"),
    ]
    assert b.top() == ([], [(100.5, 2)]) and 3 not in b.orders


def test_fok_that_cannot_fill_leaves_the_book_untouched():
    b = make_book()
    seed(b, lim(1, SELL, 2, 100.0, "m"), lim(2, SELL, 2, 100.01, "m"), lim(3, SELL, 9, 100.02, "m"))
    before = (b.top(), [(o.id, o.filled) for o in b.queue(SELL, 100.0) + b.queue(SELL, 100.01)])
    b.submit(lim(4, BUY, 5, 100.01, "t", time_in_force=TimeInForce.FOK), T)
    assert b.drain() == [Accepted(T, 4, False), Canceled(T, 4, 5, "fok")]
    assert (b.top(), [(o.id, o.filled) for o in b.queue(SELL, 100.0) + b.queue(SELL, 100.01)]) == before
    assert b.last_trade_price == 0.0 and 4 not in b.orders


def test_fok_that_can_fill_fills_entirely():
    b = make_book()
    seed(b, lim(1, SELL, 2, 100.0, "m"), lim(2, SELL, 2, 100.01, "m"))
    b.submit(lim(4, BUY, 4, 100.01, "t", time_in_force=TimeInForce.FOK), T)
    assert b.drain() == [
        Accepted(T, 4, True),
        trade(1, 100.0, 2, 1, 4, BUY, maker_done=True, taker_done=False, mo="m", to="t"),
        trade(2, 100.01, 2, 2, 4, BUY, maker_done=True, taker_done=True, mo="m", to="t"),
    ]
    assert b.top() == ([], [])


def test_fok_counts_only_what_self_trade_prevention_lets_it_reach():
    # regression: with CANCEL_INCOMING the order stops at its owner's resting order, so the liquidity
    # behind it is out of reach; the FOK used to trade the front and then be canceled with a remainder
    b = make_book(stp=STP.CANCEL_INCOMING)
    seed(b, lim(1, SELL, 1, 100.0, "x"), lim(2, SELL, 1, 100.0, "me"), lim(3, SELL, 5, 100.01, "y"))
    b.submit(lim(4, BUY, 3, 100.01, "me", time_in_force=TimeInForce.FOK), T)
    assert b.drain() == [Accepted(T, 4, False), Canceled(T, 4, 3, "fok")]
    assert b.top() == ([], [(100.0, 2), (100.01, 5)])
    # with CANCEL_RESTING the owner's order is taken out and the rest is reachable
    b = make_book(stp=STP.CANCEL_RESTING)
    seed(b, lim(1, SELL, 1, 100.0, "x"), lim(2, SELL, 1, 100.0, "me"), lim(3, SELL, 5, 100.01, "y"))
    b.submit(lim(4, BUY, 3, 100.01, "me", time_in_force=TimeInForce.FOK), T)
    assert b.drain() == [
        Accepted(T, 4, True),
        trade(1, 100.0, 1, 1, 4, BUY, maker_done=True, taker_done=False, mo="x", to="me"),
        Canceled(T, 2, 1, "self_trade"),
        trade(2, 100.01, 2, 3, 4, BUY, maker_done=False, taker_done=True, mo="y", to="me"),
    ]


def test_fok_stop_limit_is_all_or_nothing_when_it_triggers():
    b = make_book()
    seed(b, lim(1, SELL, 1, 101.0, "m"), lim(2, SELL, 5, 102.0, "m"))
    b.submit(SimOrder(id=3, side=BUY, quantity=3, type=OrderType.STOP_LIMIT, stop_price=101.0, price=101.0,
                      time_in_force=TimeInForce.FOK), T)
    b.on_trade_print(101.0, T + 1)
    assert b.drain() == [Accepted(T, 3, False), Triggered(T + 1, 3, 101.0), Canceled(T + 1, 3, 3, "fok")]
    assert b.top() == ([], [(101.0, 1), (102.0, 5)]) and b.orders.keys() == {1, 2}
    b.submit(SimOrder(id=4, side=BUY, quantity=3, type=OrderType.STOP_LIMIT, stop_price=101.0, price=102.0,
                      time_in_force=TimeInForce.FOK), T + 2)
    assert b.drain() == [
        Accepted(T + 2, 4, False),  # the last price (101) is at the stop: fires at once
        Triggered(T + 2, 4, 101.0),
        trade(1, 101.0, 1, 1, 4, BUY, t=T + 2, maker_done=True, taker_done=False, mo="m"),
        trade(2, 102.0, 2, 2, 4, BUY, t=T + 2, maker_done=False, taker_done=True, mo="m"),
    ]


def test_post_only_rejected_when_crossing_and_rests_otherwise():
    b = make_book()
    seed(b, lim(1, SELL, 2, 100.0, "m"), lim(2, BUY, 2, 99.0, "m"))
    assert not b.submit(lim(3, BUY, 1, 100.0, "p", post_only=True), T)
    assert not b.submit(lim(4, SELL, 1, 98.5, "p", post_only=True), T)
    assert b.submit(lim(5, BUY, 1, 99.99, "p", post_only=True), T)
    assert b.submit(lim(6, SELL, 1, 100.01, "p", post_only=True), T)
    assert b.drain() == [
        Rejected(T, 3, "post-only order would take liquidity"),
        Rejected(T, 4, "post-only order would take liquidity"),
        Accepted(T, 5, True),
        Accepted(T, 6, True),
    ]
    assert b.top() == ([(99.99, 1), (99.0, 2)], [(100.0, 2), (100.01, 1)])
    # a post-only order may not be re-priced across the spread either
    assert not b.modify(5, T + 1, price=100.0)
    assert b.drain() == [Rejected(T + 1, 5, "post-only order would take liquidity")]
    assert b.orders[5].price == 99.99


def test_post_only_needs_a_resting_limit():
    b = make_book()
    b.submit(lim(1, BUY, 1, 99.0, post_only=True, time_in_force=TimeInForce.IOC), T)
    b.submit(mkt(2, BUY, 1, post_only=True), T)
    assert b.drain() == [Rejected(T, 1, "post-only needs a resting limit order (not IOC/FOK)"),
                         Rejected(T, 2, "post-only needs a resting limit order (not IOC/FOK)")]


# ---- modify, cancel, cancel-replace ---------------------------------------------------------------------
def test_size_decrease_keeps_queue_place():
    b = make_book()
    seed(b, lim(1, BUY, 3, 100.0, "a"), lim(2, BUY, 3, 100.0, "b"))
    assert b.modify(1, T, quantity=2)
    assert b.drain() == [Modified(T, 1, 2, 100.0, True)]
    assert ids(b, BUY, 100.0) == [1, 2] and b.depth(BUY, 100.0) == 5
    b.submit(mkt(3, SELL, 3), T + 1)
    assert b.drain() == [
        Accepted(T + 1, 3, False),
        trade(1, 100.0, 2, 1, 3, SELL, t=T + 1, maker_done=True, taker_done=False, mo="a"),
        trade(2, 100.0, 1, 2, 3, SELL, t=T + 1, maker_done=False, taker_done=True, mo="b"),
    ]


def test_size_increase_loses_queue_place():
    b = make_book()
    seed(b, lim(1, BUY, 3, 100.0, "a"), lim(2, BUY, 3, 100.0, "b"))
    assert b.modify(1, T, quantity=4)
    assert b.drain() == [Modified(T, 1, 4, 100.0, False)]
    assert ids(b, BUY, 100.0) == [2, 1] and b.depth(BUY, 100.0) == 7
    assert b.orders[1].time == T
    b.submit(mkt(3, SELL, 4), T + 1)
    assert b.drain() == [
        Accepted(T + 1, 3, False),
        trade(1, 100.0, 3, 2, 3, SELL, t=T + 1, maker_done=True, taker_done=False, mo="b"),
        trade(2, 100.0, 1, 1, 3, SELL, t=T + 1, maker_done=False, taker_done=True, mo="a"),
    ]
    assert b.top() == ([(100.0, 3)], []) and ids(b, BUY, 100.0) == [1]


def test_price_change_loses_queue_place_and_leaves_nothing_behind():
    # regression: the re-priced order used to stay live in its old queue too (lazy deletion revived it),
    # trading at its old price and leaving a phantom quantity at its new one
    b = make_book()
    seed(b, lim(1, BUY, 2, 100.0, "a"), lim(2, BUY, 2, 100.0, "b"), lim(3, BUY, 2, 99.99, "c"))
    assert b.modify(1, T, price=99.99)
    assert b.drain() == [Modified(T, 1, 2, 99.99, False)]
    assert ids(b, BUY, 100.0) == [2] and ids(b, BUY, 99.99) == [3, 1]
    assert b.top() == ([(100.0, 2), (99.99, 4)], [])
    b.submit(mkt(4, SELL, 5), T + 1)
    assert b.drain() == [
        Accepted(T + 1, 4, False),
        trade(1, 100.0, 2, 2, 4, SELL, t=T + 1, maker_done=True, taker_done=False, mo="b"),
        trade(2, 99.99, 2, 3, 4, SELL, t=T + 1, maker_done=True, taker_done=False, mo="c"),
        trade(3, 99.99, 1, 1, 4, SELL, t=T + 1, maker_done=False, taker_done=True, mo="a"),
    ]
    assert b.top() == ([(99.99, 1)], [])


def test_price_change_back_to_the_same_level_goes_behind():
    b = make_book()
    seed(b, lim(1, SELL, 1, 101.0, "a"), lim(2, SELL, 1, 101.0, "b"))
    b.modify(1, T, price=101.01)
    b.modify(1, T + 1, price=101.0)
    assert b.drain() == [Modified(T, 1, 1, 101.01, False), Modified(T + 1, 1, 1, 101.0, False)]
    assert ids(b, SELL, 101.0) == [2, 1] and b.top() == ([], [(101.0, 2)])


def test_price_change_that_crosses_trades_like_a_new_order():
    b = make_book()
    seed(b, lim(1, SELL, 1, 101.0, "m"), lim(2, BUY, 3, 100.0, "x"))
    assert b.modify(2, T, price=101.0)
    assert b.drain() == [
        Modified(T, 2, 3, 101.0, False),
        trade(1, 101.0, 1, 1, 2, BUY, maker_done=True, taker_done=False, mo="m", to="x"),
    ]
    assert b.top() == ([(101.0, 2)], [])


def test_modify_rejects_and_unknown_ids():
    b = make_book()
    seed(b, lim(1, BUY, 3, 100.0, "a"))
    b.submit(mkt(2, SELL, 2), T)
    b.drain()
    assert not b.modify(1, T + 1, quantity=2)  # not above the 2 filled
    assert not b.modify(1, T + 1, quantity=3.5)
    assert not b.modify(1, T + 1, price=100.005)
    assert b.drain() == [
        Rejected(T + 1, 1, "new quantity 2 is not above the filled 2"),
        Rejected(T + 1, 1, "quantity 3.5 is not a multiple of the lot size 1"),
        Rejected(T + 1, 1, "limit price 100.005 is not a positive multiple of the tick size 0.01"),
    ]
    assert b.modify(1, T + 2, quantity=2.0 + 1)  # keeps place: same price, not larger
    assert b.drain() == [Modified(T + 2, 1, 3, 100.0, True)]
    with pytest.raises(BookError, match="modify: unknown order id 77"):
        b.modify(77, T, quantity=1)
    with pytest.raises(BookError, match="unknown order id 2"):  # the filled market order
        b.modify(2, T, quantity=1)


def test_modify_a_waiting_stop():
    b = make_book()
    b.submit(SimOrder(id=1, side=BUY, quantity=1, type=OrderType.STOP_LIMIT, stop_price=101.0, price=101.5), T)
    assert b.modify(1, T + 1, quantity=3, price=102.0)
    assert b.drain() == [Accepted(T, 1, False), Modified(T + 1, 1, 3, 102.0, True)]
    assert b.stops[1].quantity == 3 and b.stops[1].price == 102.0


def test_cancel_and_unknown_ids():
    b = make_book()
    seed(b, lim(1, BUY, 3, 100.0), lim(2, BUY, 1, 100.0))
    b.submit(mkt(3, SELL, 1), T)
    b.drain()
    o = b.cancel(1, T + 1)
    assert o.id == 1 and not o.live
    assert b.drain() == [Canceled(T + 1, 1, 2, "canceled")]
    assert b.top() == ([(100.0, 1)], []) and ids(b, BUY, 100.0) == [2]
    with pytest.raises(BookError, match="cancel: unknown order id 1 "):
        b.cancel(1, T + 2)  # already canceled
    with pytest.raises(BookError, match="unknown order id 3 "):
        b.cancel(3, T + 2)  # filled
    with pytest.raises(BookError, match="unknown order id 999 "):
        b.cancel(999, T + 2)  # never seen
    assert b.drain() == []


def test_cancel_a_waiting_stop():
    b = make_book()
    b.submit(SimOrder(id=1, side=SELL, quantity=2, type=OrderType.STOP_MARKET, stop_price=90.0), T)
    b.cancel(1, T + 1)
    b.on_trade_print(80.0, T + 2)
    assert b.drain() == [Accepted(T, 1, False), Canceled(T + 1, 1, 2, "canceled")]


def test_cancel_replace():
    b = make_book()
    seed(b, lim(1, BUY, 2, 100.0, "a"), lim(2, BUY, 2, 100.0, "b"))
    assert b.cancel_replace(1, lim(3, BUY, 2, 100.0, "a"), T)
    assert b.drain() == [Canceled(T, 1, 2, "replaced"), Accepted(T, 3, True)]
    assert ids(b, BUY, 100.0) == [2, 3]  # the new order starts at the back
    # the replacement may reuse the id, and may cross
    seed(b, lim(4, SELL, 1, 100.5, "m"))
    assert b.cancel_replace(3, lim(3, BUY, 3, 100.5, "a"), T + 1)
    assert b.drain() == [
        Canceled(T + 1, 3, 2, "replaced"),
        Accepted(T + 1, 3, True),
        trade(1, 100.5, 1, 4, 3, BUY, t=T + 1, maker_done=True, taker_done=False, mo="m", to="a"),
    ]
    assert b.top() == ([(100.5, 2), (100.0, 2)], [])
    with pytest.raises(BookError, match="unknown order id 1 "):
        b.cancel_replace(1, lim(5, BUY, 1, 99.0), T + 2)
    assert 5 not in b.orders


# ---- self-trade prevention ------------------------------------------------------------------------------
def _stp_book(stp: STP) -> OrderBook:
    b = make_book(stp=stp)
    seed(b, lim(1, SELL, 1, 100.0, "x"), lim(2, SELL, 1, 100.0, "y"), lim(3, SELL, 1, 100.01, "y"))
    b.submit(lim(4, BUY, 2, 100.0, "x"), T)
    return b


def test_stp_cancel_resting():
    b = _stp_book(STP.CANCEL_RESTING)
    assert b.drain() == [
        Accepted(T, 4, True),
        Canceled(T, 1, 1, "self_trade"),
        trade(1, 100.0, 1, 2, 4, BUY, maker_done=True, taker_done=False, mo="y", to="x"),
    ]
    assert b.top() == ([(100.0, 1)], [(100.01, 1)]) and 1 not in b.orders


def test_stp_cancel_incoming():
    b = _stp_book(STP.CANCEL_INCOMING)
    assert b.drain() == [Accepted(T, 4, True), Canceled(T, 4, 2, "self_trade")]
    assert b.top() == ([], [(100.0, 2), (100.01, 1)]) and ids(b, SELL, 100.0) == [1, 2]


def test_stp_cancel_both():
    b = _stp_book(STP.CANCEL_BOTH)
    assert b.drain() == [Accepted(T, 4, True), Canceled(T, 1, 1, "self_trade"), Canceled(T, 4, 2, "self_trade")]
    assert b.top() == ([], [(100.0, 1), (100.01, 1)]) and ids(b, SELL, 100.0) == [2]


def test_stp_none_trades_with_itself():
    b = _stp_book(STP.NONE)
    assert b.drain() == [
        Accepted(T, 4, True),
        trade(1, 100.0, 1, 1, 4, BUY, maker_done=True, taker_done=False, mo="x", to="x"),
        trade(2, 100.0, 1, 2, 4, BUY, maker_done=True, taker_done=True, mo="y", to="x"),
    ]
    assert b.top() == ([], [(100.01, 1)])


def test_stp_ignores_orders_without_an_owner():
    b = make_book(stp=STP.CANCEL_BOTH)
    seed(b, lim(1, SELL, 1, 100.0))
    b.submit(lim(2, BUY, 1, 100.0), T)
    assert b.drain() == [Accepted(T, 2, True), trade(1, 100.0, 1, 1, 2, BUY, maker_done=True, taker_done=True)]


def test_stp_on_a_market_order_cancels_it_not_the_book():
    b = make_book()  # CANCEL_INCOMING by default
    assert b.stp is STP.CANCEL_INCOMING
    seed(b, lim(1, BUY, 1, 99.0, "y"), lim(2, BUY, 1, 98.0, "x"), lim(3, BUY, 5, 97.0, "y"))
    b.submit(mkt(4, SELL, 3, "x"), T)
    assert b.drain() == [
        Accepted(T, 4, False),
        trade(1, 99.0, 1, 1, 4, SELL, maker_done=True, taker_done=False, mo="y", to="x"),
        Canceled(T, 4, 2, "self_trade"),
    ]
    assert b.top() == ([(98.0, 1), (97.0, 5)], [])


# ---- fees -----------------------------------------------------------------------------------------------
def test_maker_rebate_and_taker_fee_on_each_trade():
    b = make_book(maker_fee=-0.0001, taker_fee=0.0004)
    seed(b, lim(1, SELL, 3, 100.0, "m"), lim(2, SELL, 2, 101.0, "m"))
    b.submit(lim(3, BUY, 4, 101.0, "t"), T)
    ev = b.drain()
    t1, t2 = ev[1], ev[2]
    assert (t1.price, t1.quantity, t2.price, t2.quantity) == (100.0, 3, 101.0, 1)
    assert t1.maker_fee == pytest.approx(-0.03) and t1.taker_fee == pytest.approx(0.12)
    assert t2.maker_fee == pytest.approx(-0.0101) and t2.taker_fee == pytest.approx(0.0404)
    assert t1.maker_fee < 0 < t1.taker_fee  # a maker rebate is a negative fee


def test_no_fees_by_default():
    b = make_book()
    seed(b, lim(1, SELL, 3, 100.0))
    b.submit(mkt(2, BUY, 1), T)
    (_, t) = b.drain()
    assert t.maker_fee == 0.0 and t.taker_fee == 0.0


# ---- validation -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("order", "reason"), [
    (lim(1, BUY, 1, 100.005), "limit price 100.005 is not a multiple of the tick size 0.01"),
    (lim(1, BUY, 1.5, 100.0), "quantity 1.5 is not a multiple of the lot size 1"),
    (lim(1, BUY, 0.0, 100.0), "quantity must be positive, got 0.0"),
    (lim(1, BUY, -2.0, 100.0), "quantity must be positive, got -2.0"),
    (lim(1, BUY, 1, 0.0), "limit price must be positive, got 0.0"),
    (lim(1, BUY, 1, -5.0), "limit price must be positive, got -5.0"),
    (lim(1, BUY, 1, math.inf), "limit price must be positive, got inf"),
    (lim(1, BUY, math.inf, 100.0), "quantity must be positive, got inf"),
    (lim(1, BUY, math.nan, 100.0), "quantity must be positive, got nan"),
    (mkt(1, BUY, math.inf), "quantity must be positive, got inf"),
    (lim(1, 0, 1, 100.0), "side must be +1 (buy) or -1 (sell), got 0"),
    (SimOrder(id=1, side=BUY, quantity=1, type=OrderType.STOP_MARKET, stop_price=0.0),
     "stop price must be positive, got 0.0"),
    (SimOrder(id=1, side=BUY, quantity=1, type=OrderType.STOP_MARKET, stop_price=100.001),
     "stop price 100.001 is not a multiple of the tick size 0.01"),
    (SimOrder(id=1, side=BUY, quantity=1, type=OrderType.TRAILING_STOP),
     "trailing amount must be positive, got 0.0"),
    (SimOrder(id=1, side=BUY, quantity=1, type=OrderType.MARKET_ON_OPEN),
     "order type market_on_open is not supported by the book"),
])
def test_validation_rejects(order, reason):
    b = make_book()
    assert not b.submit(order, T)
    assert b.drain() == [Rejected(T, 1, reason)]
    assert b.orders == {} and b.top() == ([], [])


def test_min_notional():
    b = make_book(min_notional=1000.0)
    assert not b.submit(lim(1, BUY, 9, 100.0), T)
    assert b.submit(lim(2, BUY, 10, 100.0), T)
    assert not b.submit(SimOrder(id=3, side=SELL, quantity=5, type=OrderType.STOP_MARKET, stop_price=150.0), T)
    assert b.drain() == [
        Rejected(T, 1, "notional 900 is below the minimum 1000"),
        Accepted(T, 2, True),
        Rejected(T, 3, "notional 750 is below the minimum 1000"),
    ]
    # a market order is valued at the last trade price (none yet: let through)
    b.on_trade_print(100.0, T)
    assert not b.submit(mkt(4, SELL, 2), T)
    assert b.drain() == [Rejected(T, 4, "notional 200 is below the minimum 1000")]


def test_duplicate_id_rejected_and_the_original_untouched():
    b = make_book()
    seed(b, lim(1, BUY, 2, 99.0, "a"))
    assert not b.submit(lim(1, SELL, 5, 98.0, "b"), T)
    assert b.drain() == [Rejected(T, 1, "duplicate order id 1")]
    assert b.top() == ([(99.0, 2)], []) and b.orders[1].owner == "a"
    # a waiting stop holds its id too
    b.submit(SimOrder(id=2, side=SELL, quantity=1, type=OrderType.STOP_MARKET, stop_price=90.0), T)
    assert not b.submit(lim(2, BUY, 1, 98.0), T)
    assert b.drain()[-1] == Rejected(T, 2, "duplicate order id 2")


def test_grid_memo_fast_paths_still_check_what_validate_checks():
    """Once a price and a size have been validated the book takes the fast path for them; everything else an
    order carries (id, side, time in force, fill-or-kill, minimum notional) is still checked there."""
    b = make_book()
    assert b.submit(lim(1, SELL, 100, 10.00), T)  # validates 10.00 and 100: remembered
    assert b.submit(mkt(2, BUY, 50), T)  # validates 50 for a market order
    b.drain()
    assert not b.submit(lim(1, SELL, 100, 10.00), T)  # a duplicate id at a remembered price and size
    assert not b.submit(lim(3, 0, 100, 10.00), T)  # a bad side
    assert not b.submit(lim(4, SELL, 100.5, 10.00), T)  # a remembered price, an off-grid size
    assert not b.submit(mkt(5, BUY, 50, time_in_force=TimeInForce.DAY), T)  # DAY needs an expire time
    ev = b.drain()
    assert [type(e) for e in ev] == [Rejected] * 4
    assert "duplicate" in ev[0].reason and "side" in ev[1].reason and "lot size" in ev[2].reason
    # fill-or-kill is checked even at a remembered size: 50 left at 10.00 cannot fill 100
    assert b.submit(mkt(6, BUY, 100, time_in_force=TimeInForce.FOK), T)
    assert b.drain() == [Accepted(T, 6, False), Canceled(T, 6, 100, "fok")]
    # a minimum notional set later applies to remembered prices and sizes too
    b.min_notional = 5_000.0
    assert not b.submit(lim(7, BUY, 100, 10.00), T)
    assert not b.submit(mkt(8, BUY, 50), T)
    assert [type(e) for e in b.drain()] == [Rejected, Rejected]


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.integers(-10**12, 10**12).map(float), st.floats(-1e15, 1e15)),
       st.sampled_from([0.01, 0.001, 0.25, 1.0, 1e-8, 0.05, 5.0, 0.1, 3.0]),
       st.sampled_from([0.0, 1e-6, -1e-6, 5e-7, 0.5, math.nextafter(1e-6, 1.0), math.nextafter(1e-6, 0.0)]))
def test_grid_check_is_the_rounding_one(k: float, step: float, off: float) -> None:
    """The book's grid check (fraction by fmod, no int made) answers as the rounding formula it replaced, at
    and around the 1e-6 boundary too."""
    for x in (k * step, (k + off) * step, k):
        r = x / step
        assert _on_grid(x, step) == (abs(r - round(r)) <= 1e-6), (x, step)


_PRICES = st.one_of(st.integers(9_990, 10_010).map(lambda k: k / 100), st.sampled_from(
    [100.005, 99.999, 100.0 + 1e-9, 0.0, -1.0, math.inf, math.nan, 1e-300]))
_SIZES = st.one_of(st.integers(1, 5).map(float), st.integers(1, 5),
                   st.sampled_from([0.5, 0.0, -1.0, math.inf, math.nan, 1.0 + 1e-12]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["limit", "limit", "limit", "market", "cancel"]),
                          st.sampled_from([BUY, SELL, BUY, SELL, 0]), _SIZES, _PRICES,
                          st.sampled_from([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC]),
                          st.integers(0, 60)), max_size=60))
def test_fast_paths_answer_as_validate_does(ops) -> None:
    """The one-pass submit paths (a price known from its level or the memo, a size from the memo) accept and
    reject exactly what the general ``validate`` would with no memo, whatever orders came before (prices
    with and without a level, off the grid, not positive, not finite; duplicate ids; bad sides); and an
    order that rests rests at its own price."""
    b = make_book()
    for i, (kind, side, qty, px, tif, pick) in enumerate(ops, start=1):
        oid = pick if pick and kind != "cancel" and pick % 7 == 0 else 1000 + i  # sometimes an id in use
        if kind == "cancel":
            if b.orders:
                b.cancel(sorted(b.orders)[pick % len(b.orders)], T)
                b.drain()
            continue
        o = lim(oid, side, qty, px, time_in_force=tif) if kind == "limit" else mkt(oid, side, qty)
        memo = b._px_ok, b._qty_ok
        b._px_ok, b._qty_ok = {}, {}  # the general check, with nothing remembered
        want = b.validate(o)
        b._px_ok, b._qty_ok = memo
        assert b.submit(o, T) == (want is None)
        ev = b.drain()
        if want is not None:
            assert ev == [Rejected(T, oid, want)]
            continue
        assert isinstance(ev[0], Accepted) and ev[0].order_id == oid
        if oid in b.orders:
            assert b.orders[oid] is o and oid in ids(b, side, px)
    bids, asks = b.top(10**6)
    assert [(lvl.price, lvl.qty) for lvl in b.levels(1)] == bids and b.best_bid == (bids[0][0] if bids else None)
    assert [(lvl.price, lvl.qty) for lvl in b.levels(-1)] == asks and b.best_ask == (asks[0][0] if asks else None)
    assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)
    assert [p for p, _ in asks] == sorted(p for p, _ in asks)
