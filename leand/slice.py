"""``Slice``: everything that happened at one instant, as a strategy's ``on_data`` sees it.

Built lazily: the engine hands over the tuple of events and the dict views (``bars``, ``quote_bars``, ...)
are made only if the strategy asks for them, so an ``on_data`` that reads one bar costs one scan.
"""

from __future__ import annotations

from typing import Any

from leand.model import (
    BookDelta,
    BookSnapshot,
    Delisting,
    Dividend,
    QuoteBar,
    QuoteTick,
    Split,
    Symbol,
    SymbolChanged,
    TradeBar,
    TradeTick,
)


class DataDict(dict):
    """A slice's per-symbol view (``data.bars``...): a dict, with LEAN's ``count``, ``contains_key`` and ticker
    strings as keys."""

    def __missing__(self, key: Any) -> Any:
        if isinstance(key, str):
            text = key.upper()
            for sym, v in self.items():
                if sym.value == text:
                    return v
        raise KeyError(key)

    def contains_key(self, key: Any) -> bool:
        if dict.__contains__(self, key):
            return True
        if isinstance(key, str):
            text = key.upper()
            return any(sym.value == text for sym in self)
        return False

    def try_get_value(self, key: Any) -> tuple[bool, Any]:
        try:
            return True, self[key]
        except KeyError:
            return False, None

    @property
    def count(self) -> int:
        return len(self)


_MARKET = (TradeBar, QuoteBar, TradeTick, QuoteTick)


def _is(ev_symbol: Symbol, key: Any) -> bool:
    return ev_symbol == key or (isinstance(key, str) and ev_symbol.value == key.upper())


class Slice:
    """``time`` is the slice's UTC ns end time; ``events`` every event stamped with it, in subscription order.

    A backtest consuming a day of bars in place passes no events but the day's ``BarBatch`` and the row:
    the TradeBar is made only if the handler looks at the slice's data.

    A plain ``__slots__`` class, not a Struct: when nothing kept the last step's slice (its reference count
    says so), the engine's loop hands that object to the next step with its fields rewritten, slot stores of a
    few ns, where making and freeing a Struct each step cost about a seventh of a bar's steps."""

    __slots__ = ("_bars", "_batch", "_events", "_quote_bars", "_row", "_ticks", "time")

    def __init__(self, time: int, _events: tuple | None = None, _batch: Any = None, _row: int = 0) -> None:
        self.time = time
        self._events = _events
        self._batch = _batch
        self._row = _row
        self._bars: dict | None = None
        self._quote_bars: dict | None = None
        self._ticks: dict | None = None

    @property
    def events(self) -> tuple:
        ev = self._events
        if ev is None:
            ev = self._events = (self._batch.bar(self._row),) if self._batch is not None else ()
        return ev

    # -- LEAN-style accessors -------------------------------------------------------------------
    def __getitem__(self, symbol: Symbol) -> Any:
        found = None
        for ev in self.events:
            if _is(ev.symbol, symbol):
                cls = type(ev)
                if cls is TradeBar:
                    return ev
                if cls is QuoteBar:
                    found = found or ev
                elif cls is TradeTick or cls is QuoteTick:
                    return self.ticks[symbol]
        if found is None:
            raise KeyError(f"no data for {symbol} at this slice")
        return found

    def get(self, symbol: Symbol, default: Any = None) -> Any:
        try:
            return self[symbol]
        except KeyError:
            return default

    def __contains__(self, symbol: Symbol) -> bool:
        # market data only, as LEAN's Slice.ContainsKey: a dividend or split alone is not "data for" a symbol
        return any(_is(ev.symbol, symbol) and type(ev) in _MARKET for ev in self.events)

    contains_key = __contains__

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self):
        return iter(self.events)

    @property
    def has_data(self) -> bool:
        return bool(self.events)

    @property
    def bars(self) -> dict[Symbol, TradeBar]:
        if self._bars is None:
            self._bars = DataDict((e.symbol, e) for e in self.events if type(e) is TradeBar)
        return self._bars

    @property
    def quote_bars(self) -> dict[Symbol, QuoteBar]:
        if self._quote_bars is None:
            self._quote_bars = DataDict((e.symbol, e) for e in self.events if type(e) is QuoteBar)
        return self._quote_bars

    @property
    def ticks(self) -> dict[Symbol, list]:
        ticks = self._ticks
        if ticks is None:
            ticks = self._ticks = DataDict()
            events = self._events
            if events is None:
                events = self.events
            if len(events) == 1:  # a live or replayed tick: one event per slice, no list to look up
                e = events[0]
                cls = e.__class__
                if cls is QuoteTick or cls is TradeTick:
                    ticks[e.symbol] = [e]
                return ticks
            for e in events:
                cls = e.__class__
                if cls is TradeTick or cls is QuoteTick:
                    ticks.setdefault(e.symbol, []).append(e)
        return ticks

    @property
    def book_updates(self) -> dict[Symbol, list]:
        """Recorded L2 book changes (``BookDelta``/``BookSnapshot``) by symbol."""
        out: dict[Symbol, list] = {}
        for e in self.events:
            if type(e) is BookDelta or type(e) is BookSnapshot:
                out.setdefault(e.symbol, []).append(e)
        return out

    @property
    def dividends(self) -> dict[Symbol, Dividend]:
        return DataDict((e.symbol, e) for e in self.events if type(e) is Dividend)

    @property
    def delistings(self) -> dict[Symbol, Delisting]:
        return DataDict((e.symbol, e) for e in self.events if type(e) is Delisting)

    @property
    def splits(self) -> dict[Symbol, Split]:
        return DataDict((e.symbol, e) for e in self.events if type(e) is Split)

    @property
    def symbol_changed_events(self) -> dict[Symbol, SymbolChanged]:
        return DataDict((e.symbol, e) for e in self.events if type(e) is SymbolChanged)

    def keys(self) -> list[Symbol]:
        seen: dict[Symbol, None] = {}
        for e in self.events:
            seen[e.symbol] = None
        return list(seen)

    def __repr__(self) -> str:
        return f"Slice(time={self.time}, events={len(self.events)})"


_TIME = Slice.__dict__["time"]  # the slot under RowSlice's ``time`` property


class RowSlice(Slice):
    """The slice of the row the engine's columnar bar loop is at: while live it is the row the loop last
    noted on the security (``sec.bar_row``) and shows that row's time and data, so the loop hands the same
    object to the next row without a store. What it made of one row's data (the events, the ``bars`` view...)
    is dropped when it is read at another. The loop calls :meth:`freeze` on one something kept: from then it is
    a plain slice of its own row for good."""

    __slots__ = ("_sec",)

    def __init__(self, batch: Any, sec: Any) -> None:
        super().__init__(0, None, batch, -1)  # _row: the row what it made is of (-1: none yet)
        self._sec = sec

    @property
    def time(self) -> int:
        sec = self._sec
        if sec is None:
            return _TIME.__get__(self)
        return self._batch.columns.end_time.item(sec.bar_row)

    @time.setter
    def time(self, t: int) -> None:
        _TIME.__set__(self, t)

    def _moved(self) -> None:
        """Live, at another row than what it made is of: drop that."""
        self._row = self._sec.bar_row
        self._events = self._bars = self._quote_bars = self._ticks = None

    def __reduce__(self) -> tuple:
        """A copy (``copy``, ``deepcopy``, ``pickle``) is a plain slice of this one's row: it does not move on."""
        return Slice, (self.time, self.events)

    def freeze(self) -> None:
        """Stay the row the loop is at."""
        sec = self._sec
        if sec is not None:
            if sec.bar_row != self._row:
                self._moved()
            _TIME.__set__(self, self._batch.columns.end_time.item(self._row))
            self._sec = None

    @property
    def events(self) -> tuple:
        sec = self._sec
        if sec is not None and sec.bar_row != self._row:
            self._moved()
        ev = self._events
        if ev is None:
            ev = self._events = (self._batch.bar(self._row),)
        return ev

    @property
    def bars(self) -> dict[Symbol, TradeBar]:
        sec = self._sec
        if sec is not None and sec.bar_row != self._row:
            self._moved()
        return Slice.bars.fget(self)  # type: ignore[attr-defined]

    @property
    def quote_bars(self) -> dict[Symbol, QuoteBar]:
        sec = self._sec
        if sec is not None and sec.bar_row != self._row:
            self._moved()
        return Slice.quote_bars.fget(self)  # type: ignore[attr-defined]

    @property
    def ticks(self) -> dict[Symbol, list]:
        sec = self._sec
        if sec is not None and sec.bar_row != self._row:
            self._moved()
        return Slice.ticks.fget(self)  # type: ignore[attr-defined]
