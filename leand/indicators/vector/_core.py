"""Vectorized twins of ``leand.indicators.core``: same values as the streaming ``.value`` row by row."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import lfilter

from leand.indicators import core
from leand.indicators.vector.twin import Twin

F64 = np.float64


def _arr(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=F64)


def sma(x, period: int) -> np.ndarray:
    """Mean of the last ``period`` values (of all values so far while warming up)."""
    x = _arr(x)
    n = len(x)
    c = np.cumsum(x)
    out = np.empty(n, dtype=F64)
    head = min(period, n)
    out[:head] = c[:head] / np.arange(1, head + 1, dtype=F64)
    if n > period:
        np.subtract(c[period:], c[:-period], out=out[period:])
        out[period:] *= 1.0 / period
    return out


def _recursive(x: np.ndarray, period: int, k: float) -> np.ndarray:
    """LEAN's EMA-style start: the running mean of the first ``period`` values, then y = k·x + (1-k)·y."""
    x = _arr(x)
    n = len(x)
    out = np.empty(n, dtype=F64)
    head = min(period, n)
    out[:head] = np.cumsum(x[:head]) / np.arange(1, head + 1, dtype=F64)
    if n > period:
        out[period:] = lfilter([k], [1.0, -(1.0 - k)], x[period:], zi=[(1.0 - k) * out[period - 1]])[0]
    return out


def ema(x, period: int, smoothing: float | None = None) -> np.ndarray:
    return _recursive(x, period, smoothing if smoothing is not None else 2.0 / (period + 1))


def wilder(x, period: int) -> np.ndarray:
    """Wilder's smoothing (k = 1/period), started from the running mean as LEAN does."""
    return _recursive(x, period, 1.0 / period)


def _rolling(x, period: int, fn, acc) -> np.ndarray:
    x = _arr(x)
    n = len(x)
    out = np.empty(n, dtype=F64)
    head = min(period - 1, n)
    out[:head] = acc(x[:head])
    if n >= period:
        out[period - 1:] = fn(sliding_window_view(x, period), axis=1)
    return out


def rolling_max(x, period: int) -> np.ndarray:
    return _rolling(x, period, np.max, np.maximum.accumulate)


def rolling_min(x, period: int) -> np.ndarray:
    return _rolling(x, period, np.min, np.minimum.accumulate)


def rolling_sum(x, period: int) -> np.ndarray:
    x = _arr(x)
    c = np.cumsum(x)
    c[period:] = c[period:] - c[:-period].copy()
    return c


def std(x, period: int) -> np.ndarray:
    """Population standard deviation of the last ``period`` values (LEAN's StandardDeviation)."""
    x = _arr(x)
    n = len(x)
    cnt = np.minimum(np.arange(1, n + 1, dtype=F64), period)
    m = rolling_sum(x, period) / cnt
    m2 = rolling_sum(x * x, period) / cnt
    return np.sqrt(np.maximum(m2 - m * m, 0.0))


def rsi(x, period: int, moving_average_type: str = "wilders") -> np.ndarray:
    x = _arr(x)
    n = len(x)
    out = np.full(n, 100.0, dtype=F64)  # LEAN: no loss averaged yet reads as 100
    if n < 2:
        return out
    d = np.diff(x)
    up = np.where(d > 0, d, 0.0)
    down = np.where(d < 0, -d, 0.0)
    ma = wilder if moving_average_type == "wilders" else sma
    u, dn = ma(up, period), ma(down, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = 100.0 - 100.0 / (1.0 + u / dn)
    out[1:] = np.where(dn == 0, 100.0, r)
    return out


def macd(x, fast: int, slow: int, signal: int, moving_average_type: str = "exponential") -> dict[str, np.ndarray]:
    ma = ema if moving_average_type in ("exponential", "ema") else sma
    m = ma(x, fast) - ma(x, slow)
    sig = np.zeros(len(m), dtype=F64)
    start = max(fast, slow) - 1  # the signal line starts once both averages are ready
    if len(m) > start:
        sig[start:] = ma(m[start:], signal)
    return {"value": m, "signal": sig, "histogram": m - sig}


def bollinger(x, period: int, k: float, moving_average_type: str = "simple") -> dict[str, np.ndarray]:
    mid = sma(x, period) if moving_average_type == "simple" else ema(x, period)
    sd = std(x, period)
    return {"value": mid, "middle_band": mid, "upper_band": mid + k * sd, "lower_band": mid - k * sd,
            "standard_deviation": sd}


def true_range(high, low, close) -> np.ndarray:
    h, lo, c = _arr(high), _arr(low), _arr(close)
    tr = h - lo
    if len(c) > 1:
        pc = c[:-1]
        tr[1:] = np.maximum(tr[1:], np.maximum(np.abs(h[1:] - pc), np.abs(lo[1:] - pc)))
    return tr


def atr(high, low, close, period: int, moving_average_type: str = "wilders") -> np.ndarray:
    tr = true_range(high, low, close)
    return wilder(tr, period) if moving_average_type == "wilders" else sma(tr, period)


TWINS: list[Twin] = [
    Twin("sma", lambda: core.SMA(14), lambda d: sma(d["close"], 14), False),
    Twin("ema", lambda: core.EMA(14), lambda d: ema(d["close"], 14), False),
    Twin("rsi", lambda: core.RSI(14), lambda d: rsi(d["close"], 14), False),
    Twin("rsi_simple", lambda: core.RSI(14, "simple"), lambda d: rsi(d["close"], 14, "simple"), False),
    Twin("macd", lambda: core.MACD(12, 26, 9), lambda d: macd(d["close"], 12, 26, 9)["value"], False),
    Twin("bb", lambda: core.BollingerBands(20, 2.0), lambda d: bollinger(d["close"], 20, 2.0)["value"], False),
    Twin("max", lambda: core.Maximum(10), lambda d: rolling_max(d["high"], 10), True),
    Twin("min", lambda: core.Minimum(10), lambda d: rolling_min(d["low"], 10), True),
    Twin("std", lambda: core.StandardDeviation(20), lambda d: std(d["close"], 20), False),
    Twin("atr", lambda: core.ATR(14), lambda d: atr(d["high"], d["low"], d["close"], 14), True),
]
