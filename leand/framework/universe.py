"""LEAN's user-defined universe (``add_universe(name, selector)``) and per-security end-of-day events
(``on_end_of_day(symbol)``): both add, remove or visit securities while a backtest runs.

A universe's selector is asked at the run's start and then every universe-resolution step while its market is
open (LEAN's ``UserDefinedUniverse.GetTriggerTimes``). Symbols it names are added with the universe settings;
members it no longer names are removed once they have been in the universe ``minimum_time_in_universe`` (one
day by default) and hold nothing and have no open order (LEAN's ``Universe.CanRemoveMember`` and the pending
removals of ``UniverseSelection``). A removed security keeps its holdings record; its data stops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from leand.clock import datetime_to_ns, ns_to_datetime
from leand.model import Resolution, SecurityType, Symbol

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.security import Security
    from leand.strategy import Strategy

#: LEAN's ScheduledEvent.SecurityEndOfDayDelta: on_end_of_day(symbol) runs this long before the market close
END_OF_DAY_DELTA_NS = 10 * 60 * 1_000_000_000
DAY_NS = 86_400_000_000_000


class EndOfDayEvents:
    """``on_end_of_day(symbol)`` for every security the strategy subscribes, each trading day 10 minutes before
    its market close (at the close with extended hours; at midnight for a market always open), from when it is
    added until a universe removes it (LEAN's ``ScheduledEventFactory.EverySecurityEndOfDay``). Made only for
    a strategy that overrides ``on_end_of_day``."""

    def __init__(self, engine: Engine, strategy: Strategy) -> None:
        self.engine, self.strategy = engine, strategy
        self.armed: set[Symbol] = set()
        self.start_ns = 0
        engine.after_initialize.append(self.start)

    def start(self, start_ns: int) -> None:
        self.start_ns = start_ns
        sm = self.engine.security_manager
        for sec in list(self.engine.securities.values()):
            self.on_added(sec)
        sm.added_hooks.append(self.on_added)

    def on_added(self, sec: Security) -> None:
        if sec.symbol not in self.armed:
            self.armed.add(sec.symbol)
            self._arm(sec, max(self.engine.clock.now_ns(), self.start_ns))

    def _next(self, sec: Security, after_ns: int) -> int:
        hours = sec.exchange_hours
        if hours is None or hours.always_open:
            tz = hours.time_zone if hours is not None else self.engine.time_zone
            d = ns_to_datetime(after_ns + END_OF_DAY_DELTA_NS, tz).date() + timedelta(days=1)
            return datetime_to_ns(datetime.combine(d, datetime.min.time(), tz)) - END_OF_DAY_DELTA_NS
        if sec.extended_hours:
            return hours.next_close(after_ns, True)
        return hours.next_close(after_ns + END_OF_DAY_DELTA_NS, False) - END_OF_DAY_DELTA_NS

    def _arm(self, sec: Security, after_ns: int) -> None:
        t = self._next(sec, after_ns)
        if t <= self.engine._end_ns():
            self.engine.clock.set_time_alert(f"end of day {sec.symbol}", t, partial(self._fire, sec))

    def _fire(self, sec: Security, t: int) -> None:
        e = self.engine
        sym = sec.symbol
        if sym in e.internal_symbols or not e.security_manager.is_subscribed(sym):
            self.armed.discard(sym)  # a universe removed it: armed again if it is added again
            return
        self.strategy.on_end_of_day(sym)
        self._arm(sec, t)


class SecurityChanges:
    """What a universe selection changed (LEAN's ``SecurityChanges``)."""

    def __init__(self, added: list[Any] | None = None, removed: list[Any] | None = None) -> None:
        self.added_securities = added or []
        self.removed_securities = removed or []

    def __repr__(self) -> str:
        return (f"SecurityChanges(added={[s.symbol.value for s in self.added_securities]}, "
                f"removed={[s.symbol.value for s in self.removed_securities]})")


class Universe:
    """What LEAN's universes share: a selector answering symbols at trigger times (the subclass says when),
    members added with the universe settings and removed as ``UniverseSelection`` removes them. A removed
    member is reported at once (the portfolio construction liquidates it); its data stops once it holds nothing
    and has no open order, checked at each later selection (LEAN's pending removals)."""

    def __init__(self, engine: Engine, strategy: Strategy, name: str, selector: Callable[[datetime], Any],
                 security_type: SecurityType = SecurityType.EQUITY, market: str = "usa",
                 resolution: Resolution | None = None, settings: Any = None) -> None:
        self.engine, self.strategy = engine, strategy
        self.name, self.selector = name, selector
        self.security_type, self.market = security_type, market
        self.settings = settings if settings is not None else strategy.universe_settings
        self.resolution = resolution if resolution is not None else self.settings.resolution
        #: member -> when it was added (ns)
        self.members: dict[Symbol, int] = {}
        #: removed members still holding a position or an open order: their data goes on until they are flat
        self.pending_removals: set[Symbol] = set()
        self.pending: SecurityChanges | None = None
        engine.universes.append(self)
        engine.after_initialize.append(self.start)

    def start(self, start_ns: int) -> None:  # pragma: no cover - each kind says when it selects
        raise NotImplementedError

    def time_zone(self) -> Any:
        return self.engine.time_zone

    def _symbols(self, selected: Iterable[Any]) -> list[Symbol]:
        out = []
        for item in selected:
            if isinstance(item, Symbol):
                out.append(item)
            else:
                out.append(Symbol(str(item).upper(), self.security_type, self.market))
        return out

    def _busy(self, sym: Symbol) -> bool:
        e = self.engine
        return bool(e.securities[sym].holdings.quantity) or any(o.symbol == sym for o in e.open_orders.values())

    def select(self, t: int) -> None:
        e = self.engine
        sm = e.security_manager
        chosen = self._symbols(self.selector(ns_to_datetime(t, self.time_zone()).replace(tzinfo=None)) or [])
        for sym in [s for s in self.pending_removals if s not in chosen and not self._busy(s)]:
            self.pending_removals.discard(sym)
            sm.remove_security(sym)
        us = self.settings
        added, removed = [], []
        for sym in chosen:
            if sym in self.members:
                continue
            self.pending_removals.discard(sym)
            kw: dict[str, Any] = {"fill_forward": us.fill_forward, "leverage": us.leverage}
            if sym.security_type is SecurityType.EQUITY:
                kw["extended_hours"] = us.extended_market_hours
            added.append(e.add_security(sym, us.resolution, **kw))
            self.members[sym] = t
        keep = set(chosen)
        min_ns = int(getattr(us, "minimum_time_in_universe", timedelta(days=1)).total_seconds() * 1e9)
        for sym, since in list(self.members.items()):
            if sym in keep or t - since < min_ns:
                continue
            del self.members[sym]
            removed.append(e.securities[sym])
            if self._busy(sym):
                self.pending_removals.add(sym)
            else:
                sm.remove_security(sym)
        if added or removed:
            fw = self.strategy.__dict__.get("_fw")
            if fw is not None and fw.installed:  # the framework's models hear of it with the strategy
                fw.pending.added_securities += added
                fw.pending.removed_securities += removed
                return
            p = self.pending or SecurityChanges()
            p.added_securities += added
            p.removed_securities += removed
            self.pending = p

    def _deliver(self, sl: Any) -> None:
        """LEAN hands the strategy a selection's changes with the next slice, before ``on_data``."""
        if self.pending is not None:
            changes, self.pending = self.pending, None
            self.strategy.on_securities_changed(changes)


class UserDefinedUniverse(Universe):
    """``add_universe(name, selector)``: asked at the run's start, then every universe-resolution step while the
    market is open during [t, t + step) (LEAN's ``UserDefinedUniverse.GetTriggerTimes``)."""

    def __init__(self, engine: Engine, strategy: Strategy, name: str, selector: Callable[[datetime], Any],
                 security_type: SecurityType = SecurityType.EQUITY, market: str = "usa",
                 resolution: Resolution | None = None, settings: Any = None) -> None:
        super().__init__(engine, strategy, name, selector, security_type, market, resolution, settings)
        self.symbol = Symbol(name.upper(), security_type, market)
        self.hours = engine.security_manager.hours_of(self.symbol)

    def time_zone(self) -> Any:
        return self.hours.time_zone if self.hours is not None else self.engine.time_zone

    @property
    def interval_ns(self) -> int:
        return max(self.resolution.value, Resolution.SECOND.value) if self.resolution is not Resolution.TICK \
            else Resolution.SECOND.value

    def start(self, start_ns: int) -> None:
        self.select(start_ns)
        step = self.interval_ns
        self.engine.clock.set_timer(f"universe {self.name}", step, self._trigger, start_ns=start_ns + step,
                                    stop_ns=self.engine._end_ns())
        self.engine.before_data.append(self._deliver)

    def _trigger(self, t: int) -> None:
        """A trigger time after the first: only while the market is open during [t, t + interval)."""
        h = self.hours
        if h is not None and not h.always_open:
            ext = bool(getattr(self.settings, "extended_market_hours", False))
            if not h.is_open(t, ext) and h.next_open(t, ext) >= t + self.interval_ns:
                return
        self.select(t)


class ScheduledUniverse(Universe):
    """LEAN's ``ScheduledUniverseSelectionModel(date_rule, time_rule, selector)``: the selector (given the time in
    the algorithm's time zone) is asked at the schedule's times only."""

    def __init__(self, engine: Engine, strategy: Strategy, date_rule: Any, time_rule: Any,
                 selector: Callable[[datetime], Any], settings: Any = None) -> None:
        super().__init__(engine, strategy, "scheduled", selector, settings=settings)
        self.date_rule, self.time_rule = date_rule, time_rule

    def start(self, start_ns: int) -> None:
        clock = self.engine.clock
        self.strategy.schedule.on(self.date_rule, self.time_rule, lambda: self.select(clock.now_ns()),
                                  name="scheduled universe selection")
        self.engine.before_data.append(self._deliver)
