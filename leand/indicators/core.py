"""Core indicators the strategy API names (LEAN semantics): SMA, EMA, MACD, RSI, Bollinger Bands,
Maximum, Minimum, ATR."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from leand.indicators.base import Indicator, close


def exact_row_sums(rows: np.ndarray) -> np.ndarray:
    """``math.fsum`` of each row, bit for bit. When every value is nonzero, finite and within a few binades
    of the others (prices), each is an integer multiple of the smallest value's unit in the last place, the
    multiples of a row add up exactly in int64 and one conversion rounds the sum correctly, as fsum does;
    other rows are fsum'd one by one."""
    n, p = rows.shape
    if n == 0:
        return np.empty(0, np.float64)
    mag = np.abs(rows)
    lo, hi = float(mag.min()), float(mag.max())
    if lo > 0.0 and math.isfinite(hi):
        e_lo = math.frexp(lo)[1]
        if math.frexp(hi)[1] - e_lo <= 62 - 53 - (p - 1).bit_length() and e_lo - 53 > -1021:
            # exact: scaling by a power of two (a product, not np.ldexp, which calls libm per element: the same
            # bits while the results are normal floats, which the bounds above make sure of)
            units = (rows * (2.0 ** (53 - e_lo))).astype(np.int64)
            return units.sum(axis=1).astype(np.float64) * (2.0 ** (e_lo - 53))
    return np.array(list(map(math.fsum, rows.tolist())), np.float64)


class SMA(Indicator):
    __slots__ = ("_buf", "_feed", "_i", "_sum", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"SMA({period})", period)
        self.period = period
        self._buf = [0.0] * period
        self._i = 0
        self._sum = 0.0
        #: while the engine feeds it a run of bars from a day's close column: that run (see FedSMA)
        self._feed: Any = None

    def _compute(self, time: int, value: float) -> float:
        i = self._i
        self._sum += value - self._buf[i]
        self._buf[i] = value
        self._i = (i + 1) % self.period
        if self._i == 0:  # once per period, recompute the sum to stop float drift
            self._sum = math.fsum(self._buf)
        n = self.samples if self.samples < self.period else self.period
        return self._sum / n

    def update(self, time: int, value: float) -> bool:
        """``Indicator.update`` inlined: the simple averages are the hottest indicators there are."""
        self._time = time
        n = self.samples = self.samples + 1
        period = self.period
        i = self._i
        buf = self._buf
        s = self._sum + value - buf[i]
        buf[i] = value
        i += 1
        if i == period:
            i = 0
            s = math.fsum(buf)
        self._i = i
        self._sum = s
        self.value = v = s / (n if n < period else period)
        w = self.window
        h = w._head + 1
        if h == w.size:
            h = 0
        w._head = h
        w._buf[h] = v
        if w._count < w.size:
            w._count += 1
        self.is_ready = ready = n >= period
        if self._consumers:
            for c in self._consumers:
                c.update(time, v)
        return ready

    def update_bar(self, bar: Any) -> bool:
        """The per-bar path in one call (selector, running sum, window, consumers): this runs on every bar."""
        self._time = bar.end_time
        value = bar.close if self.selector is close else self.selector(bar)
        n = self.samples = self.samples + 1
        period = self.period
        i = self._i
        buf = self._buf
        self._sum += value - buf[i]
        buf[i] = value
        i += 1
        if i == period:
            i = 0
            self._sum = math.fsum(buf)
        self._i = i
        self.value = v = self._sum / (n if n < period else period)
        w = self.window
        h = w._head + 1
        if h == w.size:
            h = 0
        w._head = h
        w._buf[h] = v
        if w._count < w.size:
            w._count += 1
        self.is_ready = ready = n >= period
        if self._consumers:
            for c in self._consumers:
                c.update(bar.end_time, v)
        return ready

    def reset(self) -> None:
        super().reset()
        self._buf = [0.0] * self.period
        self._i = 0
        self._sum = 0.0

    # -- a run of closes at once (the engine's columnar bars) ----------------------------------------------
    def bar_outputs(self, closes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values, running sums) after each of ``len(closes)`` successive ``update_bar`` calls with these
        closes, bit for bit, without changing the indicator. Between two re-summations (every ``period``
        updates, exact ``math.fsum``) the running sum is a chain of float additions; the chains of all the
        spans run side by side as one sequential ``np.add.accumulate`` along the rows of a (spans, period)
        array, so each addition is the very IEEE operation the per-bar path makes."""
        p = self.period
        x = np.asarray(closes, dtype=np.float64)
        m = len(x)
        i0 = self._i
        buf = self._buf
        older = np.array(buf[i0:] + buf[:i0], np.float64)  # the p values before, oldest first
        d = x - (older[:m] if m <= p else np.concatenate([older, x[:m - p]]))  # each update's addend
        sums = np.empty(m, np.float64)
        q = min(p - i0, m)  # the updates up to the first re-summation
        s = self._sum
        for k, dk in enumerate(d[:q].tolist()):
            s += dk
            sums[k] = s
        if q == p - i0:
            sums[q - 1] = s = math.fsum(older[q:].tolist() + x[:q].tolist())
        rest = m - q
        if rest > 0:
            spans = -(-rest // p)
            full = rest // p
            resums = exact_row_sums(x[q:q + full * p].reshape(full, p))  # the sum that ends each whole span
            # one span a row: its start (the previous span's re-summation), then its first p - 1 addends
            flat = np.zeros(spans * p + 1, np.float64)
            flat[1:rest + 1] = d[q:]
            flat[0] = s
            flat[p:spans * p:p] = resums[:spans - 1]
            chain = flat[:spans * p].reshape(spans, p)
            if spans >= p:  # many short chains: step k of every span in one vector addition (the same
                steps = chain.T  # additions in the same order; accumulate loops over the rows, 2-4x slower)
                for k in range(1, p):
                    np.add(steps[k], steps[k - 1], out=steps[k])
            else:
                np.add.accumulate(chain, axis=1, out=chain)
            flat[spans * p] = 0.0
            after = flat[1:]  # after[k]: the running sum after update q + k, where k + 1 is not a span's end
            after[p - 1:full * p:p] = resums
            sums[q:] = after[:rest]
        n0 = self.samples
        if n0 >= p:
            return sums / p, sums
        return sums / np.minimum(np.arange(n0 + 1, n0 + m + 1), p), sums

    def absorb_bars(self, closes: np.ndarray, sums: np.ndarray, values: list[float], rows: int,
                    end_time: int) -> None:
        """Take the state ``rows`` successive ``update_bar`` calls with ``closes[:rows]`` leave (``sums`` from
        :meth:`bar_outputs`, ``values`` its last values, at least as many as the window holds or ``rows``),
        the last bar ending at ``end_time``; ``value`` and ``is_ready`` are left as they are (the engine sets
        them bar by bar)."""
        if rows <= 0:
            return
        p = self.period
        i0 = self._i
        buf = self._buf
        older = buf[i0:] + buf[:i0]
        tail = (older + closes[max(0, rows - p):rows].tolist())[-p:]  # the last p values, oldest first
        for k, v in enumerate(tail):
            buf[(i0 + rows + k) % p] = v
        self._i = (i0 + rows) % p
        self._sum = float(sums[rows - 1])
        self.samples += rows
        self._time = end_time
        w = self.window
        w.add_many(values[max(0, len(values) - w.size):], rows)


class EMA(Indicator):
    """LEAN's EMA: the first value is the SMA of the first ``period`` inputs, then k = 2/(period+1)."""

    __slots__ = ("_k", "_k1", "_sum", "period")

    def __init__(self, period: int, smoothing: float | None = None, name: str | None = None) -> None:
        super().__init__(name or f"EMA({period})", period)
        self.period = period
        self._k = smoothing if smoothing is not None else 2.0 / (period + 1)
        self._k1 = 1.0 - self._k
        self._sum = 0.0

    def _compute(self, time: int, value: float) -> float:
        n = self.samples
        if n <= self.period:
            self._sum += value
            return self._sum / n
        return value * self._k + self.value * self._k1

    def update(self, time: int, value: float) -> bool:
        """``Indicator.update`` inlined: the simple averages are the hottest indicators there are."""
        self._time = time
        n = self.samples = self.samples + 1
        if n <= self.period:
            self._sum += value
            v = self._sum / n
        else:
            v = value * self._k + self.value * self._k1
        self.value = v
        w = self.window
        h = w._head + 1
        if h == w.size:
            h = 0
        w._head = h
        w._buf[h] = v
        if w._count < w.size:
            w._count += 1
        self.is_ready = ready = n >= self.period
        if self._consumers:
            for c in self._consumers:
                c.update(time, v)
        return ready

    def update_bar(self, bar: Any) -> bool:
        self._time = bar.end_time
        return self.update(bar.end_time, bar.close if self.selector is close else self.selector(bar))

    def reset(self) -> None:
        super().reset()
        self._sum = 0.0


class MACD(Indicator):
    __slots__ = ("fast", "histogram", "signal", "slow")

    def __init__(self, fast: int, slow: int, signal: int, moving_average_type: str = "exponential") -> None:
        super().__init__(f"MACD({fast},{slow},{signal})", slow + signal - 1)
        ma = EMA if moving_average_type in ("exponential", "ema") else SMA
        self.fast = ma(fast)
        self.slow = ma(slow)
        self.signal = ma(signal)
        self.histogram = _Value("histogram")

    def _compute(self, time: int, value: float) -> float:
        self.fast.update(time, value)
        self.slow.update(time, value)
        macd = self.fast.value - self.slow.value
        if self.fast.is_ready and self.slow.is_ready:
            self.signal.update(time, macd)
        self.histogram.set(macd - self.signal.value)
        return macd

    def reset(self) -> None:
        super().reset()
        for i in (self.fast, self.slow, self.signal, self.histogram):
            i.reset()


class _Value(Indicator):
    """A named output of a multi-output indicator."""

    __slots__ = ()

    def __init__(self, name: str) -> None:
        super().__init__(name, 1)

    def set(self, v: float) -> None:
        self.samples += 1
        self.value = v
        self.window.add(v)


class RSI(Indicator):
    """Relative Strength Index; ``moving_average_type`` 'wilders' (LEAN's default) or 'simple'."""

    __slots__ = ("_down", "_prev", "_up", "kind", "period")

    def __init__(self, period: int, moving_average_type: str = "wilders") -> None:
        super().__init__(f"RSI({period})", period + 1)
        self.period = period
        self.kind = moving_average_type
        self._prev: float | None = None
        self._up: Indicator = _Wilder(period) if moving_average_type == "wilders" else SMA(period)
        self._down: Indicator = _Wilder(period) if moving_average_type == "wilders" else SMA(period)

    def _compute(self, time: int, value: float) -> float:
        prev = self._prev
        self._prev = value
        if prev is None:
            return 100.0  # LEAN: no loss averaged yet reads as 100
        d = value - prev
        self._up.update(time, d if d > 0 else 0.0)
        self._down.update(time, -d if d < 0 else 0.0)
        down = self._down.value
        if down == 0:
            return 100.0
        return 100.0 - 100.0 / (1 + self._up.value / down)

    def reset(self) -> None:
        super().reset()
        self._prev = None
        self._up.reset()
        self._down.reset()


class _Wilder(Indicator):
    __slots__ = ("_sum", "period")

    def __init__(self, period: int) -> None:
        super().__init__(f"WWMA({period})", period)
        self.period = period
        self._sum = 0.0

    def _compute(self, time: int, value: float) -> float:
        n = self.samples
        if n <= self.period:
            self._sum += value
            return self._sum / n
        return (self.value * (self.period - 1) + value) / self.period

    def reset(self) -> None:
        super().reset()
        self._sum = 0.0


class StandardDeviation(Indicator):
    __slots__ = ("_q", "_s", "_s2", "period")

    def __init__(self, period: int) -> None:
        super().__init__(f"STD({period})", period)
        self.period = period
        self._q: deque[float] = deque()
        self._s = 0.0
        self._s2 = 0.0

    def _compute(self, time: int, value: float) -> float:
        q = self._q
        q.append(value)
        self._s += value
        self._s2 += value * value
        if len(q) > self.period:
            old = q.popleft()
            self._s -= old
            self._s2 -= old * old
        n = len(q)
        m = self._s / n
        return math.sqrt(max(self._s2 / n - m * m, 0.0))  # population, as LEAN's StandardDeviation

    def reset(self) -> None:
        super().reset()
        self._q.clear()
        self._s = self._s2 = 0.0


class BollingerBands(Indicator):
    __slots__ = ("k", "lower_band", "middle_band", "period", "standard_deviation", "upper_band")

    def __init__(self, period: int, k: float, moving_average_type: str = "simple") -> None:
        super().__init__(f"BB({period},{k})", period)
        self.period = period
        self.k = k
        self.middle_band = SMA(period) if moving_average_type == "simple" else EMA(period)
        self.standard_deviation = StandardDeviation(period)
        self.upper_band = _Value("upper_band")
        self.lower_band = _Value("lower_band")

    def _compute(self, time: int, value: float) -> float:
        self.middle_band.update(time, value)
        self.standard_deviation.update(time, value)
        m, sd = self.middle_band.value, self.standard_deviation.value
        self.upper_band.set(m + self.k * sd)
        self.lower_band.set(m - self.k * sd)
        return m

    def reset(self) -> None:
        super().reset()
        for i in (self.middle_band, self.standard_deviation, self.upper_band, self.lower_band):
            i.reset()


class Maximum(Indicator):
    __slots__ = ("_q", "period")

    def __init__(self, period: int) -> None:
        super().__init__(f"MAX({period})", period)
        self.period = period
        self._q: deque[tuple[int, float]] = deque()  # monotone queue of (sample index, value)

    def update_bar(self, bar: Any) -> bool:
        self._time = bar.end_time
        return self.update(bar.end_time, bar.high)

    def _compute(self, time: int, value: float) -> float:
        q = self._q
        n = self.samples
        while q and q[-1][1] <= value:
            q.pop()
        q.append((n, value))
        while q[0][0] <= n - self.period:
            q.popleft()
        return q[0][1]

    def reset(self) -> None:
        super().reset()
        self._q.clear()


class Minimum(Maximum):
    __slots__ = ()

    def __init__(self, period: int) -> None:
        super().__init__(period)
        self.name = f"MIN({period})"

    def update_bar(self, bar: Any) -> bool:
        self._time = bar.end_time
        return self.update(bar.end_time, bar.low)

    def _compute(self, time: int, value: float) -> float:
        return -super()._compute(time, -value)


def true_range(prev_close: float | None, high: float, low: float) -> float:
    """max(high − low, |high − previous close|, |low − previous close|); high − low for the first bar."""
    if prev_close is None:
        return high - low
    return max(high - low, abs(high - prev_close), abs(low - prev_close))


class ATR(Indicator):
    __slots__ = ("_ma", "_prev_close", "period")

    def __init__(self, period: int, moving_average_type: str = "wilders") -> None:
        super().__init__(f"ATR({period})", period)
        self.period = period
        self._ma: Indicator = _Wilder(period) if moving_average_type == "wilders" else SMA(period)
        self._prev_close: float | None = None

    def update_bar(self, bar: Any) -> bool:
        self._time = bar.end_time
        return self.update_hlc(bar.end_time, bar.high, bar.low, bar.close)

    def update_hlc(self, time: int, high: float, low: float, close: float) -> bool:
        """One bar given as numbers (what composites such as Keltner channels hold)."""
        tr = true_range(self._prev_close, high, low)
        self._prev_close = close
        return self.update(time, tr)

    def _compute(self, time: int, value: float) -> float:
        self._ma.update(time, value)
        return self._ma.value

    def reset(self) -> None:
        super().reset()
        self._ma.reset()
        self._prev_close = None


def moving_average(kind: str, period: int) -> Indicator:
    """LEAN's ``MovingAverageType.AsIndicator(period)`` for the kinds leand's indicators compose."""
    k = kind.lower()
    if k in ("simple", "sma"):
        return SMA(period)
    if k in ("exponential", "ema"):
        return EMA(period)
    if k in ("wilders", "wilder"):
        return _Wilder(period)
    raise ValueError(f"unsupported moving average type {kind!r}; expected simple, exponential or wilders")
