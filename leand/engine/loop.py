"""The loop: each slice fires due timers, updates prices, scans resting orders, applies corporate actions,
updates consolidators and indicators and calls the strategy, in LEAN's order (docs/lean-statistics.md §A.1), so
results compare with LEAN's. A backtest runs it as a plain ``for`` over merged data batches; the daemon hands it
one slice at a time (:meth:`EventLoop.run` with a one-slice batch). No ``await`` anywhere on this path.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from sys import getrefcount
from typing import TYPE_CHECKING, Any

from leand.data.feed import BarBatch
from leand.indicators.fed import BarRun, feedable
from leand.model import (
    BookDelta,
    BookSnapshot,
    DataNormalizationMode,
    Delisting,
    Dividend,
    QuoteBar,
    QuoteTick,
    SecurityType,
    Split,
    Symbol,
    TradeBar,
    TradeTick,
)
from leand.security import Security
from leand.slice import RowSlice, Slice

if TYPE_CHECKING:
    from leand.engine import Engine

_EQUITY = SecurityType.EQUITY  # (an Enum class attribute load is a metaclass call on Python 3.11)
#: the fewest rows worth computing fed indicators' values for in one go (numpy's per-call cost)
MIN_FED_ROWS = 256
#: how many fed runs may end part way in one batch before the rest of it goes bar by bar (a handler that looks
#: into its indicators' windows on every bar would otherwise have the outputs recomputed every bar)
MAX_RUN_BREAKS = 4


class EventLoop:
    """The engine's loop collaborator. It owns the indicator updaters (fed in step 7 of each slice) and reads
    the rest of what a slice touches (securities, brokerage, strategy, consolidators) from the engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: symbol -> the callables fed each of its bars (or ticks) in step 7 of a slice
        self.indicator_updaters: dict[Symbol, list[Callable[[Any], Any]]] = {}

    def updaters_for(self, symbol: Symbol) -> list[Callable[[Any], Any]]:
        """The (mutable) list of callables fed each of ``symbol``'s bars or ticks."""
        ups = self.indicator_updaters.get(symbol)
        if ups is None:
            ups = self.indicator_updaters[symbol] = UpdaterList()
            self.engine.clock.epoch += 1  # the columnar bar loop reads whether there are any at an epoch move
        return ups

    def run(self, batches: Iterable[tuple[Any, Any]], start_ns: int, end_ns: int,
            progress: Callable[[int, int, int, int], None] | None) -> None:
        """Run ``batches`` of (times, slices) through the steps of a slice; ``progress`` hears each batch."""
        e = self.engine
        clock = e.clock
        heap = clock.timer_heap
        set_time = clock.set_time
        securities = e.securities
        strategy = e.strategy
        on_data = strategy.on_data
        updaters = self.indicator_updaters
        brokerage = e.brokerage
        on_slice = getattr(brokerage, "on_slice", None)  # a replayed book sees each slice first
        open_orders = e.open_orders
        TB, QB, TT, QT = TradeBar, QuoteBar, TradeTick, QuoteTick
        EQUITY = SecurityType.EQUITY
        BD, BS = BookDelta, BookSnapshot
        warming = e.warming_up
        internal = e.internal_symbols
        ff_ind = e.indicators_see_fill_forward
        cfeed = e.consolidation
        after_data = e.after_data
        before_data = e.before_data
        aux_handlers = self.aux_handlers
        sm = e.security_manager
        changes = sm.changes  # securities added or removed mid-run make the feed take them in (join_feed)

        def changed() -> bool:
            return sm.changes != changes
        sl = Slice(0)  # held only here: this frame's reference and getrefcount's argument
        alone = getrefcount(sl)
        n = 0
        last_t = None
        # the security of the last symbol seen: a feed hands out one Symbol object per subscription and a
        # symbol's Security never changes once added, so an identity check saves a dict lookup per event
        last_sym: Symbol | None = None
        last_sec: Security = None  # type: ignore[assignment]  # read only once last_sym matched, so bound
        ups_sym: Symbol | None = None  # likewise the indicator updaters of the last symbol that has a list
        last_ups: list = []
        for times, slices in batches:
            if progress is not None and times:  # once per batch: (simulated time, start, end, events so far)
                progress(times[0], start_ns, end_ns, n)
            if slices.__class__ is BarBatch:  # one symbol's real trade bars as columns
                if warming or internal or on_slice is not None or cfeed.active:
                    times, slices = list(times), list(zip(slices.bars()))  # the general path below
                else:
                    done = self.bars_in_place(times, slices)
                    n += done
                    if done:
                        last_t = times[done - 1]
                    if e.quit_requested:
                        break
                    if sm.changes != changes:  # a row's step (or a timer before it) added or removed one
                        changes = sm.changes
                        sm.join_feed(clock.now_ns(), list(times[done:]), list(zip(slices.bars()[done:])))
                    continue
            for t, events in zip(times, slices):
                if warming and t > start_ns:
                    warming = e.warming_up = False
                    set_time(start_ns)
                    e.begin_trading(start_ns, end_ns)
                    strategy.on_warmup_finished()
                # (1) timers scheduled before this instant fire at their own times; one that adds or removes a
                # security ends the batch at its own time, so the new data joins before this slice
                if heap and heap[0][0] < t:
                    clock.advance_to(t - 1, changed)
                    if sm.changes != changes:
                        changes = sm.changes
                        k = times.index(t)
                        sm.join_feed(clock.now_ns(), times[k:], slices[k:])
                        slices, times = slices[:k], times[:k]
                        break
                clock.now = t
                aux = False
                # (3) prices
                for ev in events:
                    cls = ev.__class__
                    if cls is TB:
                        if not ev.fill_forward:
                            sym = ev.symbol
                            if sym is last_sym:
                                sec = last_sec
                            else:
                                sec = last_sec = securities[sym]
                                last_sym = sym
                            sec.last_trade_bar = ev
                            sec.price = ev.close
                    elif cls is QT:
                        if not ev.suspicious:
                            sym = ev.symbol
                            if sym is last_sym:
                                sec = last_sec
                            else:
                                sec = last_sec = securities[sym]
                                last_sym = sym
                            sec.last_quote_tick = ev
                            if ev.bid_price:
                                sec.bid = ev.bid_price
                                sec.bid_size = ev.bid_size
                            if ev.ask_price:
                                sec.ask = ev.ask_price
                                sec.ask_size = ev.ask_size
                            if sec.security_type is not EQUITY or not sec.subscribes_trades:
                                sec.price = ev.price
                    elif cls is QB:
                        if not ev.fill_forward:
                            sym = ev.symbol
                            if sym is last_sym:
                                sec = last_sec
                            else:
                                sec = last_sec = securities[sym]
                                last_sym = sym
                            sec.last_quote_bar = ev
                            b, a = ev.bid, ev.ask
                            if b is not None:
                                sec.bid = b.close
                                sec.bid_size = ev.last_bid_size
                            if a is not None:
                                sec.ask = a.close
                                sec.ask_size = ev.last_ask_size
                            if sec.security_type is not EQUITY:
                                sec.price = ev.close
                    elif cls is TT:
                        if not ev.suspicious:
                            sym = ev.symbol
                            if sym is last_sym:
                                sec = last_sec
                            else:
                                sec = last_sec = securities[sym]
                                last_sym = sym
                            sec.last_trade_tick = ev
                            sec.price = ev.price
                    elif cls is BD or cls is BS:
                        pass  # recorded book changes: the replayed book applies them and sets the touch
                    else:
                        aux = True
                if on_slice is not None:
                    on_slice(t, events)
                # (4) resting orders
                if open_orders:
                    brokerage.scan(t)
                # (5) timers due now
                if heap and heap[0][0] <= t:
                    clock.advance_to(t)
                # (6) corporate actions (raw mode moves cash/holdings), then LEAN's on_splits/on_dividends/...
                if aux:
                    self.corporate_actions(events)
                    aux_handlers(Slice(t, events))
                # (7) consolidators, then indicators
                if cfeed.active:
                    cfeed.on_slice(t, events)
                if updaters:
                    for ev in events:
                        sym = ev.symbol
                        if sym is ups_sym:  # one Symbol object per subscription: the last list found
                            ups = last_ups
                        else:
                            found = updaters.get(sym)
                            if found is None:
                                continue
                            ups = found
                            ups_sym, last_ups = sym, found
                        if ups:
                            if sym is last_sym:
                                sec = last_sec
                            else:
                                sec = last_sec = securities[sym]
                                last_sym = sym
                            cls = ev.__class__
                            if cls is QT:  # tick data: the quote mid (or the selector's field) without trades
                                if not sec.subscribes_trades and not ev.suspicious:
                                    for up in ups:
                                        up(ev)
                            elif (cls is TB or (cls is QB and not sec.subscribes_trades)) \
                                    and (ff_ind or not ev.fill_forward):
                                for up in ups:
                                    up(ev)
                            elif cls is TT and not ev.suspicious:
                                for up in ups:  # tick data: the trade price (or the selector's field)
                                    up(ev)
                # (8)/(9) the strategy
                if internal:
                    for ev in events:  # a slice rarely holds internal data: filter only one that does
                        if ev.symbol in internal:
                            events = tuple(e for e in events if e.symbol not in internal)
                            break
                    if not events:
                        if open_orders:
                            brokerage.end_of_step(t)
                        if sm.changes == changes:
                            continue
                        events = ()
                if events:
                    if getrefcount(sl) == alone:  # the last slice, kept by nothing: rewritten (see _rows)
                        sl.time = t
                        sl._events = events
                        sl._bars = sl._quote_bars = sl._ticks = None
                    else:
                        sl = Slice(t, events)
                    if before_data:
                        for f in before_data:
                            f(sl)
                    on_data(sl)
                    if after_data:
                        for f in after_data:
                            f(sl)
                    if open_orders:  # (10) LEAN's scans after OnData: the step's asynchronous orders fill here
                        brokerage.end_of_step(t)
                    if e.quit_requested:
                        break
                if sm.changes != changes:  # the feed takes in what changed; the slices not run yet go back
                    changes = sm.changes
                    k = times.index(t) + 1
                    sm.join_feed(t, times[k:], slices[k:])
                    slices = slices[:k]
                    times = times[:k]
                    break
            if e.quit_requested:
                n += sum(map(len, slices))
                last_t = t
                break
            n += sum(map(len, slices))
            last_t = times[-1] if times else last_t
        e.data_points += n
        if warming:
            e.warming_up = False
            e.begin_trading(start_ns, end_ns)
        if last_t is not None:
            e.last_data_ns = last_t

    def live_run(self, times: Sequence[int], slices: Iterable[tuple], start_ns: int, end_ns: int) -> None:
        """A run of live slices (a replay's market data), each as the daemon's ``on_live_slice`` takes it: a
        slice of one quote or trade tick of a security the strategy trades through the one-tick steps of
        :meth:`live_step`, inline here with what does not change from slice to slice looked up once; any other
        slice, or one while a timer is due by its time, warm-up runs, internal data is subscribed or the
        brokerage replays a book, through :meth:`run` alone. ``slices`` is read one slice at a time, just before
        that slice runs, and no further once the strategy quits.

        The slice object is handed on rewritten when nothing kept it (as in ``run``), and so are the ticks the
        handler read from it, ``{symbol: [tick]}``, when nothing kept them either and the next tick is of the
        same symbol: the tick goes into the list in place of the last (a dict and a list made and freed per
        event were about a tenth of a replayed quote's cost)."""
        e = self.engine
        clock = e.clock
        heap = clock.timer_heap
        securities = e.securities
        on_data = e.strategy.on_data
        updaters = self.indicator_updaters
        brokerage = e.brokerage
        general = getattr(brokerage, "on_slice", None) is not None  # a replayed book: every slice through run
        open_orders = e.open_orders
        cfeed = e.consolidation
        before_data = e.before_data
        after_data = e.after_data
        internal = e.internal_symbols
        sm = e.security_manager
        changes = sm.changes
        QT, TT = QuoteTick, TradeTick
        EQUITY = _EQUITY
        BIG = 1 << 63
        # the earliest timer's time, read again whenever the clock's epoch moved (a timer set, a quit, ...) and
        # after timers fired; one that is stale is early (canceled, popped since), which only sends a slice
        # through ``run`` that did not need it
        epoch = clock.epoch
        nxt = heap[0][0] if heap else BIG
        # what sends every slice through ``run``, looked at again after each slice that went there and whenever
        # the epoch moved (warm-up is set in initialize)
        slow = general or e.warming_up
        sl = Slice(0)  # held only here: this frame's reference and getrefcount's argument
        alone = getrefcount(sl)
        tk: Any = {}  # likewise for the reused ticks dict and its list: their references while compared below
        lst: list = []
        tk_alone = getrefcount(tk) + 1  # (and the slice's slot)
        lst_alone = getrefcount(lst) + 1  # (and the dict's value)
        last_sym: Symbol | None = None
        last_sec: Security = None  # type: ignore[assignment]  # read only once last_sym matched, so bound
        n = 0
        last_t = -1
        for t, events in zip(times, slices):
            if len(events) == 1:
                ev = events[0]
                cls = ev.__class__
                sym = ev.symbol
                if sym is last_sym:
                    sec = last_sec
                else:
                    found = securities.get(sym)
                    if found is not None:
                        sec = last_sec = found
                        last_sym = sym
                    else:
                        cls = None  # not traded: the general path (which raises for it, as run does)
            else:
                cls = None
            if (cls is not QT and cls is not TT) or nxt <= t or slow or internal:
                self.run((([t], [events]),), start_ns, end_ns, None)
                last_t = -1  # (run set the last data time)
                epoch = clock.epoch
                nxt = heap[0][0] if heap else BIG
                slow = general or e.warming_up
                if e.quit_requested:
                    break
                continue
            clock.now = t
            if not ev.suspicious:  # (3) prices
                if cls is QT:
                    sec.last_quote_tick = ev
                    b = ev.bid_price
                    a = ev.ask_price
                    if b:
                        sec.bid = b
                        sec.bid_size = ev.bid_size
                    if a:
                        sec.ask = a
                        sec.ask_size = ev.ask_size
                    if sec.security_type is not EQUITY or not sec.subscribes_trades:
                        sec.price = (b + a) / 2 if b and a else b or a  # QuoteTick.price
                else:
                    sec.last_trade_tick = ev
                    sec.price = ev.price
            if open_orders:  # (4) resting orders, then (5) any timer a handler set for now
                brokerage.scan(t)
                if heap and heap[0][0] <= t:
                    clock.advance_to(t)
                    epoch = -1
            if cfeed.active:  # (7) consolidators, then indicators
                cfeed.on_slice(t, events)
            if updaters:
                ups = updaters.get(sym)
                if ups and not ev.suspicious and (cls is TT or not sec.subscribes_trades):
                    for up in ups:
                        up(ev)
            # (8)/(9) the strategy
            if getrefcount(sl) == alone:
                sl.time = t
                sl._events = events
                tk = sl._ticks
                if tk is not None:
                    if getrefcount(tk) == tk_alone and len(tk) == 1:
                        lst = tk.get(sym)
                        if lst is not None and getrefcount(lst) == lst_alone and len(lst) == 1:
                            lst[0] = ev
                        else:
                            sl._ticks = None
                    else:
                        sl._ticks = None
                sl._bars = sl._quote_bars = None
            else:
                sl = Slice(t, events)
            if before_data:
                for f in before_data:
                    f(sl)
            on_data(sl)
            if after_data:
                for f in after_data:
                    f(sl)
            if open_orders:  # (10)
                brokerage.end_of_step(t)
            n += 1
            last_t = t
            if clock.epoch != epoch:  # a timer set, a quit, a security added or removed, ...
                if e.quit_requested:
                    break
                if sm.changes != changes:
                    changes = sm.changes
                    sm.join_feed(t, [], [])
                epoch = clock.epoch
                nxt = heap[0][0] if heap else BIG
                slow = general or e.warming_up
        e.data_points += n
        if last_t >= 0:
            e.last_data_ns = last_t

    def live_step(self, t: int, events: tuple) -> bool:
        """The daemon's common slice, one quote or trade tick of a security the strategy trades, through the steps
        ``run`` takes for it (prices, resting orders, timers due now, consolidators and indicators, the strategy,
        the end-of-step scan) without ``run``'s set-up for batches. False, having done nothing, for anything
        else (warm-up, internal data, a replayed book, a timer due before ``t``): the caller runs it through
        ``run``."""
        if len(events) != 1:
            return False
        e = self.engine
        ev = events[0]
        cls = ev.__class__
        clock = e.clock
        heap = clock.timer_heap
        sym = ev.symbol
        sec = e.securities.get(sym)
        if (cls is not QuoteTick and cls is not TradeTick) or sec is None or e.warming_up or e.internal_symbols \
                or (heap and heap[0][0] < t) or getattr(e.brokerage, "on_slice", None) is not None:
            return False
        sm = e.security_manager
        changes = sm.changes
        clock.now = t
        if not ev.suspicious:  # (3) prices
            if cls is QuoteTick:
                sec.last_quote_tick = ev
                if ev.bid_price:
                    sec.bid = ev.bid_price
                    sec.bid_size = ev.bid_size
                if ev.ask_price:
                    sec.ask = ev.ask_price
                    sec.ask_size = ev.ask_size
                if sec.security_type is not _EQUITY or not sec.subscribes_trades:
                    sec.price = ev.price
            else:
                sec.last_trade_tick = ev
                sec.price = ev.price
        brokerage = e.brokerage
        open_orders = e.open_orders
        if open_orders:  # (4) resting orders
            brokerage.scan(t)
        if heap and heap[0][0] <= t:  # (5) timers due now
            clock.advance_to(t)
        cfeed = e.consolidation
        if cfeed.active:  # (7) consolidators, then indicators
            cfeed.on_slice(t, events)
        ups = self.indicator_updaters.get(sym)
        if ups and not ev.suspicious and (cls is TradeTick or not sec.subscribes_trades):
            for up in ups:
                up(ev)
        sl = Slice(t, events)  # (8)/(9) the strategy
        before_data = e.before_data
        if before_data:
            for f in before_data:
                f(sl)
        e.strategy.on_data(sl)
        after_data = e.after_data
        if after_data:
            for f in after_data:
                f(sl)
        if open_orders:  # (10)
            brokerage.end_of_step(t)
        if sm.changes != changes:
            sm.join_feed(t, [], [])
        e.data_points += 1
        e.last_data_ns = t
        return True

    def aux_handlers(self, sl: Slice) -> None:
        """LEAN's per-kind handlers, before on_data: on_splits, on_dividends, on_delistings,
        on_symbol_changed_events (each with that kind's events by symbol)."""
        e = self.engine
        st = e.strategy
        internal = e.internal_symbols
        for name, part in (("on_splits", sl.splits), ("on_dividends", sl.dividends),
                           ("on_delistings", sl.delistings), ("on_symbol_changed_events", sl.symbol_changed_events)):
            if internal:
                for sym in [k for k in part if k in internal]:
                    del part[sym]
            if part:
                getattr(st, name)(part)

    def bars_in_place(self, times: Sequence[int], batch: BarBatch) -> int:
        """The steps of ``run`` for slices that each hold one real trade bar of one symbol, read from the
        day's columns: no TradeBar, tuple or Slice contents are made unless something reads them (the
        security's ``last_trade_bar``, the slice's data, an indicator that needs more than the close), and
        helper-registered SMAs of the close take the whole run from the close column (``leand.indicators.fed``)
        once they are ready. Returns how many rows ran (fewer than all when the strategy quits, or when a
        security was added or removed: by a timer before a row, which then does not run, or in a row's step)."""
        n = len(times)
        lo = 0
        seen = self.engine.security_manager.changes
        breaks = 0  # runs ended part way (something looked into a fed indicator): a few are re-planned
        while lo < n:
            run, stop = (None, n) if breaks > MAX_RUN_BREAKS else self._plan_rows(times, batch, lo)
            try:
                lo = self._rows(times, batch, lo, stop, run)
            finally:
                if run is not None:
                    breaks += run.broken
                    run.finish()
                    ups = self.indicator_updaters.get(batch.symbol)
                    if isinstance(ups, UpdaterList) and ups.run is run:
                        ups.run = None
            if self.engine.quit_requested or self.engine.security_manager.changes != seen:
                break
        return lo

    def _plan_rows(self, times: Sequence[int], batch: BarBatch, lo: int) -> tuple[BarRun | None, int]:
        """How rows ``lo`` .. run: (a run feeding the symbol's indicators from the close column, or None for
        bar-by-bar updates, and the row to stop at). Bar by bar while an indicator warms up (the rows until
        the last is ready), or when any of them cannot be fed from the column."""
        n = len(times)
        ups = self.indicator_updaters.get(batch.symbol)
        if not ups or n - lo < MIN_FED_ROWS:
            return None, n
        inds = [feedable(up) for up in ups]
        if any(ind is None for ind in inds) or len({id(ind) for ind in inds}) != len(inds):
            return None, n
        warm = max(ind.period - ind.samples for ind in inds if ind is not None)
        if warm > 0:
            return None, min(n, lo + warm)
        run = BarRun(times, lo, self.engine.clock)
        if isinstance(ups, UpdaterList):
            ups.run = run  # an updater added or removed part way ends the run
        closes = batch.columns.cols["close"]
        for ind in inds:
            if ind is not None:
                run.feed(ind, closes)
        return run, n

    def _rows(self, times: Sequence[int], batch: BarBatch, lo: int, hi: int, run: BarRun | None) -> int:
        """Rows ``lo`` .. ``hi`` of ``batch`` through the steps of a slice; returns the row it stopped before."""
        e = self.engine
        clock = e.clock
        heap = clock.timer_heap
        on_data = e.strategy.on_data
        after_data = e.after_data
        brokerage = e.brokerage
        open_orders = e.open_orders
        cfeed = e.consolidation
        updaters = self.indicator_updaters
        sym = batch.symbol
        sec = e.securities[sym]
        closes = batch.close
        seen_ups: list | None = None
        seen_len = 0
        by_close = False
        row = _CloseRow()  # what the close-only indicator updaters read of a bar: its end time and close
        # the fed indicators (the first two unrolled: the usual helper-registered pair, their values iterated
        # beside the rows; a missing one is a sink that takes the stores, and any more than two are fed by the
        # second's store) and their values from row run.lo
        fed: list[tuple[Any, Any]] = run.fed if run is not None else []
        base = run.lo if run is not None else lo
        ind1: Any = _SINK
        ind2: Any = _SINK
        vals1: Iterable[float] = _ZEROS
        vals2: Iterable[float] = _ZEROS
        if fed:
            ind1, vals1 = fed[0][0], _array(fed[0][1][lo - base:hi - base])
            if len(fed) > 1:
                ind2, vals2 = fed[1][0], _array(fed[1][1][lo - base:hi - base])
            if len(fed) > 2:
                ind2 = _Fanout(ind2, [(ind, iter(vals[lo - base:hi - base])) for ind, vals in fed[2:]])
        if run is None:
            run = _NO_RUN
        replan = False
        sm = e.security_manager
        seen = sm.changes

        def changed() -> bool:
            return sm.changes != seen
        if lo or hi < len(times):
            times, closes = times[lo:hi], closes[lo:hi]
        times, closes = _array(times), _array(closes)  # (iterated row by row: see _array)
        # One compare per row notices whatever may take a row off this path: the clock's ``epoch`` moves when a
        # timer is set, the strategy quits, a security is added or removed, a consolidator is registered or the
        # fed run breaks (-1: look at once); only then are those looked at, and the locals below read again.
        # Timers: ``due`` is the first row whose time is at or after the earliest timer's (``nxt``), so a row
        # compares two small ints instead of two ns times; it is found again after timers fire and whenever the
        # epoch moved. A stale ``nxt`` is only ever early (a canceled timer, popped since), which costs a call
        # to advance_to that fires nothing.
        BIG = 1 << 63
        epoch = -1 if e.quit_requested else clock.epoch
        nxt = heap[0][0] if heap else BIG
        due = lo + bisect_left(times, nxt)
        consolidating = cfeed.active
        fed_on = not run.broken
        updating = bool(updaters)  # a symbol's first updater list moves the epoch (updaters_for); none is removed
        # (8)/(9) the slice: a live RowSlice is the row the loop noted on the security (``sec.bar_row``), so one
        # object serves row after row without a store; one that something kept is frozen at its row when the
        # row ends (its reference count says so) and the next row gets a new one
        sl = RowSlice(batch, sec)  # held only here: this frame's reference and getrefcount's argument
        alone = getrefcount(sl)
        refs = getrefcount  # (a local: read every row)
        sec.note_rows(batch)  # once: each row writes its index (sec.bar_row)
        try:
            if len(_INDEX) < hi:
                _INDEX.extend(range(len(_INDEX), hi))
            for i, t, c, v1, v2 in zip(_INDEX[lo:hi], times, closes, vals1, vals2):
                if i != due:  # steps (3) and (4) on a row no timer is due at or before (the first branch: a
                    # short jump lets the compare specialize; over a long one it stays generic)
                    clock.now = t
                    sec.bar_row = i  # (3) prices (the row of the noted batch: its TradeBar only if read)
                    sec.price = c
                    if open_orders:  # (4) resting orders
                        brokerage.scan(t)
                        if clock.epoch != epoch:
                            nxt = heap[0][0] if heap else BIG
                            due = lo + bisect_left(times, nxt, i - lo)
                            consolidating = cfeed.active
                            fed_on = not run.broken
                            updating = bool(updaters)
                            if i == due:  # a timer set for now
                                clock.advance_to(t)
                                nxt = heap[0][0] if heap else BIG
                                due = lo + bisect_left(times, nxt, i + 1 - lo)
                                consolidating = cfeed.active
                                fed_on = not run.broken
                                updating = bool(updaters)
                else:  # the first row at or after the earliest timer's time: steps (1), (3), (4), (5)
                    if nxt < t:  # (1) timers scheduled before this instant
                        clock.advance_to(t - 1, changed)
                        if sm.changes != seen:  # one added or removed a security: the feed takes it in from its time
                            return i
                        nxt = heap[0][0] if heap else BIG
                        due = lo + bisect_left(times, nxt, i - lo)
                        consolidating = cfeed.active  # a timer may have registered one, or looked into a fed indicator
                        fed_on = not run.broken
                        updating = bool(updaters)
                    clock.now = t
                    sec.bar_row = i
                    sec.price = c
                    if open_orders:
                        brokerage.scan(t)
                        if clock.epoch != epoch:  # a handler it called set a timer (one due now fires in step 5), ...
                            nxt = heap[0][0] if heap else BIG
                            due = lo + bisect_left(times, nxt, i - lo)
                            consolidating = cfeed.active
                            fed_on = not run.broken
                            updating = bool(updaters)
                    if i == due:  # (5) timers due now
                        clock.advance_to(t)
                        nxt = heap[0][0] if heap else BIG
                        due = lo + bisect_left(times, nxt, i + 1 - lo)
                        consolidating = cfeed.active
                        fed_on = not run.broken
                        updating = bool(updaters)
                if consolidating:  # (7) consolidators, then indicators
                    cfeed.on_slice(t, (batch.bar(i),))
                if fed_on:
                    run.last = i  # the fed indicators' cursor, then what the handler reads of them (each is ready
                    ind1.value = v1  # for the whole run: BarRun.feed)
                    ind2.value = v2
                elif updating:
                    if run is not _NO_RUN:  # something looked into a fed indicator: this bar bar by bar, then re-plan
                        run.finish()
                        run = _NO_RUN
                        replan = True
                        epoch = -1
                    ups = updaters.get(sym)
                    if ups:
                        if len(ups) != seen_len or ups is not seen_ups:
                            seen_ups, seen_len = ups, len(ups)
                            by_close = all(map(reads_close_only, ups))
                        if by_close:
                            row.end_time = t
                            row.close = c
                            for up in ups:
                                up(row)
                        else:
                            bar = batch.bar(i)
                            for up in ups:
                                up(bar)
                on_data(sl)  # (8)/(9)
                if after_data:
                    for f in after_data:
                        f(sl)
                if open_orders:  # (10)
                    brokerage.end_of_step(t)
                if refs(sl) != alone:  # kept: it stays this row's; the next row gets a new one
                    sl.freeze()
                    sl = RowSlice(batch, sec)
                if clock.epoch != epoch:  # something in this row's steps quit, set a timer, ... (see above)
                    if e.quit_requested or replan or sm.changes != seen:
                        return i + 1
                    epoch = clock.epoch
                    nxt = heap[0][0] if heap else BIG
                    due = lo + bisect_left(times, nxt, i + 1 - lo)
                    consolidating = cfeed.active
                    fed_on = not run.broken
                    updating = bool(updaters)
            return hi
        finally:  # (an exception out of a row: a slice kept in it stays that row's)
            if getrefcount(sl) != alone:
                sl.freeze()

    def corporate_actions(self, events: tuple) -> None:
        e = self.engine
        for ev in events:
            cls = ev.__class__
            if cls is Delisting:
                if ev.type == 1:  # delisted: no more trading; its open orders are canceled (LEAN)
                    sec = e.securities[ev.symbol]
                    sec.is_delisted, sec.is_tradable = True, False
                    for o in [o for o in e.open_orders.values() if o.symbol == ev.symbol]:
                        e.cancel_order(o.id, "delisted")
                continue
            if cls is Dividend:
                sec = e.securities[ev.symbol]
                if sec.normalization is DataNormalizationMode.RAW and sec.holdings.quantity:
                    e.portfolio.cash_book.add(sec.quote_currency, sec.holdings.quantity * ev.distribution)
            elif cls is Split and not ev.warning:
                sec = e.securities[ev.symbol]
                if sec.normalization is DataNormalizationMode.RAW and sec.holdings.quantity:
                    h = sec.holdings
                    new_q = h.quantity / ev.split_factor
                    whole = math.floor(new_q) if new_q > 0 else math.ceil(new_q)
                    e.portfolio.cash_book.add(sec.quote_currency,
                                                 (new_q - whole) * h.average_price * ev.split_factor)
                    h.average_price *= ev.split_factor
                    h.quantity = whole


#: the array typecode a memoryview's column is copied to, by its format (all 8-byte items)
_TYPECODES = {"d": "d", "l": "q", "q": "q"}


def _array(seq: Any) -> Any:
    """An ``array.array`` copy of a contiguous memoryview of 8-byte floats or ints (a column of the day's
    batch, a fed indicator's values), else ``seq`` itself. ``_rows`` iterates its columns row by row: an array's
    iterator makes each row's number with far fewer instructions than a memoryview's (which checks the view and
    decodes its format at every item); the copy is one memcpy per run. Same numbers, bit for bit."""
    if seq.__class__ is memoryview and seq.itemsize == 8 and seq.c_contiguous:
        code = _TYPECODES.get(seq.format)
        if code is not None:
            a = array(code)
            a.frombytes(seq.cast("B"))
            return a
    return seq


#: the row indexes 0, 1, ... as int objects made once: ``_rows`` iterates a slice of them rather than a range,
#: whose iterator makes (and a row later frees) a new int for every row past 256
_INDEX: list[int] = []
_NO_RUN = BarRun([], 0)  # no indicators fed from the column: a run that is over before it starts
_NO_RUN.broken = True
_ZEROS = repeat(0.0)  # the values of a fed indicator _rows does not have


class _Sink:
    """Where ``_rows`` stores the value of a fed indicator it does not have (a store costs less than a test)."""

    __slots__ = ("value",)


_SINK = _Sink()


class _Fanout:
    """``_rows``'s second fed indicator when a run feeds more than two: the store of its value, made once at
    each row the run feeds, stores the rest's values at that row too (each one's next), so a row tests
    nothing for them."""

    __slots__ = ("ind", "rest")

    def __init__(self, ind: Any, rest: list[tuple[Any, Iterator[float]]]) -> None:
        self.ind = ind
        self.rest = rest

    @property
    def value(self) -> float:
        return self.ind.value

    @value.setter
    def value(self, v: float) -> None:
        self.ind.value = v
        for ind, vals in self.rest:
            ind.value = next(vals)


class UpdaterList(list):
    """A symbol's indicator updaters. A change while a run of bars feeds its indicators from the close
    column ends that run at the bar it happens (``BarRun.broken``): from there the list is fed bar by bar."""

    __slots__ = ("run",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.run: BarRun | None = None

    def _changed(self) -> None:
        run = self.run
        if run is not None:
            run.stop()
            self.run = None

    def append(self, x: Any) -> None:
        self._changed()
        super().append(x)

    def extend(self, xs: Any) -> None:
        self._changed()
        super().extend(xs)

    def insert(self, i: Any, x: Any) -> None:
        self._changed()
        super().insert(i, x)

    def remove(self, x: Any) -> None:
        self._changed()
        super().remove(x)

    def pop(self, i: Any = -1) -> Any:
        self._changed()
        return super().pop(i)

    def clear(self) -> None:
        self._changed()
        super().clear()

    def __setitem__(self, i: Any, x: Any) -> None:
        self._changed()
        super().__setitem__(i, x)

    def __delitem__(self, i: Any) -> None:
        self._changed()
        super().__delitem__(i)

    def __iadd__(self, xs: Any) -> UpdaterList:  # type: ignore[misc]
        self._changed()
        return super().__iadd__(xs)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._changed()
        super().sort(*args, **kwargs)

    def reverse(self) -> None:
        self._changed()
        super().reverse()


class _CloseRow:
    """A bar as a close-only indicator updater sees it (see ``reads_close_only``), reused row after row."""

    __slots__ = ("close", "end_time")

    def __init__(self) -> None:
        self.end_time = 0
        self.close = 0.0


def reads_close_only(updater: Callable[[Any], Any]) -> bool:
    """True when ``updater``, given a trade bar, reads only its end time and close: the bar updater of a
    value indicator whose selector is the close (so the engine need not make the TradeBar for it)."""
    from leand.indicators.base import BarIndicator, Indicator, close
    from leand.indicators.core import EMA, SMA

    ind = getattr(updater, "__self__", None)
    if not isinstance(ind, Indicator) or isinstance(ind, BarIndicator) or ind.selector is not close:
        return False
    fn = getattr(updater, "__func__", None)
    return fn is type(ind).update_bar and fn in (Indicator.update_bar, SMA.update_bar, EMA.update_bar)
