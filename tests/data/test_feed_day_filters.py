"""A day's rows are kept when they fall inside a session (``_in_hours``) and inside the run (``_clip``): the
usual day, whose rows all fall inside, is passed through as it is without a mask; any other is masked row by
row. Either way the rows kept are exactly those the row-by-row rule keeps, in any order of times."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leand.data.feed import Subscription, _SubscriptionStream
from leand.data.lean import Columns
from leand.model import Resolution, Symbol, TickType

DAY = date(2013, 10, 7)
SEGMENTS = {  # (start, end) ns pairs: one session; pre-market, regular, post-market; none
    "one": ((1_000, 2_000),),
    "three": ((500, 1_000), (1_000, 2_000), (2_000, 2_500)),
    "gap": ((500, 900), (1_000, 2_000)),
    "none": (),
}


def _stream(segments: tuple, start: int = 0, end: int = 10_000) -> _SubscriptionStream:
    sub = Subscription(Symbol.equity("SPY"), Resolution.SECOND, TickType.TRADE, fill_forward=False)
    hours = SimpleNamespace(always_open=False, segments=lambda d, extended: segments)
    return _SubscriptionStream(None, sub, start, end, hours)  # type: ignore[arg-type]


def _columns(times: list[int]) -> Columns:
    t = np.array(times, np.int64)
    return Columns("trade_bar", t, t + 10, {"close": np.arange(len(t), dtype=np.float64)})


@settings(max_examples=200, deadline=None)
@given(times=st.lists(st.integers(0, 3_000), max_size=40), which=st.sampled_from(sorted(SEGMENTS)),
       start=st.integers(0, 3_000), end=st.integers(0, 3_000))
def test_rows_kept_are_the_row_by_row_rule(times: list[int], which: str, start: int, end: int) -> None:
    segs = SEGMENTS[which]
    stream = _stream(segs, start, end)
    c = _columns(times)
    got = stream._in_hours(c, DAY)
    want = [k for k, t in enumerate(times) if any(s <= t < e for s, e in segs)]
    assert got.cols["close"].tolist() == want
    assert got.time.tolist() == [times[k] for k in want]
    if len(want) == len(times) and segs:
        assert got is c  # nothing dropped: the day as it is
    clipped = stream._clip(got)
    keep = [k for k in want if times[k] + 10 >= start + 1 and times[k] <= end]
    assert clipped.cols["close"].tolist() == keep
    if len(keep) == len(want):
        assert clipped is got


@pytest.mark.parametrize("times", [[1_000, 1_500, 1_999], [1_999, 1_000, 1_500]])
def test_a_day_inside_one_session_is_passed_through(times: list[int]) -> None:
    c = _columns(times)
    assert _stream(SEGMENTS["one"])._in_hours(c, DAY) is c
    assert _stream(SEGMENTS["three"])._in_hours(c, DAY) is c
