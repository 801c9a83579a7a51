"""Vectorized twins of ``leand.indicators.oscillators``: for every row, the value the streaming indicator holds
after that row's update (warm-up rows included). Multi-output indicators return a dict of arrays with the main
output under ``"value"`` and each part under the streaming attribute's name."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import lfilter

from leand.indicators import oscillators as osc
from leand.indicators.vector._core import ema, rolling_max, rolling_min, rsi, wilder
from leand.indicators.vector.twin import Twin

F64 = np.float64


def _arr(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=F64)


def _rsum(x, period: int) -> np.ndarray:
    """Sum of the last ``period`` values (all values so far while warming up): LEAN's Sum. Full windows are
    summed directly (no long cumulative sums, so no precision lost on long series)."""
    x = _arr(x)
    n = len(x)
    out = np.empty(n, dtype=F64)
    head = min(period - 1, n)
    out[:head] = np.cumsum(x[:head])
    if n >= period:
        out[period - 1:] = sliding_window_view(x, period).sum(axis=1)
    return out


def _sma(x, period: int) -> np.ndarray:
    x = _arr(x)
    cnt = np.minimum(np.arange(1, len(x) + 1, dtype=F64), period)
    return _rsum(x, period) / cnt


def _ma(kind: str, x, period: int) -> np.ndarray:
    k = kind.lower()
    if k in ("simple", "sma"):
        return _sma(x, period)
    if k in ("exponential", "ema"):
        return ema(x, period)
    if k in ("wilders", "wilder"):
        return wilder(x, period)
    raise ValueError(f"unsupported moving average type {kind!r}; expected simple, exponential or wilders")


def _from(n: int, start: int, seq: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """A length-``n`` array holding ``fill`` before row ``start`` and ``seq`` from it on."""
    out = np.full(n, fill, dtype=F64)
    if start < n:
        out[start:] = seq[: n - start]
    return out


def _ffill(v: np.ndarray, valid: np.ndarray, initial: float = 0.0) -> np.ndarray:
    """``v`` where ``valid``, else the last valid value before (``initial`` if none)."""
    idx = np.where(valid, np.arange(len(v)), -1)
    np.maximum.accumulate(idx, out=idx)
    return np.where(idx >= 0, v[np.maximum(idx, 0)], initial)


def _true_range_first_hl(high, low, close) -> np.ndarray:
    """LEAN's TrueRange: H − L on the first bar, then max(H − L, |C₋₁ − H|, |C₋₁ − L|)."""
    h, lo, c = _arr(high), _arr(low), _arr(close)
    tr = h - lo
    if len(c) > 1:
        pc = c[:-1]
        tr[1:] = np.maximum(np.maximum(tr[1:], np.abs(pc - h[1:])), np.abs(pc - lo[1:]))
    return tr


# -- stochastics ----------------------------------------------------------------------------------------------


def stochastic(high, low, close, period: int = 14, k_period: int = 3, d_period: int = 3) -> dict[str, np.ndarray]:
    h, lo, c = _arr(high), _arr(low), _arr(close)
    n = len(c)
    mx, mn = rolling_max(h, period), rolling_min(lo, period)
    den = mx - mn
    ready = np.arange(n) >= period - 1
    ok = ready & (den != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(ok, (c - mn) / den, 0.0)
    fast = f * 100.0
    # the %K sum only sees bars with a range: sum over the compressed sequence, carried forward
    fs = f[ok]
    sums = _rsum(fs, k_period)
    cnt = np.cumsum(ok)
    pos = cnt - 1
    sum_fast_ready = cnt >= k_period
    k = np.where(sum_fast_ready, sums[np.clip(pos, 0, max(len(sums) - 1, 0))] / k_period if len(sums) else 0.0, 0.0)
    first = int(np.argmax(sum_fast_ready)) if sum_fast_ready.any() else n
    d = np.zeros(n, dtype=F64)
    if first < n:
        ds = _rsum(k[first:], d_period)
        dr = np.arange(n - first) >= d_period - 1
        d[first:] = np.where(dr, ds / d_period, 0.0)
    return {"value": fast, "fast_stoch": fast, "stoch_k": k * 100.0, "stoch_d": d * 100.0}


def srsi(x, rsi_period: int = 14, stoch_period: int = 14, k_smoothing_period: int = 3, d_smoothing_period: int = 3,
         moving_average_type: str = "simple") -> dict[str, np.ndarray]:
    x = _arr(x)
    n = len(x)
    r = rsi(x, rsi_period)
    if n:
        r[0] = 100.0  # LEAN's RSI on its first sample
    s = stoch_period - 1
    k = np.zeros(n, dtype=F64)
    d = np.zeros(n, dtype=F64)
    value = np.zeros(n, dtype=F64)
    if n > s:
        w = sliding_window_view(r, stoch_period)
        hi, lo = w.max(axis=1), w.min(axis=1)
        rr = r[s:]
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = np.where(hi != lo, 100.0 * (rr - lo) / (hi - lo), 100.0)
        ks = _ma(moving_average_type, raw, k_smoothing_period)
        k[s:] = ks
        d[s:] = _ma(moving_average_type, ks, d_smoothing_period)
        value[s:] = x[s:]
    return {"value": value, "k": k, "d": d}


def willr(high, low, close, period: int = 14) -> np.ndarray:
    h, lo, c = _arr(high), _arr(low), _arr(close)
    mx, mn = rolling_max(h, period), rolling_min(lo, period)
    rng = mx - mn
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(rng != 0, -100.0 * (mx - c) / rng, 0.0)
    v[: period - 1] = 0.0
    return v


def cci(high, low, close, period: int = 20, moving_average_type: str = "simple") -> np.ndarray:
    h, lo, c = _arr(high), _arr(low), _arr(close)
    n = len(c)
    tp = (h + lo + c) / 3.0
    avg = _ma(moving_average_type, tp, period)
    mean = _sma(tp, period)
    mad = np.zeros(n, dtype=F64)
    for i in range(1, min(period - 1, n)):  # partial windows while warming up
        mad[i] = np.abs(tp[: i + 1] - mean[i]).sum() / (i + 1)
    if n >= period:
        mad[period - 1:] = np.abs(sliding_window_view(tp, period) - mean[period - 1:, None]).sum(axis=1) / period
    if n:
        mad[0] = 0.0
    w = 0.015 * mad
    flat = rolling_max(tp, period) == rolling_min(tp, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((w != 0) & ~flat, (tp - avg) / w, 0.0)


# -- directional movement -------------------------------------------------------------------------------------


def adx(high, low, close, period: int = 14) -> dict[str, np.ndarray]:
    out = _adx(high, low, close, period)
    del out["_ready"]
    return out


def _adx(high, low, close, period: int) -> dict[str, np.ndarray]:
    h, lo, c = _arr(high), _arr(low), _arr(close)
    n = len(c)
    p = period
    tr = np.zeros(n, dtype=F64)
    dmp = np.zeros(n, dtype=F64)
    dmm = np.zeros(n, dtype=F64)
    if n > 1:
        tr[1:] = np.maximum(np.maximum(h[1:] - lo[1:], np.abs(h[1:] - c[:-1])), np.abs(lo[1:] - c[:-1]))
        up, down = h[1:] - h[:-1], lo[:-1] - lo[1:]
        dmp[1:] = np.where((h[1:] > h[:-1]) & (up >= down), up, 0.0)
        dmm[1:] = np.where((lo[:-1] > lo[1:]) & (down > up), down, 0.0)

    def smooth(x: np.ndarray) -> np.ndarray:
        out = np.cumsum(x)  # plain sums for samples 1..period+1
        m = p + 1
        if n > m:
            a = 1.0 - 1.0 / p
            out[m:] = lfilter([1.0], [1.0, -a], x[m:], zi=[a * out[m - 1]])[0]
        return out

    s_tr, s_p, s_m = smooth(tr), smooth(dmp), smooth(dmm)
    ok = (np.arange(n) >= p) & (s_tr != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pdi = np.where(ok, 100.0 * s_p / s_tr, 0.0)
        ndi = np.where(ok, 100.0 * s_m / s_tr, 0.0)
    s = pdi + ndi
    fed = s != 0
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = 100.0 * np.abs(pdi - ndi)[fed] / s[fed]
    wv = wilder(dx, p)
    pos = np.cumsum(fed) - 1
    value = np.where(fed, wv[np.clip(pos, 0, max(len(wv) - 1, 0))] if len(wv) else 0.0, 50.0)
    ready = np.cumsum(fed) >= p
    return {"value": value, "positive_directional_index": pdi, "negative_directional_index": ndi, "_ready": ready}


def adxr(high, low, close, period: int = 14) -> np.ndarray:
    a = _adx(high, low, close, period)
    v, ready = a["value"], a["_ready"]
    n = len(v)
    out = np.full(n, 50.0, dtype=F64)
    if ready.any():
        r0 = int(np.argmax(ready))
        start = r0 + period - 1
        if start < n:
            out[start:] = (v[start:] + v[r0: n - period + 1]) / 2.0
    return out


def aroon(high, low, up_period: int = 14, down_period: int | None = None) -> dict[str, np.ndarray]:
    down_period = up_period if down_period is None else down_period
    h, lo = _arr(high), _arr(low)

    def since(x: np.ndarray, w: int) -> np.ndarray:
        n = len(x)
        out = np.zeros(n, dtype=F64)
        for i in range(min(w - 1, n)):  # partial windows: newest occurrence of the extreme
            seg = x[: i + 1][::-1]
            out[i] = int(np.argmax(seg))
        if n >= w:
            out[w - 1:] = np.argmax(sliding_window_view(x, w)[:, ::-1], axis=1)
        return out

    up = 100.0 * (up_period - since(h, up_period + 1)) / up_period
    down = 100.0 * (down_period - since(-lo, down_period + 1)) / down_period
    return {"value": up - down, "aroon_up": up, "aroon_down": down}


# -- price oscillators ----------------------------------------------------------------------------------------


def apo(x, fast_period: int = 12, slow_period: int = 26, moving_average_type: str = "simple") -> dict[str, np.ndarray]:
    x = _arr(x)
    n = len(x)
    f = _ma(moving_average_type, x, fast_period)
    s = _ma(moving_average_type, x, slow_period)
    v = f - s
    start = max(fast_period, slow_period) - 1
    sig = _from(n, start, _ma(moving_average_type, v[start:], slow_period) if n > start else v[:0])
    return {"value": v, "fast": f, "slow": s, "signal": sig, "histogram": v - sig}


def ppo(x, fast_period: int = 12, slow_period: int = 26, moving_average_type: str = "simple") -> dict[str, np.ndarray]:
    out = apo(x, fast_period, slow_period, moving_average_type)
    s = out["slow"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["value"] = np.where(s != 0, 100.0 * out["value"] / s, 0.0)
    return out


def cmo(x, period: int = 14) -> np.ndarray:
    x = _arr(x)
    n = len(x)
    p = period
    out = np.zeros(n, dtype=F64)
    if n <= p:
        return out
    d = np.diff(x)
    gain = np.where(d >= 0, d, 0.0)
    loss = np.where(d < 0, -d, 0.0)
    a = (p - 1) / p

    def smooth(v: np.ndarray) -> np.ndarray:
        first = v[:p].sum() / p
        rest = v[p:]
        tail = lfilter([1.0 / p], [1.0, -a], rest, zi=[a * first])[0] if len(rest) else rest
        return np.concatenate(([first], tail))

    g, lo = smooth(gain), smooth(loss)
    s = g + lo
    with np.errstate(divide="ignore", invalid="ignore"):
        out[p:] = np.where(s != 0, 100.0 * (g - lo) / s, 0.0)
    return out


def ultosc(high, low, close, period1: int = 7, period2: int = 14, period3: int = 28) -> np.ndarray:
    h, lo, c = _arr(high), _arr(low), _arr(close)
    n = len(c)
    p = max(period1, period2, period3)
    out = np.full(n, 50.0, dtype=F64)
    if n <= p:
        return out
    pc = c[:-1]
    tr = np.maximum(np.maximum(h[1:] - lo[1:], np.abs(pc - h[1:])), np.abs(pc - lo[1:]))
    bp = c[1:] - np.minimum(lo[1:], pc)
    t = [_rsum(tr, q)[p - 1:] for q in (period1, period2, period3)]
    b = [_rsum(bp, q)[p - 1:] for q in (period1, period2, period3)]
    ok = (t[0] != 0) & (t[1] != 0) & (t[2] != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = 100.0 * (4 * (b[0] / t[0]) + 2 * (b[1] / t[1]) + b[2] / t[2]) / 7
    out[p:] = _ffill(v, ok, 50.0)
    return out


def tsi(x, long_term_period: int = 25, short_term_period: int = 13, signal_period: int = 7,
        signal_type: str = "exponential") -> dict[str, np.ndarray]:
    x = _arr(x)
    n = len(x)
    L, S = long_term_period, short_term_period
    value = np.zeros(n, dtype=F64)
    signal = np.zeros(n, dtype=F64)
    start = L + S - 1
    if n <= start:
        return {"value": value, "signal": signal}
    pc = np.diff(x)
    e1, a1 = ema(pc, L), ema(np.abs(pc), L)
    e2, a2 = ema(e1[L - 1:], S), ema(a1[L - 1:], S)  # rows L.. of x
    num, den = e2[S - 1:], a2[S - 1:]  # rows L+S-1.. of x
    ok = den != 0
    with np.errstate(divide="ignore", invalid="ignore"):
        v = _ffill(num / den * 100.0, ok, 0.0)
    value[start:] = v
    signal[start:] = _ma(signal_type, v, signal_period)
    return {"value": value, "signal": signal}


def kst(x, roc1_period: int = 10, roc1_ma_period: int = 10, roc2_period: int = 15, roc2_ma_period: int = 10,
        roc3_period: int = 20, roc3_ma_period: int = 10, roc4_period: int = 30, roc4_ma_period: int = 15,
        signal_period: int = 9, moving_average_type: str = "simple") -> dict[str, np.ndarray]:
    x = _arr(x)
    n = len(x)
    total = np.zeros(n, dtype=F64)
    pairs = ((roc1_period, roc1_ma_period), (roc2_period, roc2_ma_period), (roc3_period, roc3_ma_period),
             (roc4_period, roc4_ma_period))
    for w, (r, m) in enumerate(pairs, 1):
        if n < r:
            continue
        idx = np.arange(n)
        base = x[np.maximum(idx - r, 0)]  # the first input until one sample past the window, then x[i − r]
        with np.errstate(divide="ignore", invalid="ignore"):
            roc = np.where(base != 0, (x - base) / base, 0.0)
        total += w * _from(n, r - 1, _ma(moving_average_type, 100.0 * roc[r - 1:], m))
    sl = _ma(moving_average_type, total, signal_period)
    ready = np.arange(n) >= signal_period - 1
    kst_ = np.where(ready, total, 0.0)
    return {"value": kst_, "kst": kst_, "signal": np.where(ready, sl, 0.0)}


def fisher(high, low, period: int = 10) -> np.ndarray:
    h, lo = _arr(high), _arr(low)
    price = (lo + h) / 2.0
    n = len(price)
    mx, mn = rolling_max(price, period), rolling_min(price, period)
    out = np.zeros(n, dtype=F64)
    prev_x = value = 0.0
    log = math.log
    pr, mxl, mnl = price.tolist(), mx.tolist(), mn.tolist()
    for i in range(period - 1, n):  # path-dependent: x resets to 0 on a flat window
        a, b = mnl[i], mxl[i]
        x = y = 0.0
        if a != b:
            x = 0.33 * 2 * ((pr[i] - a) / (b - a) - 0.5) + (1 - 0.33) * prev_x
            xc = min(max(x, -0.999), 0.999)
            y = 0.5 * log((1.0 + xc) / (1.0 - xc))
        prev_x = x
        value = y + 0.5 * value
        out[i] = value
    return out


def ao(high, low, fast_period: int = 5, slow_period: int = 34, moving_average_type: str = "simple") -> np.ndarray:
    m = (_arr(high) + _arr(low)) / 2.0
    v = _ma(moving_average_type, m, fast_period) - _ma(moving_average_type, m, slow_period)
    v[: max(fast_period, slow_period) - 1] = 0.0
    return v


def vortex(high, low, close, period: int = 14) -> dict[str, np.ndarray]:
    h, lo = _arr(high), _arr(low)
    n = len(h)
    t = _rsum(_true_range_first_hl(h, lo, close), period)
    plus = np.zeros(n, dtype=F64)
    minus = np.zeros(n, dtype=F64)
    if n > 1:
        ps = _rsum(np.abs(h[1:] - lo[:-1]), period)
        ms = _rsum(np.abs(lo[1:] - h[:-1]), period)
        tt = t[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            plus[1:] = np.where(tt != 0, ps / tt, 0.0)
            minus[1:] = np.where(tt != 0, ms / tt, 0.0)
    v = (plus + minus) / 2.0
    v[: period - 1] = 0.0
    return {"value": v, "plus_vortex": plus, "minus_vortex": minus}


def chop(high, low, close, period: int = 14) -> np.ndarray:
    h, lo = _arr(high), _arr(low)
    t = _rsum(_true_range_first_hl(h, lo, close), period)
    mx, mn = rolling_max(h, period), rolling_min(lo, period)
    rng = mx - mn
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(rng == 0, 100.0, 100.0 * np.log10(t / rng) / math.log10(period))
    v[: period - 1] = 0.0
    return v


def mass(high, low, ema_period: int = 9, sum_period: int = 25) -> np.ndarray:
    r = _arr(high) - _arr(low)
    n = len(r)
    out = np.full(n, float(sum_period), dtype=F64)
    e = ema_period
    start = 2 * e - 2  # first row where the outer EMA is ready
    if n <= start:
        return out
    e1 = ema(r, e)
    e2 = ema(e1[e - 1:], e)[e - 1:]
    a = e1[start:]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(e2 != 0, a / e2, 1.0)
    s = _rsum(ratio, sum_period)
    ready = np.arange(len(s)) >= sum_period - 1
    out[start:] = np.where(ready, s, float(sum_period))
    return out


def bop(open_, high, low, close) -> np.ndarray:
    o, h, lo, c = _arr(open_), _arr(high), _arr(low), _arr(close)
    rng = h - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rng > 0, (c - o) / rng, 0.0)


def stc(x, cycle_period: int = 10, fast_period: int = 23, slow_period: int = 50,
        moving_average_type: str = "exponential") -> np.ndarray:
    x = _arr(x)
    ma = ema if moving_average_type in ("exponential", "ema") else _sma
    m = ma(x, fast_period) - ma(x, slow_period)

    def stoch(v: np.ndarray) -> np.ndarray:
        hi, lo = rolling_max(v, cycle_period), rolling_min(v, cycle_period)
        den = hi - lo
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, (v - lo) / den * 100.0, 0.0)

    d = _ma(moving_average_type, stoch(m), 3)
    return _ma(moving_average_type, stoch(d), 3)


def ibs(high, low, close) -> np.ndarray:
    h, lo, c = _arr(high), _arr(low), _arr(close)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(h == lo, 1.0, (c - lo) / (h - lo))


def rvi(open_, high, low, close, period: int = 10, moving_average_type: str = "simple") -> dict[str, np.ndarray]:
    o, h, lo, c = _arr(open_), _arr(high), _arr(low), _arr(close)
    n = len(c)
    value = np.zeros(n, dtype=F64)
    signal = np.zeros(n, dtype=F64)
    if n < 4:
        return {"value": value, "signal": signal}
    a, e = c - o, h - lo
    num = (a[3:] + 2 * (a[2:-1] + a[1:-2]) + a[:-3]) / 6
    den = (e[3:] + 2 * (e[2:-1] + e[1:-2]) + e[:-3]) / 6
    cb, rb = _ma(moving_average_type, num, period), _ma(moving_average_type, den, period)
    ok = (np.arange(n - 3) >= period - 1) & (rb != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(ok, cb / rb, 0.0)
    value[3:] = r
    rs = r[ok]  # the signal sees only the computed RVI values
    sig = np.zeros(len(rs), dtype=F64)
    if len(rs) > 3:
        sig[3:] = (rs[3:] + 2 * (rs[2:-1] + rs[1:-2]) + rs[:-3]) / 6
    pos = np.cumsum(ok) - 1
    signal[3:] = np.where(pos >= 0, sig[np.clip(pos, 0, max(len(sig) - 1, 0))] if len(sig) else 0.0, 0.0)
    return {"value": value, "signal": signal}


def dem(high, low, period: int = 14, moving_average_type: str = "simple") -> np.ndarray:
    h, lo = _arr(high), _arr(low)
    n = len(h)
    de_max = np.zeros(n, dtype=F64)
    de_min = np.zeros(n, dtype=F64)
    if n > 1:
        de_max[1:] = np.maximum(h[1:] - h[:-1], 0.0)
        de_min[1:] = np.maximum(lo[:-1] - lo[1:], 0.0)
    mx, mn = _ma(moving_average_type, de_max, period), _ma(moving_average_type, de_min, period)
    s = mx + mn
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(s > 0, mx / s, 0.0)
    v[: period - 1] = 0.0
    return v


def pso(high, low, close, period: int = 8, ema_period: int = 5) -> np.ndarray:
    h, lo, c = _arr(high), _arr(low), _arr(close)
    n = len(c)
    out = np.zeros(n, dtype=F64)
    s = period - 1
    start = s + 2 * (ema_period - 1)
    if n <= start:
        return out
    mx, mn = rolling_max(h, period)[s:], rolling_min(lo, period)[s:]
    den = mx - mn
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(den != 0, (c[s:] - mn) / den * 100.0, 0.0)
    e1 = ema(0.1 * (k - 50.0), ema_period)
    e2 = ema(e1[ema_period - 1:], ema_period)[ema_period - 1:]
    ex = np.exp(e2)
    out[start:] = (ex - 1.0) / (ex + 1.0)
    return out


def _v(f):
    """The main output of a dict-returning twin."""
    return lambda d: f(d)["value"]


TWINS: list[Twin] = [
    Twin("stoch", lambda: osc.Stochastic(14, 3, 3),
         _v(lambda d: stochastic(d["high"], d["low"], d["close"], 14, 3, 3)), True),
    Twin("srsi", lambda: osc.StochasticRelativeStrengthIndex(14, 14, 3, 3), _v(lambda d: srsi(d["close"])), False),
    Twin("willr", lambda: osc.WilliamsPercentR(14), lambda d: willr(d["high"], d["low"], d["close"], 14), True),
    Twin("cci", lambda: osc.CommodityChannelIndex(20), lambda d: cci(d["high"], d["low"], d["close"], 20), True),
    Twin("adx", lambda: osc.AverageDirectionalIndex(14), _v(lambda d: adx(d["high"], d["low"], d["close"], 14)), True),
    Twin("adxr", lambda: osc.AverageDirectionalMovementIndexRating(14),
         lambda d: adxr(d["high"], d["low"], d["close"], 14), True),
    Twin("aroon", lambda: osc.AroonOscillator(14, 14), _v(lambda d: aroon(d["high"], d["low"], 14, 14)), True),
    Twin("ppo", lambda: osc.PercentagePriceOscillator(12, 26), _v(lambda d: ppo(d["close"], 12, 26)), False),
    Twin("apo", lambda: osc.AbsolutePriceOscillator(12, 26), _v(lambda d: apo(d["close"], 12, 26)), False),
    Twin("cmo", lambda: osc.ChandeMomentumOscillator(14), lambda d: cmo(d["close"], 14), False),
    Twin("ultosc", lambda: osc.UltimateOscillator(7, 14, 28),
         lambda d: ultosc(d["high"], d["low"], d["close"], 7, 14, 28), True),
    Twin("tsi", lambda: osc.TrueStrengthIndex(25, 13, 7), _v(lambda d: tsi(d["close"], 25, 13, 7)), False),
    Twin("kst", lambda: osc.KnowSureThing(), _v(lambda d: kst(d["close"])), False),
    Twin("fisher", lambda: osc.FisherTransform(10), lambda d: fisher(d["high"], d["low"], 10), True),
    Twin("ao", lambda: osc.AwesomeOscillator(5, 34), lambda d: ao(d["high"], d["low"], 5, 34), True),
    Twin("vtx", lambda: osc.Vortex(14), _v(lambda d: vortex(d["high"], d["low"], d["close"], 14)), True),
    Twin("chop", lambda: osc.ChoppinessIndex(14), lambda d: chop(d["high"], d["low"], d["close"], 14), True),
    Twin("mass", lambda: osc.MassIndex(9, 25), lambda d: mass(d["high"], d["low"], 9, 25), True),
    Twin("bop", lambda: osc.BalanceOfPower(), lambda d: bop(d["open"], d["high"], d["low"], d["close"]), True),
    Twin("stc", lambda: osc.SchaffTrendCycle(10, 23, 50), lambda d: stc(d["close"], 10, 23, 50), False),
    Twin("ibs", lambda: osc.InternalBarStrength(), lambda d: ibs(d["high"], d["low"], d["close"]), True),
    Twin("rvi", lambda: osc.RelativeVigorIndex(10),
         _v(lambda d: rvi(d["open"], d["high"], d["low"], d["close"], 10)), True),
    Twin("dem", lambda: osc.DeMarkerIndicator(14), lambda d: dem(d["high"], d["low"], 14), True),
    Twin("pso", lambda: osc.PremierStochasticOscillator(8, 5), lambda d: pso(d["high"], d["low"], d["close"], 8, 5),
         True),
]
