"""Vectorized twins of ``leand.indicators.averages``: for every row, the value the streaming ``.value`` holds
after that row's update, warm-up rows included."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from leand.indicators import averages as av
from leand.indicators.vector._core import ema, rolling_max, rolling_min, sma, wilder
from leand.indicators.vector._oscillators import cmo
from leand.indicators.vector.twin import Twin

F64 = np.float64

__all__ = [
    "TWINS", "alma", "cmo", "coppock", "correlation", "covariance", "dema", "dpo", "hma", "kama", "ker", "logr",
    "lwma", "mgd", "midpoint", "mom", "rma_relative", "roc", "rocp", "rocr", "rolling_total", "t3", "tema", "trima",
    "trix", "tsf", "variance", "vidya", "wwma", "zlema",
]


def _arr(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=F64)


def _windows(x: np.ndarray, period: int) -> np.ndarray:
    return sliding_window_view(x, period)


# -- weighted / composed moving averages -------------------------------------------------------------
def lwma(x, period: int) -> np.ndarray:
    """LWMA with LEAN's warm-up (partial weighted sum over the full denominator)."""
    x = _arr(x)
    w = np.arange(period, 0, -1, dtype=F64) / (period * (period + 1) / 2.0)
    return np.convolve(x, w)[: len(x)]


def dema(x, period: int, volume_factor: float = 1.0) -> np.ndarray:
    x = _arr(x)
    e1 = ema(x, period)
    out = e1.copy()
    s = period - 1
    if len(x) > s:
        e2 = ema(e1[s:], period)
        out[s:] = (volume_factor + 1.0) * e1[s:] - volume_factor * e2
    return out


def tema(x, period: int) -> np.ndarray:
    x = _arr(x)
    n = len(x)
    out = np.zeros(n, dtype=F64)
    s = period - 1
    start = 2 * s
    if n > start:
        e1 = ema(x, period)
        e2 = ema(e1[s:], period)  # row i <-> e2[i - s]
        e3 = ema(e2[s:], period)  # row i <-> e3[i - 2s]
        out[start:] = 3.0 * e1[start:] - 3.0 * e2[s:] + e3
    return out


def t3(x, period: int, volume_factor: float = 0.7) -> np.ndarray:
    x = _arr(x)
    n = len(x)
    out = np.zeros(n, dtype=F64)
    s = period - 1
    if n > 6 * s:
        g1 = dema(x, period, volume_factor)  # row i
        g2 = dema(g1[2 * s:], period, volume_factor)  # row i <-> g2[i - 2s]
        g3 = dema(g2[2 * s:], period, volume_factor)  # row i <-> g3[i - 4s]
        out[6 * s:] = g3[2 * s:]
    return out


def trima(x, period: int) -> np.ndarray:
    a = period // 2 if period % 2 == 0 else (period + 1) // 2
    b = period // 2 + 1 if period % 2 == 0 else (period + 1) // 2
    return sma(sma(_arr(x), a), b)


def _kama_loop(x: np.ndarray, period: int, diff: float | None, slow: float | None) -> np.ndarray:
    """KAMA (diff/slow given) or KER (None): the streaming update, row by row."""
    n = len(x)
    out = x.copy()
    size = period + 1
    s = 0.0
    trailing = 0.0
    kama = 0.0
    xl = x.tolist()
    for i in range(1, min(n, size - 1)):
        s += abs(xl[i] - xl[i - 1])
    for i in range(size - 1, n):
        cur = xl[i]
        new_trailing = xl[i - period]
        if i == size - 1:
            s += abs(cur - xl[i - 1])
            kama = xl[i - 1]
        else:
            s -= abs(trailing - new_trailing)
            s += abs(cur - xl[i - 1])
        trailing = new_trailing
        roc = cur - new_trailing
        er = 1.0 if (s <= roc or s == 0) else abs(roc / s)
        if diff is None or slow is None:
            out[i] = er
        else:
            sc = er * diff + slow
            sc *= sc
            kama = (cur - kama) * sc + kama
            out[i] = kama
    return out


def kama(x, period: int = 10, fast_ema_period: int = 2, slow_ema_period: int = 30) -> np.ndarray:
    slow = 2.0 / (slow_ema_period + 1.0)
    return _kama_loop(_arr(x), period, 2.0 / (fast_ema_period + 1.0) - slow, slow)


def ker(x, period: int = 10) -> np.ndarray:
    return _kama_loop(_arr(x), period, None, None)


def hma(x, period: int) -> np.ndarray:
    x = _arr(x)
    n = len(x)
    k = round(math.sqrt(period))
    out = np.zeros(n, dtype=F64)
    start = max(period, round(period / 2)) - 1
    if n > start:
        d = 2.0 * lwma(x, round(period / 2)) - lwma(x, period)
        out[start:] = lwma(d[start:], k)
    return out


def alma(x, period: int, sigma: float = 6, offset: float = 0.85) -> np.ndarray:
    x = _arr(x)
    out = x.copy()
    if len(x) >= period:
        w = np.asarray(av.alma_weights(period, sigma, offset), dtype=F64)
        out[period - 1:] = _windows(x, period) @ w
    return out


def zlema(x, period: int) -> np.ndarray:
    x = _arr(x)
    n = len(x)
    lag = round((period - 1) / 2.0)
    out = np.zeros(n, dtype=F64)
    if n > lag:
        z = x[lag:] + (x[lag:] - x[: n - lag])
        e = ema(z, period)
        e[: period - 1] = 0.0
        out[lag:] = e
    return out


def vidya(x, period: int) -> np.ndarray:
    x = _arr(x)
    n = len(x)
    out = np.zeros(n, dtype=F64)
    if n <= period:
        return out
    c = cmo(x, period).tolist()
    xl = x.tolist()
    k = 2.0 / (period + 1)
    v = xl[period - 1]
    for i in range(period, n):
        a = abs(c[i] / 100.0)
        v = xl[i] * k * a + v * (1 - k * a)
        out[i] = v
    return out


def wwma(x, period: int) -> np.ndarray:
    return wilder(_arr(x), period)


def rma_relative(x, period: int) -> np.ndarray:
    """LEAN's RelativeMovingAverage: SMA(3p) − SMA(2p) + SMA(p)."""
    x = _arr(x)
    return sma(x, 3 * period) - sma(x, 2 * period) + sma(x, period)


def mgd(x, period: int) -> np.ndarray:
    x = _arr(x)
    n = len(x)
    out = np.zeros(n, dtype=F64)
    if n < period:
        return out
    xl = x.tolist()
    cur = math.fsum(xl[:period]) / period  # the streaming Sum is exact (fsum) when its ring buffer wraps
    out[period - 1] = cur
    for i in range(period, n):
        v = xl[i]
        if cur != 0 and v != 0:
            den = period * (v / cur) ** 4
            if den != 0:
                cur = cur + (v - cur) / den
        out[i] = cur
    return out


# -- transforms ---------------------------------------------------------------------------------------
def rolling_total(x, period: int) -> np.ndarray:
    """Rolling sum of the last ``period`` values (of all values so far while warming up)."""
    x = _arr(x)
    out = np.cumsum(x)
    if len(x) > period:
        out[period - 1:] = _windows(x, period).sum(axis=1)
    return out


def variance(x, period: int) -> np.ndarray:
    """Population variance of the last ``period`` values (all so far while warming up; 0 at the first row)."""
    x = _arr(x)
    n = len(x)
    out = np.zeros(n, dtype=F64)
    for i in range(1, min(period - 1, n)):  # the short warm-up, value by value
        out[i] = np.var(x[: i + 1])
    if n >= period:
        out[period - 1:] = np.var(_windows(x, period), axis=1)
    if n:
        out[0] = 0.0
    return out


def _base(x: np.ndarray, period: int) -> np.ndarray:
    d = np.empty_like(x)
    if len(x):
        k = min(period, len(x))
        d[:k] = x[0]
        d[k:] = x[: len(x) - k]
    return d


def mom(x, period: int) -> np.ndarray:
    x = _arr(x)
    return x - _base(x, period)


def roc(x, period: int) -> np.ndarray:
    x = _arr(x)
    d = _base(x, period)
    safe = np.where(d != 0, d, 1.0)
    return np.where(d != 0, (x - d) / safe, 0.0)


def rocp(x, period: int) -> np.ndarray:
    return 100.0 * roc(x, period)


def rocr(x, period: int) -> np.ndarray:
    r = roc(x, period)
    return np.where(r != 0, r + 1.0, 0.0)


def logr(x, period: int) -> np.ndarray:
    x = _arr(x)
    d = _base(x, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(d != 0, x / np.where(d != 0, d, 1.0), np.nan)
        return np.where(r > 0, np.log(np.where(r > 0, r, 1.0)), np.nan)


def trix(x, period: int) -> np.ndarray:
    x = _arr(x)
    n = len(x)
    out = np.zeros(n, dtype=F64)
    s = period - 1
    start = 3 * s
    if n > start:
        e1 = ema(x, period)
        e2 = ema(e1[s:], period)
        e3 = ema(e2[s:], period)  # row i <-> e3[i - 2s]
        y = e3[s:]  # fed to ROCP(1) from row 3s
        r = np.zeros(len(y), dtype=F64)
        if len(y) > 1:
            prev = y[:-1]
            safe = np.where(prev != 0, prev, 1.0)
            r[1:] = np.where(prev != 0, 100.0 * ((y[1:] - prev) / safe), 0.0)
        out[start:] = r
    return out


def dpo(x, period: int) -> np.ndarray:
    x = _arr(x)
    n = len(x)
    lag = period // 2 + 1
    start = max(period, lag + 1) - 1
    out = np.zeros(n, dtype=F64)
    if n > start:
        out[start:] = x[start - lag: n - lag] - sma(x, period)[start:]
    return out


def coppock(x, short_roc_period: int = 11, long_roc_period: int = 14, lwma_period: int = 10) -> np.ndarray:
    x = _arr(x)
    n = len(x)
    start = max(short_roc_period, long_roc_period)
    out = np.zeros(n, dtype=F64)
    if n > start:
        s = rocp(x, short_roc_period) + rocp(x, long_roc_period)
        out[start:] = lwma(s[start:], lwma_period)
    return out


def midpoint(x, period: int) -> np.ndarray:
    x = _arr(x)
    return (rolling_max(x, period) + rolling_min(x, period)) / 2.0


def tsf(x, period: int) -> np.ndarray:
    x = _arr(x)
    n = len(x)
    out = np.zeros(n, dtype=F64)
    if n >= period:
        win = _windows(x, period)
        y = win.sum(axis=1)
        xy = win @ np.arange(1, period + 1, dtype=F64)
        x1 = period * (period + 1) / 2.0
        x2 = period * (period + 1) * (2 * period + 1) / 6.0
        b = (period * xy - x1 * y) / (period * x2 - x1 * x1)
        a = (y - b * x1) / period
        out[period - 1:] = a + b * (period + 1)
    return out


# -- two-series statistics ----------------------------------------------------------------------------
def correlation(a, b, period: int) -> np.ndarray:
    """Pearson correlation of the last ``period`` (a, b) pairs; 0 before ``period`` pairs and when undefined."""
    a, b = _arr(a), _arr(b)
    n = len(a)
    out = np.zeros(n, dtype=F64)
    if n >= period:
        wa = _windows(a, period)
        wb = _windows(b, period)
        da = wa - wa.mean(axis=1, keepdims=True)
        db = wb - wb.mean(axis=1, keepdims=True)
        vaa = (da * da).sum(axis=1)
        vbb = (db * db).sum(axis=1)
        vab = (da * db).sum(axis=1)
        ok = (vaa > 0) & (vbb > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(ok, vab / np.sqrt(np.where(ok, vaa * vbb, 1.0)), 0.0)
        out[period - 1:] = np.clip(r, -1.0, 1.0)
    return out


def covariance(a, b, period: int) -> np.ndarray:
    """Sample covariance of the last ``period`` one-step returns of a and b; 0 before ``period + 1`` pairs."""
    a, b = _arr(a), _arr(b)
    n = len(a)
    out = np.zeros(n, dtype=F64)
    if n > period:
        pa, pb = a[:-1], b[:-1]
        ra = np.where(pa != 0, a[1:] / np.where(pa != 0, pa, 1.0), 0.0) - 1.0
        rb = np.where(pb != 0, b[1:] / np.where(pb != 0, pb, 1.0), 0.0) - 1.0
        wa = _windows(ra, period)
        wb = _windows(rb, period)
        da = wa - wa.mean(axis=1, keepdims=True)
        db = wb - wb.mean(axis=1, keepdims=True)
        out[period:] = (da * db).sum(axis=1) / (period - 1)
    return out


def _c(d: dict[str, np.ndarray]) -> np.ndarray:
    return d["close"]


TWINS: list[Twin] = [
    Twin("lwma", lambda: av.LinearWeightedMovingAverage(14), lambda d: lwma(_c(d), 14), False),
    Twin("dema", lambda: av.DoubleExponentialMovingAverage(14), lambda d: dema(_c(d), 14), False),
    Twin("tema", lambda: av.TripleExponentialMovingAverage(10), lambda d: tema(_c(d), 10), False),
    Twin("t3", lambda: av.T3MovingAverage(5, 0.7), lambda d: t3(_c(d), 5, 0.7), False),
    Twin("trima", lambda: av.TriangularMovingAverage(14), lambda d: trima(_c(d), 14), False),
    Twin("trima_odd", lambda: av.TriangularMovingAverage(9), lambda d: trima(_c(d), 9), False),
    Twin("kama", lambda: av.KaufmanAdaptiveMovingAverage(10), lambda d: kama(_c(d), 10), False),
    Twin("hma", lambda: av.HullMovingAverage(16), lambda d: hma(_c(d), 16), False),
    Twin("alma", lambda: av.ArnaudLegouxMovingAverage(9, 6), lambda d: alma(_c(d), 9, 6), False),
    Twin("zlema", lambda: av.ZeroLagExponentialMovingAverage(14), lambda d: zlema(_c(d), 14), False),
    Twin("vidya", lambda: av.VariableIndexDynamicAverage(14), lambda d: vidya(_c(d), 14), False),
    Twin("wwma", lambda: av.WilderMovingAverage(14), lambda d: wwma(_c(d), 14), False),
    Twin("relative_ma", lambda: av.RelativeMovingAverage(5), lambda d: rma_relative(_c(d), 5), False),
    Twin("mgd", lambda: av.McGinleyDynamic(14), lambda d: mgd(_c(d), 14), False),
    Twin("sum", lambda: av.Sum(14), lambda d: rolling_total(_c(d), 14), False),
    Twin("var", lambda: av.Variance(14), lambda d: variance(_c(d), 14), False),
    Twin("logr", lambda: av.LogReturn(14), lambda d: logr(_c(d), 14), False),
    Twin("roc", lambda: av.RateOfChange(14), lambda d: roc(_c(d), 14), False),
    Twin("rocp", lambda: av.RateOfChangePercent(14), lambda d: rocp(_c(d), 14), False),
    Twin("rocr", lambda: av.RateOfChangeRatio(14), lambda d: rocr(_c(d), 14), False),
    Twin("mom", lambda: av.Momentum(14), lambda d: mom(_c(d), 14), False),
    Twin("trix", lambda: av.Trix(10), lambda d: trix(_c(d), 10), False),
    Twin("dpo", lambda: av.DetrendedPriceOscillator(21), lambda d: dpo(_c(d), 21), False),
    Twin("coppock", lambda: av.CoppockCurve(11, 14, 10), lambda d: coppock(_c(d), 11, 14, 10), False),
    Twin("midpoint", lambda: av.MidPoint(14), lambda d: midpoint(_c(d), 14), False),
    Twin("ker", lambda: av.KaufmanEfficiencyRatio(10), lambda d: ker(_c(d), 10), False),
    Twin("tsf", lambda: av.TimeSeriesForecast(14), lambda d: tsf(_c(d), 14), False),
]
