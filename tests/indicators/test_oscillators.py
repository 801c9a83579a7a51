"""Oscillators against LEAN's reference files (data/indicator-refs/), hand-computed cases for those whose LEAN
test file is not in the repository, and the vectorized twins against the streaming classes.

As in LEAN's TestHelper.TestIndicator, a reference value is compared only once the indicator is ready."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from leand.indicators import oscillators as O
from leand.indicators.vector import _oscillators as V
from tests.indicators.refs import Bar, assert_close, bars, load

# (id, factory, file, fed with bars?, {reference column: streaming attribute ("" = main value)}, rel, abs, skip)
# skip = ready rows left out at the start (see the comment on the case)
REF_CASES = [
    # inputs in the file are rounded to cents while the %K/%D were computed on unrounded prices: differences up to
    # 4e-4, so LEAN's own tolerance (StochasticTests: 1e-3 absolute)
    ("stoch", lambda: O.Stochastic(12, 3, 5), "spy_with_stoch12k3.txt", True,
     {"stochastics 12 %k 3": "stoch_k", "%d 5": "stoch_d"}, 0.0, 1e-3, 0),
    ("srsi", lambda: O.StochasticRelativeStrengthIndex(14, 14, 3, 3), "spy_with_StochRSI.csv", False,
     {"k": "k", "d": "d"}, 1e-6, 1e-9, 0),
    # same rounded-inputs situation as the stochastic: LEAN's default tolerance, 1e-3 absolute
    ("willr", lambda: O.WilliamsPercentR(14), "spy_with_williamsR14.txt", True, {"williams %r 14": ""}, 0.0, 1e-3, 0),
    # LEAN's CommodityChannelIndexTests tolerance: 1e-2 absolute (file values from unrounded inputs)
    ("cci", lambda: O.CommodityChannelIndex(14), "spy_with_cci.txt", True,
     {"commodity channel index (cci) 14": ""}, 0.0, 1e-2, 0),
    # file prints 4 decimals: abs 5e-5 (+ float slack)
    ("adx", lambda: O.AverageDirectionalIndex(14), "spy_with_adx.txt", True,
     {"+di14": "positive_directional_index", "-di14": "negative_directional_index", "adx 14": ""}, 0.0, 5.1e-5, 0),
    # file prints 4 decimals: abs 5e-5 (LEAN's own test only asks for 1.0)
    ("adxr", lambda: O.AverageDirectionalMovementIndexRating(14), "spy_with_adx.txt", True, {"adxr 14": ""},
     0.0, 5.1e-5, 0),
    # file prints 5 decimals (truncated, not rounded): abs 1e-5
    ("aroon", lambda: O.AroonOscillator(14, 14), "spy_aroon_oscillator.txt", True, {"aroon oscillator 14": ""},
     0.0, 1e-5, 0),
    ("ppo", lambda: O.PercentagePriceOscillator(5, 10), "spy_ppo.txt", False, {"ppo_5_10": ""}, 1e-6, 1e-9, 0),
    ("apo", lambda: O.AbsolutePriceOscillator(5, 10), "spy_apo.txt", False, {"apo_5_10": ""}, 1e-6, 1e-9, 0),
    ("cmo", lambda: O.ChandeMomentumOscillator(5), "spy_cmo.txt", False, {"cmo_5": ""}, 1e-6, 1e-9, 0),
    # file prints 9 decimals: abs 1e-9 (+ slack)
    ("fisher", lambda: O.FisherTransform(10), "spy_with_fisher.txt", True, {"fisher transform 10": ""},
     1e-6, 1e-9, 0),
    ("ao", lambda: O.AwesomeOscillator(5, 34), "spy_ao.txt", True, {"ao": ""}, 1e-6, 1e-9, 0),
    ("vtx", lambda: O.Vortex(14), "spy_with_vtx.csv", True, {"plus_vtx": "plus_vortex", "minus_vtx": "minus_vortex"},
     1e-6, 1e-9, 0),
    # LEAN's SchaffTrendCycleTests allow ±1 ("highly sensitive chain of EMAs and stochastics"), and this file's
    # generator starts its smoothing stages later than LEAN (which runs them from the first sample): the first
    # 18 ready rows differ by up to 50 while the seeds wash out, so they are skipped; after that within 0.5
    ("stc", lambda: O.SchaffTrendCycle(10, 23, 50), "spy_stc.txt", False, {"stc": ""}, 0.0, 1.0, 18),
    ("ibs", lambda: O.InternalBarStrength(), "spy_with_ibs.csv", True, {"ibs": ""}, 1e-6, 1e-9, 0),
    ("rvi", lambda: O.RelativeVigorIndex(10), "spy_rvi.txt", True, {"rvi": "", "rvi_s": "signal"}, 1e-6, 1e-9, 0),
    ("dem", lambda: O.DeMarkerIndicator(14), "eurusd60_dem.txt", True, {"dem": ""}, 1e-6, 1e-9, 0),
    ("pso", lambda: O.PremierStochasticOscillator(8, 5), "spy_pso.csv", True, {"pso": ""}, 1e-6, 1e-9, 0),
]


def _feed(ind, bs: list[Bar], as_bars: bool, attrs: list[str]) -> tuple[dict[str, list[float]], list[bool]]:
    out: dict[str, list[float]] = {a: [] for a in attrs}
    ready = []
    for b in bs:
        if as_bars:
            ind.update_bar(b)
        else:
            ind.update(b.end_time, b.close)
        ready.append(ind.is_ready)
        for a in attrs:
            out[a].append(getattr(ind, a).value if a else ind.value)
    return out, ready


@pytest.mark.parametrize("case", REF_CASES, ids=[c[0] for c in REF_CASES])
def test_against_lean_reference(case):
    name, make, file, as_bars, cols, rel, abs_, skip = case
    ref = load(file)
    got, ready = _feed(make(), bars(ref), as_bars, list(cols.values()))
    if skip:
        first = ready.index(True)
        ready = [r and i >= first + skip for i, r in enumerate(ready)]
    for col, attr in cols.items():
        assert_close(got[attr], ref[col], rel=rel, abs_=abs_, ready=ready, label=f"{name} {col}")


def test_reference_replay_after_reset_is_identical():
    ref = load("spy_with_adx.txt")
    bs = bars(ref)
    ind = O.AverageDirectionalMovementIndexRating(14)
    first, _ = _feed(ind, bs, True, [""])
    ind.reset()
    assert ind.samples == 0 and not ind.is_ready and ind.adx.samples == 0
    again, _ = _feed(ind, bs, True, [""])
    assert first == again


# -- vectorized twins on the reference data -------------------------------------------------------------------

# (id, factory, fed with bars?, vector function of the column dict) — multi-output twins compare every part
VEC_CASES: list[tuple[str, Callable, bool, Callable]] = [
    ("stoch", lambda: O.Stochastic(12, 3, 5), True, lambda d: V.stochastic(d["high"], d["low"], d["close"], 12, 3, 5)),
    ("srsi", lambda: O.StochasticRelativeStrengthIndex(14, 14, 3, 3), False, lambda d: V.srsi(d["close"], 14, 14, 3, 3)),
    ("willr", lambda: O.WilliamsPercentR(14), True, lambda d: V.willr(d["high"], d["low"], d["close"], 14)),
    ("cci", lambda: O.CommodityChannelIndex(14), True, lambda d: V.cci(d["high"], d["low"], d["close"], 14)),
    ("adx", lambda: O.AverageDirectionalIndex(14), True, lambda d: V.adx(d["high"], d["low"], d["close"], 14)),
    ("adxr", lambda: O.AverageDirectionalMovementIndexRating(14), True,
     lambda d: V.adxr(d["high"], d["low"], d["close"], 14)),
    ("aroon", lambda: O.AroonOscillator(14, 10), True, lambda d: V.aroon(d["high"], d["low"], 14, 10)),
    ("ppo", lambda: O.PercentagePriceOscillator(5, 10), False, lambda d: V.ppo(d["close"], 5, 10)),
    ("apo", lambda: O.AbsolutePriceOscillator(5, 10, "exponential"), False,
     lambda d: V.apo(d["close"], 5, 10, "exponential")),
    ("cmo", lambda: O.ChandeMomentumOscillator(5), False, lambda d: V.cmo(d["close"], 5)),
    ("ultosc", lambda: O.UltimateOscillator(7, 14, 28), True,
     lambda d: V.ultosc(d["high"], d["low"], d["close"], 7, 14, 28)),
    ("tsi", lambda: O.TrueStrengthIndex(25, 13, 7), False, lambda d: V.tsi(d["close"], 25, 13, 7)),
    ("kst", lambda: O.KnowSureThing(), False, lambda d: V.kst(d["close"])),
    ("fisher", lambda: O.FisherTransform(10), True, lambda d: V.fisher(d["high"], d["low"], 10)),
    ("ao", lambda: O.AwesomeOscillator(5, 34), True, lambda d: V.ao(d["high"], d["low"], 5, 34)),
    ("vtx", lambda: O.Vortex(14), True, lambda d: V.vortex(d["high"], d["low"], d["close"], 14)),
    ("chop", lambda: O.ChoppinessIndex(14), True, lambda d: V.chop(d["high"], d["low"], d["close"], 14)),
    ("mass", lambda: O.MassIndex(9, 25), True, lambda d: V.mass(d["high"], d["low"], 9, 25)),
    ("bop", lambda: O.BalanceOfPower(), True, lambda d: V.bop(d["open"], d["high"], d["low"], d["close"])),
    ("stc", lambda: O.SchaffTrendCycle(10, 23, 50), False, lambda d: V.stc(d["close"], 10, 23, 50)),
    ("ibs", lambda: O.InternalBarStrength(), True, lambda d: V.ibs(d["high"], d["low"], d["close"])),
    ("rvi", lambda: O.RelativeVigorIndex(10), True, lambda d: V.rvi(d["open"], d["high"], d["low"], d["close"], 10)),
    ("dem", lambda: O.DeMarkerIndicator(14), True, lambda d: V.dem(d["high"], d["low"], 14)),
    ("pso", lambda: O.PremierStochasticOscillator(8, 5), True, lambda d: V.pso(d["high"], d["low"], d["close"], 8, 5)),
]


@pytest.fixture(scope="module")
def spy():
    ref = load("spy_ppo.txt")  # 500 daily SPY bars with OHLCV
    return {k: ref[k] for k in ("open", "high", "low", "close", "volume")}, bars(ref)


@pytest.mark.parametrize("case", VEC_CASES, ids=[c[0] for c in VEC_CASES])
def test_vector_twin_equals_streaming_on_reference_data(case, spy):
    name, make, as_bars, vec = case
    cols, bs = spy
    want = vec(cols)
    parts = want if isinstance(want, dict) else {"value": want}
    attrs = ["" if k == "value" else k for k in parts]
    got, _ = _feed(make(), bs, as_bars, attrs)
    for key, w in parts.items():
        g = np.asarray(got["" if key == "value" else key])
        w = np.asarray(w)
        assert w.shape == g.shape, f"{name}.{key}"
        tol = 1e-9 * np.maximum(np.abs(w), 1.0)
        bad = np.flatnonzero(~(np.abs(g - w) <= tol))
        assert not len(bad), f"{name}.{key} row {bad[0]}: stream {g[bad[0]]!r}, vector {w[bad[0]]!r}"


def test_every_registered_oscillator_has_a_twin():
    assert {c[0] for c in VEC_CASES} == set(O.REGISTRY_PART)
    assert {t.name for t in V.TWINS} == set(O.REGISTRY_PART)
    for cls in O.REGISTRY_PART.values():
        assert cls.__doc__ and cls.__doc__.strip()


# -- hand-computed cases (no LEAN reference file in the repository) ----------------------------------------------

def _bar(i: int, o: float, h: float, lo: float, c: float) -> Bar:
    return Bar(i, o, h, lo, c, 1.0)


BARS = [_bar(i, *row) for i, row in enumerate([
    (10.0, 11.0, 9.5, 10.5), (10.5, 11.5, 10.0, 11.0), (11.0, 11.2, 10.1, 10.2), (10.2, 10.8, 9.8, 10.7),
    (10.7, 12.0, 10.6, 11.9), (11.9, 12.1, 11.0, 11.1), (11.1, 11.4, 10.4, 10.6), (10.6, 11.0, 10.3, 10.9),
    (10.9, 11.8, 10.8, 11.6), (11.6, 11.7, 11.2, 11.3),
])]


def _lean_ema(xs: list[float], period: int) -> list[float]:
    """LEAN's EMA by its definition: the mean of the inputs so far for the first ``period`` inputs, then
    k·x + (1 − k)·previous with k = 2/(period + 1)."""
    k = 2.0 / (period + 1)
    out: list[float] = []
    for i, x in enumerate(xs):
        out.append(sum(xs[: i + 1]) / (i + 1) if i < period else k * x + (1 - k) * out[-1])
    return out


def test_ultimate_oscillator_by_hand():
    p1, p2, p3 = 2, 3, 4
    ind = O.UltimateOscillator(p1, p2, p3)
    got = []
    for b in BARS:
        ind.update_bar(b)
        got.append(ind.value)
    bp, tr = [], []  # from the second bar: BP = C − min(L, C₋₁), TR = max(H, C₋₁) − min(L, C₋₁)
    for prev, b in zip(BARS, BARS[1:]):
        bp.append(b.close - min(b.low, prev.close))
        tr.append(max(b.high, prev.close) - min(b.low, prev.close))
    for i, g in enumerate(got):
        if i < 4:  # ready after max period + 1 = 5 bars
            assert g == 50.0
            continue
        j = i - 1
        avg = [sum(bp[j - p + 1: j + 1]) / sum(tr[j - p + 1: j + 1]) for p in (p1, p2, p3)]
        assert g == pytest.approx(100 * (4 * avg[0] + 2 * avg[1] + avg[2]) / 7, rel=1e-12), i
    assert ind.is_ready


def test_ultimate_oscillator_flat_prices_stay_at_50():
    # LEAN's IndicatorWorksAsExpectedWhenPricesDontVary: true-range sums of 0 keep the previous value
    ind = O.UltimateOscillator(7, 14, 28)
    for i in range(56):
        ind.update_bar(_bar(i, 0.0, 0.0, 0.0, 0.0))
    assert ind.value == 50.0 and ind.is_ready


def test_true_strength_index_by_hand():
    L, S, sig = 3, 2, 2
    closes = [b.close for b in BARS]
    ind = O.TrueStrengthIndex(L, S, sig)
    got, sigs = [], []
    for i, c in enumerate(closes):
        ind.update(i, c)
        got.append(ind.value)
        sigs.append(ind.signal.value)
    pc = [b - a for a, b in zip(closes, closes[1:])]
    e1, a1 = _lean_ema(pc, L), _lean_ema([abs(x) for x in pc], L)
    e2, a2 = _lean_ema(e1[L - 1:], S), _lean_ema(a1[L - 1:], S)  # fed once the long EMAs are ready
    start = L + S - 1  # the first ready row (L + S samples)
    want = [100 * n / d for n, d in zip(e2[S - 1:], a2[S - 1:])]
    assert got[:start] == [0.0] * start
    assert got[start:] == pytest.approx(want, rel=1e-12)
    assert sigs[start:] == pytest.approx(_lean_ema(want, sig), rel=1e-12)
    assert ind.is_ready and not O.TrueStrengthIndex(L, S, sig).is_ready


def test_know_sure_thing_by_hand():
    closes = [b.close for b in BARS]
    rocs, mas, sig = (1, 2, 3, 4), (2, 2, 2, 2), 3
    ind = O.KnowSureThing(rocs[0], mas[0], rocs[1], mas[1], rocs[2], mas[2], rocs[3], mas[3], sig)
    got, kst, signal = [], [], []
    for i, c in enumerate(closes):
        ind.update(i, c)
        got.append(ind.value)
        kst.append(ind.kst.value)
        signal.append(ind.signal.value)

    def roc(i: int, r: int) -> float:  # LEAN: the first input is the base until one sample past the window
        base = closes[max(i - r, 0)]
        return (closes[i] - base) / base

    want_kst = []
    for i in range(len(closes)):
        total = 0.0
        for w, (r, m) in enumerate(zip(rocs, mas), 1):
            if i >= r - 1:  # the ROC is ready at r samples; its MA is an SMA over the ROCs seen so far
                vals = [100 * roc(j, r) for j in range(r - 1, i + 1)][-m:]
                total += w * sum(vals) / len(vals)
        want_kst.append(total)
    want_sig = [sum(want_kst[max(0, i - sig + 1): i + 1]) / min(i + 1, sig) for i in range(len(closes))]
    for i in range(len(closes)):
        if i < sig - 1:
            assert (got[i], kst[i], signal[i]) == (0.0, 0.0, 0.0)
        else:  # LEAN: the main value is the KST once the signal line is ready
            assert got[i] == kst[i]
            assert kst[i] == pytest.approx(want_kst[i], rel=1e-12, abs=1e-12)
            assert signal[i] == pytest.approx(want_sig[i], rel=1e-12, abs=1e-12)
    assert ind.is_ready  # max(r + m − 1, signal) = 5 samples


def test_choppiness_by_hand():
    n = 3
    ind = O.ChoppinessIndex(n)
    got = []
    for b in BARS:
        ind.update_bar(b)
        got.append(ind.value)
    tr = [BARS[0].high - BARS[0].low] + [
        max(b.high, p.close) - min(b.low, p.close) for p, b in zip(BARS, BARS[1:])]
    for i, g in enumerate(got):
        if i < n - 1:
            assert g == 0.0
            continue
        win = BARS[i - n + 1: i + 1]
        rng = max(b.high for b in win) - min(b.low for b in win)
        assert g == pytest.approx(100 * math.log10(sum(tr[i - n + 1: i + 1]) / rng) / math.log10(n), rel=1e-12)
    flat = O.ChoppinessIndex(3)
    for i in range(3):
        flat.update_bar(_bar(i, 5.0, 5.0, 5.0, 5.0))
    assert flat.value == 100.0


def test_mass_index_by_hand():
    e, s = 2, 3
    ind = O.MassIndex(e, s)
    got = []
    for b in BARS:
        ind.update_bar(b)
        got.append(ind.value)
    rng = [b.high - b.low for b in BARS]
    e1 = _lean_ema(rng, e)
    e2 = _lean_ema(e1[e - 1:], e)  # fed once the first EMA is ready (row e − 1)
    ratios = [e1[i] / e2[i - (e - 1)] for i in range(2 * e - 2, len(BARS))]  # outer EMA ready at row 2e − 2
    first = 2 * (e - 1) + s - 1  # ready after 2(e − 1) + s samples
    for i, g in enumerate(got):
        if i < first:
            assert g == s  # LEAN reports the sum period while warming up
        else:
            k = i - (2 * e - 2)
            assert g == pytest.approx(sum(ratios[k - s + 1: k + 1]), rel=1e-12)
    assert ind.is_ready


def test_balance_of_power_by_hand():
    ind = O.BalanceOfPower()
    ind.update_bar(_bar(0, 10.0, 12.0, 8.0, 11.0))
    assert ind.value == pytest.approx(0.25) and ind.is_ready
    ind.update_bar(_bar(1, 10.0, 10.5, 7.5, 7.6))
    assert ind.value == pytest.approx(-0.8)
    ind.update_bar(_bar(2, 10.0, 10.0, 10.0, 10.0))
    assert ind.value == 0.0


# -- LEAN's degenerate-input cases ---------------------------------------------------------------------------------

def test_stochastic_equal_min_and_max_is_zero():
    ind = O.Stochastic(2, 2, 2)
    for i in range(4):
        ind.update_bar(_bar(i, 1.0, 1.0, 1.0, 1.0))
        assert ind.value == 0.0
    assert not ind.is_ready  # flat bars never enter the %K sum (LEAN)


def test_rvi_and_demarker_division_by_zero_give_zero():
    rvi = O.RelativeVigorIndex(10)
    for i in range(13):
        rvi.update_bar(_bar(i, 0.0, 0.0, 0.0, 0.0))
    assert rvi.value == 0.0 and rvi.signal.value == 0.0
    dem = O.DeMarkerIndicator(3)
    for i in range(4):
        dem.update_bar(_bar(i, float(i), 1.0, 1.0, float(i)))
    assert dem.value == 0.0


def test_aroon_ready_after_period_plus_one_bars():
    ind = O.AroonOscillator(3, 3)
    for i in range(3):
        ind.update_bar(_bar(i, 3.0, 7.0, 2.0, 5.0))
        assert not ind.is_ready
    ind.update_bar(_bar(3, 3.0, 7.0, 2.0, 5.0))
    assert ind.is_ready
    # equal highs and lows: the newest is the extreme, 0 bars ago → up = down = 100
    assert (ind.aroon_up.value, ind.aroon_down.value, ind.value) == (100.0, 100.0, 0.0)
