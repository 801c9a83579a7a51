"""Properties every indicator keeps: the streaming value equals its vectorized twin on random series, and
``reset`` followed by a replay reproduces the same values exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leand.indicators.vector import all_twins
from tests.indicators.refs import Bar

TWINS = all_twins()


def _series(seed: int, n: int, vol: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = 100.0 * np.exp(np.cumsum(rng.normal(0.0, vol, n)))
    o = np.empty(n)
    o[0] = c[0]
    o[1:] = c[:-1] * np.exp(rng.normal(0.0, vol / 4, n - 1))
    h = np.maximum(o, c) * np.exp(np.abs(rng.normal(0.0, vol / 2, n)))
    lo = np.minimum(o, c) * np.exp(-np.abs(rng.normal(0.0, vol / 2, n)))
    v = rng.integers(1, 10_000, n).astype(np.float64)
    if n > 3:  # flat stretches and zero-range bars are where divisions by zero hide
        k = n // 3
        c[k:k + 3] = o[k:k + 3] = h[k:k + 3] = lo[k:k + 3] = c[k]
    return {"open": o, "high": h, "low": lo, "close": c, "volume": v}


def _run(ind, d, bars: bool) -> list[float]:
    out = []
    o, h, lo, c, v = d["open"], d["high"], d["low"], d["close"], d["volume"]
    for i in range(len(c)):
        if bars:
            ind.update_bar(Bar(i, float(o[i]), float(h[i]), float(lo[i]), float(c[i]), float(v[i])))
        else:
            ind.update(i, float(c[i]))
        out.append(ind.value)
    return out


def test_there_are_twins_for_the_library():
    names = {t.name for t in TWINS}
    assert {"sma", "ema", "rsi", "macd", "bb", "atr"} <= names


@pytest.mark.parametrize("twin", TWINS, ids=[t.name for t in TWINS])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 160), vol=st.sampled_from([0.001, 0.01, 0.05]))
def test_streaming_equals_vectorized(twin, seed, n, vol):
    d = _series(seed, n, vol)
    got = np.asarray(_run(twin.make(), d, twin.bars), dtype=np.float64)
    want = np.asarray(twin.vec(d), dtype=np.float64)
    assert want.shape == got.shape
    scale = max(1.0, float(np.max(np.abs(d["close"]))))
    for i, (g, w) in enumerate(zip(got, want)):
        if math.isnan(w) and math.isnan(g):
            continue
        assert abs(g - w) <= 1e-9 * max(abs(w), scale), f"{twin.name} row {i} of {n}: stream {g!r}, vector {w!r}"


@pytest.mark.parametrize("twin", TWINS, ids=[t.name for t in TWINS])
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 120), cut=st.integers(0, 120))
def test_reset_then_replay_is_identical(twin, seed, n, cut):
    d = _series(seed, n, 0.01)
    ind = twin.make()
    first = _run(ind, d, twin.bars)
    # a partial run on other data, then reset: no state may survive
    other = {k: a[: min(cut, n)][::-1].copy() for k, a in d.items()}
    _run(ind, other, twin.bars)
    ind.reset()
    assert not ind.is_ready and ind.samples == 0
    again = _run(ind, d, twin.bars)
    assert np.array_equal(np.asarray(first), np.asarray(again), equal_nan=True), twin.name
