"""Streaming indicator base: O(1) updates, readiness, a rolling window of past values, composition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class RollingWindow:
    """The last ``size`` values, newest first: ``window[0]`` is the latest."""

    __slots__ = ("_buf", "_count", "_head", "size")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"window size must be >= 1, got {size}")
        self.size = size
        self._buf: list[float] = [0.0] * size
        self._head = -1
        self._count = 0

    def add(self, value: float) -> None:
        self._head = (self._head + 1) % self.size
        self._buf[self._head] = value
        if self._count < self.size:
            self._count += 1

    def add_many(self, values: list[float], count: int) -> None:
        """The state after ``count`` successive :meth:`add` calls whose last values are ``values`` (at
        least ``min(count, size)`` of them, oldest first), without making the calls one by one."""
        size = self.size
        buf = self._buf
        head = self._head
        take = min(count, size)
        tail = values[len(values) - take:]
        for k, v in enumerate(tail, count - take + 1):
            buf[(head + k) % size] = v
        self._head = (head + count) % size
        self._count = min(size, self._count + count)

    def __getitem__(self, i: int) -> float:
        if not 0 <= i < self._count:
            raise IndexError(f"window index {i} out of range (count {self._count})")
        return self._buf[(self._head - i) % self.size]

    def __len__(self) -> int:
        return self._count

    @property
    def is_ready(self) -> bool:
        return self._count == self.size

    def reset(self) -> None:
        self._buf = [0.0] * self.size
        self._head = -1
        self._count = 0

    def __iter__(self):
        return (self[i] for i in range(self._count))


def close(bar: Any) -> float:
    return bar.close


def open_(bar: Any) -> float:
    return bar.open


def high(bar: Any) -> float:
    return bar.high


def low(bar: Any) -> float:
    return bar.low


def volume(bar: Any) -> float:
    return bar.volume


def hl2(bar: Any) -> float:
    return (bar.high + bar.low) / 2.0


def hlc3(bar: Any) -> float:
    return (bar.high + bar.low + bar.close) / 3.0


def ohlc4(bar: Any) -> float:
    return (bar.open + bar.high + bar.low + bar.close) / 4.0


#: selectors by name, for ``selector="hl2"`` in the strategy API and config
SELECTORS: dict[str, Callable[[Any], float]] = {
    "close": close, "open": open_, "high": high, "low": low, "volume": volume,
    "hl2": hl2, "hlc3": hlc3, "ohlc4": ohlc4,
}


def selector_of(sel: str | Callable[[Any], float] | None) -> Callable[[Any], float]:
    if sel is None:
        return close
    if callable(sel):
        return sel
    try:
        return SELECTORS[sel]
    except KeyError:
        raise ValueError(f"unknown selector {sel!r}; expected one of {sorted(SELECTORS)}") from None


class IndicatorDataPoint(float):
    """An indicator's latest output as LEAN hands it out (``indicator.current``): a float that also has
    ``.value`` and ``.end_time`` (naive UTC datetime; None before the first update)."""

    __slots__ = ("_t",)
    _t: int

    def __new__(cls, value: float, time_ns: int = 0) -> IndicatorDataPoint:
        self = super().__new__(cls, value)
        self._t = time_ns
        return self

    @property
    def value(self) -> float:
        return float(self)

    @property
    def end_time(self):
        from datetime import UTC, datetime

        t = self._t
        if not t:
            return None
        if isinstance(t, datetime):  # fed from a consolidated bar, whose times are datetimes
            return t
        return datetime.fromtimestamp(t / 1e9, UTC).replace(tzinfo=None)

    time = end_time


class Indicator:
    """A value indicator: feed it ``update(time_ns, value)`` or ``update_bar(bar)`` (selector, default close)."""

    __slots__ = ("_consumers", "_time", "is_ready", "name", "samples", "selector", "value", "warm_up_period",
                 "window")

    def __init__(self, name: str, warm_up_period: int, window: int = 2,
                 selector: Callable[[Any], float] = close) -> None:
        self.name = name
        self.warm_up_period = warm_up_period
        self.window = RollingWindow(window)
        self.samples = 0
        #: plain attributes, not properties: strategies read them on every bar
        self.is_ready = False
        #: the latest output (a plain attribute: strategies read it on every bar)
        self.value = 0.0
        self.selector = selector
        self._consumers: list[Indicator] = []
        self._time = 0

    # -- protocol ------------------------------------------------------------------------------------
    @property
    def current(self) -> IndicatorDataPoint:
        """The latest output with its time (LEAN's ``Current``): ``.value``, ``.end_time``."""
        return IndicatorDataPoint(self.value, self._time)

    @current.setter
    def current(self, v: float) -> None:
        self.value = v

    def __float__(self) -> float:
        return self.value

    # LEAN compares indicators with numbers and with each other by their current value
    def __lt__(self, other: Any) -> bool:
        return self.value < float(other)

    def __le__(self, other: Any) -> bool:
        return self.value <= float(other)

    def __gt__(self, other: Any) -> bool:
        return self.value > float(other)

    def __ge__(self, other: Any) -> bool:
        return self.value >= float(other)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, (int, float)):
            return self.value == other
        return self is other

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def update(self, time: int, value: float) -> bool:
        self.samples += 1
        self._time = time
        self.value = v = self._compute(time, value)
        self.window.add(v)
        self.is_ready = ready = self.samples >= self.warm_up_period
        for c in self._consumers:
            c.update(time, v)
        return ready

    def _emit(self, time: int, v: float) -> bool:
        """Publish output ``v`` for the sample just counted: value, window, readiness, consumers."""
        self._time = time
        self.value = v
        self.window.add(v)
        self.is_ready = ready = self.samples >= self.warm_up_period
        for c in self._consumers:
            c.update(time, v)
        return ready

    def update_bar(self, bar: Any) -> bool:
        self._time = bar.end_time
        return self.update(bar.end_time, self.selector(bar))

    def update_tick(self, tick: Any) -> bool:
        return self.update(tick.time, tick.price)

    def _compute(self, time: int, value: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def reset(self) -> None:
        self.samples = 0
        self.is_ready = False
        self.value = 0.0
        self.window.reset()

    def of(self, source: Indicator) -> Indicator:
        """Feed this indicator from ``source``'s outputs: ``ema.of(rsi)`` is an EMA of the RSI."""
        source._consumers.append(self)
        return self

    def __repr__(self) -> str:
        return f"{self.name}({self.value:.6g}{'' if self.is_ready else ', warming up'})"


class BarIndicator(Indicator):
    """An indicator of whole bars (high, low, volume...): feed it ``update_bar(bar)``; any object with
    ``end_time, open, high, low, close, volume`` will do (TradeBar, QuoteBar). ``update(time, value)``
    treats the value as a flat bar with no volume, so a bar indicator can still be fed from another
    indicator's output."""

    __slots__ = ()

    def update_bar(self, bar: Any) -> bool:
        self._time = bar.end_time
        self.samples += 1
        return self._emit(bar.end_time, self._compute_bar(bar.end_time, bar.open, bar.high, bar.low, bar.close,
                                                          bar.volume))

    def update(self, time: int, value: float) -> bool:
        self._time = time
        self.samples += 1
        return self._emit(time, self._compute_bar(time, value, value, value, value, 0.0))

    def update_tick(self, tick: Any) -> bool:
        return self.update(tick.time, tick.price)

    def _compute_bar(self, time: int, o: float, h: float, lo: float, c: float, v: float) -> float:  # pragma: no cover
        raise NotImplementedError


class _TickBar:
    """A tick seen as a flat bar (open = high = low = close = price, volume = traded quantity)."""

    __slots__ = ("close", "end_time", "high", "low", "open", "time", "volume")

    def __init__(self, tick: Any) -> None:
        self.open = self.high = self.low = self.close = tick.price
        self.time = self.end_time = tick.time
        self.volume = getattr(tick, "quantity", 0.0)


def tick_updater(ind: Indicator, selector: Callable[[Any], float] | None) -> Callable[[Any], Any]:
    """How an indicator helper on tick data takes a tick: the trade price (the quote mid for quote ticks), or
    the selector's field of the tick; bar indicators see the tick as a flat bar with the traded quantity."""
    if selector is not None:
        def up_sel(tick: Any) -> bool:
            try:
                v = selector(tick)
            except AttributeError:  # a bar field a tick lacks (high, low...): its price
                v = tick.price
            return ind.update(tick.time, v)
        return up_sel
    if isinstance(ind, BarIndicator):
        return lambda tick: ind.update_bar(_TickBar(tick))
    return lambda tick: ind.update(tick.time, tick.price)
