"""The replayed book: queue-position models, fills against displayed liquidity, sequence gaps, and the
recorded L2 format, on hand-built sequences with hand-computed expectations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leand.model import OrderType, TimeInForce
from leand.simulator.book import BookError, Canceled, Rejected, SimOrder, Trade
from leand.simulator.l2 import L2Book, SequenceGap, apply_deltas
from leand.simulator.l2file import (
    DELTA,
    RECORD,
    SNAP_END,
    SNAP_LEVEL,
    SNAP_START,
    TRADE,
    L2FormatError,
    L2Header,
    L2Writer,
    from_lean_ticks,
    iter_chunks,
    read_header,
)
from leand.simulator.models import ConservativeQueue, Latency, ProbQueue, RandomLatency, queue_model
from leand.simulator.replay import ReplayVenue, replay_records


def venue(queue="conservative") -> ReplayVenue:
    v = ReplayVenue("X", tick_size=0.01, lot_size=1, queue=queue)
    v.on_quote(0, 10.00, 500, 10.01, 400)
    return v


def trades(v: ReplayVenue) -> list[Trade]:
    return [e for e in v.drain() if isinstance(e, Trade)]


def buy(oid=1, qty=100, px=10.00, **kw) -> SimOrder:
    return SimOrder(id=oid, side=1, quantity=qty, price=px, **kw)


# ---- conservative queue ----------------------------------------------------------------------------------
def test_order_joins_behind_displayed_size_and_advances_only_by_trades_when_conservative():
    v = venue()
    v.submit(buy(), 1)
    o = v.orders[1]
    assert o.ahead == 500
    v.on_quote(2, 10.00, 300, 10.01, 400)  # 200 cancelled somewhere: conservative credits none of it...
    assert o.ahead == 300  # ...but no more than the displayed 300 can be ahead of us
    v.drain()
    v.on_trade(3, 10.00, 250)
    assert o.ahead == 50 and trades(v) == []
    v.on_trade(4, 10.00, 100)  # 50 clears the queue ahead, 50 reaches us
    (t,) = trades(v)
    assert (t.quantity, t.price, t.maker_id, t.maker_done) == (50, 10.00, 1, False)
    v.on_trade(5, 10.00, 80)
    (t,) = trades(v)
    assert (t.quantity, t.maker_done) == (50, True)
    assert 1 not in v.orders


def test_size_added_behind_does_not_move_the_order():
    v = venue()
    v.submit(buy(), 1)
    v.on_quote(2, 10.00, 900, 10.01, 400)
    assert v.orders[1].ahead == 500


# ---- probabilistic queues --------------------------------------------------------------------------------
@pytest.mark.parametrize(("model", "f"), [
    ("prob_power2", lambda x: x ** 2),
    ("prob_power3", lambda x: x ** 3),
    ("prob_log", math.log1p),
])
def test_probabilistic_queue_splits_a_cancel_between_front_and_back(model, f):
    v = venue(model)
    v.submit(buy(), 1)
    v.on_quote(2, 10.00, 800, 10.01, 400)  # 300 joined behind us: front 500, back 300
    v.on_quote(3, 10.00, 600, 10.01, 400)  # 200 cancelled
    front, back, chg = 500.0, 300.0, 200.0
    prob = f(back) / (f(back) + f(front))  # chance the cancel came from behind us
    want = front - (1 - prob) * chg + min(back - prob * chg, 0.0)
    assert v.orders[1].ahead == pytest.approx(want, rel=1e-12)
    assert 300 < v.orders[1].ahead < 500  # moved, but less than the whole cancel


def test_queue_models_by_name_and_bad_name():
    assert isinstance(queue_model("conservative"), ConservativeQueue)
    assert queue_model("prob_power3").n == 3
    assert queue_model("prob_log").kind == "log"
    with pytest.raises(ValueError, match="unknown queue model 'fifo'"):
        queue_model("fifo")


def test_probabilistic_advances_more_than_conservative_on_the_same_sequence():
    got = {}
    for m in ("conservative", "prob_power2"):
        v = venue(m)
        v.submit(buy(), 1)
        v.on_quote(2, 10.00, 1000, 10.01, 400)
        v.on_quote(3, 10.00, 700, 10.01, 400)
        got[m] = v.orders[1].ahead
    assert got["conservative"] == 500 and got["prob_power2"] < 500


# ---- fills against the displayed book --------------------------------------------------------------------
def test_trade_through_the_price_fills_everything_left():
    v = venue()
    v.submit(buy(), 1)
    v.drain()
    v.on_trade(2, 9.99, 10)
    (t,) = trades(v)
    assert (t.quantity, t.price) == (100, 10.00)


def test_opposite_quote_at_the_price_fills_as_maker():
    v = venue()
    v.submit(buy(), 1)
    v.drain()
    v.on_quote(2, 9.99, 100, 10.00, 300)
    (t,) = trades(v)
    assert t.maker_id == 1 and t.price == 10.00 and t.quantity == 100


def test_level_emptied_without_trades_puts_the_order_at_the_front():
    v = venue()
    v.submit(buy(), 1)
    v.on_quote(2, 9.99, 700, 10.01, 400)  # 10.00 left the display: we are the best bid now
    assert v.orders[1].ahead == 0
    v.drain()
    v.on_trade(3, 10.00, 30)
    (t,) = trades(v)
    assert t.quantity == 30


def test_marketable_order_walks_displayed_levels_and_consumes_them():
    v = ReplayVenue("X", taker_fee=0.001)
    v.on_snapshot(0, 1, [(10.00, 100)], [(10.01, 100), (10.02, 200)])
    v.submit(SimOrder(id=7, side=1, quantity=250, type=OrderType.MARKET), 1)
    got = [(t.price, t.quantity, t.taker_id, t.taker_fee) for t in trades(v)]
    assert got == [(10.01, 100, 7, pytest.approx(1.001)), (10.02, 150, 7, pytest.approx(1.503))]
    assert v.book.top(2)[1] == [(10.02, 50)]


def test_market_order_beyond_displayed_depth_cancels_the_rest():
    v = venue()
    v.submit(SimOrder(id=2, side=-1, quantity=800, type=OrderType.MARKET), 1)
    ev = v.drain()
    assert [e.quantity for e in ev if isinstance(e, Trade)] == [500]
    assert Canceled(1, 2, 300, "market_unfilled") in ev


def test_post_only_crossing_is_rejected_and_fok_is_all_or_nothing():
    v = venue()
    v.submit(buy(oid=3, px=10.01, post_only=True), 1)
    assert v.drain()[-1] == Rejected(1, 3, "post-only order would take liquidity")
    v.submit(buy(oid=4, qty=500, px=10.01, time_in_force=TimeInForce.FOK), 2)
    assert v.drain()[-1] == Canceled(2, 4, 500, "fok")
    assert v.book.ask_size == 400  # untouched
    v.submit(buy(oid=5, qty=400, px=10.01, time_in_force=TimeInForce.FOK), 3)
    assert sum(t.quantity for t in trades(v)) == 400


def test_modify_size_down_keeps_place_price_change_rejoins():
    v = venue()
    v.on_quote(0, 10.00, 500, 10.02, 400)
    v.submit(buy(), 1)
    v.on_trade(2, 10.00, 200)
    assert v.orders[1].ahead == 300
    v.modify(1, 3, quantity=60)
    assert v.orders[1].ahead == 300 and v.orders[1].quantity == 60
    v.on_quote(4, 10.01, 50, 10.02, 400)
    v.modify(1, 5, price=10.01)  # new price: behind the 50 shown there
    assert v.orders[1].ahead == 50
    with pytest.raises(BookError, match="unknown order id 99"):
        v.cancel(99, 6)


def test_stop_triggers_on_trade_prints_then_takes_liquidity():
    v = venue()
    v.submit(SimOrder(id=9, side=-1, quantity=100, type=OrderType.STOP_MARKET, stop_price=9.95), 1)
    v.on_trade(2, 9.97, 10)
    assert 9 in v.orders
    v.on_quote(3, 9.94, 300, 9.95, 100)
    v.on_trade(4, 9.95, 10)
    (t,) = trades(v)
    assert (t.price, t.quantity, t.taker_id) == (9.94, 100, 9)


def test_day_order_expires_at_its_time():
    v = venue()
    v.submit(buy(time_in_force=TimeInForce.DAY, expire_time=100), 1)
    v.expire(99)
    assert 1 in v.orders
    v.expire(100)
    assert 1 not in v.orders


def test_validation_rejects_name_the_problem():
    v = venue()
    v.submit(buy(oid=1, px=10.005), 1)
    assert "not a multiple of the tick size" in v.drain()[-1].reason
    v.submit(buy(oid=2, qty=0), 1)
    assert "quantity must be positive" in v.drain()[-1].reason


# ---- L2 book: sequence checks ----------------------------------------------------------------------------
def test_sequence_gap_is_recorded_and_the_book_goes_stale_until_a_snapshot():
    b = L2Book("X")
    assert b.apply_delta(1, 1, 10.0, 100)
    assert b.apply_delta(2, -1, 10.1, 100)
    assert not b.apply_delta(4, 1, 10.0, 50)  # 3 is missing
    assert b.gaps == [(3, 4)] and b.stale
    assert not b.apply_delta(5, 1, 9.9, 10)  # ignored while stale
    assert b.depth(1, 9.9) == 0
    b.apply_snapshot(6, [(10.0, 70)], [(10.1, 80)])
    assert not b.stale and b.apply_delta(7, 1, 9.9, 10) and b.depth(1, 9.9) == 10
    assert not b.apply_delta(7, 1, 9.9, 20)  # a duplicate is not re-applied
    assert b.depth(1, 9.9) == 10


def test_sequence_gap_can_raise():
    b = L2Book("X", on_gap="raise")
    b.apply_delta(1, 1, 10.0, 100)
    with pytest.raises(SequenceGap, match="expected sequence 2, got 5"):
        b.apply_delta(5, 1, 10.0, 100)


def test_batch_deltas_match_one_by_one():
    rng = np.random.default_rng(3)
    n = 2000
    prices = (1000 + rng.integers(-20, 20, n)) / 100
    sides = rng.choice([-1, 1], n)
    sizes = rng.integers(0, 5, n) * 100.0
    seqs = list(range(1, n + 1))
    seqs[777] = 779  # a gap
    a, b = L2Book("A"), L2Book("B")
    for s, sd, p, q in zip(seqs, sides.tolist(), prices.tolist(), sizes.tolist()):
        a.apply_delta(s, sd, p, q)
    apply_deltas(b, seqs, sides.tolist(), prices.tolist(), sizes.tolist())
    assert dict(a.bids) == dict(b.bids) and dict(a.asks) == dict(b.asks)
    assert a.top(10**6) == b.top(10**6)
    assert a.gaps == b.gaps and a.seq == b.seq and a.stale == b.stale


# ---- the recorded format ---------------------------------------------------------------------------------
def _records() -> np.ndarray:
    r = [(1, 1, SNAP_START, 0, 0.0, 0.0), (1, 1, SNAP_LEVEL, 1, 10.0, 100.0), (1, 1, SNAP_LEVEL, -1, 10.01, 50.0),
         (1, 1, SNAP_END, 0, 0.0, 0.0), (2, 2, DELTA, 1, 10.0, 300.0), (3, 3, DELTA, -1, 10.01, 0.0),
         (3, 4, DELTA, -1, 10.02, 80.0), (4, 0, TRADE, 1, 10.02, 30.0)]
    return np.array(r, dtype=RECORD)


def test_l2_file_round_trip_streams_in_chunks(tmp_path):
    p = tmp_path / "x.l2d"
    later = _records()
    later["time"] += int(later["time"].max()) + 1  # a recording's time never goes backwards (the reader checks)
    with L2Writer(p, L2Header("BAC", 0.01, 1.0, "test")) as w:
        w.write(_records())
        w.write(later)
    h, _ = read_header(p)
    assert h.symbol == "BAC" and h.source == "test"
    chunks = list(iter_chunks(p, chunk=3))
    assert [len(c) for c in chunks] == [3, 3, 3, 3, 3, 1]
    assert np.array_equal(np.concatenate(chunks), np.concatenate([_records(), later]))


def test_l2_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.l2d"
    bad.write_bytes(b"NOTAFILE" + b"\0" * 8)
    with pytest.raises(L2FormatError, match=r"bad\.l2d: not a leand \.l2d recording"):
        read_header(bad)
    p = tmp_path / "t.l2d"
    with L2Writer(p, L2Header("X")) as w:
        w.write(_records())
    p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(L2FormatError, match="truncated"):
        list(iter_chunks(p))


def test_replaying_records_drives_the_venue_and_its_orders():
    v = ReplayVenue("X")
    recs = _records()
    replay_records(v, recs[:5])  # snapshot, then bid 10.00 grows to 300
    assert v.book.top(1) == ([(10.0, 300.0)], [(10.01, 50.0)])
    v.submit(SimOrder(id=1, side=-1, quantity=40, price=10.02), 2)
    replay_records(v, recs[5:])  # ask 10.01 goes, 10.02 shows 80 (ahead of us: 0 -> 80 joined behind), a trade
    o = v.orders[1]
    assert o.ahead == 0
    assert sum(t.quantity for t in trades(v)) == 30


def test_from_lean_ticks_turns_quotes_into_deltas():
    class Q:
        def __init__(self, t, b, bs, a, as_):
            self.time, self.bid_price, self.bid_size, self.ask_price, self.ask_size = t, b, bs, a, as_

    class T:
        def __init__(self, t, p, q):
            self.time, self.price, self.quantity = t, p, q
    r = from_lean_ticks([Q(1, 10.0, 100, 10.01, 200), Q(2, 10.01, 50, 10.02, 70)], [T(2, 10.01, 5)])
    got = [(int(x["time"]), int(x["seq"]), int(x["kind"]), int(x["side"]), float(x["price"]), float(x["size"]))
           for x in r]
    assert got == [(1, 1, DELTA, 1, 10.0, 100.0), (1, 2, DELTA, -1, 10.01, 200.0),
                   (2, 3, DELTA, 1, 10.0, 0.0), (2, 4, DELTA, 1, 10.01, 50.0),
                   (2, 5, DELTA, -1, 10.01, 0.0), (2, 6, DELTA, -1, 10.02, 70.0), (2, 0, TRADE, 0, 10.01, 5.0)]


# ---- latency models --------------------------------------------------------------------------------------
def test_constant_latency_and_bad_values():
    lat = Latency(1000, 2000, 300)
    assert (lat.entry(), lat.response(), lat.market_data()) == (1000, 2000, 300)
    with pytest.raises(ValueError, match="entry latency must be >= 0"):
        Latency(-1)


def test_random_latency_is_seeded():
    a = RandomLatency(1_000_000, 2_000_000, seed=5)
    b = RandomLatency(1_000_000, 2_000_000, seed=5)
    c = RandomLatency(1_000_000, 2_000_000, seed=6)
    xa = [a.entry() for _ in range(50)]
    assert xa == [b.entry() for _ in range(50)]
    assert xa != [c.entry() for _ in range(50)]
    assert 300_000 < float(np.median(xa)) < 3_000_000  # around the 1 ms median
    assert ProbQueue("log").name == "prob_log"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1, -1]), st.integers(995, 1005), st.sampled_from([0, 0, 100, 300, 700])),
                min_size=1, max_size=120),
       st.integers(996, 1004), st.integers(996, 1004), st.sampled_from(["conservative", "prob_power2"]),
       st.sets(st.integers(0, 119), max_size=4))
def test_quiet_delta_fast_path_matches_one_delta_at_a_time(deltas, bid_px, ask_px, queue, gap_at):
    """replay_records skips the resting-order checks for deltas our orders cannot see; the events, the
    orders' queue places and the book must be exactly those of applying every delta on its own."""
    recs = []
    seq = 1
    for i, (side, px, size) in enumerate(deltas):
        seq += 2 if i in gap_at else 1
        recs.append((1_000 + i, seq, DELTA, side, px / 100, float(size)))
    records = np.array(recs, dtype=RECORD)

    def run(batched: bool) -> tuple:
        v = ReplayVenue("X", queue=queue)
        v.book.apply_snapshot(1, [(9.99, 500.0), (9.98, 400.0)], [(10.01, 500.0), (10.02, 300.0)])
        v.submit(SimOrder(id=1, side=1, quantity=100, price=bid_px / 100), 1)
        v.submit(SimOrder(id=2, side=-1, quantity=100, price=ask_px / 100), 1)
        if batched:
            replay_records(v, records)
        else:
            for r in records.tolist():
                v.on_delta(r[0], r[1], r[3], r[4], r[5])
        orders = sorted((o.id, o.filled, o.ahead, o.shown) for o in v.orders.values())
        return v.drain(), orders, v.book.top(10**6), v.book.gaps, v.book.updates

    assert run(True) == run(False)
