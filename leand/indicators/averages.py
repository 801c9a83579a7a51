"""Moving averages and simple transforms (LEAN semantics): LWMA, DEMA, TEMA, T3, TRIMA, KAMA, HMA, ALMA,
ZLEMA, VIDYA, Wilder, McGinley, Sum, Variance, LogReturn, RateOfChange (+ percent, ratio), Momentum, TRIX,
DPO, Coppock curve, MidPoint, Kaufman efficiency ratio, time-series forecast, correlation, covariance.

Warm-up conventions follow LEAN's ``IsReady`` (not always its ``WarmUpPeriod`` property, where the two
disagree: ZLEMA, TRIX); values before readiness are whatever LEAN's ``Current`` holds then."""

from __future__ import annotations

import math
from typing import Any

from leand.indicators.base import Indicator
from leand.indicators.core import EMA, SMA, Maximum, Minimum, _Wilder
from leand.indicators.oscillators import ChandeMomentumOscillator

__all__ = [
    "ALMA",
    "DEMA",
    "KAMA",
    "LWMA",
    "REGISTRY_PART",
    "T3",
    "TEMA",
    "TRIMA",
    "VIDYA",
    "WMA",
    "ZLEMA",
    "ArnaudLegouxMovingAverage",
    "CoppockCurve",
    "Correlation",
    "Covariance",
    "DetrendedPriceOscillator",
    "DoubleExponentialMovingAverage",
    "HullMovingAverage",
    "KaufmanAdaptiveMovingAverage",
    "KaufmanEfficiencyRatio",
    "LinearWeightedMovingAverage",
    "LogReturn",
    "McGinleyDynamic",
    "MidPoint",
    "Momentum",
    "RateOfChange",
    "RateOfChangePercent",
    "RateOfChangeRatio",
    "RelativeMovingAverage",
    "Sum",
    "T3MovingAverage",
    "TimeSeriesForecast",
    "TriangularMovingAverage",
    "TripleExponentialMovingAverage",
    "Trix",
    "VariableIndexDynamicAverage",
    "Variance",
    "WilderMovingAverage",
    "ZeroLagExponentialMovingAverage",
]


# -- small helpers ------------------------------------------------------------------------------------
class _Lag:
    """The last ``size`` inputs in a ring buffer: ``oldest`` is the value ``size - 1`` steps back."""

    __slots__ = ("_buf", "_i", "count", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._buf = [0.0] * size
        self._i = 0
        self.count = 0

    def push(self, value: float) -> float:
        """Store ``value``; return the value it displaced (0.0 while the buffer fills)."""
        i = self._i
        old = self._buf[i]
        self._buf[i] = value
        self._i = (i + 1) % self.size
        if self.count < self.size:
            self.count += 1
        return old

    def ago(self, k: int) -> float:
        """The value pushed ``k`` pushes before the latest (``ago(0)`` is the latest)."""
        return self._buf[(self._i - 1 - k) % self.size]

    def reset(self) -> None:
        self._buf = [0.0] * self.size
        self._i = 0
        self.count = 0


class _Denominator:
    """The base value of LEAN's n-period change indicators (window of ``period`` inputs): the first input
    while ``samples <= period``, else the input ``period`` samples back."""

    __slots__ = ("_buf", "_first", "_i", "_n", "period")

    def __init__(self, period: int) -> None:
        self.period = period
        self._buf = [0.0] * period
        self._i = 0
        self._n = 0
        self._first = 0.0

    def push(self, value: float) -> float:
        i = self._i
        old = self._buf[i]
        self._buf[i] = value
        self._i = (i + 1) % self.period
        self._n += 1
        if self._n == 1:
            self._first = value
        return self._first if self._n <= self.period else old

    def reset(self) -> None:
        self._buf = [0.0] * self.period
        self._i = 0
        self._n = 0
        self._first = 0.0


class _LinearWindow:
    """Running sum ``s`` and linearly weighted sum ``w = sum((period - i) * x[i])`` (newest i = 0) of the last
    ``period`` inputs, O(1) per update, recomputed exactly once per period to stop float drift."""

    __slots__ = ("_buf", "_i", "count", "period", "s", "w")

    def __init__(self, period: int) -> None:
        self.period = period
        self._buf = [0.0] * period
        self._i = 0
        self.count = 0
        self.s = 0.0
        self.w = 0.0

    def push(self, value: float) -> None:
        p = self.period
        i = self._i
        old = self._buf[i]
        self.w += p * value - self.s
        self.s += value - old
        self._buf[i] = value
        i = self._i = (i + 1) % p
        if self.count < p:
            self.count += 1
        if i == 0:  # the buffer runs oldest..newest from index 0 now: recompute exactly
            buf = self._buf
            self.s = math.fsum(buf)
            self.w = math.fsum([(j + 1) * buf[j] for j in range(p)])

    def reset(self) -> None:
        self._buf = [0.0] * self.period
        self._i = 0
        self.count = 0
        self.s = self.w = 0.0


# -- weighted / composed moving averages -------------------------------------------------------------
class LinearWeightedMovingAverage(Indicator):
    """LWMA: weights period..1, newest heaviest. LEAN quirk kept: while warming up the partial weighted sum
    is still divided by the full ``period*(period+1)/2``."""

    __slots__ = ("_den", "_lw", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        if period < 1:
            raise ValueError(f"LWMA period must be >= 1, got {period}")
        super().__init__(name or f"LWMA({period})", period)
        self.period = period
        self._lw = _LinearWindow(period)
        self._den = period * (period + 1) / 2.0

    def _compute(self, time: int, value: float) -> float:
        self._lw.push(value)
        return self._lw.w / self._den

    def reset(self) -> None:
        super().reset()
        self._lw.reset()


class DoubleExponentialMovingAverage(Indicator):
    """DEMA = (1+v)·EMA − v·EMA(EMA) (v = volume factor, 1 for the classic DEMA); outputs EMA1 until EMA1 is
    ready; ready after ``2·(period−1)+1`` samples."""

    __slots__ = ("_ema1", "_ema2", "period", "volume_factor")

    def __init__(self, period: int, volume_factor: float = 1.0, name: str | None = None) -> None:
        super().__init__(name or f"DEMA({period})", 2 * (period - 1) + 1)
        self.period = period
        self.volume_factor = volume_factor
        self._ema1 = EMA(period)
        self._ema2 = EMA(period)

    def _compute(self, time: int, value: float) -> float:
        e1 = self._ema1
        e1.update(time, value)
        if not e1.is_ready:
            return e1.value
        self._ema2.update(time, e1.value)
        vf = self.volume_factor
        return (vf + 1.0) * e1.value - vf * self._ema2.value

    def reset(self) -> None:
        super().reset()
        self._ema1.reset()
        self._ema2.reset()


class TripleExponentialMovingAverage(Indicator):
    """TEMA = 3·EMA1 − 3·EMA2 + EMA3, each EMA fed once the previous one is ready; 0 until ready
    (``3·(period−1)+1`` samples)."""

    __slots__ = ("_ema1", "_ema2", "_ema3", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"TEMA({period})", 3 * (period - 1) + 1)
        self.period = period
        self._ema1 = EMA(period)
        self._ema2 = EMA(period)
        self._ema3 = EMA(period)

    def _compute(self, time: int, value: float) -> float:
        n, p = self.samples, self.period
        self._ema1.update(time, value)
        if n > p - 1:
            self._ema2.update(time, self._ema1.value)
        if n > 2 * (p - 1):
            self._ema3.update(time, self._ema2.value)
            return 3.0 * self._ema1.value - 3.0 * self._ema2.value + self._ema3.value
        return 0.0

    def reset(self) -> None:
        super().reset()
        for e in (self._ema1, self._ema2, self._ema3):
            e.reset()


class T3MovingAverage(Indicator):
    """Tillson's T3: three chained generalized DEMAs (GD) with volume factor ``v`` (LEAN default 0.7);
    0 until ready (``6·(period−1)+1`` samples)."""

    __slots__ = ("_gd1", "_gd2", "_gd3", "period", "volume_factor")

    def __init__(self, period: int, volume_factor: float = 0.7, name: str | None = None) -> None:
        super().__init__(name or f"T3({period},{volume_factor})", 6 * (period - 1) + 1)
        self.period = period
        self.volume_factor = volume_factor
        self._gd1 = DoubleExponentialMovingAverage(period, volume_factor)
        self._gd2 = DoubleExponentialMovingAverage(period, volume_factor)
        self._gd3 = DoubleExponentialMovingAverage(period, volume_factor)

    def _compute(self, time: int, value: float) -> float:
        n, p = self.samples, self.period
        self._gd1.update(time, value)
        if n > 2 * (p - 1):
            self._gd2.update(time, self._gd1.value)
        if n > 4 * (p - 1):
            self._gd3.update(time, self._gd2.value)
        return self._gd3.value if n > 6 * (p - 1) else 0.0

    def reset(self) -> None:
        super().reset()
        for g in (self._gd1, self._gd2, self._gd3):
            g.reset()


class TriangularMovingAverage(Indicator):
    """TRIMA = SMA(SMA(x, a), b) with (a, b) = (p/2, p/2+1) for even p, ((p+1)/2, (p+1)/2) for odd p."""

    __slots__ = ("_sma1", "_sma2", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"TRIMA({period})", period)
        self.period = period
        a = period // 2 if period % 2 == 0 else (period + 1) // 2
        b = period // 2 + 1 if period % 2 == 0 else (period + 1) // 2
        self._sma1 = SMA(a)
        self._sma2 = SMA(b)

    def _compute(self, time: int, value: float) -> float:
        self._sma1.update(time, value)
        self._sma2.update(time, self._sma1.value)
        return self._sma2.value

    def reset(self) -> None:
        super().reset()
        self._sma1.reset()
        self._sma2.reset()


class _Efficiency:
    """Shared state of KAMA and KER: the sum of |1-step changes| and the ``period``-step change over a window
    of ``period + 1`` inputs, exactly as LEAN's KaufmanEfficiencyRatio updates them."""

    __slots__ = ("_lag", "_prev", "_sum_roc1", "_trailing", "period")

    def __init__(self, period: int) -> None:
        self.period = period
        self._lag = _Lag(period + 1)
        self._sum_roc1 = 0.0
        self._trailing = 0.0
        self._prev = 0.0

    def step(self, n: int, value: float) -> float | None:
        """Feed sample number ``n``; None while warming up, else the efficiency ratio."""
        lag = self._lag
        lag.push(value)
        size = self.period + 1
        if n < size:
            if n > 1:
                self._sum_roc1 += abs(value - self._prev)
            self._prev = value
            return None
        if n == size:
            self._sum_roc1 += abs(value - self._prev)
        trailing = lag.ago(self.period)
        period_roc = value - trailing
        if n > size:
            self._sum_roc1 -= abs(self._trailing - trailing)
            self._sum_roc1 += abs(value - self._prev)
        self._trailing = trailing
        self._prev = value
        s = self._sum_roc1
        return 1.0 if (s <= period_roc or s == 0) else abs(period_roc / s)

    def reset(self) -> None:
        self._lag.reset()
        self._sum_roc1 = self._trailing = self._prev = 0.0


class KaufmanAdaptiveMovingAverage(Indicator):
    """KAMA (TA-Lib/LEAN): ER over ``period`` changes, sc = (ER·(2/(fast+1) − 2/(slow+1)) + 2/(slow+1))²;
    outputs the input while warming up, seeded with the previous input; ready after ``period + 1`` samples."""

    __slots__ = ("_diff", "_eff", "_kama", "_slow", "period")

    def __init__(self, period: int = 10, fast_ema_period: int = 2, slow_ema_period: int = 30,
                 name: str | None = None) -> None:
        super().__init__(name or f"KAMA({period},{fast_ema_period},{slow_ema_period})", period + 1)
        self.period = period
        self._slow = 2.0 / (slow_ema_period + 1.0)
        self._diff = 2.0 / (fast_ema_period + 1.0) - self._slow
        self._eff = _Efficiency(period)
        self._kama = 0.0

    def _compute(self, time: int, value: float) -> float:
        n = self.samples
        prev = self._eff._prev
        er = self._eff.step(n, value)
        if er is None:
            return value
        if n == self.period + 1:
            self._kama = prev  # the first KAMA starts from yesterday's price
        sc = er * self._diff + self._slow
        sc *= sc
        self._kama = (value - self._kama) * sc + self._kama
        return self._kama

    def reset(self) -> None:
        super().reset()
        self._eff.reset()
        self._kama = 0.0


class KaufmanEfficiencyRatio(Indicator):
    """Kaufman efficiency ratio |x − x[−period]| / Σ|Δx| (1 when the path sum is 0 or ≤ the net change, as LEAN);
    outputs the input itself while warming up (LEAN quirk); ready after ``period + 1`` samples."""

    __slots__ = ("_eff", "period")

    def __init__(self, period: int = 10, name: str | None = None) -> None:
        super().__init__(name or f"KER({period})", period + 1)
        self.period = period
        self._eff = _Efficiency(period)

    def _compute(self, time: int, value: float) -> float:
        er = self._eff.step(self.samples, value)
        return value if er is None else er

    def reset(self) -> None:
        super().reset()
        self._eff.reset()


class HullMovingAverage(Indicator):
    """HMA = LWMA(2·LWMA(x, round(p/2)) − LWMA(x, p), round(√p)), rounding half to even as C#'s Math.Round;
    0 until the outer LWMA gets its first input; ready after ``p + round(√p) − 1`` samples."""

    __slots__ = ("_fast", "_hull", "_slow", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        if period < 2:
            raise ValueError("The Hull Moving Average period should be greater or equal to 2")
        k = round(math.sqrt(period))
        super().__init__(name or f"HMA({period})", period + k - 1)
        self.period = period
        self._slow = LinearWeightedMovingAverage(period)
        self._fast = LinearWeightedMovingAverage(round(period / 2))
        self._hull = LinearWeightedMovingAverage(k)

    def _compute(self, time: int, value: float) -> float:
        self._fast.update(time, value)
        self._slow.update(time, value)
        if self._fast.is_ready and self._slow.is_ready:
            self._hull.update(time, 2.0 * self._fast.value - self._slow.value)
        return self._hull.value

    def reset(self) -> None:
        super().reset()
        for i in (self._fast, self._slow, self._hull):
            i.reset()


def alma_weights(period: int, sigma: float = 6, offset: float = 0.85) -> list[float]:
    """ALMA's Gaussian weights, oldest first: m = floor(offset·(period−1)), s = period/sigma."""
    m = math.floor(offset * (period - 1))
    s = period / sigma
    tmp = [math.exp(-(i - m) * (i - m) / (2 * s * s)) for i in range(period)]
    total = sum(tmp)
    return [t / total for t in tmp]


class ArnaudLegouxMovingAverage(Indicator):
    """ALMA: a Gaussian-weighted window (sigma 6, offset 0.85 by default); outputs the input until the window
    is full."""

    __slots__ = ("_lag", "_w", "period")

    def __init__(self, period: int, sigma: float = 6, offset: float = 0.85, name: str | None = None) -> None:
        if not 0 <= offset <= 1:
            raise ValueError(f"Offset parameter range is [0,1]. Value: {offset}")
        super().__init__(name or f"ALMA({period},{sigma},{offset})", period)
        self.period = period
        self._w = alma_weights(period, sigma, offset)
        self._lag = _Lag(period)

    def _compute(self, time: int, value: float) -> float:
        lag = self._lag
        lag.push(value)
        if lag.count < self.period:
            return value
        p = self.period
        buf, start, w = lag._buf, lag._i, self._w  # start is the oldest slot once full
        return sum(w[j] * buf[(start + j) % p] for j in range(p))  # O(period): the weights move with the window

    def reset(self) -> None:
        super().reset()
        self._lag.reset()


class ZeroLagExponentialMovingAverage(Indicator):
    """ZLEMA = EMA(x + (x − x[−lag])), lag = round((p−1)/2) half to even; 0 until ready. Ready after
    ``lag + p`` samples (LEAN's IsReady; its WarmUpPeriod property says p + p//2)."""

    __slots__ = ("_ema", "_lag", "lag", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        lag = round((period - 1) / 2.0)
        super().__init__(name or f"ZLEMA({period})", lag + period)
        self.period = period
        self.lag = lag
        self._lag = _Lag(lag + 1)
        self._ema = EMA(period)

    def _compute(self, time: int, value: float) -> float:
        self._lag.push(value)
        if self.samples < self.lag + 1:
            return 0.0
        self._ema.update(time, value + (value - self._lag.ago(self.lag)))
        return self._ema.value if self._ema.is_ready else 0.0

    def reset(self) -> None:
        super().reset()
        self._lag.reset()
        self._ema.reset()


class VariableIndexDynamicAverage(Indicator):
    """VIDYA: EMA-like with alpha = 2/(p+1)·|CMO(p)|/100; 0 until ready (``period + 1`` samples), seeded with
    the previous input."""

    __slots__ = ("_cmo", "_k", "_vidya", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"VIDYA({period})", period + 1)
        self.period = period
        self._cmo = ChandeMomentumOscillator(period)
        self._k = 2.0 / (period + 1)
        self._vidya = 0.0

    def _compute(self, time: int, value: float) -> float:
        self._cmo.update(time, value)
        if self.samples <= self.period:
            self._vidya = value
            return 0.0
        a = abs(self._cmo.value / 100.0)
        self._vidya = value * self._k * a + self._vidya * (1 - self._k * a)
        return self._vidya

    def reset(self) -> None:
        super().reset()
        self._cmo.reset()
        self._vidya = 0.0


class WilderMovingAverage(_Wilder):
    """Wilder's moving average (WWMA / RMA in Pine): the running mean for the first ``period`` inputs, then
    y = y + (x − y)/period."""

    __slots__ = ()

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(period)
        self.name = name or f"WWMA({period})"


class RelativeMovingAverage(Indicator):
    """LEAN's RelativeMovingAverage (its ``RMA`` helper): SMA(3p) − SMA(2p) + SMA(p); ready after 3p samples."""

    __slots__ = ("long_average", "medium_average", "period", "short_average")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"RMA({period})", 3 * period)
        self.period = period
        self.short_average = SMA(period)
        self.medium_average = SMA(2 * period)
        self.long_average = SMA(3 * period)

    def _compute(self, time: int, value: float) -> float:
        for s in (self.short_average, self.medium_average, self.long_average):
            s.update(time, value)
        return self.long_average.value - self.medium_average.value + self.short_average.value

    def reset(self) -> None:
        super().reset()
        for s in (self.short_average, self.medium_average, self.long_average):
            s.reset()


class McGinleyDynamic(Indicator):
    """McGinley Dynamic: starts at the SMA of the first ``period`` inputs, then
    md += (x − md)/(period·(x/md)⁴); 0 until ready; unchanged when md or x is 0."""

    __slots__ = ("_sum", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        if period == 0:
            raise ValueError("Period can not be zero")
        super().__init__(name or f"MGD({period})", period)
        self.period = period
        self._sum = Sum(period)

    def _compute(self, time: int, value: float) -> float:
        self._sum.update(time, value)
        n, p = self.samples, self.period
        if n < p:
            return 0.0
        if n == p:
            return self._sum.value / p
        cur = self.value
        if cur == 0 or value == 0:
            return cur
        ratio = value / cur
        den = p * ratio ** 4
        return cur + (value - cur) / den if den != 0 else cur

    def reset(self) -> None:
        super().reset()
        self._sum.reset()


# -- transforms ---------------------------------------------------------------------------------------
class Sum(Indicator):
    """Rolling sum of the last ``period`` inputs (of all inputs while warming up)."""

    __slots__ = ("_buf", "_i", "_sum", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"SUM({period})", period)
        self.period = period
        self._buf = [0.0] * period
        self._i = 0
        self._sum = 0.0

    def _compute(self, time: int, value: float) -> float:
        i = self._i
        self._sum += value - self._buf[i]
        self._buf[i] = value
        self._i = (i + 1) % self.period
        if self._i == 0:
            self._sum = math.fsum(self._buf)
        return self._sum

    def reset(self) -> None:
        super().reset()
        self._buf = [0.0] * self.period
        self._i = 0
        self._sum = 0.0


class _Moments:
    """Rolling first and second moments of the last ``period`` values, on values shifted by a reference that
    is re-centred (exactly recomputed) once per period so E[x²] − E[x]² does not cancel catastrophically."""

    __slots__ = ("_buf", "_c", "_i", "count", "period", "s1", "s2")

    def __init__(self, period: int) -> None:
        self.period = period
        self._buf = [0.0] * period
        self._i = 0
        self.count = 0
        self._c = 0.0
        self.s1 = self.s2 = 0.0

    def push(self, value: float) -> None:
        p = self.period
        i = self._i
        if self.count == 0:
            self._c = value
        c = self._c
        d = value - c
        if self.count == p:
            o = self._buf[i] - c
            self.s1 -= o
            self.s2 -= o * o
        else:
            self.count += 1
        self.s1 += d
        self.s2 += d * d
        self._buf[i] = value
        i = self._i = (i + 1) % p
        if i == 0:  # full and aligned: re-centre on the window mean and recompute exactly
            buf = self._buf
            c = self._c = math.fsum(buf) / p
            self.s1 = math.fsum([v - c for v in buf])
            self.s2 = math.fsum([(v - c) * (v - c) for v in buf])

    def variance(self) -> float:
        n = self.count
        m = self.s1 / n
        return max(self.s2 / n - m * m, 0.0)

    def reset(self) -> None:
        self._buf = [0.0] * self.period
        self._i = 0
        self.count = 0
        self._c = self.s1 = self.s2 = 0.0


class Variance(Indicator):
    """Population variance of the last ``period`` inputs (of all inputs while warming up; 0 for the first)."""

    __slots__ = ("_m", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"VAR({period})", period)
        self.period = period
        self._m = _Moments(period)

    def _compute(self, time: int, value: float) -> float:
        self._m.push(value)
        return 0.0 if self.samples < 2 else self._m.variance()

    def reset(self) -> None:
        super().reset()
        self._m.reset()


class _Change(Indicator):
    """Base of LEAN's n-period change indicators over a window of ``period`` inputs: the base value is the
    first input while ``samples <= period``, then the input ``period`` samples back."""

    __slots__ = ("_den", "period")

    def __init__(self, name: str, period: int, warm_up: int) -> None:
        if period < 1:
            raise ValueError(f"period must be >= 1, got {period}")
        super().__init__(name, warm_up)
        self.period = period
        self._den = _Denominator(period)

    def reset(self) -> None:
        super().reset()
        self._den.reset()


class Momentum(_Change):
    """x − x[−period] (x − first input while warming up); ready after ``period + 1`` samples."""

    __slots__ = ()

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"MOM({period})", period, period + 1)

    def _compute(self, time: int, value: float) -> float:
        return value - self._den.push(value)


class RateOfChange(_Change):
    """(x − x[−period]) / x[−period] as a fraction (0 when the base is 0); ready after ``period + 1`` samples."""

    __slots__ = ()

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"ROC({period})", period, period + 1)

    def _compute(self, time: int, value: float) -> float:
        d = self._den.push(value)
        return (value - d) / d if d != 0 else 0.0


class RateOfChangePercent(RateOfChange):
    """100 × RateOfChange."""

    __slots__ = ()

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(period, name or f"ROCP({period})")

    def _compute(self, time: int, value: float) -> float:
        return 100.0 * super()._compute(time, value)


class RateOfChangeRatio(RateOfChange):
    """x / x[−period] = ROC + 1; LEAN quirk kept: 0 whenever ROC is exactly 0 (unchanged price, first input)."""

    __slots__ = ()

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(period, name or f"ROCR({period})")

    def _compute(self, time: int, value: float) -> float:
        roc = super()._compute(time, value)
        return roc + 1.0 if roc != 0 else 0.0


class LogReturn(_Change):
    """ln(x / x[−period]) (ln(x / first input) while warming up); ready after ``period`` samples as LEAN;
    NaN for a non-positive ratio."""

    __slots__ = ()

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"LOGR({period})", period, period)

    def _compute(self, time: int, value: float) -> float:
        d = self._den.push(value)
        r = value / d if d != 0 else math.nan
        return math.log(r) if r > 0 else math.nan


class Trix(Indicator):
    """TRIX: 1-period percent rate of change of a triple EMA (each EMA fed once the previous is ready);
    ready after ``3·(period−1) + 2`` samples (LEAN's IsReady; its WarmUpPeriod property says one less)."""

    __slots__ = ("_ema1", "_ema2", "_ema3", "_roc", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"TRIX({period})", 3 * (period - 1) + 2)
        self.period = period
        self._ema1 = EMA(period)
        self._ema2 = EMA(period)
        self._ema3 = EMA(period)
        self._roc = RateOfChangePercent(1)

    def _compute(self, time: int, value: float) -> float:
        self._ema1.update(time, value)
        if self._ema1.is_ready:
            self._ema2.update(time, self._ema1.value)
        if self._ema2.is_ready:
            self._ema3.update(time, self._ema2.value)
        if self._ema3.is_ready:
            self._roc.update(time, self._ema3.value)
        return self._roc.value

    def reset(self) -> None:
        super().reset()
        for i in (self._ema1, self._ema2, self._ema3, self._roc):
            i.reset()


class DetrendedPriceOscillator(Indicator):
    """DPO = x[−(period//2 + 1)] − SMA(period); 0 until both are ready."""

    __slots__ = ("_lag", "_sma", "lag", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        lag = period // 2 + 1
        super().__init__(name or f"DPO({period})", max(period, lag + 1))
        self.period = period
        self.lag = lag
        self._lag = _Lag(lag + 1)
        self._sma = SMA(period)

    def _compute(self, time: int, value: float) -> float:
        self._lag.push(value)
        self._sma.update(time, value)
        if self.samples < self.warm_up_period:
            return 0.0
        return self._lag.ago(self.lag) - self._sma.value

    def reset(self) -> None:
        super().reset()
        self._lag.reset()
        self._sma.reset()


class CoppockCurve(Indicator):
    """Coppock curve: LWMA(lwma_period) of ROCP(short) + ROCP(long); 0 until both ROCs are ready."""

    __slots__ = ("_long", "_lwma", "_short")

    def __init__(self, short_roc_period: int = 11, long_roc_period: int = 14, lwma_period: int = 10,
                 name: str | None = None) -> None:
        super().__init__(name or f"CC({short_roc_period},{long_roc_period},{lwma_period})",
                         max(short_roc_period, long_roc_period) + lwma_period)
        self._short = RateOfChangePercent(short_roc_period)
        self._long = RateOfChangePercent(long_roc_period)
        self._lwma = LinearWeightedMovingAverage(lwma_period)

    def _compute(self, time: int, value: float) -> float:
        self._short.update(time, value)
        self._long.update(time, value)
        if not (self._short.is_ready and self._long.is_ready):
            return 0.0
        self._lwma.update(time, self._short.value + self._long.value)
        return self._lwma.value

    def reset(self) -> None:
        super().reset()
        for i in (self._short, self._long, self._lwma):
            i.reset()


class MidPoint(Indicator):
    """(max + min)/2 of the last ``period`` inputs (of all inputs while warming up)."""

    __slots__ = ("_max", "_min", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"MIDPOINT({period})", period)
        self.period = period
        self._max = Maximum(period)
        self._min = Minimum(period)

    def _compute(self, time: int, value: float) -> float:
        self._max.update(time, value)
        self._min.update(time, value)
        return (self._max.value + self._min.value) / 2.0

    def reset(self) -> None:
        super().reset()
        self._max.reset()
        self._min.reset()


class TimeSeriesForecast(Indicator):
    """Time-series forecast (Tulip): the least-squares line through the last ``period`` inputs, extrapolated
    one step ahead; 0 until ready."""

    __slots__ = ("_lw", "_x1", "_x2", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        if period < 2:
            raise ValueError(f"TimeSeriesForecast period must be >= 2, got {period}")
        super().__init__(name or f"TSF({period})", period)
        self.period = period
        self._lw = _LinearWindow(period)
        self._x1 = period * (period + 1) / 2.0
        self._x2 = period * (period + 1) * (2 * period + 1) / 6.0

    def _compute(self, time: int, value: float) -> float:
        lw = self._lw
        lw.push(value)
        if lw.count < self.period:
            return 0.0
        return _tsf(self.period, self._x1, self._x2, lw.w, lw.s)

    def reset(self) -> None:
        super().reset()
        self._lw.reset()


def _tsf(p: int, x1: float, x2: float, xy: float, y: float) -> float:
    b = (p * xy - x1 * y) / (p * x2 - x1 * x1)
    a = (y - b * x1) / p
    return a + b * (p + 1)


# -- two-series statistics ----------------------------------------------------------------------------
class _Pair(Indicator):
    """Base of two-series indicators: feed ``update_pair(time, a, b)`` with both series' values at one time."""

    __slots__ = ("period",)

    def update(self, time: int, value: float) -> bool:
        self._time = time
        raise TypeError(f"{self.name} takes two series: call update_pair(time, a, b)")

    def update_bar(self, bar: Any) -> bool:
        self._time = bar.end_time
        raise TypeError(f"{self.name} takes two series: call update_pair(time, a, b)")

    def update_tick(self, tick: Any) -> bool:
        raise TypeError(f"{self.name} takes two series: call update_pair(time, a, b)")

    def update_pair(self, time: int, a: float, b: float) -> bool:
        self.samples += 1
        return self._emit(time, self._compute_pair(a, b))

    def _compute_pair(self, a: float, b: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


class _CoMoments:
    """Rolling sums of a, b, a², b², ab over ``period`` pairs, shifted and re-centred once per period."""

    __slots__ = ("_a", "_b", "_ca", "_cb", "_i", "count", "period", "sa", "saa", "sab", "sb", "sbb")
    _a: list[float]
    _b: list[float]
    _ca: float
    _cb: float
    _i: int
    count: int
    sa: float
    saa: float
    sab: float
    sb: float
    sbb: float

    def __init__(self, period: int) -> None:
        self.period = period
        self.reset()

    def push(self, a: float, b: float) -> None:
        p = self.period
        i = self._i
        if self.count == 0:
            self._ca, self._cb = a, b
        ca, cb = self._ca, self._cb
        if self.count == p:
            oa, ob = self._a[i] - ca, self._b[i] - cb
            self.sa -= oa
            self.sb -= ob
            self.saa -= oa * oa
            self.sbb -= ob * ob
            self.sab -= oa * ob
        else:
            self.count += 1
        da, db = a - ca, b - cb
        self.sa += da
        self.sb += db
        self.saa += da * da
        self.sbb += db * db
        self.sab += da * db
        self._a[i] = a
        self._b[i] = b
        i = self._i = (i + 1) % p
        if i == 0:
            A, B = self._a, self._b
            ca = self._ca = math.fsum(A) / p
            cb = self._cb = math.fsum(B) / p
            da_ = [v - ca for v in A]
            db_ = [v - cb for v in B]
            self.sa, self.sb = math.fsum(da_), math.fsum(db_)
            self.saa = math.fsum([v * v for v in da_])
            self.sbb = math.fsum([v * v for v in db_])
            self.sab = math.fsum([u * v for u, v in zip(da_, db_)])

    def centred(self) -> tuple[float, float, float]:
        """n·var(a), n·var(b), n·cov(a, b) over the values held."""
        n = self.count
        return (self.saa - self.sa * self.sa / n, self.sbb - self.sb * self.sb / n,
                self.sab - self.sa * self.sb / n)

    def reset(self) -> None:
        p = self.period
        self._a = [0.0] * p
        self._b = [0.0] * p
        self._i = 0
        self.count = 0
        self._ca = self._cb = 0.0
        self.sa = self.sb = self.saa = self.sbb = self.sab = 0.0


class Correlation(_Pair):
    """Pearson correlation of the two series' last ``period`` values (LEAN correlates closes, not returns);
    0 until ready and whenever undefined (a flat window). Feed with ``update_pair(time, a, b)``."""

    __slots__ = ("_m",)

    def __init__(self, period: int, name: str | None = None) -> None:
        if period < 2:
            raise ValueError(f"Period parameter for Correlation indicator must be greater than 2 but was {period}")
        super().__init__(name or f"Correlation({period})", period)
        self.period = period
        self._m = _CoMoments(period)

    def _compute_pair(self, a: float, b: float) -> float:
        m = self._m
        m.push(a, b)
        if m.count < self.period:
            return 0.0
        vaa, vbb, vab = m.centred()
        if vaa <= 0 or vbb <= 0:
            return 0.0
        r = vab / math.sqrt(vaa * vbb)
        return max(-1.0, min(1.0, r)) if r == r else 0.0

    def reset(self) -> None:
        super().reset()
        self._m.reset()


class Covariance(_Pair):
    """Sample covariance (n − 1) of the two series' last ``period`` one-step returns x/x[−1] − 1 (LEAN);
    0 until ready (``period + 1`` pairs). Feed with ``update_pair(time, a, b)``."""

    __slots__ = ("_m", "_pa", "_pb")

    def __init__(self, period: int, name: str | None = None) -> None:
        if period < 2:
            raise ValueError(f"Period must be greater than 1 but was {period}")
        super().__init__(name or f"COV({period})", period + 1)
        self.period = period
        self._m = _CoMoments(period)
        self._pa = self._pb = math.nan

    def _compute_pair(self, a: float, b: float) -> float:
        pa, pb = self._pa, self._pb
        self._pa, self._pb = a, b
        if self.samples < 2:
            return 0.0
        ra = (a / pa if pa != 0 else 0.0) - 1.0  # LEAN's SafeDivision yields 0 on a zero base
        rb = (b / pb if pb != 0 else 0.0) - 1.0
        m = self._m
        m.push(ra, rb)
        if m.count < self.period:
            return 0.0
        return m.centred()[2] / (self.period - 1)

    def reset(self) -> None:
        super().reset()
        self._m.reset()
        self._pa = self._pb = math.nan


# -- short names ----------------------------------------------------------------------------------------
LWMA = WMA = LinearWeightedMovingAverage
DEMA = DoubleExponentialMovingAverage
TEMA = TripleExponentialMovingAverage
T3 = T3MovingAverage
TRIMA = TriangularMovingAverage
KAMA = KaufmanAdaptiveMovingAverage
HMA = HullMovingAverage
ALMA = ArnaudLegouxMovingAverage
ZLEMA = ZeroLagExponentialMovingAverage
VIDYA = VariableIndexDynamicAverage

REGISTRY_PART: dict[str, type] = {
    "wma": LinearWeightedMovingAverage,
    "lwma": LinearWeightedMovingAverage,
    "dema": DoubleExponentialMovingAverage,
    "tema": TripleExponentialMovingAverage,
    "t3": T3MovingAverage,
    "trima": TriangularMovingAverage,
    "kama": KaufmanAdaptiveMovingAverage,
    "hma": HullMovingAverage,
    "alma": ArnaudLegouxMovingAverage,
    "zlema": ZeroLagExponentialMovingAverage,
    "vidya": VariableIndexDynamicAverage,
    "wwma": WilderMovingAverage,
    "rma": RelativeMovingAverage,  # LEAN's RMA helper; Wilder's average is wwma
    "mgd": McGinleyDynamic,
    "sum": Sum,
    "var": Variance,
    "logr": LogReturn,
    "roc": RateOfChange,
    "rocp": RateOfChangePercent,
    "rocr": RateOfChangeRatio,
    "mom": Momentum,
    "trix": Trix,
    "dpo": DetrendedPriceOscillator,
    "coppock": CoppockCurve,
    "midpoint": MidPoint,
    "ker": KaufmanEfficiencyRatio,
    "tsf": TimeSeriesForecast,
    "corr": Correlation,
    "cov": Covariance,
}
