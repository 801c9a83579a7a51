"""Oscillators with LEAN semantics (warm-up, first values, readiness and degenerate-case outputs as in LEAN's
C# classes): Stochastic, Stochastic RSI, Williams %R, CCI, ADX/ADXR, Aroon, PPO/APO, CMO, Ultimate Oscillator,
TSI, KST, Fisher Transform, Awesome Oscillator, Vortex, Choppiness, Mass Index, Balance of Power, Schaff Trend
Cycle, Internal Bar Strength, Relative Vigor Index, DeMarker and Premier Stochastic Oscillator."""

from __future__ import annotations

import math
from collections import deque

from leand.indicators.base import BarIndicator, Indicator
from leand.indicators.core import EMA, MACD, RSI, SMA, Maximum, Minimum, _Value, _Wilder, moving_average

# -- shared building blocks -----------------------------------------------------------------------------------


def _ma(kind: str, period: int, exact_zero: bool = False) -> Indicator:
    """LEAN's ``MovingAverageType.AsIndicator(period)`` for the types the oscillators use; ``exact_zero``: a
    simple average that is exactly 0 when its whole window is 0 (for the zero-divisor checks LEAN makes in
    exact decimal arithmetic, which a running float sum would miss by a rounding residue)."""
    if exact_zero and kind.lower() in ("simple", "sma"):
        return _ExactZeroSMA(period)
    return moving_average(kind, period)


class _Sum(Indicator):
    """LEAN's Sum: the sum of the last ``period`` inputs (of all inputs so far while warming up); exactly 0
    when every value in the window is 0 (no running-sum residue)."""

    __slots__ = ("_buf", "_i", "_nonzero", "_sum", "period")

    def __init__(self, period: int) -> None:
        super().__init__(f"SUM({period})", period)
        self.period = period
        self._buf = [0.0] * period
        self._i = 0
        self._sum = 0.0
        self._nonzero = 0

    def _compute(self, time: int, value: float) -> float:
        i = self._i
        old = self._buf[i]
        self._nonzero += (value != 0) - (old != 0)
        self._sum += value - old
        self._buf[i] = value
        self._i = (i + 1) % self.period
        if self._i == 0:  # once per period, recompute the sum to stop float drift
            self._sum = math.fsum(self._buf)
        if not self._nonzero:
            self._sum = 0.0
        return self._sum

    def reset(self) -> None:
        super().reset()
        self._buf = [0.0] * self.period
        self._i = 0
        self._sum = 0.0
        self._nonzero = 0


class _ExactZeroSMA(_Sum):
    """A simple moving average (core SMA's running sum, partial windows while warming up) that is exactly 0
    when every value in its window is 0."""

    __slots__ = ()

    def _compute(self, time: int, value: float) -> float:
        n = self.samples
        return super()._compute(time, value) / (n if n < self.period else self.period)


class _Extreme:
    """Rolling maximum over the last ``period`` values with LEAN's ``PeriodsSinceMaximum`` (ties: the newest);
    a monotone deque, O(1) amortised. Use ``sign=-1`` for the minimum."""

    __slots__ = ("_n", "_q", "period", "sign")

    def __init__(self, period: int, sign: float = 1.0) -> None:
        self.period = period
        self.sign = sign
        self._q: deque[tuple[int, float]] = deque()
        self._n = 0

    def add(self, value: float) -> tuple[float, int]:
        """Add ``value``; return (extreme, periods since it occurred)."""
        v = self.sign * value
        q = self._q
        n = self._n = self._n + 1
        while q and q[-1][1] <= v:
            q.pop()
        q.append((n, v))
        while q[0][0] <= n - self.period:
            q.popleft()
        return self.sign * q[0][1], n - q[0][0]

    def reset(self) -> None:
        self._q.clear()
        self._n = 0


class _OwnReady(Indicator):
    """Mixin: readiness comes from ``_ready()`` (a child's state) rather than a sample count, as in LEAN when
    a degenerate input (a zero range...) skips a child update."""

    __slots__ = ()

    def update(self, time: int, value: float) -> bool:
        self._time = time
        self.samples += 1
        if isinstance(self, BarIndicator):
            v = self._compute_bar(time, value, value, value, value, 0.0)
        else:
            v = self._compute(time, value)
        return self._emit(time, v)

    def _ready(self) -> bool:  # pragma: no cover - each indicator using the mixin says
        raise NotImplementedError

    def _emit(self, time: int, v: float) -> bool:
        self.value = v
        self.window.add(v)
        self.is_ready = ready = self._ready()
        for c in self._consumers:
            c.update(time, v)
        return ready


def _stoch(value: float, highest: float, lowest: float) -> float:
    """STC's stochastic step: 100·(value − lowest)/(highest − lowest), 0 when the range is not positive."""
    d = highest - lowest
    return (value - lowest) / d * 100.0 if d > 0 else 0.0


# -- Stochastic -----------------------------------------------------------------------------------------------


class Stochastic(_OwnReady, BarIndicator):
    """LEAN's Stochastic(period, k_period, d_period): the value is the fast %K; parts ``fast_stoch``, ``stoch_k``
    (slow %K, the k_period mean of fast %K) and ``stoch_d``; a bar with no high-low range gives fast %K 0 and
    is left out of the %K sum, as in LEAN."""

    __slots__ = ("_max", "_min", "_sum_fast", "_sum_slow", "d_period", "fast_stoch", "k_period", "period",
                 "stoch_d", "stoch_k")

    def __init__(self, period: int = 14, k_period: int = 3, d_period: int = 3) -> None:
        super().__init__(f"STO({period},{k_period},{d_period})", period + k_period + d_period - 2)
        self.period, self.k_period, self.d_period = period, k_period, d_period
        self._max = Maximum(period)
        self._min = Minimum(period)
        self._sum_fast = _Sum(k_period)
        self._sum_slow = _Sum(d_period)
        self.fast_stoch = _Value("fast_stoch")
        self.stoch_k = _Value("stoch_k")
        self.stoch_d = _Value("stoch_d")

    def _ready(self) -> bool:
        return self._sum_slow.is_ready

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        self._max.update(time, h)
        self._min.update(time, lo)
        fast = 0.0
        if self._max.is_ready:
            mn = self._min.value
            den = self._max.value - mn
            if den != 0:
                f = (c - mn) / den
                self._sum_fast.update(time, f)
                fast = f * 100.0
        k = 0.0
        if self._sum_fast.is_ready:
            k = self._sum_fast.value / self.k_period
            self._sum_slow.update(time, k)
        d = self._sum_slow.value / self.d_period if self._sum_slow.is_ready else 0.0
        self.fast_stoch.set(fast)
        self.stoch_k.set(k * 100.0)
        self.stoch_d.set(d * 100.0)
        return fast

    def reset(self) -> None:
        super().reset()
        for i in (self._max, self._min, self._sum_fast, self._sum_slow, self.fast_stoch, self.stoch_k,
                  self.stoch_d):
            i.reset()


class StochasticRelativeStrengthIndex(Indicator):
    """LEAN's StochRSI: the stochastic of the Wilder RSI over ``stoch_period``, smoothed into parts ``k`` and
    ``d``; as in LEAN the main value is the input price once the RSI window is full (0 before)."""

    __slots__ = ("_max", "_min", "_rsi", "d", "k", "stoch_period")

    def __init__(self, rsi_period: int = 14, stoch_period: int = 14, k_smoothing_period: int = 3,
                 d_smoothing_period: int = 3, moving_average_type: str = "simple") -> None:
        super().__init__(f"SRSI({rsi_period},{stoch_period},{k_smoothing_period},{d_smoothing_period})",
                         rsi_period + stoch_period + max(k_smoothing_period, d_smoothing_period))
        self.stoch_period = stoch_period
        self._rsi = RSI(rsi_period)
        self._max = Maximum(stoch_period)
        self._min = Minimum(stoch_period)
        self.k = _ma(moving_average_type, k_smoothing_period)
        self.d = _ma(moving_average_type, d_smoothing_period)

    def _compute(self, time: int, value: float) -> float:
        self._rsi.update(time, value)
        # LEAN's RSI is 100 on its first sample (no losses yet); feed that to the window as LEAN does
        r = self._rsi.value if self._rsi.samples > 1 else 100.0
        self._max.update(time, r)
        self._min.update(time, r)
        if not self._max.is_ready:
            return 0.0
        hi, lo = self._max.value, self._min.value
        k = 100.0 * (r - lo) / (hi - lo) if hi != lo else 100.0
        self.k.update(time, k)
        self.d.update(time, self.k.value)
        return value

    def reset(self) -> None:
        super().reset()
        for i in (self._rsi, self._max, self._min, self.k, self.d):
            i.reset()


class WilliamsPercentR(BarIndicator):
    """Williams %R: −100·(highest high − close)/(highest high − lowest low) over ``period`` bars, in [−100, 0];
    0 while warming up or when the range is zero (LEAN)."""

    __slots__ = ("_max", "_min", "period")

    def __init__(self, period: int = 14) -> None:
        super().__init__(f"WILR({period})", period)
        self.period = period
        self._max = Maximum(period)
        self._min = Minimum(period)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        self._min.update(time, lo)
        self._max.update(time, h)
        if not self._max.is_ready:
            return 0.0
        hi = self._max.value
        rng = hi - self._min.value
        return -100.0 * (hi - c) / rng if rng != 0 else 0.0

    def reset(self) -> None:
        super().reset()
        self._max.reset()
        self._min.reset()


class CommodityChannelIndex(BarIndicator):
    """CCI: (typical price − its mean)/(0.015 · mean absolute deviation) over ``period`` bars; LEAN: the mean
    deviation is 0 on the first bar and the CCI is 0 whenever it is 0. The deviation re-scans the window (the
    mean moves every bar, so no O(1) update exists)."""

    __slots__ = ("_buf", "_mean", "period", "typical_price_average")

    def __init__(self, period: int = 20, moving_average_type: str = "simple") -> None:
        super().__init__(f"CCI({period})", period)
        self.period = period
        self.typical_price_average = _ma(moving_average_type, period)
        self._mean = SMA(period)
        self._buf: deque[float] = deque(maxlen=period)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        tp = (h + lo + c) / 3.0
        self.typical_price_average.update(time, tp)
        self._mean.update(time, tp)
        buf = self._buf
        buf.append(tp)
        if self.samples < 2:
            return 0.0
        if max(buf) == min(buf):  # a flat window: LEAN's exact mean deviation is 0 (no float residue)
            return 0.0
        m = self._mean.value
        mad = sum(abs(x - m) for x in buf) / len(buf)
        w = 0.015 * mad
        if w == 0:
            return 0.0
        return (tp - self.typical_price_average.value) / w

    def reset(self) -> None:
        super().reset()
        self.typical_price_average.reset()
        self._mean.reset()
        self._buf.clear()


# -- directional movement -------------------------------------------------------------------------------------


class AverageDirectionalIndex(_OwnReady, BarIndicator):
    """LEAN's ADX: Wilder-summed TR/+DM/−DM (plain sums over bars 2..period+1, then s − s/period + x), parts
    ``positive_directional_index`` and ``negative_directional_index`` (+DI/−DI, 0 until period+1 bars), and
    the ADX as a Wilder average of DX; the value is 50 on bars where +DI + −DI is 0 (the ADX is not fed)."""

    __slots__ = ("_adx", "_pc", "_ph", "_pl", "_sdm", "_sdp", "_str", "negative_directional_index", "period",
                 "positive_directional_index")

    def __init__(self, period: int = 14) -> None:
        super().__init__(f"ADX({period})", 2 * period)
        self.period = period
        self._adx = _Wilder(period)
        self.positive_directional_index = _Value("positive_directional_index")
        self.negative_directional_index = _Value("negative_directional_index")
        self._ph: float | None = None
        self._pl = self._pc = 0.0
        self._str = self._sdp = self._sdm = 0.0

    def _ready(self) -> bool:
        return self._adx.is_ready

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        ph, pl, pc = self._ph, self._pl, self._pc
        if ph is None:
            tr = dmp = dmm = 0.0
        else:
            tr = max(h - lo, abs(h - pc), abs(lo - pc))
            up, down = h - ph, pl - lo
            dmp = up if (h > ph and up >= down) else 0.0
            dmm = down if (pl > lo and down > up) else 0.0
        p = self.period
        n = self.samples
        if n > p + 1:
            self._str = self._str + tr - self._str / p
            self._sdp = self._sdp + dmp - self._sdp / p
            self._sdm = self._sdm + dmm - self._sdm / p
        else:
            self._str += tr
            self._sdp += dmp
            self._sdm += dmm
        self._ph, self._pl, self._pc = h, lo, c
        pdi = ndi = 0.0
        if n > p and self._str != 0:
            pdi = 100.0 * self._sdp / self._str
            ndi = 100.0 * self._sdm / self._str
        self.positive_directional_index.set(pdi)
        self.negative_directional_index.set(ndi)
        s = pdi + ndi
        if s == 0:
            return 50.0
        self._adx.update(time, 100.0 * abs(pdi - ndi) / s)
        return self._adx.value

    def reset(self) -> None:
        super().reset()
        self._adx.reset()
        self.positive_directional_index.reset()
        self.negative_directional_index.reset()
        self._ph = None
        self._pl = self._pc = 0.0
        self._str = self._sdp = self._sdm = 0.0


class AverageDirectionalMovementIndexRating(_OwnReady, BarIndicator):
    """ADXR: (ADX + the ADX of period−1 ready bars ago)/2; 50 until ``period`` ready ADX values exist (LEAN)."""

    __slots__ = ("_hist", "adx", "period")

    def __init__(self, period: int = 14) -> None:
        super().__init__(f"ADXR({period})", 3 * period - 1)
        self.period = period
        self.adx = AverageDirectionalIndex(period)
        self._hist: deque[float] = deque(maxlen=period)

    def _ready(self) -> bool:
        return len(self._hist) == self.period

    def update_bar(self, bar) -> bool:
        self._time = bar.end_time
        self.samples += 1
        self.adx.update_bar(bar)
        return self._emit(bar.end_time, self._next())

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        self.adx.update(time, c)
        return self._next()

    def _next(self) -> float:
        a = self.adx
        if a.is_ready:
            self._hist.append(a.value)
        return (a.value + self._hist[0]) / 2.0 if len(self._hist) == self.period else 50.0

    def reset(self) -> None:
        super().reset()
        self.adx.reset()
        self._hist.clear()


class AroonOscillator(BarIndicator):
    """Aroon oscillator = ``aroon_up`` − ``aroon_down``; AroonUp = 100·(up_period − bars since the highest high
    of the last up_period+1 bars)/up_period (ties: the newest), AroonDown likewise with lows (LEAN)."""

    __slots__ = ("_max", "_min", "aroon_down", "aroon_up", "down_period", "up_period")

    def __init__(self, up_period: int = 14, down_period: int | None = None) -> None:
        down_period = up_period if down_period is None else down_period
        super().__init__(f"AROON({up_period},{down_period})", max(up_period, down_period) + 1)
        self.up_period, self.down_period = up_period, down_period
        self._max = _Extreme(up_period + 1)
        self._min = _Extreme(down_period + 1, -1.0)
        self.aroon_up = _Value("aroon_up")
        self.aroon_down = _Value("aroon_down")

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        up = 100.0 * (self.up_period - self._max.add(h)[1]) / self.up_period
        down = 100.0 * (self.down_period - self._min.add(lo)[1]) / self.down_period
        self.aroon_up.set(up)
        self.aroon_down.set(down)
        return up - down

    def reset(self) -> None:
        super().reset()
        for i in (self._max, self._min, self.aroon_up, self.aroon_down):
            i.reset()


# -- price oscillators ----------------------------------------------------------------------------------------


class AbsolutePriceOscillator(Indicator):
    """APO = fast MA − slow MA (simple by default). LEAN builds it as a MACD whose signal period is the slow
    period: parts ``fast``, ``slow``, ``signal`` (an MA of the APO once both MAs are ready) and ``histogram``;
    ready when the signal is (2·slow − 1 samples), though the value is meaningful from ``slow`` samples."""

    __slots__ = ("fast", "histogram", "signal", "slow")

    def __init__(self, fast_period: int = 12, slow_period: int = 26, moving_average_type: str = "simple") -> None:
        super().__init__(f"{self._tag()}({fast_period},{slow_period})", 2 * slow_period - 1)
        self.fast = _ma(moving_average_type, fast_period)
        self.slow = _ma(moving_average_type, slow_period)
        self.signal = _ma(moving_average_type, slow_period)
        self.histogram = _Value("histogram")

    @staticmethod
    def _tag() -> str:
        return "APO"

    def _compute(self, time: int, value: float) -> float:
        self.fast.update(time, value)
        self.slow.update(time, value)
        apo = self.fast.value - self.slow.value
        if self.fast.is_ready and self.slow.is_ready:
            self.signal.update(time, apo)
        self.histogram.set(apo - self.signal.value)
        return apo

    def reset(self) -> None:
        super().reset()
        for i in (self.fast, self.slow, self.signal, self.histogram):
            i.reset()


class PercentagePriceOscillator(AbsolutePriceOscillator):
    """PPO = 100·(fast MA − slow MA)/slow MA (0 when the slow MA is 0); LEAN's parts and readiness are the
    APO's (its ``signal`` smooths the APO difference, not the percentage)."""

    __slots__ = ()

    @staticmethod
    def _tag() -> str:
        return "PPO"

    def _compute(self, time: int, value: float) -> float:
        apo = super()._compute(time, value)
        s = self.slow.value
        return 100.0 * apo / s if s != 0 else 0.0


class ChandeMomentumOscillator(Indicator):
    """CMO = 100·(gain − loss)/(gain + loss), gain/loss Wilder-smoothed as in LEAN (the first value, at
    period+1 samples, uses plain means); 0 while warming up."""

    __slots__ = ("_gain", "_loss", "_prev", "period")

    def __init__(self, period: int = 14) -> None:
        super().__init__(f"CMO({period})", period + 1)
        self.period = period
        self._prev = self._gain = self._loss = 0.0

    def _compute(self, time: int, value: float) -> float:
        n = self.samples
        if n == 1:
            self._prev = value
            return 0.0
        d = value - self._prev
        self._prev = value
        p = self.period
        if n > p + 1:
            self._loss *= p - 1
            self._gain *= p - 1
        if d < 0:
            self._loss -= d
        else:
            self._gain += d
        if n <= p:
            return 0.0
        self._loss /= p
        self._gain /= p
        s = self._gain + self._loss
        return 100.0 * (self._gain - self._loss) / s if s != 0 else 0.0

    def reset(self) -> None:
        super().reset()
        self._prev = self._gain = self._loss = 0.0


class UltimateOscillator(BarIndicator):
    """Ultimate Oscillator: 100·(4·A1 + 2·A2 + A3)/7 with Ai = Σ buying pressure / Σ true range over period i;
    50 while warming up (max period + 1 bars) and the previous value when a true-range sum is 0 (LEAN)."""

    __slots__ = ("_bp", "_pc", "_tr", "period")

    def __init__(self, period1: int = 7, period2: int = 14, period3: int = 28) -> None:
        p = max(period1, period2, period3)
        super().__init__(f"ULTOSC({period1},{period2},{period3})", p + 1)
        self.period = p
        self._bp = (_Sum(period1), _Sum(period2), _Sum(period3))
        self._tr = (_Sum(period1), _Sum(period2), _Sum(period3))
        self._pc = 0.0

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        if self.samples == 1:
            self._pc = c
            return 50.0
        pc = self._pc
        tr = max(h - lo, abs(pc - h), abs(pc - lo))
        bp = c - min(lo, pc)
        for s in self._bp:
            s.update(time, bp)
        for s in self._tr:
            s.update(time, tr)
        self._pc = c
        if self.samples <= self.period:
            return 50.0
        t1, t2, t3 = (s.value for s in self._tr)
        if t1 == 0 or t2 == 0 or t3 == 0:
            return self.value
        b1, b2, b3 = (s.value for s in self._bp)
        return 100.0 * (4 * (b1 / t1) + 2 * (b2 / t2) + b3 / t3) / 7

    def reset(self) -> None:
        super().reset()
        for s in self._bp + self._tr:
            s.reset()
        self._pc = 0.0


class TrueStrengthIndex(Indicator):
    """TSI = 100·EMA_short(EMA_long(Δp))/EMA_short(EMA_long(|Δp|)), the short EMAs fed once the long ones are
    ready; 0 until long+short samples, the previous value when the denominator is 0; part ``signal`` (LEAN)."""

    __slots__ = ("_apc", "_apc2", "_pc", "_pc2", "_prev", "signal")

    def __init__(self, long_term_period: int = 25, short_term_period: int = 13, signal_period: int = 7,
                 signal_type: str = "exponential") -> None:
        super().__init__(f"TSI({long_term_period},{short_term_period})", long_term_period + short_term_period)
        self._pc = EMA(long_term_period)
        self._pc2 = EMA(short_term_period)
        self._apc = EMA(long_term_period)
        self._apc2 = EMA(short_term_period)
        self.signal = _ma(signal_type, signal_period)
        self._prev = 0.0

    def _compute(self, time: int, value: float) -> float:
        if self.samples == 1:
            self._prev = value
            return 0.0
        pc = value - self._prev
        self._prev = value
        self._pc.update(time, pc)
        self._apc.update(time, abs(pc))
        if self._pc.is_ready and self._apc.is_ready:
            self._pc2.update(time, self._pc.value)
            self._apc2.update(time, self._apc.value)
        if self.samples < self.warm_up_period:
            return 0.0
        den = self._apc2.value
        tsi = self.value if den == 0 else self._pc2.value / den * 100.0
        self.signal.update(time, tsi)
        return tsi

    def reset(self) -> None:
        super().reset()
        for i in (self._pc, self._pc2, self._apc, self._apc2, self.signal):
            i.reset()
        self._prev = 0.0


class _RateOfChange(Indicator):
    """LEAN's RateOfChange(period): a window of ``period`` inputs; while it fills (and one sample after) the
    base is the first input, then the input ``period`` samples back."""

    __slots__ = ("_q", "period")

    def __init__(self, period: int) -> None:
        super().__init__(f"ROC({period})", period)
        self.period = period
        self._q: deque[float] = deque(maxlen=period + 1)

    def _compute(self, time: int, value: float) -> float:
        q = self._q
        q.append(value)
        base = q[0]
        return (value - base) / base if base != 0 else 0.0

    def reset(self) -> None:
        super().reset()
        self._q.clear()


class KnowSureThing(Indicator):
    """KST = Σ i·MA_i(100·ROC_i) for i = 1..4, with part ``kst`` and part ``signal`` (an MA of the KST), both
    set once the signal MA is ready; the main value is the KST then (0 before), as LEAN's ``Current``."""

    __slots__ = ("_mas", "_rocs", "_signal_line", "kst", "signal")

    def __init__(self, roc1_period: int = 10, roc1_ma_period: int = 10, roc2_period: int = 15,
                 roc2_ma_period: int = 10, roc3_period: int = 20, roc3_ma_period: int = 10, roc4_period: int = 30,
                 roc4_ma_period: int = 15, signal_period: int = 9, moving_average_type: str = "simple") -> None:
        rocs = (roc1_period, roc2_period, roc3_period, roc4_period)
        mas = (roc1_ma_period, roc2_ma_period, roc3_ma_period, roc4_ma_period)
        # LEAN reports WarmUpPeriod 0; this is the sample count at which its IsReady turns true
        warm = max(max(r + m - 1 for r, m in zip(rocs, mas, strict=True)), signal_period)
        super().__init__(f"KST({','.join(map(str, (*rocs, *mas, signal_period)))})", warm)
        self._rocs = tuple(_RateOfChange(r) for r in rocs)
        self._mas = tuple(_ma(moving_average_type, m) for m in mas)
        self._signal_line = _ma(moving_average_type, signal_period)
        self.kst = _Value("kst")
        self.signal = _Value("signal")

    def _compute(self, time: int, value: float) -> float:
        kst = 0.0
        for w, (roc, ma) in enumerate(zip(self._rocs, self._mas, strict=True), 1):
            roc.update(time, value)
            if roc.is_ready:
                ma.update(time, 100.0 * roc.value)
            kst += w * ma.value
        sl = self._signal_line
        sl.update(time, kst)
        if not sl.is_ready:
            return 0.0
        self.kst.set(kst)
        self.signal.set(sl.value)
        return kst

    def reset(self) -> None:
        super().reset()
        for i in (*self._rocs, *self._mas, self._signal_line, self.kst, self.signal):
            i.reset()


class FisherTransform(BarIndicator):
    """Ehlers' Fisher transform of the median price (hl2) over ``period`` bars (LEAN: x = 0.66·(norm − 0.5) +
    0.67·x₋₁ clipped to ±0.999 inside the log, value = ½·ln((1+x)/(1−x)) + ½·value₋₁; 0 while warming up)."""

    __slots__ = ("_max", "_min", "_prev", "period")

    def __init__(self, period: int = 10) -> None:
        super().__init__(f"FISH({period})", period)
        self.period = period
        self._max = Maximum(period)
        self._min = Minimum(period)
        self._prev = 0.0

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        price = (lo + h) / 2.0
        self._min.update(time, price)
        self._max.update(time, price)
        if not self._max.is_ready:
            return 0.0
        mn, mx = self._min.value, self._max.value
        x = y = 0.0
        if mn != mx:
            x = 0.33 * 2 * ((price - mn) / (mx - mn) - 0.5) + (1 - 0.33) * self._prev
            xc = min(max(x, -0.999), 0.999)
            y = 0.5 * math.log((1.0 + xc) / (1.0 - xc))
        self._prev = x
        return y + 0.5 * self.value

    def reset(self) -> None:
        super().reset()
        self._max.reset()
        self._min.reset()
        self._prev = 0.0


class AwesomeOscillator(BarIndicator):
    """Awesome Oscillator: fast MA − slow MA of the median price (hl2), simple by default; 0 until both MAs
    are ready (LEAN)."""

    __slots__ = ("fast_ao", "slow_ao")

    def __init__(self, fast_period: int = 5, slow_period: int = 34, moving_average_type: str = "simple") -> None:
        super().__init__(f"AO({fast_period},{slow_period})", max(fast_period, slow_period))
        self.slow_ao = _ma(moving_average_type, slow_period)
        self.fast_ao = _ma(moving_average_type, fast_period)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        m = (h + lo) / 2.0
        self.slow_ao.update(time, m)
        self.fast_ao.update(time, m)
        return self.fast_ao.value - self.slow_ao.value if self.samples >= self.warm_up_period else 0.0

    def reset(self) -> None:
        super().reset()
        self.fast_ao.reset()
        self.slow_ao.reset()


class Vortex(BarIndicator):
    """Vortex: parts ``plus_vortex`` = Σ|H − L₋₁|/Σ TR and ``minus_vortex`` = Σ|L − H₋₁|/Σ TR over ``period``
    bars (the first bar's TR is H − L; parts set from the second bar, 0 for a zero TR sum); the value is their
    mean once ready, 0 before (LEAN)."""

    __slots__ = ("_minus", "_pc", "_ph", "_pl", "_plus", "_tr", "minus_vortex", "period", "plus_vortex")

    def __init__(self, period: int = 14) -> None:
        super().__init__(f"VTX({period})", period)
        self.period = period
        self._tr = _Sum(period)
        self._plus = _Sum(period)
        self._minus = _Sum(period)
        self._ph: float | None = None
        self._pl = self._pc = 0.0
        self.plus_vortex = _Value("plus_vortex")
        self.minus_vortex = _Value("minus_vortex")

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        ph = self._ph
        if ph is None:
            self._tr.update(time, h - lo)
        else:
            pl, pc = self._pl, self._pc
            self._tr.update(time, max(h - lo, abs(pc - h), abs(pc - lo)))
            self._plus.update(time, abs(h - pl))
            self._minus.update(time, abs(lo - ph))
            t = self._tr.value
            self.plus_vortex.set(self._plus.value / t if t != 0 else 0.0)
            self.minus_vortex.set(self._minus.value / t if t != 0 else 0.0)
        self._ph, self._pl, self._pc = h, lo, c
        if self.samples < self.period:
            return 0.0
        return (self.plus_vortex.value + self.minus_vortex.value) / 2.0

    def reset(self) -> None:
        super().reset()
        for i in (self._tr, self._plus, self._minus, self.plus_vortex, self.minus_vortex):
            i.reset()
        self._ph = None
        self._pl = self._pc = 0.0


class ChoppinessIndex(BarIndicator):
    """Choppiness: 100·log10(Σ TR / (highest high − lowest low))/log10(period) over ``period`` bars (the first
    bar's TR is H − L); 100 for a zero range, 0 while warming up (LEAN)."""

    __slots__ = ("_max", "_min", "_pc", "_tr", "period")

    def __init__(self, period: int = 14) -> None:
        super().__init__(f"CHOP({period})", period)
        self.period = period
        self._tr = _Sum(period)
        self._max = Maximum(period)
        self._min = Minimum(period)
        self._pc: float | None = None

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        pc = self._pc
        self._tr.update(time, h - lo if pc is None else max(h - lo, abs(pc - h), abs(pc - lo)))
        self._pc = c
        self._max.update(time, h)
        self._min.update(time, lo)
        if self.samples < self.period:
            return 0.0
        mx, mn = self._max.value, self._min.value
        if mx == mn:
            return 100.0
        return 100.0 * math.log10(self._tr.value / (mx - mn)) / math.log10(self.period)

    def reset(self) -> None:
        super().reset()
        for i in (self._tr, self._max, self._min):
            i.reset()
        self._pc = None


class MassIndex(BarIndicator):
    """Mass Index: Σ over ``sum_period`` of EMA(H − L)/EMA(EMA(H − L)), the outer EMA fed once the inner is
    ready; the value is ``sum_period`` until the sum is ready (LEAN). A zero double-EMA (flat bars, where LEAN
    would divide by zero) counts as a ratio of 1."""

    __slots__ = ("_ema1", "_ema2", "_sum", "sum_period")

    def __init__(self, ema_period: int = 9, sum_period: int = 25) -> None:
        super().__init__(f"MASS({ema_period},{sum_period})", 2 * (ema_period - 1) + sum_period)
        self.sum_period = sum_period
        self._ema1 = EMA(ema_period)
        self._ema2 = EMA(ema_period)
        self._sum = _Sum(sum_period)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        if self._ema1.update(time, h - lo):
            self._ema2.update(time, self._ema1.value)
        if self._ema2.is_ready:
            e2 = self._ema2.value
            self._sum.update(time, self._ema1.value / e2 if e2 != 0 else 1.0)
        return self._sum.value if self._sum.is_ready else float(self.sum_period)

    def reset(self) -> None:
        super().reset()
        for i in (self._ema1, self._ema2, self._sum):
            i.reset()


class BalanceOfPower(BarIndicator):
    """Balance of Power: (close − open)/(high − low), 0 for a bar without range (LEAN)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("BOP", 1)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        rng = h - lo
        return (c - o) / rng if rng > 0 else 0.0


class SchaffTrendCycle(Indicator):
    """Schaff Trend Cycle: a stochastic (over ``cycle_period``) of the MACD, smoothed by an EMA(3), then a
    stochastic of that, smoothed again by an EMA(3) (LEAN; all stages run from the first sample; ready with
    the MACD, slow + cycle − 1 samples)."""

    __slots__ = ("_d", "_macd", "_max", "_max_d", "_min", "_min_d", "_pff")

    def __init__(self, cycle_period: int = 10, fast_period: int = 23, slow_period: int = 50,
                 moving_average_type: str = "exponential") -> None:
        self._macd = MACD(fast_period, slow_period, cycle_period, moving_average_type)
        super().__init__(f"STC({cycle_period},{fast_period},{slow_period})", self._macd.warm_up_period)
        self._max = Maximum(cycle_period)
        self._min = Minimum(cycle_period)
        self._d = _ma(moving_average_type, 3)
        self._max_d = Maximum(cycle_period)
        self._min_d = Minimum(cycle_period)
        self._pff = _ma(moving_average_type, 3)

    def _compute(self, time: int, value: float) -> float:
        self._macd.update(time, value)
        m = self._macd.value
        self._max.update(time, m)
        self._min.update(time, m)
        self._d.update(time, _stoch(m, self._max.value, self._min.value))
        d = self._d.value
        self._max_d.update(time, d)
        self._min_d.update(time, d)
        self._pff.update(time, _stoch(d, self._max_d.value, self._min_d.value))
        return self._pff.value

    def reset(self) -> None:
        super().reset()
        for i in (self._macd, self._max, self._min, self._d, self._max_d, self._min_d, self._pff):
            i.reset()


class InternalBarStrength(BarIndicator):
    """Internal Bar Strength: (close − low)/(high − low); 1 for a bar without range (LEAN)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("IBS", 1)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        return 1.0 if h == lo else (c - lo) / (h - lo)


class RelativeVigorIndex(BarIndicator):
    """Relative Vigor Index: MA of the 1-2-2-1 weighted (close − open) over MA of the weighted (high − low),
    from the fourth bar; 0 while warming up (period + 3 bars) or for a zero range average; part ``signal`` is
    the 1-2-2-1 weighted mean of the last four RVI values (0 until four exist) (LEAN)."""

    __slots__ = ("_bars", "_close_band", "_range_band", "_rvis", "signal")

    def __init__(self, period: int = 10, moving_average_type: str = "simple") -> None:
        super().__init__(f"RVI({period})", period + 3)
        self._close_band = _ma(moving_average_type, period)
        self._range_band = _ma(moving_average_type, period, exact_zero=True)
        self._bars: deque[tuple[float, float]] = deque(maxlen=3)  # (close − open, high − low), newest last
        self._rvis: deque[float] = deque(maxlen=3)
        self.signal = _Value("signal")

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        a, e = c - o, h - lo
        bars = self._bars
        out = 0.0
        if len(bars) == 3:
            (d, hh), (cc, g), (b, f) = bars
            self._close_band.update(time, (a + 2 * (b + cc) + d) / 6)
            self._range_band.update(time, (e + 2 * (f + g) + hh) / 6)
            rb = self._range_band.value
            if self._close_band.is_ready and self._range_band.is_ready and rb != 0:
                out = self._close_band.value / rb
                r = self._rvis
                if len(r) == 3:
                    self.signal.set((out + 2 * (r[2] + r[1]) + r[0]) / 6)
                else:
                    self.signal.set(0.0)
                r.append(out)
        bars.append((a, e))
        return out

    def reset(self) -> None:
        super().reset()
        for i in (self._close_band, self._range_band, self.signal):
            i.reset()
        self._bars.clear()
        self._rvis.clear()


class DeMarkerIndicator(BarIndicator):
    """DeMarker: MA(DeMax)/(MA(DeMax) + MA(DeMin)) with DeMax = max(H − H₋₁, 0), DeMin = max(L₋₁ − L, 0)
    (both 0 on the first bar); 0 while warming up or when both averages are 0 (LEAN)."""

    __slots__ = ("_last_high", "_last_low", "_max_ma", "_min_ma")

    def __init__(self, period: int = 14, moving_average_type: str = "simple") -> None:
        super().__init__(f"DEM({period})", period)
        self._max_ma = _ma(moving_average_type, period, exact_zero=True)
        self._min_ma = _ma(moving_average_type, period, exact_zero=True)
        self._last_high = self._last_low = 0.0

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        de_max = de_min = 0.0
        if self.samples > 1:
            de_max = max(h - self._last_high, 0.0)
            de_min = max(self._last_low - lo, 0.0)
        self._max_ma.update(time, de_max)
        self._min_ma.update(time, de_min)
        self._last_high, self._last_low = h, lo
        if self.samples < self.warm_up_period:
            return 0.0
        mx = self._max_ma.value
        s = mx + self._min_ma.value
        return mx / s if s > 0 else 0.0

    def reset(self) -> None:
        super().reset()
        self._max_ma.reset()
        self._min_ma.reset()
        self._last_high = self._last_low = 0.0


class PremierStochasticOscillator(BarIndicator):
    """Premier Stochastic: tanh(EMA(EMA(0.1·(fast %K − 50))) / 2) written as (e^s − 1)/(e^s + 1), the fast %K
    over ``period`` bars (0 for a zero range), the outer EMA fed once the inner is ready; 0 while warming up
    (period + 2·(ema_period − 1) bars) (LEAN)."""

    __slots__ = ("_ema1", "_ema2", "_max", "_min")

    def __init__(self, period: int = 8, ema_period: int = 5) -> None:
        super().__init__(f"PSO({period},{ema_period})", period + 2 * (ema_period - 1))
        self._max = Maximum(period)
        self._min = Minimum(period)
        self._ema1 = EMA(ema_period)
        self._ema2 = EMA(ema_period)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        self._max.update(time, h)
        self._min.update(time, lo)
        if not self._max.is_ready:
            return 0.0
        mn = self._min.value
        den = self._max.value - mn
        k = (c - mn) / den * 100.0 if den != 0 else 0.0
        if not self._ema1.update(time, 0.1 * (k - 50.0)):
            return 0.0
        if not self._ema2.update(time, self._ema1.value):
            return 0.0
        e = math.exp(self._ema2.value)
        return (e - 1.0) / (e + 1.0)

    def reset(self) -> None:
        super().reset()
        for i in (self._max, self._min, self._ema1, self._ema2):
            i.reset()


REGISTRY_PART: dict[str, type] = {
    "stoch": Stochastic,
    "srsi": StochasticRelativeStrengthIndex,
    "willr": WilliamsPercentR,
    "cci": CommodityChannelIndex,
    "adx": AverageDirectionalIndex,
    "adxr": AverageDirectionalMovementIndexRating,
    "aroon": AroonOscillator,
    "ppo": PercentagePriceOscillator,
    "apo": AbsolutePriceOscillator,
    "cmo": ChandeMomentumOscillator,
    "ultosc": UltimateOscillator,
    "tsi": TrueStrengthIndex,
    "kst": KnowSureThing,
    "fisher": FisherTransform,
    "ao": AwesomeOscillator,
    "vtx": Vortex,
    "chop": ChoppinessIndex,
    "mass": MassIndex,
    "bop": BalanceOfPower,
    "stc": SchaffTrendCycle,
    "ibs": InternalBarStrength,
    "rvi": RelativeVigorIndex,
    "dem": DeMarkerIndicator,
    "pso": PremierStochasticOscillator,
}
