"""Consolidators as LEAN has them: trade bar, quote bar, tick, calendar, Renko and volume Renko.

A consolidator turns a stream of bars or ticks into bigger bars and raises ``data_consolidated`` (LEAN's
C# event: ``consolidator.data_consolidated += handler``, called with ``(consolidator, bar)``). Feed one by
hand with ``update(data)``, or attach it to a symbol (``subscription_manager.add_consolidator``,
``Strategy.consolidate``, ``register_indicator(symbol, indicator, consolidator)``) and the engine feeds it
every event of that symbol, then calls ``scan(now)`` at each time step so a time bar closes when its period
ends even when no later data comes (LEAN's order: consolidators fire before ``on_data``).

Consolidated bars carry LEAN's fields with ``time`` and ``end_time`` as naive datetimes in the exchange time
zone, so a handler can compare them with ``self.time``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from leand.model import QuoteBar, QuoteTick, Resolution, Symbol, TradeBar, TradeTick

if TYPE_CHECKING:
    from leand.clock import Clock

NY = ZoneInfo("America/New_York")


class Event:
    """A C#-style event: ``event += handler``, ``event -= handler``; calling it calls every handler."""

    __slots__ = ("_handlers",)

    def __init__(self) -> None:
        self._handlers: list[Callable[..., Any]] = []

    def __iadd__(self, handler: Callable[..., Any]) -> Event:
        self._handlers.append(handler)
        return self

    def __isub__(self, handler: Callable[..., Any]) -> Event:
        if handler in self._handlers:
            self._handlers.remove(handler)
        return self

    def __call__(self, *args: Any) -> None:
        for h in list(self._handlers):
            h(*args)

    def __len__(self) -> int:
        return len(self._handlers)


class ConsolidatedBar:
    """A consolidated trade bar (LEAN's ``TradeBar``/``RenkoBar`` shape): ``time``/``end_time`` datetimes."""

    __slots__ = ("close", "end_time", "high", "low", "open", "symbol", "time", "volume")

    def __init__(self, symbol: Symbol | None, time: datetime, end_time: datetime, o: float, h: float, lo: float,
                 c: float, volume: float = 0.0) -> None:
        self.symbol, self.time, self.end_time = symbol, time, end_time
        self.open, self.high, self.low, self.close, self.volume = o, h, lo, c, volume

    @property
    def value(self) -> float:
        return self.close

    price = value

    @property
    def period(self) -> timedelta:
        return self.end_time - self.time

    def _add(self, h: float, lo: float, c: float, v: float) -> None:
        if h > self.high:
            self.high = h
        if lo < self.low:
            self.low = lo
        self.close = c
        self.volume += v

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.symbol} {self.time:%Y-%m-%d %H:%M:%S}->{self.end_time:%H:%M:%S} "
                f"O:{self.open:g} H:{self.high:g} L:{self.low:g} C:{self.close:g} V:{self.volume:g})")


class _Side:
    __slots__ = ("close", "high", "low", "open")

    def __init__(self, o: float, h: float, lo: float, c: float) -> None:
        self.open, self.high, self.low, self.close = o, h, lo, c


class ConsolidatedQuoteBar(ConsolidatedBar):
    """A consolidated quote bar: ``bid`` and ``ask`` sides; its own OHLC are the mid's."""

    __slots__ = ("ask", "bid", "last_ask_size", "last_bid_size")


def _dt(ns: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC).astimezone(tz).replace(tzinfo=None)


def _to_dt(t: Any, tz: ZoneInfo) -> datetime:
    return t if isinstance(t, datetime) else _dt(t, tz)


class Calendar:
    """Calendar periods for ``TradeBarConsolidator(Calendar.WEEKLY)``: functions of a bar's start time that
    give the calendar bar's (start, length), as LEAN's ``Calendar``."""

    @staticmethod
    def daily(t: datetime) -> tuple[datetime, timedelta]:
        start = t.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, timedelta(days=1)

    @staticmethod
    def weekly(t: datetime) -> tuple[datetime, timedelta]:
        start = (t - timedelta(days=t.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        return start, timedelta(days=7)

    @staticmethod
    def monthly(t: datetime) -> tuple[datetime, timedelta]:
        start = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        nxt = (start + timedelta(days=32)).replace(day=1)
        return start, nxt - start

    @staticmethod
    def quarterly(t: datetime) -> tuple[datetime, timedelta]:
        start = t.replace(month=(t.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
        m = start.month + 3
        nxt = start.replace(year=start.year + (m > 12), month=(m - 1) % 12 + 1)
        return start, nxt - start

    @staticmethod
    def yearly(t: datetime) -> tuple[datetime, timedelta]:
        start = t.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        return start, start.replace(year=start.year + 1) - start

    DAILY = daily
    WEEKLY = weekly
    MONTHLY = monthly
    QUARTERLY = quarterly
    YEARLY = yearly


class DataConsolidator:
    """Base of every consolidator: the event, the last bar, the time zone of the bars it makes."""

    #: data classes this consolidator takes when the engine feeds it a symbol's events
    input_types: tuple[type, ...] = (TradeBar,)

    def __init__(self) -> None:
        self.data_consolidated = Event()
        self.consolidated: Any = None
        #: time zone for bar times (the engine sets the security's exchange time zone when it attaches it)
        self.time_zone: ZoneInfo = NY

    def _emit(self, bar: Any) -> None:
        self.consolidated = bar
        self.data_consolidated(self, bar)
        cb = getattr(self, "_handler", None)
        if cb is not None:
            cb(bar)

    def update(self, data: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def scan(self, current_local_time: datetime) -> None:
        """Close a time bar whose period has ended (called by the engine at every time step)."""

    def reset(self) -> None:
        self.consolidated = None

    def dispose(self) -> None:
        self.data_consolidated = Event()


def _period_of(period: Any) -> tuple[timedelta | None, int | None, Callable | None]:
    if isinstance(period, Resolution):
        return timedelta(seconds=period.value / 1e9), None, None
    if isinstance(period, timedelta):
        return period, None, None
    if isinstance(period, int):
        return None, period, None
    if callable(period):
        return None, None, period
    raise TypeError(f"consolidator period must be a timedelta, a bar count, a Resolution or a calendar function, "
                    f"not {period!r}")


class _PeriodConsolidator(DataConsolidator):
    """LEAN's PeriodCountConsolidatorBase: by time span (bars start at multiples of the period, or at
    ``start_time`` into the day), by count of inputs, or by calendar function."""

    def __init__(self, period: Any, start_time: timedelta | None = None) -> None:
        super().__init__()
        self._period, self._count, self._calendar = _period_of(period)
        self._start_time = start_time
        self._working: ConsolidatedBar | None = None
        self._n = 0
        self._last_emit: datetime | None = None

    def _bar_start(self, t: datetime) -> datetime:
        if self._calendar is not None:
            return self._calendar(t)[0]
        p = self._period
        assert p is not None
        if self._start_time is not None:
            origin = t.replace(hour=0, minute=0, second=0, microsecond=0) + self._start_time
            if t < origin:
                origin -= timedelta(days=1)
            return origin + ((t - origin) // p) * p
        epoch = datetime(1, 1, 1)
        return epoch + ((t - epoch) // p) * p

    def _bar_end(self, start: datetime) -> datetime:
        if self._calendar is not None:
            s, length = self._calendar(start)
            return s + length
        return start + self._period  # type: ignore[operator]

    def _parts(self, data: Any) -> tuple[datetime, datetime, float, float, float, float, float]:  # pragma: no cover
        raise NotImplementedError

    def _new_bar(self, data: Any, start: datetime, end: datetime, o: float, h: float, lo: float, c: float,
                 v: float) -> ConsolidatedBar:
        return ConsolidatedBar(getattr(data, "symbol", None), start, end, o, h, lo, c, v)

    def _aggregate(self, bar: ConsolidatedBar, data: Any, h: float, lo: float, c: float, v: float) -> None:
        bar._add(h, lo, c, v)

    def update(self, data: Any) -> None:
        parsed = self._parts(data)
        if parsed is None:
            return
        t, end, o, h, lo, c, v = parsed
        if self._count is not None:
            if self._working is None:
                self._working = self._new_bar(data, t, end, o, h, lo, c, v)
            else:
                self._aggregate(self._working, data, h, lo, c, v)
                self._working.end_time = end
            self._n += 1
            if self._n >= self._count:
                bar, self._working, self._n = self._working, None, 0
                self._emit(bar)
            return
        w = self._working
        if w is not None and t >= w.end_time:
            self._working = None
            self._last_emit = w.end_time
            self._emit(w)
            w = None
        if w is None:
            start = self._bar_start(t)
            if self._last_emit is not None and start < self._last_emit:
                start = self._last_emit
            self._working = self._new_bar(data, start, self._bar_end(start), o, h, lo, c, v)
        else:
            self._aggregate(w, data, h, lo, c, v)

    def scan(self, current_local_time: datetime) -> None:
        w = self._working
        if w is not None and self._count is None and current_local_time >= w.end_time:
            self._working = None
            self._last_emit = w.end_time
            self._emit(w)

    @property
    def working_data(self) -> Any:
        return self._working

    def reset(self) -> None:
        super().reset()
        self._working, self._n, self._last_emit = None, 0, None


class TradeBarConsolidator(_PeriodConsolidator):
    """Trade bars (or ticks' trades, or anything with OHLCV) into trade bars of a period, count or calendar."""

    input_types: tuple[type, ...] = (TradeBar,)

    def _parts(self, d: Any):
        tz = self.time_zone
        if isinstance(d, TradeBar):
            return _dt(d.time, tz), _dt(d.end_time, tz), d.open, d.high, d.low, d.close, d.volume
        if isinstance(d, TradeTick):
            t = _dt(d.time, tz)
            return t, t, d.price, d.price, d.price, d.price, d.quantity
        if isinstance(d, QuoteBar):
            return None
        t = _to_dt(d.time, tz)
        return t, _to_dt(d.end_time, tz), d.open, d.high, d.low, d.close, getattr(d, "volume", 0.0)


class TickConsolidator(TradeBarConsolidator):
    """Trade ticks into trade bars (quote ticks are skipped; use TickQuoteBarConsolidator for those)."""

    input_types = (TradeTick,)

    def _parts(self, d: Any):
        if isinstance(d, QuoteTick):
            return None
        return super()._parts(d)


class QuoteBarConsolidator(_PeriodConsolidator):
    """Quote bars into quote bars: bid and ask sides consolidated apart."""

    input_types: tuple[type, ...] = (QuoteBar,)

    def _parts(self, d: Any):
        if not isinstance(d, QuoteBar):
            return None
        tz = self.time_zone
        return _dt(d.time, tz), _dt(d.end_time, tz), d.open, d.high, d.low, d.close, 0.0

    def _new_bar(self, data, start, end, o, h, lo, c, v):
        bar = ConsolidatedQuoteBar(data.symbol, start, end, o, h, lo, c, 0.0)
        b, a = data.bid, data.ask
        bar.bid = _Side(b.open, b.high, b.low, b.close) if b is not None else None
        bar.ask = _Side(a.open, a.high, a.low, a.close) if a is not None else None
        bar.last_bid_size, bar.last_ask_size = data.last_bid_size, data.last_ask_size
        return bar

    def _aggregate(self, bar, data, h, lo, c, v):
        bar._add(h, lo, c, 0.0)
        for name in ("bid", "ask"):
            src, dst = getattr(data, name), getattr(bar, name)
            if src is None:
                continue
            if dst is None:
                setattr(bar, name, _Side(src.open, src.high, src.low, src.close))
                continue
            dst.high, dst.low, dst.close = max(dst.high, src.high), min(dst.low, src.low), src.close
        bar.last_bid_size, bar.last_ask_size = data.last_bid_size, data.last_ask_size


class TickQuoteBarConsolidator(QuoteBarConsolidator):
    """Quote ticks into quote bars."""

    input_types = (QuoteTick,)

    def _parts(self, d: Any):
        if not isinstance(d, QuoteTick):
            return None
        t = _dt(d.time, self.time_zone)
        m = d.price
        return t, t, m, m, m, m, 0.0

    def _new_bar(self, data, start, end, o, h, lo, c, v):
        bar = ConsolidatedQuoteBar(data.symbol, start, end, o, h, lo, c, 0.0)
        bar.bid = _Side(data.bid_price, data.bid_price, data.bid_price, data.bid_price) if data.bid_price else None
        bar.ask = _Side(data.ask_price, data.ask_price, data.ask_price, data.ask_price) if data.ask_price else None
        bar.last_bid_size, bar.last_ask_size = data.bid_size, data.ask_size
        return bar

    def _aggregate(self, bar, data, h, lo, c, v):
        bar._add(h, lo, c, 0.0)
        for name, px in (("bid", data.bid_price), ("ask", data.ask_price)):
            if not px:
                continue
            dst = getattr(bar, name)
            if dst is None:
                setattr(bar, name, _Side(px, px, px, px))
            else:
                dst.high, dst.low, dst.close = max(dst.high, px), min(dst.low, px), px
        bar.last_bid_size, bar.last_ask_size = data.bid_size, data.ask_size


def _price_time(d: Any, tz: ZoneInfo) -> tuple[datetime, datetime, float]:
    if isinstance(d, (TradeBar, QuoteBar)):
        return _dt(d.time, tz), _dt(d.end_time, tz), d.close
    if isinstance(d, (TradeTick, QuoteTick)):
        t = _dt(d.time, tz)
        return t, t, d.price
    return _to_dt(d.time, tz), _to_dt(d.end_time, tz), d.close if hasattr(d, "close") else d.value


class RenkoBar(ConsolidatedBar):
    """A Renko brick: ``direction`` +1 rising, -1 falling."""

    __slots__ = ("brick_size", "direction")
    brick_size: float
    direction: int


class RenkoConsolidator(DataConsolidator):
    """LEAN's (wicked) RenkoConsolidator: a brick each time the price moves ``bar_size`` past the last one."""

    input_types = (TradeBar, TradeTick)

    def __init__(self, bar_size: float) -> None:
        super().__init__()
        if bar_size <= 0:
            raise ValueError("Renko bar size must be positive")
        self.bar_size = float(bar_size)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self._first = True
        self._last: RenkoBar | None = None
        self._open_on: datetime | None = None
        self._close_on: datetime | None = None

    def _brick(self, sym: Any, o: float, h: float, lo: float, c: float) -> None:
        assert self._open_on is not None and self._close_on is not None  # bricks follow the first update
        bar = RenkoBar(sym, self._open_on, self._close_on, o, h, lo, c, 0.0)
        bar.brick_size, bar.direction = self.bar_size, 1 if c > o else -1
        self._last = bar
        self._emit(bar)
        self._open_on = self._close_on

    def update(self, data: Any) -> None:
        t, _, rate = _price_time(data, self.time_zone)
        sym = getattr(data, "symbol", None)
        if self._first:
            self._first = False
            self._open_on = self._close_on = t
            self._open = self._high = self._low = self._close = rate
            return
        self._close_on = t
        self._high, self._low, self._close = max(self._high, rate), min(self._low, rate), rate
        size = self.bar_size
        if self._close > self._open:
            if self._last is not None and self._last.direction < 0:
                limit = self._last.open + size
                if self._close <= limit:
                    return
                self._brick(sym, self._last.open, limit, self._low, limit)
                self._open = self._low = limit
            while self._close > self._open + size:
                limit = self._open + size
                self._brick(sym, self._open, limit, self._low, limit)
                self._open = self._low = limit
        elif self._close < self._open:
            if self._last is not None and self._last.direction > 0:
                limit = self._last.open - size
                if self._close >= limit:
                    return
                self._brick(sym, self._last.open, self._high, limit, limit)
                self._open = self._high = limit
            while self._close < self._open - size:
                limit = self._open - size
                self._brick(sym, self._open, self._high, limit, limit)
                self._open = self._high = limit


class VolumeRenkoBar(ConsolidatedBar):
    """A bar closed when exactly ``brick_size`` volume has traded."""

    __slots__ = ("brick_size",)
    brick_size: float

    @property
    def is_closed(self) -> bool:
        return self.volume >= self.brick_size

    def take(self, end: datetime, h: float, lo: float, c: float, volume: float) -> float:
        """Add up to the brick's remaining volume; returns the volume left over (negative: brick still open)."""
        if self.is_closed:
            return 0.0
        self.end_time = end
        excess = self.volume + volume - self.brick_size
        if excess >= 0:
            volume = self.brick_size - self.volume
        self._add(h, lo, c, volume)
        return excess


class VolumeRenkoConsolidator(DataConsolidator):
    """LEAN's VolumeRenkoConsolidator: bars of exactly ``bar_size`` traded volume from trade bars or ticks,
    one input's volume split over as many bars as it fills."""

    input_types = (TradeBar, TradeTick)

    def __init__(self, bar_size: float) -> None:
        super().__init__()
        self.bar_size = float(bar_size)
        self._bar: VolumeRenkoBar | None = None

    def _new(self, sym: Any, t: datetime, end: datetime, o: float, h: float, lo: float, c: float) -> VolumeRenkoBar:
        bar = VolumeRenkoBar(sym, t, end, o, h, lo, c, 0.0)
        bar.brick_size = self.bar_size
        return bar

    def update(self, data: Any) -> None:
        tz = self.time_zone
        if isinstance(data, (QuoteTick, QuoteBar)):
            return
        if isinstance(data, TradeTick):
            t = end = _dt(data.time, tz)
            o = h = lo = c = data.price
            volume = data.quantity
        else:
            t, end = _to_dt(data.time, tz), _to_dt(data.end_time, tz)
            o, h, lo, c, volume = data.open, data.high, data.low, data.close, data.volume
        sym = getattr(data, "symbol", None)
        if self._bar is None:
            self._bar = self._new(sym, t, end, o, h, lo, c)
        left = self._bar.take(end, h, lo, c, volume)
        while left >= 0:
            self._emit(self._bar)
            self._bar = self._new(sym, end, end, c, h, lo, c)
            left = self._bar.take(end, h, lo, c, left)

    def reset(self) -> None:
        super().reset()
        self._bar = None


class ClassicRenkoConsolidator(RenkoConsolidator):
    """LEAN's name for the plain (non-wicked) Renko consolidator; leand builds the same bricks."""


def consolidator_for(period: Any, data_type: type, start_time: timedelta | None = None) -> DataConsolidator:
    """The consolidator ``Strategy.consolidate`` / ``register_indicator`` attach for a security's data type."""
    if data_type is QuoteBar:
        return QuoteBarConsolidator(period, start_time)
    if data_type is TradeTick:
        return TickConsolidator(period, start_time)
    if data_type is QuoteTick:
        return TickQuoteBarConsolidator(period, start_time)
    return TradeBarConsolidator(period, start_time)


class ConsolidatorFeed:
    """The engine's side: which consolidators each symbol feeds, fed every event, scanned every time step."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.by_symbol: dict[Symbol, list[DataConsolidator]] = {}
        self.active = False
        self.clock = clock  # its epoch tells the engine's columnar bar loop that a consolidator was registered

    def add(self, symbol: Symbol, consolidator: DataConsolidator, tz: ZoneInfo) -> None:
        consolidator.time_zone = tz
        self.by_symbol.setdefault(symbol, []).append(consolidator)
        self.active = True
        if self.clock is not None:
            self.clock.epoch += 1

    def remove(self, symbol: Symbol, consolidator: DataConsolidator) -> bool:
        lst = self.by_symbol.get(symbol, [])
        if consolidator in lst:
            lst.remove(consolidator)
            return True
        return False

    def on_slice(self, t_ns: int, events: tuple) -> None:
        by = self.by_symbol
        for ev in events:
            cons = by.get(ev.symbol)
            if not cons:
                continue
            cls = ev.__class__
            if cls is not TradeBar and cls is not QuoteBar and cls is not TradeTick and cls is not QuoteTick:
                continue
            for c in cons:
                if cls in c.input_types or (cls is TradeBar and TradeBar in c.input_types):
                    c.update(ev)
        for cons in by.values():
            for c in cons:
                if isinstance(c, _PeriodConsolidator) and c._working is not None:
                    c.scan(_dt(t_ns, c.time_zone))
