"""Volume indicators (LEAN semantics): OBV, Accumulation/Distribution and its oscillator, Money Flow Index,
VWAP (daily-reset and rolling), VWMA, Chaikin Money Flow, Force Index, Ease of Movement, Klinger, smoothed
OBV."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from leand.indicators.base import BarIndicator
from leand.indicators.core import EMA, SMA
from leand.indicators.core import moving_average as _ma

_DAY_NS = 86_400_000_000_000




class _Sum:
    """Rolling sum of the last ``period`` values (of all so far while warming up): a ring buffer and a running
    total; ``count`` says how many values it has seen."""

    __slots__ = ("_buf", "_i", "count", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = period
        self._buf = [0.0] * period
        self._i = 0
        self.count = 0
        self.value = 0.0

    def add(self, x: float) -> float:
        i = self._i
        buf = self._buf
        self.value += x - buf[i]
        buf[i] = x
        i += 1
        if i == self.period:  # once per period, recompute the total to stop float drift
            i = 0
            self.value = math.fsum(buf)
        self._i = i
        self.count += 1
        return self.value

    @property
    def is_ready(self) -> bool:
        return self.count >= self.period

    def reset(self) -> None:
        self._buf = [0.0] * self.period
        self._i = 0
        self.count = 0
        self.value = 0.0


class OnBalanceVolume(BarIndicator):
    """On Balance Volume, starting at the first bar's volume (LEAN).

    On Balance Volume: starts at the first bar's volume, then adds (subtracts) the volume of each bar whose
    close is above (below) the previous close (LEAN)."""

    __slots__ = ("_prev_close",)

    def __init__(self, name: str = "OBV") -> None:
        super().__init__(name, 1)
        self._prev_close: float | None = None

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        pc = self._prev_close
        self._prev_close = c
        if pc is None:
            return v
        if c > pc:
            return self.value + v
        if c < pc:
            return self.value - v
        return self.value

    def reset(self) -> None:
        super().reset()
        self._prev_close = None


class AccumulationDistribution(BarIndicator):
    """Accumulation/Distribution line: running sum of ((C-L)-(H-C))/(H-L)·volume (0 for a flat bar)."""

    __slots__ = ()

    def __init__(self, name: str = "AD") -> None:
        super().__init__(name, 1)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        rng = h - lo
        return self.value + (((c - lo) - (h - c)) / rng * v if rng > 0 else 0.0)


class AccumulationDistributionOscillator(BarIndicator):
    """Chaikin A/D oscillator: EMA(fast) - EMA(slow) of the A/D line; 0 until max(fast, slow) bars (LEAN)."""

    __slots__ = ("_ad", "_fast", "_slow")

    def __init__(self, fast_period: int, slow_period: int, name: str | None = None) -> None:
        super().__init__(name or f"ADOSC({fast_period},{slow_period})", max(fast_period, slow_period))
        self._ad = AccumulationDistribution()
        self._fast = EMA(fast_period)
        self._slow = EMA(slow_period)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        ad = self._ad
        ad.samples += 1
        ad._emit(time, ad._compute_bar(time, o, h, lo, c, v))
        self._fast.update(time, ad.value)
        self._slow.update(time, ad.value)
        return self._fast.value - self._slow.value if self.samples >= self.warm_up_period else 0.0

    def reset(self) -> None:
        super().reset()
        self._ad.reset()
        self._fast.reset()
        self._slow.reset()


class MoneyFlowIndex(BarIndicator):
    """Money Flow Index; as LEAN the previous typical price starts at 0 and no flow at all gives 100.

    Money Flow Index over ``period`` bars; as in LEAN the previous typical price starts at 0 (so the first
    bar's flow counts as positive) and the value is 100 when there is no money flow at all."""

    __slots__ = ("_prev_tp", "negative_money_flow", "positive_money_flow")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"MFI({period})", period)
        self.positive_money_flow = _Sum(period)
        self.negative_money_flow = _Sum(period)
        self._prev_tp = 0.0

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        tp = (h + lo + c) / 3.0
        mf = tp * v
        prev = self._prev_tp
        self._prev_tp = tp
        pos = self.positive_money_flow.add(mf if tp > prev else 0.0)
        neg = self.negative_money_flow.add(mf if tp < prev else 0.0)
        total = pos + neg
        if total == 0.0:
            return 100.0
        return 100.0 * pos / total

    def reset(self) -> None:
        super().reset()
        self.positive_money_flow.reset()
        self.negative_money_flow.reset()
        self._prev_tp = 0.0


class IntradayVwap(BarIndicator):
    """LEAN's IntradayVwap (the algorithm's VWAP): typical-price VWAP reset at each calendar day of tz.

    LEAN's IntradayVwap (what the algorithm's ``VWAP(symbol)`` returns): Σ typical price·volume / Σ volume
    since the first bar of the current day, typical price (H+L+C)/3; the day is the calendar date of
    ``end_time`` in ``tz`` (default UTC; LEAN uses the exchange time zone, e.g. "America/New_York"); the
    close while the day has no volume; ready once the day has volume."""

    __slots__ = ("_day_end", "_day_start", "_spv", "_sv", "_tz")

    def __init__(self, tz: str | None = None, name: str = "VWAP") -> None:
        super().__init__(name, 1)
        self._tz = ZoneInfo(tz) if tz else None
        self._day_start = 0
        self._day_end = -1
        self._spv = 0.0
        self._sv = 0.0

    def update_bar(self, bar: Any) -> bool:
        self._time = bar.end_time
        super().update_bar(bar)
        self.is_ready = self._sv > 0
        return self.is_ready

    def update(self, time: int, value: float) -> bool:
        self._time = time
        super().update(time, value)
        self.is_ready = self._sv > 0
        return self.is_ready

    def _new_day(self, time: int) -> None:
        """Bounds [start, end) in ns of the local calendar day holding ``time``: recomputed once a day."""
        tz = self._tz
        if tz is None:
            start = time // _DAY_NS * _DAY_NS
            self._day_start, self._day_end = start, start + _DAY_NS
            return
        d = datetime.fromtimestamp(time // 1_000_000_000, tz).date()
        midnight = datetime(d.year, d.month, d.day, tzinfo=tz)
        end = datetime.combine(d + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        self._day_start = int(midnight.timestamp()) * 1_000_000_000
        self._day_end = int(end.timestamp()) * 1_000_000_000

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        if not self._day_start <= time < self._day_end:
            self._new_day(time)
            self._spv = self._sv = 0.0
        self._sv += v
        self._spv += (h + lo + c) / 3.0 * v
        if self._sv == 0.0:
            return c
        return self._spv / self._sv

    def reset(self) -> None:
        super().reset()
        self._day_start = 0
        self._day_end = -1
        self._spv = self._sv = 0.0


class VolumeWeightedAveragePriceIndicator(BarIndicator):
    """LEAN's rolling VWAP(period) of (O+H+L+C)/4; keeps its last value while volume is 0.

    LEAN's VolumeWeightedAveragePriceIndicator(period): Σ (O+H+L+C)/4·volume / Σ volume over the last
    ``period`` bars; when the window has no volume the previous value is kept (LEAN's math-error status)."""

    __slots__ = ("_spv", "_sv")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"VWAP({period})", period)
        self._spv = _Sum(period)
        self._sv = _Sum(period)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        spv = self._spv.add((o + h + lo + c) / 4.0 * v)
        sv = self._sv.add(v)
        if sv == 0.0:
            return self.value
        return spv / sv

    def reset(self) -> None:
        super().reset()
        self._spv.reset()
        self._sv.reset()


class VolumeWeightedMovingAverage(BarIndicator):
    """VWMA: Σ close·volume / Σ volume over period bars (0 with no volume).

    VWMA: Σ close·volume / Σ volume over ``period`` bars (0 when the window has no volume, where LEAN
    would divide by zero)."""

    __slots__ = ("_scv", "_sv")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"VWMA({period})", period)
        self._scv = _Sum(period)
        self._sv = _Sum(period)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        s = self._scv.add(c * v)
        sv = self._sv.add(v)
        return s / sv if sv != 0.0 else 0.0

    def reset(self) -> None:
        super().reset()
        self._scv.reset()
        self._sv.reset()


class ChaikinMoneyFlow(BarIndicator):
    """Chaikin Money Flow: Σ money-flow volume / Σ volume over ``period`` bars; 0 until ready (LEAN)."""

    __slots__ = ("_flow", "_vol")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"CMF({period})", period)
        self._flow = _Sum(period)
        self._vol = _Sum(period)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        rng = h - lo
        f = self._flow.add(v * (c - lo - (h - c)) / rng if rng > 0 else 0.0)
        sv = self._vol.add(v)
        if not self._flow.is_ready or sv == 0.0:
            return 0.0
        return f / sv

    def reset(self) -> None:
        super().reset()
        self._flow.reset()
        self._vol.reset()


class ForceIndex(BarIndicator):
    """Force Index: EMA (default) of Δclose·volume; 0 on the first bar, ready after period + 1 bars (LEAN).

    Force Index: MA(period) of (close - previous close)·volume (EMA by default); 0 on the first bar,
    ready after ``period + 1`` bars (LEAN)."""

    __slots__ = ("_prev_close", "_smoother")

    def __init__(self, period: int, moving_average_type: str = "exponential", name: str | None = None) -> None:
        super().__init__(name or f"FI({period})", period + 1)
        self._smoother = _ma(moving_average_type, period)
        self._prev_close = 0.0

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        pc = self._prev_close
        self._prev_close = c
        if self.samples < 2:
            return 0.0
        self._smoother.update(time, (c - pc) * v)
        return self._smoother.value

    def reset(self) -> None:
        super().reset()
        self._smoother.reset()
        self._prev_close = 0.0


class EaseOfMovementValue(BarIndicator):
    """Ease of Movement: SMA of midpoint move per (volume/scale)/(high-low), as LEAN.

    Ease of Movement: SMA(period) of (midpoint change)/((volume/scale)/(high-low)); a zero-volume or flat
    bar contributes 0 and does not become the previous bar (LEAN)."""

    __slots__ = ("_ph", "_pl", "_sma", "scale")

    def __init__(self, period: int = 1, scale: float = 10000.0, name: str | None = None) -> None:
        super().__init__(name or f"EMV({period}, {scale})", period)
        self.scale = scale
        self._sma = SMA(period)
        self._ph = self._pl = 0.0

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        if self._ph == 0.0 and self._pl == 0.0:
            self._ph, self._pl = h, lo
        if v == 0.0 or h == lo:
            self._sma.update(time, 0.0)
            return self._sma.value
        mid = (h + lo) / 2.0 - (self._ph + self._pl) / 2.0
        ratio = (v / self.scale) / (h - lo)
        self._ph, self._pl = h, lo
        self._sma.update(time, mid / ratio)
        return self._sma.value

    def reset(self) -> None:
        super().reset()
        self._sma.reset()
        self._ph = self._pl = 0.0


class KlingerVolumeOscillator(BarIndicator):
    """Klinger Volume Oscillator as LEAN (after talipp), with an EMA ``signal`` part.

    Klinger Volume Oscillator as LEAN (after talipp): EMA(fast) - EMA(slow) of the volume force, 0 until
    both are ready; ``signal`` is an EMA of the KVO; the first two bars only seed the trend."""

    __slots__ = ("_cm", "_dm_prev", "_fast", "_n", "_prev_hlc3", "_slow", "_trend", "signal")

    def __init__(self, fast_period: int, slow_period: int, signal_period: int = 13,
                 name: str | None = None) -> None:
        super().__init__(name or f"KVO({fast_period},{slow_period},{signal_period})",
                         max(fast_period, slow_period, signal_period) + 2)
        self._fast = EMA(fast_period)
        self._slow = EMA(slow_period)
        self.signal = EMA(signal_period)
        self._n = 0
        self._prev_hlc3 = 0.0
        self._dm_prev = 0.0
        self._cm = 0.0
        self._trend = 0

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        dm = h - lo
        hlc3 = (h + lo + c) / 3.0
        prev_hlc3, dm_prev = self._prev_hlc3, self._dm_prev
        self._prev_hlc3, self._dm_prev = hlc3, dm
        self._n = n = self._n + 1
        if n < 2:
            self._cm = 0.0
            return 0.0
        trend = 1 if hlc3 > prev_hlc3 else -1
        prev_trend = self._trend
        self._trend = trend
        if n < 3:
            self._cm = 0.0
            return 0.0
        if self._cm == 0.0 or trend != prev_trend:
            cm = dm + dm_prev
        else:
            cm = dm + self._cm
        self._cm = cm
        vf = 0.0 if cm == 0.0 else v * abs(2.0 * (dm / cm - 1.0)) * trend * 100.0
        self._fast.update(time, vf)
        self._slow.update(time, vf)
        kvo = self._fast.value - self._slow.value if self._fast.is_ready and self._slow.is_ready else 0.0
        self.signal.update(time, kvo)
        return kvo

    def reset(self) -> None:
        super().reset()
        self._fast.reset()
        self._slow.reset()
        self.signal.reset()
        self._n = 0
        self._prev_hlc3 = self._dm_prev = self._cm = 0.0
        self._trend = 0


class SmoothedOnBalanceVolume(BarIndicator):
    """Smoothed OBV: MA(period) of LEAN's On Balance Volume (simple by default)."""

    __slots__ = ("_smoother", "on_balance_volume")

    def __init__(self, period: int, moving_average_type: str = "simple", name: str | None = None) -> None:
        super().__init__(name or f"SOBV({period})", period)
        self.on_balance_volume = OnBalanceVolume()
        self._smoother = _ma(moving_average_type, period)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        obv = self.on_balance_volume
        obv.samples += 1
        obv._emit(time, obv._compute_bar(time, o, h, lo, c, v))
        self._smoother.update(time, obv.value)
        return self._smoother.value

    def reset(self) -> None:
        super().reset()
        self.on_balance_volume.reset()
        self._smoother.reset()


REGISTRY_PART: dict[str, type] = {
    "obv": OnBalanceVolume,
    "ad": AccumulationDistribution,
    "adosc": AccumulationDistributionOscillator,
    "mfi": MoneyFlowIndex,
    "vwap": IntradayVwap,
    "mvwap": VolumeWeightedAveragePriceIndicator,
    "vwma": VolumeWeightedMovingAverage,
    "cmf": ChaikinMoneyFlow,
    "fi": ForceIndex,
    "eom": EaseOfMovementValue,
    "kvo": KlingerVolumeOscillator,
    "sobv": SmoothedOnBalanceVolume,
}
