"""An SMA fed a run of closes at once (the engine's columnar bars) gives bit for bit the values, sums and
state of one ``update_bar`` call per bar, and a ``FedSMA`` shows the per-bar state at every bar: whatever
looks into it part way gets exactly what the per-bar path would have given."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from leand.indicators.core import SMA, exact_row_sums
from leand.indicators.fed import BarRun, FedSMA, feedable


class _Bar:
    __slots__ = ("close", "end_time")

    def __init__(self, t: int, c: float) -> None:
        self.end_time = t
        self.close = c


def _state(ind: SMA) -> tuple:
    w = ind.window
    return (ind.samples, ind._i, ind._sum, list(ind._buf), ind.value, ind.is_ready, ind._time,
            [w[i] for i in range(len(w))], w._head, list(w._buf), w._count)


prices = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
# closes on a tick grid (like market data) and arbitrary floats both
closes_st = st.one_of(st.lists(prices, max_size=300),
                      st.lists(st.integers(0, 10**7).map(lambda k: k * 1e-4), max_size=300))


@settings(max_examples=200, deadline=None)
@given(period=st.integers(1, 40), before=st.lists(prices, max_size=90), closes=closes_st,
       cut=st.integers(0, 300))
def test_bar_outputs_and_absorb_match_update_bar(period: int, before: list[float], closes: list[float],
                                                 cut: int) -> None:
    a, b = SMA(period), SMA(period)
    for k, x in enumerate(before):  # any state: warming up or ready, any buffer phase
        a.update_bar(_Bar(k, x))
        b.update_bar(_Bar(k, x))
    values, sums = b.bar_outputs(np.array(closes))
    assert _state(a) == _state(b)  # computing the outputs changes nothing
    got_v, got_s = [], []
    for k, x in enumerate(closes, len(before)):
        a.update_bar(_Bar(k, x))
        got_v.append(a.value)
        got_s.append(a._sum)
    assert values.tolist() == got_v
    assert sums.tolist() == got_s
    rows = min(cut, len(closes))  # absorbing part of the run gives the state after those rows
    c = SMA(period)
    for k, x in enumerate(before):
        c.update_bar(_Bar(k, x))
    ref = SMA(period)
    for k, x in enumerate(before + closes[:rows]):
        ref.update_bar(_Bar(k, x))
    vals = values.tolist()
    c.absorb_bars(np.array(closes), sums, vals[:rows], rows, len(before) + rows - 1)
    if rows:
        c.value, c.is_ready = vals[rows - 1], ref.is_ready  # the engine writes these bar by bar
    assert _state(c) == _state(ref)


@settings(max_examples=150, deadline=None)
@given(p=st.integers(1, 64), base=st.floats(1e-300, 1e300), n=st.integers(0, 8), data=st.data())
def test_exact_row_sums_is_fsum(p: int, base: float, n: int, data) -> None:
    """Rows of values near one level (the integer path) and of anything at all (fsum) both give fsum's bits."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    near = base * (1.0 + rng.uniform(0.0, 3.0, (n, p))) * rng.choice([-1.0, 1.0], (n, p))
    mixed = np.where(rng.random((n, p)) < 0.2, rng.normal(0.0, 1e3, (n, p)), near)
    mixed[rng.random((n, p)) < 0.05] = 0.0
    for arr in (near, mixed, np.round(near / base * 1e4) * 1e-4):
        want = np.array([math.fsum(r) for r in arr.tolist()], np.float64)
        assert exact_row_sums(arr).tobytes() == want.tobytes()


def _fed_pair(period: int, warm: list[float], closes: list[float]) -> tuple[SMA, SMA, BarRun, list[float],
                                                                           list[int]]:
    plain, fed = SMA(period), SMA(period)
    for k, x in enumerate(warm):
        plain.update_bar(_Bar(k, x))
        fed.update_bar(_Bar(k, x))
    times = list(range(len(warm), len(warm) + len(closes)))
    run = BarRun(times, 0)
    assert feedable(fed.update_bar) is fed
    vals = run.feed(fed, np.array(closes))
    assert type(fed) is FedSMA and feedable(fed.update_bar) is None
    return plain, fed, run, vals, times


def _engine_step(run: BarRun, fed: SMA, vals: list[float], i: int) -> None:
    """What the engine's loop does for a fed indicator at row ``i`` (``is_ready`` is the feed's to set)."""
    run.last = i
    fed.value = vals[i]


@settings(max_examples=150, deadline=None)
@given(period=st.integers(1, 30), closes=st.lists(prices, min_size=1, max_size=120), data=st.data())
def test_fed_sma_shows_the_per_bar_state_at_every_bar(period: int, closes: list[float], data) -> None:
    warm = data.draw(st.lists(prices, min_size=period, max_size=period + 40))
    plain, fed, run, vals, times = _fed_pair(period, warm, closes)
    poke = data.draw(st.sampled_from(["none", "window", "update", "reset", "compose", "samples"]))
    at = data.draw(st.integers(0, len(closes) - 1))
    for i, (t, x) in enumerate(zip(times, closes)):
        plain.update_bar(_Bar(t, x))
        if type(fed) is FedSMA:
            _engine_step(run, fed, vals, i)
        else:
            fed.update_bar(_Bar(t, x))  # the engine's bar-by-bar path once it left
        # what a handler reads at every bar
        assert (fed.value, fed.is_ready, fed.samples, fed.current.end_time, float(fed.current)) == \
               (plain.value, plain.is_ready, plain.samples, plain.current.end_time, float(plain.current))
        if i == at and poke != "none":
            if poke == "window":
                assert [fed.window[k] for k in range(len(fed.window))] == \
                       [plain.window[k] for k in range(len(plain.window))]
            elif poke == "update":
                fed.update(t, 1.5)
                plain.update(t, 1.5)
            elif poke == "reset":
                fed.reset()
                plain.reset()
            elif poke == "compose":
                SMA(3).of(fed)
                SMA(3).of(plain)
            elif poke == "samples":
                assert fed.samples == plain.samples
                fed.samples += 0  # a write brings the state up to date
            assert type(fed) is SMA and run.broken
    run.finish()
    assert type(fed) is SMA
    assert _state(fed) == _state(plain)


def test_a_run_finished_part_way_leaves_the_state_of_the_rows_taken() -> None:
    closes = [100.0 + math.sin(k) for k in range(500)]
    plain, fed, run, vals, times = _fed_pair(10, closes[:10], closes[10:])
    for i in range(200):
        _engine_step(run, fed, vals, i)
        plain.update_bar(_Bar(times[i], closes[10 + i]))
    run.finish()
    assert not run.broken and type(fed) is SMA
    assert _state(fed) == _state(plain)


def test_what_cannot_be_fed() -> None:
    s = SMA(5)
    assert feedable(s.update_bar) is s
    assert feedable(s.update) is None  # not the bar updater
    composed = SMA(5)
    SMA(2).of(composed)
    assert feedable(composed.update_bar) is None  # another indicator reads its every output

    class Mine(SMA):
        pass

    m = Mine(5)
    assert feedable(m.update_bar) is None  # a subclass may do anything per bar
    hl = SMA(5)
    hl.selector = lambda bar: bar.high
    assert feedable(hl.update_bar) is None  # not the close
