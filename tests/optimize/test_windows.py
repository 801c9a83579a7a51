"""Walk-forward windows, edges included."""

from __future__ import annotations

from datetime import date

import pytest

from leand.optimize.windows import WalkForward, Window, WindowError, windows


def test_step_defaults_to_test_and_last_test_is_cut_at_the_end() -> None:
    wf = WalkForward.parse("train=2y,test=6m")
    assert str(wf) == "train=2y,test=6m,step=6m"
    w = windows(wf, date(2004, 1, 1), date(2006, 10, 15))
    assert w == [
        Window(0, date(2004, 1, 1), date(2005, 12, 31), date(2006, 1, 1), date(2006, 6, 30)),
        Window(1, date(2004, 7, 1), date(2006, 6, 30), date(2006, 7, 1), date(2006, 10, 15)),  # cut at the end
    ]


def test_a_test_window_may_be_a_single_last_day_but_not_start_after_the_end() -> None:
    wf = WalkForward.parse("train=1y,test=6m")
    w = windows(wf, date(2010, 1, 1), date(2011, 1, 1))
    assert w == [Window(0, date(2010, 1, 1), date(2010, 12, 31), date(2011, 1, 1), date(2011, 1, 1))]
    with pytest.raises(WindowError, match="shorter than one training window"):
        windows(wf, date(2010, 1, 1), date(2010, 12, 31))


def test_windows_tile_exactly_when_the_range_divides() -> None:
    wf = WalkForward.parse("train=1y,test=3m,step=3m")
    w = windows(wf, date(2010, 1, 1), date(2011, 12, 31))
    assert len(w) == 4
    assert [x.test_start for x in w] == [date(2011, 1, 1), date(2011, 4, 1), date(2011, 7, 1), date(2011, 10, 1)]
    assert w[-1].test_end == date(2011, 12, 31)
    for a, b in zip(w, w[1:]):
        assert (b.test_start - a.test_end).days == 1  # no gap, no overlap
    for x in w:
        assert (x.test_start - x.train_end).days == 1


def test_month_ends_are_clamped_from_the_anchor_without_drift() -> None:
    wf = WalkForward.parse("train=1m,test=1m")
    w = windows(wf, date(2012, 1, 31), date(2012, 6, 30))
    # counted from Jan 31: Feb 29 (leap year), Mar 31, Apr 30 ... — never drifting to the 28th/29th
    assert [x.train_start for x in w] == [date(2012, 1, 31), date(2012, 2, 29), date(2012, 3, 31),
                                         date(2012, 4, 30), date(2012, 5, 31)]
    assert w[0].train_end == date(2012, 2, 28)
    assert w[0].test_start == date(2012, 2, 29) and w[0].test_end == date(2012, 3, 30)
    for a, b in zip(w, w[1:]):
        assert (b.test_start - a.test_end).days == 1
    assert w[-1].test_start == date(2012, 6, 30) and w[-1].test_end == date(2012, 6, 30)


def test_step_smaller_than_test_overlaps_and_days_weeks_units() -> None:
    w = windows(WalkForward.parse("train=10d,test=2w,step=1w"), date(2020, 1, 1), date(2020, 2, 1))
    assert w[0] == Window(0, date(2020, 1, 1), date(2020, 1, 10), date(2020, 1, 11), date(2020, 1, 24))
    assert w[1].train_start == date(2020, 1, 8) and w[1].test_start == date(2020, 1, 18)
    assert all(x.test_end <= date(2020, 2, 1) for x in w)
    assert w[-1].test_end == date(2020, 2, 1)


@pytest.mark.parametrize("spec", ["train=2y", "test=6m", "train=2y,test=0m", "train=2x,test=6m",
                                  "train=2y,test=6m,foo=1d", "train=2y,train=1y,test=6m", "2y,6m"])
def test_bad_specs_are_one_clear_error(spec: str) -> None:
    with pytest.raises(WindowError, match="--walk-forward"):
        WalkForward.parse(spec)
