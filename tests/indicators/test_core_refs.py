"""The core indicators (SMA, EMA, MACD, RSI, Bollinger, ATR, MAX, MIN, STD) against LEAN's reference files,
and their vectorized twins against the streaming ones on the same data."""

from __future__ import annotations

import numpy as np
import pytest

from leand.indicators import core
from leand.indicators.vector import _core as vec
from tests.indicators.refs import assert_close, bars, load


def _stream(ind, cols, *, bar: bool = False, part=None):
    vals, ready = [], []
    for b in bars(cols):
        if bar:
            ind.update_bar(b)
        else:
            ind.update(b.end_time, b.close)
        vals.append((part(ind) if part else ind).value)
        ready.append(ind.is_ready)
    return np.array(vals), ready


# spy_with_indicators.txt prints 7 significant digits: relative 1e-6 covers its rounding. Its closes are
# rounded to 2 decimals, and the simple-average RSI amplifies that input rounding to 3e-4: that column is
# held to LEAN's own TestHelper epsilon (1e-3), as LEAN's RelativeStrengthIndexTests does.
@pytest.mark.parametrize(("column", "make", "twin", "rel", "abs_"), [
    ("sma14", lambda: core.SMA(14), lambda c: vec.sma(c, 14), 1e-6, 0.0),
    ("ema14", lambda: core.EMA(14), lambda c: vec.ema(c, 14), 1e-6, 0.0),
    ("rsi 14", lambda: core.RSI(14, "simple"), lambda c: vec.rsi(c, 14, "simple"), 0.0, 1e-3),
    ("rsi 14 wilder", lambda: core.RSI(14), lambda c: vec.rsi(c, 14), 1e-6, 0.0),
])
def test_spy_with_indicators(column, make, twin, rel, abs_):
    cols = load("spy_with_indicators.txt")
    got, ready = _stream(make(), cols)
    assert_close(got, cols[column], rel=rel, abs_=abs_, ready=ready, label=column)
    np.testing.assert_allclose(twin(cols["close"]), got, rtol=1e-12, atol=1e-9)


def test_macd_12_26_9():
    # LEAN's MovingAverageConvergenceDivergenceTests: spy_with_macd.txt, MACD(12, 26, 9); file prints 4 decimals
    cols = load("spy_with_macd.txt")
    ind = core.MACD(12, 26, 9)
    got, ready = _stream(ind, cols)
    sig, _ = _stream(core.MACD(12, 26, 9), cols, part=lambda m: m.signal)
    assert_close(got, cols["macd"], abs_=6e-5, ready=ready, label="MACD")
    # the signal line is ready 9 values after the MACD line is
    full = [r and i >= 26 + 9 - 2 for i, r in enumerate(ready)]
    assert_close(sig, cols["signal"], abs_=6e-5, ready=full, label="signal")
    v = vec.macd(cols["close"], 12, 26, 9)
    np.testing.assert_allclose(v["value"], got, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v["signal"], sig, rtol=1e-12, atol=1e-12)


def test_ema_file():
    cols = load("spy_ema.csv")  # full double precision
    got, ready = _stream(core.EMA(14), cols)
    assert_close(got, cols["ema14"], rel=1e-9, ready=ready, label="EMA14")
    np.testing.assert_allclose(vec.ema(cols["close"], 14), got, rtol=1e-12)


def test_bollinger_20_2():
    cols = load("spy_bollinger_bands.txt")  # prints 3-4 decimals: abs 6e-4
    ind = core.BollingerBands(20, 2.0)
    mid, up, lo, ready = [], [], [], []
    for b in bars(cols):
        ind.update(b.end_time, b.close)
        mid.append(ind.middle_band.value)
        up.append(ind.upper_band.value)
        lo.append(ind.lower_band.value)
        ready.append(ind.is_ready)
    assert_close(mid, cols["moving average 20"], abs_=6e-4, ready=ready, label="middle")
    assert_close(up, cols["bollinger bands® 20 2 top"], abs_=6e-4, ready=ready, label="upper")
    assert_close(lo, cols["bollinger bands® 20 2 bottom"], abs_=6e-4, ready=ready, label="lower")
    v = vec.bollinger(cols["close"], 20, 2.0)
    np.testing.assert_allclose(v["upper_band"], up, rtol=1e-10)
    np.testing.assert_allclose(v["lower_band"], lo, rtol=1e-10)


@pytest.mark.parametrize(("file", "kind"), [("spy_atr.txt", "simple"), ("spy_atr_wilder.txt", "wilders")])
def test_atr_14(file, kind):
    cols = load(file)  # prints 6 significant digits: relative 1e-5
    got, ready = _stream(core.ATR(14, kind), cols, bar=True)
    assert_close(got, cols["average true range 14"], rel=1e-5, ready=ready, label=file)
    np.testing.assert_allclose(vec.atr(cols["high"], cols["low"], cols["close"], 14, kind), got, rtol=1e-12)


@pytest.mark.parametrize(("file", "column", "make", "twin"), [
    ("spy_max.txt", "max_5", lambda: core.Maximum(5), lambda c: vec.rolling_max(c, 5)),
    ("spy_min.txt", "min_5", lambda: core.Minimum(5), lambda c: vec.rolling_min(c, 5)),
])
def test_max_min_5(file, column, make, twin):
    # LEAN's MaximumTests/MinimumTests feed the close; the file prints 2 decimals as the input does: exact
    cols = load(file)
    got, ready = _stream(make(), cols)
    assert_close(got, cols[column], abs_=1e-9, ready=ready, label=column)
    np.testing.assert_array_equal(twin(cols["close"]), got)


def test_std_hand_computed():
    xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    ind = core.StandardDeviation(8)
    for i, x in enumerate(xs):
        ind.update(i, x)
    assert ind.is_ready and ind.value == pytest.approx(2.0)  # the textbook population example
    ind.update(8, 9.0)  # window now 4,4,4,5,5,7,9,9: mean 5.875
    want = float(np.sqrt(np.mean((np.array([4, 4, 4, 5, 5, 7, 9, 9.0]) - 5.875) ** 2)))
    assert ind.value == pytest.approx(want, rel=1e-12)
    assert vec.std([*xs, 9.0], 8)[-1] == pytest.approx(want, rel=1e-12)
