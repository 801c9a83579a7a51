"""Range, trend-following and channel indicators (LEAN semantics): True Range, NATR, Keltner and Donchian
channels, Ichimoku, Parabolic SAR (standard and extended), Heikin-Ashi, Acceleration Bands, MidPrice,
Chande Kroll Stop."""

from __future__ import annotations

from collections import deque

from leand.indicators.base import BarIndicator, Indicator
from leand.indicators.core import ATR, SMA, Maximum, Minimum, _Value, true_range
from leand.indicators.core import moving_average as _ma


class _Delay(Indicator):
    """LEAN's Delay(period): the input from ``period`` samples ago; the very first input until then."""

    __slots__ = ("_buf", "_first", "_i", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"DELAY({period})", period + 1)
        self.period = period
        self._buf = [0.0] * period
        self._i = 0
        self._first = 0.0

    def _compute(self, time: int, value: float) -> float:
        n = self.samples
        if n == 1:
            self._first = value
        i = self._i
        old = self._buf[i]
        self._buf[i] = value
        self._i = (i + 1) % self.period
        return old if n > self.period else self._first

    def reset(self) -> None:
        super().reset()
        self._buf = [0.0] * self.period
        self._i = 0
        self._first = 0.0


class TrueRange(BarIndicator):
    """True Range: max(high-low, |high-prev close|, |low-prev close|); the first bar gives high-low (LEAN)."""

    __slots__ = ("_prev_close",)

    def __init__(self, name: str = "TR") -> None:
        super().__init__(name, 1)
        self._prev_close: float | None = None

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        pc = self._prev_close
        self._prev_close = c
        return true_range(pc, h, lo)

    def reset(self) -> None:
        super().reset()
        self._prev_close = None


class NormalizedAverageTrueRange(BarIndicator):
    """NATR = ATR/close·100 with LEAN's SMA-seeded Wilder ATR; ready after period + 1 bars.

    NATR = ATR/close·100; LEAN's ATR here is the SMA of the first ``period`` true ranges after the first
    bar, then Wilder-smoothed; ready after ``period + 1`` bars (warm-up rows show the partial SMA)."""

    __slots__ = ("_atr", "_last", "_tr", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"NATR({period})", period + 1)
        self.period = period
        self._tr = TrueRange()
        self._atr = SMA(period)
        self._last = 0.0

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        tr = self._tr._compute_bar(time, o, h, lo, c, v)
        n, p = self.samples, self.period
        if n <= p + 1:
            self._atr.update(time, tr)
            atr = self._atr.value
            if n == p + 1:
                self._last = atr
        else:
            atr = self._last = (self._last * (p - 1) + tr) / p
        return atr / c * 100.0 if c != 0 else 0.0

    def reset(self) -> None:
        super().reset()
        self._tr.reset()
        self._atr.reset()
        self._last = 0.0


class KeltnerChannels(BarIndicator):
    """Keltner Channels: MA of (H+L+C)/3 ± k·ATR (LEAN's simple ATR); bands 0 until ready.

    Keltner Channels: middle = MA(period) of the typical price (H+L+C)/3, bands = middle ± k·ATR where the
    ATR is LEAN's simple-average ATR; bands are 0 until the middle band is ready; value = middle band."""

    __slots__ = ("average_true_range", "k", "lower_band", "middle_band", "period", "upper_band")

    def __init__(self, period: int, k: float, moving_average_type: str = "simple", name: str | None = None) -> None:
        super().__init__(name or f"KC({period},{k})", period)
        self.period = period
        self.k = k
        self.average_true_range = ATR(period, "simple")
        self.middle_band = _ma(moving_average_type, period)
        self.upper_band = _Value("upper_band")
        self.lower_band = _Value("lower_band")

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        atr = self.average_true_range
        atr.update_hlc(time, h, lo, c)
        mid = self.middle_band
        mid.update(time, (h + lo + c) / 3.0)
        if mid.is_ready:
            d = atr.value * self.k
            self.upper_band.set(mid.value + d)
            self.lower_band.set(mid.value - d)
            self.upper_band.is_ready = self.lower_band.is_ready = True
        else:
            self.upper_band.set(0.0)
            self.lower_band.set(0.0)
        return mid.value

    def reset(self) -> None:
        super().reset()
        for i in (self.average_true_range, self.middle_band, self.upper_band, self.lower_band):
            i.reset()


class DonchianChannel(BarIndicator):
    """Donchian Channel: upper = highest high, lower = lowest low; value = their mean (LEAN)."""

    __slots__ = ("lower_band", "upper_band")

    def __init__(self, upper_period: int, lower_period: int | None = None, name: str | None = None) -> None:
        lower_period = upper_period if lower_period is None else lower_period
        super().__init__(name or f"DCH({upper_period},{lower_period})", max(upper_period, lower_period))
        self.upper_band = Maximum(upper_period)
        self.lower_band = Minimum(lower_period)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        self.upper_band.update(time, h)
        self.lower_band.update(time, lo)
        return (self.upper_band.value + self.lower_band.value) / 2.0

    def reset(self) -> None:
        super().reset()
        self.upper_band.reset()
        self.lower_band.reset()


class IchimokuKinkoHyo(BarIndicator):
    """Ichimoku Kinko Hyo with LEAN's parts (tenkan, kijun, senkou A/B and their inputs); value = close.

    Ichimoku Kinko Hyo with LEAN's parts and conventions: tenkan/kijun are 0 until their windows fill,
    senkou A/B are the midpoints delayed by LEAN's Delay (first input until filled); value = close."""

    __slots__ = ("delayed_kijun_senkou_a", "delayed_maximum_senkou_b", "delayed_minimum_senkou_b",
                 "delayed_tenkan_senkou_a", "kijun", "kijun_maximum", "kijun_minimum", "senkou_a",
                 "senkou_a_period", "senkou_b", "senkou_b_maximum", "senkou_b_minimum", "senkou_b_period",
                 "tenkan", "tenkan_maximum", "tenkan_minimum")

    def __init__(self, tenkan_period: int = 9, kijun_period: int = 26, senkou_a_period: int = 26,
                 senkou_b_period: int = 52, senkou_a_delay_period: int = 26, senkou_b_delay_period: int = 26,
                 name: str | None = None) -> None:
        super().__init__(name or f"ICHIMOKU({tenkan_period},{kijun_period})",
                         max(tenkan_period, kijun_period, senkou_a_delay_period + 1, senkou_b_delay_period + 1))
        self.senkou_a_period = senkou_a_period
        self.senkou_b_period = senkou_b_period
        self.tenkan_maximum = Maximum(tenkan_period)
        self.tenkan_minimum = Minimum(tenkan_period)
        self.kijun_maximum = Maximum(kijun_period)
        self.kijun_minimum = Minimum(kijun_period)
        self.senkou_b_maximum = Maximum(senkou_b_period)
        self.senkou_b_minimum = Minimum(senkou_b_period)
        self.delayed_tenkan_senkou_a = _Delay(senkou_a_delay_period)
        self.delayed_kijun_senkou_a = _Delay(senkou_a_delay_period)
        self.delayed_maximum_senkou_b = _Delay(senkou_b_delay_period)
        self.delayed_minimum_senkou_b = _Delay(senkou_b_delay_period)
        self.tenkan = _Value("tenkan")
        self.kijun = _Value("kijun")
        self.senkou_a = _Value("senkou_a")
        self.senkou_b = _Value("senkou_b")

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        tmax, tmin = self.tenkan_maximum, self.tenkan_minimum
        tmax.update(time, h)
        tmin.update(time, lo)
        self.tenkan.set((tmax.value + tmin.value) / 2.0 if tmax.is_ready else 0.0)
        self.tenkan.is_ready = tmax.is_ready
        kmax, kmin = self.kijun_maximum, self.kijun_minimum
        kmax.update(time, h)
        kmin.update(time, lo)
        self.kijun.set((kmax.value + kmin.value) / 2.0 if kmax.is_ready else 0.0)
        self.kijun.is_ready = kmax.is_ready
        dt, dk = self.delayed_tenkan_senkou_a, self.delayed_kijun_senkou_a
        dt.update(time, self.tenkan.value)
        dk.update(time, self.kijun.value)
        self.senkou_a.set((dt.value + dk.value) / 2.0 if dk.samples >= self.senkou_a_period else 0.0)
        self.senkou_a.is_ready = dt.is_ready and dk.is_ready
        bmax, bmin = self.senkou_b_maximum, self.senkou_b_minimum
        bmax.update(time, h)
        bmin.update(time, lo)
        dmax, dmin = self.delayed_maximum_senkou_b, self.delayed_minimum_senkou_b
        dmax.update(time, bmax.value)
        dmin.update(time, bmin.value)
        self.senkou_b.set((dmax.value + dmin.value) / 2.0 if dmax.samples >= self.senkou_b_period else 0.0)
        self.senkou_b.is_ready = dmax.is_ready and dmin.is_ready
        return c

    def reset(self) -> None:
        super().reset()
        for i in (self.tenkan_maximum, self.tenkan_minimum, self.kijun_maximum, self.kijun_minimum,
                  self.senkou_b_maximum, self.senkou_b_minimum, self.delayed_tenkan_senkou_a,
                  self.delayed_kijun_senkou_a, self.delayed_maximum_senkou_b, self.delayed_minimum_senkou_b,
                  self.tenkan, self.kijun, self.senkou_a, self.senkou_b):
            i.reset()


class ParabolicStopAndReverse(BarIndicator):
    """Parabolic SAR as LEAN's TA-Lib port: 0 on the first bar, direction from the second bar's close.

    Parabolic SAR as LEAN's port of TA-Lib: 0 on the first bar; the second bar starts long if its close
    >= the previous close (SAR = previous low) else short (SAR = previous high)."""

    __slots__ = ("_af", "_ep", "_is_long", "_pc", "_ph", "_pl", "_sar", "af_increment", "af_max", "af_start")

    def __init__(self, af_start: float = 0.02, af_increment: float = 0.02, af_max: float = 0.2,
                 name: str | None = None) -> None:
        super().__init__(name or f"PSAR({af_start},{af_increment},{af_max})", 2)
        self.af_start = af_start
        self.af_increment = af_increment
        self.af_max = af_max
        self._af = af_start
        self._ep = self._sar = 0.0
        self._is_long = False
        self._ph = self._pl = self._pc = 0.0

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        n = self.samples
        if n == 1:
            self._ph, self._pl, self._pc = h, lo, c
            return 0.0
        ph, pl = self._ph, self._pl
        if n == 2:
            self._is_long = c >= self._pc
            if self._is_long:
                self._ep = min(h, ph)  # sic: LEAN takes the smaller high
                self._sar = pl
            else:
                self._ep = min(lo, pl)
                self._sar = ph
            self._ph, self._pl, self._pc = h, lo, c
            return self._sar
        sar, ep, af = self._sar, self._ep, self._af
        if self._is_long:
            if lo <= sar:
                self._is_long = False
                sar = max(ep, ph, h)
                out = sar
                af = self.af_start
                ep = lo
                sar = max(sar + af * (ep - sar), ph, h)
            else:
                out = sar
                if h > ep:
                    ep = h
                    af = min(af + self.af_increment, self.af_max)
                sar = min(sar + af * (ep - sar), pl, lo)
        else:
            if h >= sar:
                self._is_long = True
                sar = min(ep, pl, lo)
                out = sar
                af = self.af_start
                ep = h
                sar = min(sar + af * (ep - sar), pl, lo)
            else:
                out = sar
                if lo < ep:
                    ep = lo
                    af = min(af + self.af_increment, self.af_max)
                sar = max(sar + af * (ep - sar), ph, h)
        self._sar, self._ep, self._af = sar, ep, af
        self._ph, self._pl, self._pc = h, lo, c
        return out

    def reset(self) -> None:
        super().reset()
        self._af = self.af_start
        self._ep = self._sar = 0.0
        self._is_long = False
        self._ph = self._pl = self._pc = 0.0


class ParabolicStopAndReverseExtended(BarIndicator):
    """TA-Lib's SAREXT as LEAN ports it: short positions output as negative SAR values.

    TA-Lib's SAREXT as LEAN ports it: separate long/short acceleration, optional start value and offset on
    reverse; short positions are output as negative values; the first bar outputs |sar_start| or the close."""

    __slots__ = ("_af_long", "_af_short", "_ep", "_is_long", "_ph", "_pl", "_sar", "af_increment_long",
                 "af_increment_short", "af_max_long", "af_max_short", "af_start_long", "af_start_short",
                 "offset_on_reverse", "sar_start")

    def __init__(self, sar_start: float = 0.0, offset_on_reverse: float = 0.0, af_start_short: float = 0.02,
                 af_increment_short: float = 0.02, af_max_short: float = 0.2, af_start_long: float = 0.02,
                 af_increment_long: float = 0.02, af_max_long: float = 0.2, name: str | None = None) -> None:
        super().__init__(name or "SAREXT", 2)
        self.sar_start = sar_start
        self.offset_on_reverse = offset_on_reverse
        self.af_start_short = af_start_short
        self.af_increment_short = af_increment_short
        self.af_max_short = af_max_short
        self.af_start_long = af_start_long
        self.af_increment_long = af_increment_long
        self.af_max_long = af_max_long
        self._af_short = af_start_short
        self._af_long = af_start_long
        self._ep = self._sar = 0.0
        self._is_long = False
        self._ph = self._pl = 0.0

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        n = self.samples
        if n == 1:
            self._ph, self._pl = h, lo
            return abs(self.sar_start) if self.sar_start != 0 else c
        if n == 2:
            s0 = self.sar_start
            if s0 > 0:
                self._is_long, self._sar = True, s0
            elif s0 < 0:
                self._is_long, self._sar = False, -s0
            else:
                # LEAN: long unless the bar has negative directional movement
                neg = lo < self._pl and (h - self._ph) < (self._pl - lo)
                self._is_long = not neg
                self._sar = self._pl if self._is_long else self._ph
            self._ep = h if self._is_long else lo
            self._ph, self._pl = h, lo  # LEAN sets the previous bar to the current one before the first step
        ph, pl = self._ph, self._pl
        sar, ep = self._sar, self._ep
        off = self.offset_on_reverse
        if self._is_long:
            if lo <= sar:
                self._is_long = False
                sar = max(ep, ph, h)
                if off != 0.0:
                    sar += sar * off
                out = -sar
                self._af_short = af = self.af_start_short
                ep = lo
                sar = max(sar + af * (ep - sar), ph, h)
            else:
                out = sar
                if h > ep:
                    ep = h
                    self._af_long = min(self._af_long + self.af_increment_long, self.af_max_long)
                sar = min(sar + self._af_long * (ep - sar), pl, lo)
        else:
            if h >= sar:
                self._is_long = True
                sar = min(ep, pl, lo)
                if off != 0.0:
                    sar -= sar * off
                out = sar
                self._af_long = af = self.af_start_long
                ep = h
                sar = min(sar + af * (ep - sar), pl, lo)
            else:
                out = -sar
                if lo < ep:
                    ep = lo
                    self._af_short = min(self._af_short + self.af_increment_short, self.af_max_short)
                sar = max(sar + self._af_short * (ep - sar), ph, h)
        self._sar, self._ep = sar, ep
        self._ph, self._pl = h, lo
        return out

    def reset(self) -> None:
        super().reset()
        self._af_short = self.af_start_short
        self._af_long = self.af_start_long
        self._ep = self._sar = 0.0
        self._is_long = False
        self._ph = self._pl = 0.0


class HeikinAshi(BarIndicator):
    """Heikin-Ashi bar (open, high, low, close, volume parts); value = HA close.

    Heikin-Ashi bar: close = OHLC/4, open = (prev HA open + prev HA close)/2 (first: (O+C)/2), high/low
    include the HA open and close (first: the bar's own high/low); value = HA close."""

    __slots__ = ("close", "high", "low", "open", "volume")

    def __init__(self, name: str = "HA") -> None:
        super().__init__(name, 2)
        self.open = _Value("open")
        self.high = _Value("high")
        self.low = _Value("low")
        self.close = _Value("close")
        self.volume = _Value("volume")

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        ha_c = (o + h + lo + c) / 4.0
        if self.samples <= 1:
            ha_o = (o + c) / 2.0
            ha_h, ha_l = h, lo
        else:
            ha_o = (self.open.value + self.close.value) / 2.0
            ha_h = max(h, ha_o, ha_c)
            ha_l = min(lo, ha_o, ha_c)
        self.open.set(ha_o)
        self.close.set(ha_c)
        self.high.set(ha_h)
        self.low.set(ha_l)
        self.volume.set(v)
        return ha_c

    def reset(self) -> None:
        super().reset()
        for i in (self.open, self.high, self.low, self.close, self.volume):
            i.reset()


class AccelerationBands(BarIndicator):
    """Acceleration Bands (Price Headley): MAs of close and of width-scaled highs/lows; value = middle.

    Acceleration Bands (Price Headley): MA of close, MA of high·(1+w·(H-L)/(H+L)), MA of
    low·(1-w·(H-L)/(H+L)); the coefficient is 0 when H+L is 0 (LEAN's SafeDivision); value = middle band."""

    __slots__ = ("lower_band", "middle_band", "upper_band", "width")

    def __init__(self, period: int, width: float = 4.0, moving_average_type: str = "simple",
                 name: str | None = None) -> None:
        super().__init__(name or f"ABANDS({period},{width})", period)
        self.width = width
        self.middle_band = _ma(moving_average_type, period)
        self.upper_band = _ma(moving_average_type, period)
        self.lower_band = _ma(moving_average_type, period)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        s = h + lo
        coef = self.width * (h - lo) / s if s != 0 else 0.0
        self.lower_band.update(time, lo * (1.0 - coef))
        self.upper_band.update(time, h * (1.0 + coef))
        self.middle_band.update(time, c)
        return self.middle_band.value

    def reset(self) -> None:
        super().reset()
        for i in (self.middle_band, self.upper_band, self.lower_band):
            i.reset()


class MidPrice(DonchianChannel):
    """MidPrice: (highest high + lowest low)/2 over ``period`` bars, i.e. the Donchian channel's mean.

    Over the bars so far while warming up; TA-Lib's name for it."""

    __slots__ = ("period",)

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(period, period, name or f"MIDPRICE({period})")
        self.period = period

class ChandeKrollStop(BarIndicator):
    """Chande Kroll Stop (short_stop, long_stop); as LEAN, value = close once the stops are formed, else 0.

    Chande Kroll Stop: short_stop = max over ``period`` of (highest high(atr_period) - mult·ATR), long_stop
    = min over ``period`` of (lowest low(atr_period) + mult·ATR); ATR is Wilder's (LEAN's default). As in
    LEAN the value is the close once both stop windows are full (0 before), and it is ready after one bar."""

    __slots__ = ("_atr", "_high_stops", "_highs", "_low_stops", "_lows", "atr_mult", "long_stop", "period",
                 "short_stop")

    def __init__(self, atr_period: int, atr_mult: float, period: int, moving_average_type: str = "wilders",
                 name: str | None = None) -> None:
        super().__init__(name or f"CKS({atr_period},{atr_mult},{period})", 1)
        self.atr_mult = atr_mult
        self.period = period
        self._atr = ATR(atr_period, moving_average_type)
        self._highs = Maximum(atr_period)
        self._lows = Minimum(atr_period)
        self._high_stops = Maximum(period)
        self._low_stops = Minimum(period)
        self.short_stop = _Value("short_stop")
        self.long_stop = _Value("long_stop")

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        atr = self._atr
        atr.update_hlc(time, h, lo, c)
        self._highs.update(time, h)
        self._lows.update(time, lo)
        d = atr.value * self.atr_mult
        self._high_stops.update(time, self._highs.value - d)
        self._low_stops.update(time, self._lows.value + d)
        if not self._high_stops.is_ready:
            return 0.0
        self.short_stop.set(self._high_stops.value)
        self.long_stop.set(self._low_stops.value)
        self.short_stop.is_ready = self.long_stop.is_ready = True
        return c

    def reset(self) -> None:
        super().reset()
        for i in (self._atr, self._highs, self._lows, self._high_stops, self._low_stops, self.short_stop,
                  self.long_stop):
            i.reset()


class PivotPointsHighLow(BarIndicator):
    """Pivot Points High/Low (bar-count reversals): 1 high, -1 low, 2 both, 0 none (LEAN's PivotPointType).

    Pivot Points High/Low (bar-count reversals): the bar ``surrounding`` bars back is a high (low) pivot
    when its high (low) is strictly above (below) every other bar's in the 2·surrounding+1 window (ties allowed
    if not ``strict``); value 1 = high pivot, -1 = low, 2 = both, 0 = none (LEAN's PivotPointType); the last
    ``last_stored_values`` pivots are kept as (type, price, end_time) tuples, newest first."""

    __slots__ = ("_bars", "_high_n", "_low_n", "_pivots", "strict")

    def __init__(self, surrounding_bars_count_for_high_point: int, surrounding_bars_count_for_low_point: int | None = None,
                 last_stored_values: int = 100, strict_checking: bool = True, name: str | None = None) -> None:
        lo_n = surrounding_bars_count_for_high_point if surrounding_bars_count_for_low_point is None \
            else surrounding_bars_count_for_low_point
        hi_n = surrounding_bars_count_for_high_point
        super().__init__(name or f"PivotPointsHighLow({hi_n},{lo_n})", 2 * max(hi_n, lo_n) + 1)
        self._high_n = hi_n
        self._low_n = lo_n
        self.strict = strict_checking
        self._bars: deque[tuple[float, float, int]] = deque(maxlen=2 * max(hi_n, lo_n) + 1)
        self._pivots: deque[tuple[int, float, int]] = deque(maxlen=last_stored_values)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        bars = self._bars
        bars.append((h, lo, time))
        m = len(bars)
        high_pt = low_pt = None
        n = self._high_n
        if m >= 2 * n + 1:  # the 2n+1 newest bars; a small fixed window scanned as LEAN does
            mid = bars[m - 1 - n]
            ok = True
            for k in range(m - 2 * n - 1, m):
                if k != m - 1 - n:
                    x = bars[k][0]
                    if (x >= mid[0]) if self.strict else (x > mid[0]):
                        ok = False
                        break
            if ok:
                high_pt = (1, mid[0], mid[2])
        n = self._low_n
        if m >= 2 * n + 1:
            mid = bars[m - 1 - n]
            ok = True
            for k in range(m - 2 * n - 1, m):
                if k != m - 1 - n:
                    x = bars[k][1]
                    if (x <= mid[1]) if self.strict else (x < mid[1]):
                        ok = False
                        break
            if ok:
                low_pt = (-1, mid[1], mid[2])
        if high_pt is not None:
            self._pivots.appendleft(high_pt)
        if low_pt is not None:
            self._pivots.appendleft(low_pt)
        if high_pt is not None:
            return 2.0 if low_pt is not None else 1.0
        return -1.0 if low_pt is not None else 0.0

    def high_pivot_points(self) -> list[tuple[int, float, int]]:
        return [p for p in self._pivots if p[0] == 1]

    def low_pivot_points(self) -> list[tuple[int, float, int]]:
        return [p for p in self._pivots if p[0] == -1]

    def all_pivot_points(self) -> list[tuple[int, float, int]]:
        return list(self._pivots)

    def reset(self) -> None:
        super().reset()
        self._bars.clear()
        self._pivots.clear()


class ZigZag(BarIndicator):
    """ZigZag as LEAN: the current pivot price, reversing after a sensitivity move and min_trend_length bars.

    ZigZag as LEAN: alternates low and high pivots; a reversal needs a move of ``sensitivity`` (fraction)
    beyond the last pivot and at least ``min_trend_length`` bars since it, else a new extreme moves the pivot;
    value = the current pivot price (0 on the first bar); ``pivot_type`` 0 = low, 1 = high."""

    __slots__ = ("_count", "_last_was_low", "_lph", "_lpl", "high_pivot", "low_pivot", "min_trend_length",
                 "pivot_type", "sensitivity")

    def __init__(self, sensitivity: float = 0.05, min_trend_length: int = 1, name: str | None = None) -> None:
        if not 0 < sensitivity < 1:
            raise ValueError("sensitivity must be between 0 and 1")
        if min_trend_length < 1:
            raise ValueError("minimum trend length must be greater than 0")
        super().__init__(name or f"ZZ({sensitivity},{min_trend_length})", min_trend_length + 1)
        self.sensitivity = sensitivity
        self.min_trend_length = min_trend_length
        self.high_pivot = _Value("high_pivot")
        self.low_pivot = _Value("low_pivot")
        self.pivot_type = 0
        self._lph: float | None = None
        self._lpl = 0.0
        self._count = 0
        self._last_was_low = False

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:
        if self._lph is None:
            self._lph, self._lpl, self._count = h, lo, 0
            self.low_pivot.set(lo)
            self.pivot_type = 0
            self._last_was_low = True
            return 0.0
        s = self.sensitivity
        if self._last_was_low:
            cur = self._lpl
            if h >= self._lpl * (1.0 + s) and self._count >= self.min_trend_length:
                self._lph, self._lpl, self._count = h, lo, 0
                self.high_pivot.set(h)
                self.pivot_type = 1
                self._last_was_low = False
                cur = h
            elif lo <= self._lpl:
                self._lph, self._lpl, self._count = h, lo, 0
                self.low_pivot.set(lo)
                cur = lo
        else:
            cur = self._lph
            if lo <= self._lph * (1.0 - s) and self._count >= self.min_trend_length:
                self._lph, self._lpl, self._count = h, lo, 0
                self.low_pivot.set(lo)
                self.pivot_type = 0
                self._last_was_low = True
                cur = lo
            elif h >= self._lph:
                self._lph, self._lpl, self._count = h, lo, 0
                self.high_pivot.set(h)
                cur = h
        self._count += 1
        return cur

    def reset(self) -> None:
        super().reset()
        self.high_pivot.reset()
        self.low_pivot.reset()
        self.pivot_type = 0
        self._lph = None
        self._lpl = 0.0
        self._count = 0
        self._last_was_low = False


REGISTRY_PART: dict[str, type] = {
    "tr": TrueRange,
    "natr": NormalizedAverageTrueRange,
    "kch": KeltnerChannels,
    "dch": DonchianChannel,
    "ichimoku": IchimokuKinkoHyo,
    "psar": ParabolicStopAndReverse,
    "sarext": ParabolicStopAndReverseExtended,
    "heikinashi": HeikinAshi,
    "abands": AccelerationBands,
    "midprice": MidPrice,
    "ckstop": ChandeKrollStop,
    "pphl": PivotPointsHighLow,
    "zz": ZigZag,
}
