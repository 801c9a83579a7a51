"""The merged, time-ordered data feed a backtest consumes.

Each subscription streams one file (one day) at a time; streams are merged k-way by time and handed out in
batches of parallel lists — slice times and, per time, the tuple of events with that end time — so the engine's
loop is a plain ``for t, events in zip(times, slices)``. Fill-forward follows LEAN: inside market hours
(regular unless extended hours are on) every expected bar with no data repeats the previous real bar, marked
``fill_forward=True``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from leand.clock import datetime_to_ns, ns_to_datetime
from leand.data.lean import Columns, LeanDataSource
from leand.data.market_hours import ExchangeHours
from leand.model import (
    Bar,
    DataNormalizationMode,
    QuoteBar,
    QuoteTick,
    Resolution,
    SecurityType,
    Symbol,
    TickType,
    TradeBar,
    TradeTick,
)

DAY_NS = 86_400_000_000_000


class Subscription(msgspec.Struct, frozen=True):
    symbol: Symbol
    resolution: Resolution
    tick_type: TickType
    normalization: DataNormalizationMode = DataNormalizationMode.RAW
    extended_hours: bool = False
    fill_forward: bool = True
    #: a plain OHLCV CSV file instead of LEAN's folders
    csv_path: str | None = None


Chunk = tuple[np.ndarray, "list | BarBatch"]  # (end times, events), time-ordered


def _events(c: Columns, sym: Symbol) -> list:
    """Columns -> model Structs, built with map() so the per-event cost stays in C where possible."""
    n = len(c)
    t, e = c.time.tolist(), c.end_time.tolist()
    k = c.cols
    if c.kind == "trade_bar":
        return list(map(TradeBar, repeat(sym, n), t, e, k["open"].tolist(), k["high"].tolist(),
                        k["low"].tolist(), k["close"].tolist(), k["volume"].tolist()))
    if c.kind == "quote_bar":
        bid_ok = ~np.isnan(k["bid_close"])
        ask_ok = ~np.isnan(k["ask_close"])
        bids: list[Bar | None] = list(map(Bar, k["bid_open"].tolist(), k["bid_high"].tolist(), k["bid_low"].tolist(),
                        k["bid_close"].tolist()))
        asks: list[Bar | None] = list(map(Bar, k["ask_open"].tolist(), k["ask_high"].tolist(), k["ask_low"].tolist(),
                        k["ask_close"].tolist()))
        if not bid_ok.all():
            for i in np.flatnonzero(~bid_ok).tolist():
                bids[i] = None
        if not ask_ok.all():
            for i in np.flatnonzero(~ask_ok).tolist():
                asks[i] = None
        return list(map(QuoteBar, repeat(sym, n), t, e, bids, asks, k["last_bid_size"].tolist(),
                        k["last_ask_size"].tolist()))
    if c.kind == "trade_tick":
        return list(map(TradeTick, repeat(sym, n), t, k["price"].tolist(), k["quantity"].tolist(),
                        repeat("", n), repeat("", n), k["suspicious"].tolist()))
    return list(map(QuoteTick, repeat(sym, n), t, k["bid_price"].tolist(), k["bid_size"].tolist(),
                    k["ask_price"].tolist(), k["ask_size"].tolist(), repeat("", n), repeat("", n),
                    k["suspicious"].tolist()))


#: rows per chunk when a day of bars is turned into event objects (or handed out as columns)
BAR_CHUNK = 65536
#: ticks per chunk turned into event objects: a liquid stock's quotes come by the million a day, and the smaller
#: the chunk, the fewer event objects (and the less memory) are alive at once while two streams merge
TICK_CHUNK = 16384


class BarBatch:
    """Rows of one symbol's real trade bars (no fill-forward) as columns, for a backtest to consume in place:
    the engine reads each row's end time and close from plain lists, and a row's TradeBar is made
    only when something reads it (the slice's data, ``Security.last_trade_bar``, a fill model), once."""

    __slots__ = ("_made", "close", "columns", "end_time", "symbol")

    def __init__(self, symbol: Symbol, c: Columns) -> None:
        self.symbol = symbol
        self.columns = c
        #: the close column as a view: a row's float is made when the loop (or a bar) reads it
        self.close: Sequence[float] = memoryview(c.cols["close"])  # type: ignore[arg-type]
        #: the end times as a view, the same way: a row's int read by index (a market fill's staleness test,
        #: ``Security.trade_close_since``) costs about half of ``ndarray.item``'s method call
        self.end_time: Sequence[int] = memoryview(c.end_time)  # type: ignore[arg-type]
        self._made: dict[int, TradeBar] = {}

    def __len__(self) -> int:
        return len(self.close)

    def bar(self, i: int) -> TradeBar:
        b = self._made.get(i)
        if b is None:
            c = self.columns
            k = c.cols
            b = self._made[i] = TradeBar(self.symbol, int(c.time[i]), int(c.end_time[i]), float(k["open"][i]),
                                         float(k["high"][i]), float(k["low"][i]), self.close[i],
                                         float(k["volume"][i]))
        return b

    def volume_at(self, i: int) -> float:
        """Row ``i``'s volume (without making its TradeBar)."""
        return float(self.columns.cols["volume"][i])

    def bars(self) -> list:
        """Every row as a TradeBar (the rows already made are those objects)."""
        out = _events(self.columns, self.symbol)
        for i, b in self._made.items():
            out[i] = b
        return out


def _concat(parts: list[Columns]) -> Columns:
    return Columns(parts[0].kind, np.concatenate([p.time for p in parts]),
                   np.concatenate([p.end_time for p in parts]),
                   {k: np.concatenate([p.cols[k] for p in parts]) for k in parts[0].cols})


def _ff_copy(ev: Any, start: int, end: int) -> Any:
    cls = type(ev)
    if cls is TradeBar:
        return TradeBar(ev.symbol, start, end, ev.open, ev.high, ev.low, ev.close, ev.volume, True)
    return QuoteBar(ev.symbol, start, end, ev.bid, ev.ask, ev.last_bid_size, ev.last_ask_size, True)


class _SubscriptionStream:
    """Chunks of one subscription in time order, with market-hours filtering and fill-forward."""

    def __init__(self, source: LeanDataSource, sub: Subscription, start_ns: int, end_ns: int,
                 hours: ExchangeHours, include_start: bool = False) -> None:
        self.source = source
        self.sub = sub
        self.start_ns = start_ns
        #: keep a bar that ends exactly at the start: LEAN's SubscriptionDataReader skips only data with
        #: EndTime < start, so a run starting at midnight gets the (always-open) previous day's daily bar at its
        #: first step; a subscription joining mid-run starts with its next bar
        self._first_end = start_ns if include_start else start_ns + 1
        self.end_ns = end_ns
        self.hours = hours
        self.last_real: Any = None
        #: hand out real trade bars as BarBatch columns instead of TradeBar lists (see DataFeed.columnar)
        self.columnar = False

    def _in_hours(self, c: Columns, d: date) -> Columns:
        if self.hours.always_open or self.sub.resolution >= Resolution.HOUR:
            return c
        segs = self.hours.segments(d, self.sub.extended_hours)
        if not segs:
            return c.take(np.zeros(len(c), bool))
        t = c.time
        if len(t):  # the usual day: every row inside one session (two reductions, no mask)
            first, last = t.min(), t.max()
            for s, e in segs:
                if s <= first and last < e:
                    return c
        mask = np.zeros(len(c), bool)
        for s, e in segs:
            mask |= (t >= s) & (t < e)
        return c if mask.all() else c.take(mask)

    def _grid(self, d: date) -> np.ndarray:
        res = self.sub.resolution.value
        if self.hours.always_open:
            s = datetime_to_ns(datetime.combine(d, time(0), self.hours.data_time_zone))
            segs: tuple[tuple[int, int], ...] = ((s, s + DAY_NS),)
        else:
            segs = self.hours.segments(d, self.sub.extended_hours)
        parts = [np.arange(s + res, e + 1, res, dtype=np.int64) for s, e in segs]
        return np.concatenate(parts) if parts else np.empty(0, np.int64)

    def _with_fill_forward(self, ends: np.ndarray, events: list, d: date) -> tuple[np.ndarray, list]:
        grid = self._grid(d)
        res = self.sub.resolution.value
        grid = grid[(grid > self.start_ns) & (grid - res <= self.end_ns)]
        if not len(grid) or (self.last_real is None and not events):
            if events:
                self.last_real = events[-1]
            return ends, events
        union = np.union1d(grid, ends) if len(ends) else grid
        if self.last_real is None:
            union = union[union >= ends[0]]
        idx = np.searchsorted(ends, union, "right") - 1
        res = self.sub.resolution.value
        out = []
        carry = self.last_real
        ends_l = ends.tolist()
        for u, i in zip(union.tolist(), idx.tolist()):
            if i >= 0 and ends_l[i] == u:
                out.append(events[i])
            else:
                src = events[i] if i >= 0 else carry
                out.append(_ff_copy(src, u - res, u))
        if events:
            self.last_real = events[-1]
        return union, out

    def _clip(self, c: Columns) -> Columns:
        """Keep what starts inside the run and ends after its start, or at it for the run's own start (see
        DataFeed)."""
        if not len(c) or (c.end_time.min() >= self._first_end and c.time.max() <= self.end_ns):
            return c  # (the usual day: two reductions, no mask)
        keep = (c.end_time >= self._first_end) & (c.time <= self.end_ns)
        return c if keep.all() else c.take(keep)

    def _tick_day(self, d: date, equity: bool) -> Iterator[Chunk]:
        """A day of ticks in chunks of TICK_CHUNK kept ticks (the day's last chunk shorter), the Structs built a
        chunk at a time; the file is read a window at a time, so memory holds a window and a chunk, not the
        day (a liquid stock's day of quotes is a million rows)."""
        sub = self.sub
        parts: list[Columns] = []
        held = 0
        windowed = getattr(self.source, "read_tick_windows", None)
        if windowed is not None:
            windows = windowed(sub.symbol, sub.tick_type, d, self.hours, sub.normalization)
        else:  # a source that reads whole days (a data catalogue: memory-mapped already)
            day = self.source.read_day(sub.symbol, Resolution.TICK, sub.tick_type, d, self.hours, sub.normalization)
            windows = [day] if day is not None else []
        for c in windows:
            if equity:
                c = self._in_hours(c, d)
            c = self._clip(c)
            if not len(c):
                continue
            parts.append(c)
            held += len(c)
            while held > TICK_CHUNK:
                c = _concat(parts) if len(parts) > 1 else parts[0]
                # the ticks of one instant stay in one chunk (one slice): the cut moves past those sharing
                # the last one's time; if they run to the end of what is held, the next window decides
                et = c.end_time
                cut = TICK_CHUNK
                last = et[cut - 1]
                while cut < held and et[cut] == last:
                    cut += 1
                if cut == held:
                    parts = [c]
                    break
                part = c.take(slice(0, cut))
                yield part.end_time, _events(part, sub.symbol)
                rest = c.take(slice(cut, None))
                parts = [rest]
                held = len(rest)
        if held:
            c = _concat(parts) if len(parts) > 1 else parts[0]
            yield c.end_time, _events(c, sub.symbol)

    def chunks(self) -> Iterator[Chunk]:
        sub, src, hours = self.sub, self.source, self.hours
        tz = hours.data_time_zone
        first = ns_to_datetime(self.start_ns, tz).date() - timedelta(days=1)
        last = ns_to_datetime(self.end_ns, tz).date() + timedelta(days=1)
        equity = sub.symbol.security_type is SecurityType.EQUITY
        if sub.csv_path is not None:
            from leand.data.csv_bars import read_csv_bars

            period = sub.resolution.value or None
            for raw in read_csv_bars(Path(sub.csv_path), hours.time_zone, period):
                clipped = self._clip(raw)
                if len(clipped):
                    yield clipped.end_time, _events(clipped, sub.symbol)
            return
        if sub.resolution >= Resolution.HOUR:
            c = src.read_range(sub.symbol, sub.resolution, sub.tick_type, first, last, hours, sub.normalization)
            if c is not None and len(c := self._clip(c)):
                yield c.end_time, _events(c, sub.symbol)
            return
        d = first
        if sub.resolution is Resolution.TICK:
            while d <= last:
                yield from self._tick_day(d, equity)
                d += timedelta(days=1)
            return
        ff = sub.fill_forward
        while d <= last:
            c = src.read_day(sub.symbol, sub.resolution, sub.tick_type, d, hours, sub.normalization)
            if c is not None and equity:
                c = self._in_hours(c, d)
            if c is not None:
                c = self._clip(c)
            if c is not None and not ff and self.columnar and c.kind == "trade_bar":
                for a in range(0, len(c), BAR_CHUNK):  # no Structs: the engine reads the columns
                    part = c.take(slice(a, a + BAR_CHUNK)) if len(c) > BAR_CHUNK else c
                    if len(part):
                        yield part.end_time, BarBatch(sub.symbol, part)
                d += timedelta(days=1)
                continue
            if c is not None and not ff and len(c) > BAR_CHUNK:
                # many rows (a day of second bars without fill-forward): build the Structs a chunk at a time
                for a in range(0, len(c), BAR_CHUNK):
                    part = c.take(slice(a, a + BAR_CHUNK))
                    yield part.end_time, _events(part, sub.symbol)
                d += timedelta(days=1)
                continue
            ends = c.end_time if c is not None else np.empty(0, np.int64)
            events = _events(c, sub.symbol) if c is not None and len(c) else []
            if ff:
                ends, events = self._with_fill_forward(ends, events, d)
            if events:
                yield ends, events
            d += timedelta(days=1)


class _AuxStream:
    def __init__(self, events: list) -> None:
        self.events = sorted(events, key=lambda e: e.time)

    def chunks(self) -> Iterator[Chunk]:
        if self.events:
            yield np.array([e.time for e in self.events], np.int64), self.events


class DataFeed:
    """Bars whose period starts inside [start, end] are delivered (LEAN includes the bar that ends exactly
    at midnight after the end date, and the one that ends exactly at the start), each at its end time; ticks
    inside (start, end]."""

    def __init__(self, source: LeanDataSource, subscriptions: list[Subscription], start_ns: int, end_ns: int,
                 hours: dict[Symbol, ExchangeHours], batch_size: int = 65536, aux: bool = True,
                 extra: list | None = None, columnar: bool = False) -> None:
        self.source = source
        self.subscriptions = subscriptions
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.hours = hours
        self.batch_size = batch_size
        self.aux = aux
        #: more streams to merge: zero-argument callables returning iterators of (times, events) chunks in
        #: time order (recorded order books come this way from the backtest layer)
        self.extra = list(extra or [])
        #: while one stream alone has data, its real trade bars come out as (times, BarBatch) batches instead
        #: of (times, list of 1-tuples of TradeBars): only the engine's loop asks for this
        self.columnar = columnar
        #: a pending :meth:`join`, and whether one happened (streams made later start mid-run)
        self._join: tuple | None = None
        self._joined = False
        self._stream_symbols: list[Symbol | None] = []

    def _streams(self) -> list[Iterator[Chunk]]:
        streams, self._stream_symbols = self._streams_for(self.subscriptions, self.start_ns)
        return streams

    def _streams_for(self, subscriptions: list[Subscription], start_ns: int) -> tuple[list[Iterator[Chunk]],
                                                                                      list[Symbol | None]]:
        """The chunk iterators of ``subscriptions`` from ``start_ns`` (their corporate actions as one more),
        with the symbol each streams (None for several)."""
        subs = [_SubscriptionStream(self.source, s, start_ns, self.end_ns, self.hours[s.symbol],
                                    include_start=not self._joined) for s in subscriptions]
        streams = [s.chunks() for s in subs]
        symbols: list[Symbol | None] = [s.symbol for s in subscriptions]
        if not self._joined:  # the extra streams start with the run
            streams += [make() for make in self.extra]
            symbols += [None] * len(self.extra)
        if self.aux:
            seen: set[Symbol] = set()
            events: list = []
            for s in subscriptions:
                sym = s.symbol
                if sym in seen or sym.security_type is not SecurityType.EQUITY:
                    continue
                seen.add(sym)
                tz = self.hours[sym].time_zone
                d0 = ns_to_datetime(start_ns, tz).date()
                d1 = ns_to_datetime(self.end_ns, tz).date()
                evs = self.source.factor_file(sym).events(sym, tz, d0, d1)
                mf = self.source.map_file(sym)
                if mf is not None:
                    evs += mf.events(sym, tz, d0, d1)
                events += [e for e in evs if start_ns <= e.time <= self.end_ns and (not self._joined
                                                                                     or e.time > start_ns)]
            if events:
                streams.append(_AuxStream(events).chunks())
                symbols.append(seen.pop() if len(seen) == 1 else None)
        for sub in subs:
            sub.columnar = self.columnar  # read when the generator first runs
        return streams, symbols

    def join(self, t_ns: int, added: list[Subscription], removed: set[Symbol], rest_times: list[int],
             rest_slices: Any) -> None:
        """Securities added or removed mid-run, at ``t_ns``: from the next batch on, ``added`` stream from
        after ``t_ns`` and ``removed`` symbols' data stops. The caller had run the current batch up to
        ``t_ns``; ``rest_times``/``rest_slices`` (the slices it had not run) come back merged with the
        new streams, then the rest of the feed. Called between two of :meth:`batches`' batches."""
        self._join = (t_ns, list(added), set(removed), rest_times, rest_slices)

    def _rejoin(self, streams: list[Iterator[Chunk]], buffers: list[Chunk | None], later: list) -> None:
        t_ns, added, removed, rest_times, rest_slices = self._join  # type: ignore[misc]
        self._join = None
        self._joined = True
        symbols = self._stream_symbols
        ends: list[int] = []
        events: list = []
        for times, slices in [(rest_times, rest_slices), *later]:
            if isinstance(slices, BarBatch):
                slices = list(zip(slices.bars()))
            for tm, evs in zip(times, slices):
                for ev in evs:
                    if ev.symbol not in removed:
                        ends.append(tm)
                        events.append(ev)
        for i, sym in enumerate(symbols):
            if sym is not None and sym in removed:
                streams[i], buffers[i] = iter(()), None
        new, new_symbols = self._streams_for(added, t_ns) if added else ([], [])
        streams[:0] = [iter(()), *new]  # the slices not run yet first: at equal times they come first
        buffers[:0] = [(np.array(ends, np.int64), events) if events else None, *(next(s, None) for s in new)]
        symbols[:0] = [None, *new_symbols]

    def batches(self) -> Iterator[tuple[list[int], list[tuple]]]:
        streams = self._streams()
        buffers: list[Chunk | None] = [next(s, None) for s in streams]
        while True:
            held = [(i, b) for i, b in enumerate(buffers) if b is not None]
            if not held:
                return
            if len(held) == 1:  # the only stream with data left (e.g. trades, no quote files): its chunk whole
                i, (ends, events) = held[0]
                buffers[i] = next(streams[i], None)
                out = self._one(ends, events)
            else:
                # merging: columns become TradeBars
                merged: list[tuple[int, tuple[np.ndarray, list]]] = [
                    (i, (b[0], b[1].bars() if isinstance(b[1], BarBatch) else b[1])) for i, b in held]
                horizon = min(b[0][-1] for _, b in merged)
                parts_t, parts_e = [], []
                for i, (ends, events) in merged:
                    cut = int(np.searchsorted(ends, horizon, "right"))
                    parts_t.append(ends[:cut])
                    parts_e.append(events[:cut])
                    if cut == len(ends):
                        buffers[i] = next(streams[i], None)
                    else:
                        buffers[i] = (ends[cut:], events[cut:])
                out = self._group(parts_t, parts_e)
            for batch in out:
                yield batch
                if self._join is not None:  # securities changed while that batch ran
                    self._rejoin(streams, buffers, list(out))
                    break

    def _one(self, ends: np.ndarray, events: list | BarBatch) -> Iterator[tuple[list[int], Any]]:
        """A chunk of one stream: a BarBatch as it is when its times are distinct (a slice per row)."""
        if isinstance(events, BarBatch):
            if len(ends) == 1 or bool((ends[1:] != ends[:-1]).all()):
                # the times as a view of the column: the loop makes each row's int as it reaches it (and drops
                # it a row later, so its memory is reused while hot) instead of a list of the whole day up front
                yield memoryview(ends), events  # type: ignore[arg-type, misc]
                return
            rows = events.bars()
        else:
            rows = events
        yield from self._group([ends], [rows])

    def _group(self, parts_t: list[np.ndarray], parts_e: list[list]) -> Iterator[tuple[list[int], list[tuple]]]:
        if len(parts_t) == 1:
            t = parts_t[0]
            events = parts_e[0]
        else:
            t = np.concatenate(parts_t)
            order = np.argsort(t, kind="stable")
            t = t[order]
            flat = list(chain.from_iterable(parts_e))
            events = list(map(flat.__getitem__, order.tolist()))
        n = len(t)
        if not n:
            return
        step = self.batch_size
        if n == 1 or bool((t[1:] != t[:-1]).all()):
            tl = t.tolist()
            if n <= step:  # the usual day: one batch, no slicing copies
                yield tl, list(zip(events))
                return
            for a in range(0, n, step):
                yield tl[a:a + step], list(zip(events[a:a + step]))
            return
        cuts = np.flatnonzero(t[1:] != t[:-1]) + 1
        bounds = cuts.tolist()
        starts = [0, *bounds]
        stops = [*bounds, n]
        times = t[np.concatenate(([0], cuts))].tolist()
        slices = [tuple(events[s:e]) for s, e in zip(starts, stops)]
        for a in range(0, len(times), step):
            yield times[a:a + step], slices[a:a + step]
