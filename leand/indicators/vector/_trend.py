"""Vectorized twins of ``leand.indicators.trend`` and ``leand.indicators.volume``: for every row, the value the
streaming indicator's ``.value`` (or named part) holds after that row's update, warm-up rows included."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import lfilter

from leand.indicators import trend as T
from leand.indicators import volume as V
from leand.indicators.vector._core import ema, rolling_max, rolling_min, rolling_sum, sma, true_range, wilder
from leand.indicators.vector.twin import Twin

F64 = np.float64

__all__ = [
    "TWINS", "abands", "ad", "adosc", "ckstop", "cmf", "dch", "eom", "fi", "heikin_ashi", "ichimoku",
    "intraday_vwap", "kch", "kvo", "mfi", "midprice", "mvwap", "natr", "obv", "pphl", "psar", "sarext",
    "sobv", "true_range", "vwma", "zigzag",
]


def _arr(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=F64)


def _ma(kind: str):
    k = kind.lower()
    if k in ("simple", "sma"):
        return sma
    if k in ("exponential", "ema"):
        return ema
    if k in ("wilders", "wilder"):
        return wilder
    raise ValueError(f"unsupported moving average type {kind!r}")


def _delay(x: np.ndarray, d: int) -> np.ndarray:
    """LEAN's Delay(d): x[i-d] once more than d values were seen, the first value before that."""
    out = np.empty_like(x)
    if len(x) == 0:
        return out
    out[:d] = x[0]
    if len(x) > d:
        out[d:] = x[: len(x) - d]
    return out


def _safe_div(a: np.ndarray, b: np.ndarray, fill: float = 0.0) -> np.ndarray:
    out = np.full(len(a), fill, dtype=F64)
    np.divide(a, b, out=out, where=b != 0)
    return out


# -- trend ---------------------------------------------------------------------------------------------------

def natr(high, low, close, period: int) -> np.ndarray:
    c = _arr(close)
    n = len(c)
    tr = true_range(high, low, close)
    atr = sma(tr, period)  # the partial SMA while warming up, the SMA of TR[1..period] at row ``period``
    if n > period + 1:
        k = 1.0 / period
        atr[period + 1:] = lfilter([k], [1.0, -(1.0 - k)], tr[period + 1:], zi=[(1.0 - k) * atr[period]])[0]
    return _safe_div(atr, c) * 100.0


def kch(high, low, close, period: int, k: float, moving_average_type: str = "simple") -> dict[str, np.ndarray]:
    h, lo, c = _arr(high), _arr(low), _arr(close)
    atr = sma(true_range(h, lo, c), period)
    mid = _ma(moving_average_type)((h + lo + c) / 3.0, period)
    ready = np.arange(len(c)) >= period - 1
    up = np.where(ready, mid + atr * k, 0.0)
    dn = np.where(ready, mid - atr * k, 0.0)
    return {"value": mid, "middle_band": mid, "upper_band": up, "lower_band": dn, "average_true_range": atr}


def dch(high, low, upper_period: int, lower_period: int | None = None) -> dict[str, np.ndarray]:
    lower_period = upper_period if lower_period is None else lower_period
    up = rolling_max(high, upper_period)
    dn = rolling_min(low, lower_period)
    return {"value": (up + dn) / 2.0, "upper_band": up, "lower_band": dn}


def ichimoku(high, low, close, tenkan_period: int = 9, kijun_period: int = 26, senkou_a_period: int = 26,
             senkou_b_period: int = 52, senkou_a_delay_period: int = 26,
             senkou_b_delay_period: int = 26) -> dict[str, np.ndarray]:
    h, lo, c = _arr(high), _arr(low), _arr(close)
    cnt = np.arange(1, len(c) + 1)
    tmax, tmin = rolling_max(h, tenkan_period), rolling_min(lo, tenkan_period)
    kmax, kmin = rolling_max(h, kijun_period), rolling_min(lo, kijun_period)
    bmax, bmin = rolling_max(h, senkou_b_period), rolling_min(lo, senkou_b_period)
    tenkan = np.where(cnt >= tenkan_period, (tmax + tmin) / 2.0, 0.0)
    kijun = np.where(cnt >= kijun_period, (kmax + kmin) / 2.0, 0.0)
    dt, dk = _delay(tenkan, senkou_a_delay_period), _delay(kijun, senkou_a_delay_period)
    dmax, dmin = _delay(bmax, senkou_b_delay_period), _delay(bmin, senkou_b_delay_period)
    senkou_a = np.where(cnt >= senkou_a_period, (dt + dk) / 2.0, 0.0)
    senkou_b = np.where(cnt >= senkou_b_period, (dmax + dmin) / 2.0, 0.0)
    return {"value": c.copy(), "tenkan": tenkan, "kijun": kijun, "senkou_a": senkou_a, "senkou_b": senkou_b,
            "tenkan_maximum": tmax, "tenkan_minimum": tmin, "kijun_maximum": kmax, "kijun_minimum": kmin,
            "senkou_b_maximum": bmax, "senkou_b_minimum": bmin, "delayed_tenkan_senkou_a": dt,
            "delayed_kijun_senkou_a": dk, "delayed_maximum_senkou_b": dmax, "delayed_minimum_senkou_b": dmin}


def psar(high, low, close, af_start: float = 0.02, af_increment: float = 0.02, af_max: float = 0.2) -> np.ndarray:
    """Parabolic SAR: a plain loop (the state machine is path-dependent)."""
    h, lo, c = _arr(high).tolist(), _arr(low).tolist(), _arr(close).tolist()
    n = len(c)
    out = np.zeros(n, dtype=F64)
    if n < 2:
        return out
    is_long = c[1] >= c[0]
    if is_long:
        ep, sar = min(h[1], h[0]), lo[0]
    else:
        ep, sar = min(lo[1], lo[0]), h[0]
    out[1] = sar
    af = af_start
    for i in range(2, n):
        hi, li, ph, pl = h[i], lo[i], h[i - 1], lo[i - 1]
        if is_long:
            if li <= sar:
                is_long = False
                sar = max(ep, ph, hi)
                out[i] = sar
                af = af_start
                ep = li
                sar = max(sar + af * (ep - sar), ph, hi)
            else:
                out[i] = sar
                if hi > ep:
                    ep = hi
                    af = min(af + af_increment, af_max)
                sar = min(sar + af * (ep - sar), pl, li)
        else:
            if hi >= sar:
                is_long = True
                sar = min(ep, pl, li)
                out[i] = sar
                af = af_start
                ep = hi
                sar = min(sar + af * (ep - sar), pl, li)
            else:
                out[i] = sar
                if li < ep:
                    ep = li
                    af = min(af + af_increment, af_max)
                sar = max(sar + af * (ep - sar), ph, hi)
    return out


def sarext(high, low, close, sar_start: float = 0.0, offset_on_reverse: float = 0.0, af_start_short: float = 0.02,
           af_increment_short: float = 0.02, af_max_short: float = 0.2, af_start_long: float = 0.02,
           af_increment_long: float = 0.02, af_max_long: float = 0.2) -> np.ndarray:
    """Parabolic SAR extended (short positions negative): a plain loop."""
    h, lo, c = _arr(high).tolist(), _arr(low).tolist(), _arr(close).tolist()
    n = len(c)
    out = np.zeros(n, dtype=F64)
    if n == 0:
        return out
    out[0] = abs(sar_start) if sar_start != 0 else c[0]
    if n < 2:
        return out
    if sar_start > 0:
        is_long, sar = True, sar_start
    elif sar_start < 0:
        is_long, sar = False, -sar_start
    else:
        neg = lo[1] < lo[0] and (h[1] - h[0]) < (lo[0] - lo[1])
        is_long = not neg
        sar = lo[0] if is_long else h[0]
    ep = h[1] if is_long else lo[1]
    af_s, af_l = af_start_short, af_start_long
    off = offset_on_reverse
    for i in range(1, n):
        hi, li = h[i], lo[i]
        ph, pl = (hi, li) if i == 1 else (h[i - 1], lo[i - 1])
        if is_long:
            if li <= sar:
                is_long = False
                sar = max(ep, ph, hi)
                if off != 0.0:
                    sar += sar * off
                out[i] = -sar
                af_s = af_start_short
                ep = li
                sar = max(sar + af_s * (ep - sar), ph, hi)
            else:
                out[i] = sar
                if hi > ep:
                    ep = hi
                    af_l = min(af_l + af_increment_long, af_max_long)
                sar = min(sar + af_l * (ep - sar), pl, li)
        else:
            if hi >= sar:
                is_long = True
                sar = min(ep, pl, li)
                if off != 0.0:
                    sar -= sar * off
                out[i] = sar
                af_l = af_start_long
                ep = hi
                sar = min(sar + af_l * (ep - sar), pl, li)
            else:
                out[i] = -sar
                if li < ep:
                    ep = li
                    af_s = min(af_s + af_increment_short, af_max_short)
                sar = max(sar + af_s * (ep - sar), ph, hi)
    return out


def heikin_ashi(open_, high, low, close, volume=None) -> dict[str, np.ndarray]:
    o, h, lo, c = _arr(open_), _arr(high), _arr(low), _arr(close)
    n = len(c)
    ha_c = (o + h + lo + c) / 4.0
    ha_o = np.empty(n, dtype=F64)
    if n:
        ha_o[0] = (o[0] + c[0]) / 2.0
        if n > 1:  # open[i] = (open[i-1] + close[i-1]) / 2
            ha_o[1:] = lfilter([0.5], [1.0, -0.5], ha_c[:-1], zi=[0.5 * ha_o[0]])[0]
    ha_h = np.maximum(h, np.maximum(ha_o, ha_c))
    ha_l = np.minimum(lo, np.minimum(ha_o, ha_c))
    if n:
        ha_h[0], ha_l[0] = h[0], lo[0]
    out = {"value": ha_c, "open": ha_o, "high": ha_h, "low": ha_l, "close": ha_c}
    if volume is not None:
        out["volume"] = _arr(volume).copy()
    return out


def abands(high, low, close, period: int, width: float = 4.0,
           moving_average_type: str = "simple") -> dict[str, np.ndarray]:
    h, lo, c = _arr(high), _arr(low), _arr(close)
    coef = width * _safe_div(h - lo, h + lo)
    ma = _ma(moving_average_type)
    mid = ma(c, period)
    return {"value": mid, "middle_band": mid, "upper_band": ma(h * (1.0 + coef), period),
            "lower_band": ma(lo * (1.0 - coef), period)}


def midprice(high, low, period: int) -> np.ndarray:
    return (rolling_max(high, period) + rolling_min(low, period)) / 2.0


def ckstop(high, low, close, atr_period: int, atr_mult: float, period: int,
           moving_average_type: str = "wilders") -> dict[str, np.ndarray]:
    h, lo, c = _arr(high), _arr(low), _arr(close)
    atr = _ma(moving_average_type)(true_range(h, lo, c), atr_period)
    short = rolling_max(rolling_max(h, atr_period) - atr * atr_mult, period)
    long_ = rolling_min(rolling_min(lo, atr_period) + atr * atr_mult, period)
    ready = np.arange(len(c)) >= period - 1
    return {"value": np.where(ready, c, 0.0), "short_stop": np.where(ready, short, 0.0),
            "long_stop": np.where(ready, long_, 0.0)}


def pphl(high, low, surrounding_high: int, surrounding_low: int | None = None,
         strict_checking: bool = True) -> np.ndarray:
    """Pivot Points High/Low: 1 high pivot, -1 low, 2 both, 0 none (for the bar ``surrounding`` rows back)."""
    h, lo = _arr(high), _arr(low)
    n = len(h)
    nl = surrounding_high if surrounding_low is None else surrounding_low

    def pivots(x: np.ndarray, m: int, sign: float) -> np.ndarray:
        out = np.zeros(n, dtype=bool)
        w = 2 * m + 1
        if n < w:
            return out
        win = sliding_window_view(x * sign, w)  # sign -1 turns a low test into a high test
        mid = win[:, m]
        others = np.delete(win, m, axis=1)
        ok = (others < mid[:, None]).all(axis=1) if strict_checking else (others <= mid[:, None]).all(axis=1)
        out[w - 1:] = ok
        return out

    hp = pivots(h, surrounding_high, 1.0)
    lp = pivots(lo, nl, -1.0)
    return np.where(hp, np.where(lp, 2.0, 1.0), np.where(lp, -1.0, 0.0))


def zigzag(high, low, sensitivity: float = 0.05, min_trend_length: int = 1) -> dict[str, np.ndarray]:
    """ZigZag: a plain loop (pivot state is path-dependent)."""
    h, lo = _arr(high).tolist(), _arr(low).tolist()
    n = len(h)
    value, hp_out, lp_out = np.zeros(n), np.zeros(n), np.zeros(n)
    if n == 0:
        return {"value": value, "high_pivot": hp_out, "low_pivot": lp_out}
    lph, lpl, count, last_low = h[0], lo[0], 0, True
    hp, lpv = 0.0, lo[0]
    lp_out[0] = lpv
    up, down = 1.0 + sensitivity, 1.0 - sensitivity
    for i in range(1, n):
        hi, li = h[i], lo[i]
        if last_low:
            cur = lpl
            if hi >= lpl * up and count >= min_trend_length:
                lph, lpl, count, last_low, hp, cur = hi, li, 0, False, hi, hi
            elif li <= lpl:
                lph, lpl, count, lpv, cur = hi, li, 0, li, li
        else:
            cur = lph
            if li <= lph * down and count >= min_trend_length:
                lph, lpl, count, last_low, lpv, cur = hi, li, 0, True, li, li
            elif hi >= lph:
                lph, lpl, count, hp, cur = hi, li, 0, hi, hi
        count += 1
        value[i], hp_out[i], lp_out[i] = cur, hp, lpv
    return {"value": value, "high_pivot": hp_out, "low_pivot": lp_out}


# -- volume --------------------------------------------------------------------------------------------------

def obv(close, volume) -> np.ndarray:
    c, v = _arr(close), _arr(volume)
    step = np.empty(len(c), dtype=F64)
    if len(c):
        step[0] = v[0]
        step[1:] = np.sign(np.diff(c)) * v[1:]
    return np.cumsum(step)


def _mfv(high, low, close, volume) -> np.ndarray:
    """Money-flow volume ((C-L)-(H-C))/(H-L)·V, 0 for a flat bar."""
    h, lo, c, v = _arr(high), _arr(low), _arr(close), _arr(volume)
    rng = h - lo
    return np.where(rng > 0, _safe_div(((c - lo) - (h - c)) * v, np.where(rng > 0, rng, 1.0)), 0.0)


def ad(high, low, close, volume) -> np.ndarray:
    h, lo, c, v = _arr(high), _arr(low), _arr(close), _arr(volume)
    rng = h - lo
    ok = rng > 0
    step = np.zeros(len(c), dtype=F64)
    step[ok] = ((c[ok] - lo[ok]) - (h[ok] - c[ok])) / rng[ok] * v[ok]
    return np.cumsum(step)


def adosc(high, low, close, volume, fast_period: int, slow_period: int) -> np.ndarray:
    line = ad(high, low, close, volume)
    out = ema(line, fast_period) - ema(line, slow_period)
    out[: max(fast_period, slow_period) - 1] = 0.0
    return out


def mfi(high, low, close, volume, period: int) -> np.ndarray:
    h, lo, c, v = _arr(high), _arr(low), _arr(close), _arr(volume)
    tp = (h + lo + c) / 3.0
    prev = np.concatenate(([0.0], tp[:-1]))
    mf = tp * v
    pos = rolling_sum(np.where(tp > prev, mf, 0.0), period)
    neg = rolling_sum(np.where(tp < prev, mf, 0.0), period)
    total = pos + neg
    return np.where(total == 0.0, 100.0, _safe_div(100.0 * pos, total))


def intraday_vwap(high, low, close, volume, end_time, tz: str | None = None) -> np.ndarray:
    """IntradayVwap: Σ (H+L+C)/3·V / Σ V since the start of each calendar day of ``end_time`` (ns) in ``tz``."""
    h, lo, c, v = _arr(high), _arr(low), _arr(close), _arr(volume)
    t = np.asarray(end_time, dtype=np.int64)
    if tz is None:
        day = t // 86_400_000_000_000
    else:
        z = ZoneInfo(tz)
        day = np.array([datetime.fromtimestamp(int(x) // 1_000_000_000, z).toordinal() for x in t], dtype=np.int64)
    n = len(c)
    start = np.ones(n, dtype=bool)
    start[1:] = day[1:] != day[:-1]
    grp = np.cumsum(start) - 1
    first = np.flatnonzero(start)
    sv = np.cumsum(v)
    spv = np.cumsum((h + lo + c) / 3.0 * v)
    base_v = np.concatenate(([0.0], sv))[first][grp]
    base_pv = np.concatenate(([0.0], spv))[first][grp]
    dv, dpv = sv - base_v, spv - base_pv
    return np.where(dv == 0.0, c, _safe_div(dpv, dv))


def mvwap(open_, high, low, close, volume, period: int) -> np.ndarray:
    """LEAN's VolumeWeightedAveragePriceIndicator(period): rolling Σ OHLC4·V / Σ V, holding the last value
    (0 at first) while the window has no volume."""
    o, h, lo, c, v = _arr(open_), _arr(high), _arr(low), _arr(close), _arr(volume)
    spv = rolling_sum((o + h + lo + c) / 4.0 * v, period)
    sv = rolling_sum(v, period)
    ok = sv != 0.0
    raw = _safe_div(spv, sv)
    idx = np.maximum.accumulate(np.where(ok, np.arange(len(c)), -1))
    return np.where(idx >= 0, raw[np.maximum(idx, 0)], 0.0)


def vwma(close, volume, period: int) -> np.ndarray:
    c, v = _arr(close), _arr(volume)
    return _safe_div(rolling_sum(c * v, period), rolling_sum(v, period))


def cmf(high, low, close, volume, period: int) -> np.ndarray:
    f = rolling_sum(_mfv(high, low, close, volume), period)
    sv = rolling_sum(volume, period)
    out = _safe_div(f, sv)
    out[: period - 1] = 0.0
    return out


def fi(close, volume, period: int, moving_average_type: str = "exponential") -> np.ndarray:
    c, v = _arr(close), _arr(volume)
    out = np.zeros(len(c), dtype=F64)
    if len(c) > 1:
        out[1:] = _ma(moving_average_type)(np.diff(c) * v[1:], period)
    return out


def eom(high, low, volume, period: int = 1, scale: float = 10000.0) -> np.ndarray:
    """Ease of Movement; a zero-volume or flat bar scores 0 and is skipped as the 'previous' bar."""
    h, lo, v = _arr(high), _arr(low), _arr(volume)
    n = len(h)
    valid = (v != 0.0) & (h != lo)
    # previous bar for a valid row: the last valid row before it, else row 0 (LEAN seeds it from the first bar)
    last = np.maximum.accumulate(np.where(valid, np.arange(n), -1))
    prev = np.zeros(n, dtype=np.int64)
    if n > 1:
        prev[1:] = np.maximum(last[:-1], 0)
    mid = (h + lo) / 2.0 - (h[prev] + lo[prev]) / 2.0
    rng = np.where(valid, h - lo, 1.0)
    ratio = np.where(valid, (v / scale) / rng, 1.0)
    raw = np.where(valid, mid / ratio, 0.0)
    return sma(raw, period)


def kvo(high, low, close, volume, fast_period: int, slow_period: int, signal_period: int = 13) -> dict[str, np.ndarray]:
    h, lo, c, v = _arr(high), _arr(low), _arr(close), _arr(volume)
    n = len(c)
    dm = h - lo
    hlc3 = (h + lo + c) / 3.0
    value = np.zeros(n, dtype=F64)
    signal = np.zeros(n, dtype=F64)
    if n < 3:
        return {"value": value, "signal": signal}
    trend = np.where(hlc3[1:] > hlc3[:-1], 1, -1)  # trend of rows 1..n-1
    dml, trl = dm.tolist(), trend.tolist()
    vf = np.empty(n - 2, dtype=F64)
    cm = 0.0
    for i in range(2, n):  # the cumulative movement restarts on a trend change (a plain loop)
        t = trl[i - 1]
        cm = dml[i] + (dml[i - 1] if cm == 0.0 or t != trl[i - 2] else cm)
        vf[i - 2] = 0.0 if cm == 0.0 else v[i] * abs(2.0 * (dml[i] / cm - 1.0)) * t * 100.0
    k = ema(vf, fast_period) - ema(vf, slow_period)
    k[: max(fast_period, slow_period) - 1] = 0.0
    value[2:] = k
    signal[2:] = ema(k, signal_period)
    return {"value": value, "signal": signal}


def sobv(close, volume, period: int, moving_average_type: str = "simple") -> np.ndarray:
    return _ma(moving_average_type)(obv(close, volume), period)


TWINS: list[Twin] = [
    Twin("tr", lambda: T.TrueRange(), lambda d: true_range(d["high"], d["low"], d["close"]), True),
    Twin("natr", lambda: T.NormalizedAverageTrueRange(14), lambda d: natr(d["high"], d["low"], d["close"], 14), True),
    Twin("kch", lambda: T.KeltnerChannels(20, 1.5),
         lambda d: kch(d["high"], d["low"], d["close"], 20, 1.5)["value"], True),
    Twin("dch", lambda: T.DonchianChannel(20, 10), lambda d: dch(d["high"], d["low"], 20, 10)["value"], True),
    Twin("ichimoku", lambda: T.IchimokuKinkoHyo(),
         lambda d: ichimoku(d["high"], d["low"], d["close"])["value"], True),
    Twin("psar", lambda: T.ParabolicStopAndReverse(), lambda d: psar(d["high"], d["low"], d["close"]), True),
    Twin("sarext", lambda: T.ParabolicStopAndReverseExtended(0.0, 0.0, 0.03, 0.02, 0.4, 0.02, 0.01, 0.3),
         lambda d: sarext(d["high"], d["low"], d["close"], 0.0, 0.0, 0.03, 0.02, 0.4, 0.02, 0.01, 0.3), True),
    Twin("heikinashi", lambda: T.HeikinAshi(),
         lambda d: heikin_ashi(d["open"], d["high"], d["low"], d["close"])["value"], True),
    Twin("abands", lambda: T.AccelerationBands(20, 4.0),
         lambda d: abands(d["high"], d["low"], d["close"], 20, 4.0)["value"], True),
    Twin("midprice", lambda: T.MidPrice(14), lambda d: midprice(d["high"], d["low"], 14), True),
    Twin("ckstop", lambda: T.ChandeKrollStop(10, 1.0, 9),
         lambda d: ckstop(d["high"], d["low"], d["close"], 10, 1.0, 9)["value"], True),
    Twin("pphl", lambda: T.PivotPointsHighLow(3, 5), lambda d: pphl(d["high"], d["low"], 3, 5), True),
    Twin("zigzag", lambda: T.ZigZag(0.02, 3), lambda d: zigzag(d["high"], d["low"], 0.02, 3)["value"], True),
    Twin("obv", lambda: V.OnBalanceVolume(), lambda d: obv(d["close"], d["volume"]), True),
    Twin("ad", lambda: V.AccumulationDistribution(), lambda d: ad(d["high"], d["low"], d["close"], d["volume"]), True),
    Twin("adosc", lambda: V.AccumulationDistributionOscillator(3, 10),
         lambda d: adosc(d["high"], d["low"], d["close"], d["volume"], 3, 10), True),
    Twin("mfi", lambda: V.MoneyFlowIndex(14), lambda d: mfi(d["high"], d["low"], d["close"], d["volume"], 14), True),
    Twin("mvwap", lambda: V.VolumeWeightedAveragePriceIndicator(14),
         lambda d: mvwap(d["open"], d["high"], d["low"], d["close"], d["volume"], 14), True),
    Twin("vwma", lambda: V.VolumeWeightedMovingAverage(14), lambda d: vwma(d["close"], d["volume"], 14), True),
    Twin("cmf", lambda: V.ChaikinMoneyFlow(20), lambda d: cmf(d["high"], d["low"], d["close"], d["volume"], 20), True),
    Twin("fi", lambda: V.ForceIndex(13), lambda d: fi(d["close"], d["volume"], 13), True),
    Twin("eom", lambda: V.EaseOfMovementValue(14), lambda d: eom(d["high"], d["low"], d["volume"], 14), True),
    Twin("kvo", lambda: V.KlingerVolumeOscillator(34, 55, 13),
         lambda d: kvo(d["high"], d["low"], d["close"], d["volume"], 34, 55, 13)["value"], True),
    Twin("sobv", lambda: V.SmoothedOnBalanceVolume(20), lambda d: sobv(d["close"], d["volume"], 20), True),
]
