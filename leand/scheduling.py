"""Scheduled events in data time (backtest) or wall time (live): date rules × time rules on a clock.

``schedule.on(date_rules.every_day(spy), time_rules.before_market_close(spy, 10), handler)`` chains one
time alert at a time on the clock, so an idle schedule costs nothing per event.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from leand.clock import Clock, Timer, datetime_to_ns, ns_to_datetime

DateIter = Callable[[date], Iterator[date]]
TimesFor = Callable[[date], list[int]]


class DateRule:
    def __init__(self, name: str, dates: DateIter) -> None:
        self.name = name
        self.dates = dates


class TimeRule:
    def __init__(self, name: str, times_for: TimesFor) -> None:
        self.name = name
        self.times_for = times_for


class DateRules:
    def __init__(self, hours_of: Callable[[Any], Any], today: Callable[[], date] | None = None) -> None:
        self._hours_of = hours_of
        self._today = today

    @property
    def today(self) -> DateRule:
        """Only the current algorithm date (LEAN's ``DateRules.Today``)."""
        if self._today is None:
            raise ValueError("date_rules.today needs the algorithm clock")
        d0 = self._today()
        return DateRule(f"today({d0})", lambda d: (x for x in (d0,) if x >= d))

    @property
    def tomorrow(self) -> DateRule:
        """Only the day after the current algorithm date (LEAN's ``DateRules.Tomorrow``)."""
        if self._today is None:
            raise ValueError("date_rules.tomorrow needs the algorithm clock")
        d1 = self._today() + timedelta(days=1)
        return DateRule(f"tomorrow({d1})", lambda d: (x for x in (d1,) if x >= d))

    def _open_days(self, symbol: Any | None) -> DateIter:
        hours = self._hours_of(symbol) if symbol is not None else None

        def gen(d: date) -> Iterator[date]:
            while True:
                if hours is None or hours.is_date_open(d):
                    yield d
                d += timedelta(days=1)
        return gen

    def every_day(self, symbol: Any | None = None) -> DateRule:
        return DateRule(f"every_day({symbol or ''})", self._open_days(symbol))

    def every(self, *weekdays: int) -> DateRule:
        base = self._open_days(None)
        return DateRule(f"every({weekdays})", lambda d: (x for x in base(d) if x.weekday() in weekdays))

    def week_start(self, symbol: Any | None = None) -> DateRule:
        base = self._open_days(symbol)

        def gen(d: date) -> Iterator[date]:
            last_week = None
            for x in base(d - timedelta(days=d.weekday())):
                wk = x.isocalendar()[:2]
                if wk != last_week:
                    last_week = wk
                    if x >= d:
                        yield x
        return DateRule("week_start", gen)

    def month_start(self, symbol: Any | None = None) -> DateRule:
        base = self._open_days(symbol)

        def gen(d: date) -> Iterator[date]:
            last = None
            for x in base(d.replace(day=1)):
                if (x.year, x.month) != last:
                    last = (x.year, x.month)
                    if x >= d:
                        yield x
        return DateRule("month_start", gen)

    def on(self, *dates: date) -> DateRule:
        ds = sorted(dates)
        return DateRule("on", lambda d: (x for x in ds if x >= d))


class TimeRules:
    def __init__(self, tz: ZoneInfo, hours_of: Callable[[Any], Any]) -> None:
        self._tz = tz
        self._hours_of = hours_of

    def set_time_zone(self, tz: ZoneInfo) -> None:
        """The algorithm's time zone changed (``set_time_zone`` in ``initialize``)."""
        self._tz = tz

    def at(self, hour: int, minute: int = 0, second: int = 0, tz: ZoneInfo | None = None) -> TimeRule:
        zone = tz or self._tz
        return TimeRule(f"at({hour:02d}:{minute:02d})", lambda d: [
            datetime_to_ns(datetime.combine(d, time(hour, minute, second), zone))])

    @property
    def midnight(self) -> TimeRule:
        return self.at(0, 0)

    @property
    def noon(self) -> TimeRule:
        return self.at(12, 0)

    def every(self, interval: timedelta) -> TimeRule:
        step = int(interval.total_seconds() * 1e9)
        if step <= 0:
            raise ValueError(f"time_rules.every needs a positive interval, got {interval}")

        def times(d: date) -> list[int]:
            start = datetime_to_ns(datetime.combine(d, time(0), self._tz))
            end = datetime_to_ns(datetime.combine(d + timedelta(days=1), time(0), self._tz))
            return list(range(start, end, step))
        return TimeRule(f"every({interval})", times)

    def after_market_open(self, symbol: Any, minutes: float = 0) -> TimeRule:
        hours = self._hours_of(symbol)

        def times(d: date) -> list[int]:
            s = hours.session(d)
            return [] if s is None else [s[0] + int(minutes * 60e9)]
        return TimeRule(f"after_market_open({symbol}, {minutes})", times)

    def before_market_close(self, symbol: Any, minutes: float = 0) -> TimeRule:
        hours = self._hours_of(symbol)

        def times(d: date) -> list[int]:
            s = hours.session(d)
            return [] if s is None else [s[1] - int(minutes * 60e9)]
        return TimeRule(f"before_market_close({symbol}, {minutes})", times)


class ScheduledEvent:
    def __init__(self, name: str, date_rule: DateRule, time_rule: TimeRule, callback: Callable[[], Any],
                 clock: Clock, tz: ZoneInfo, end_ns: int | None) -> None:
        self.name = name
        self.callback = callback
        self._clock = clock
        self._time_rule = time_rule
        self._end_ns = end_ns
        start_date = ns_to_datetime(clock.now_ns(), tz).date()
        self._dates = date_rule.dates(start_date)
        self._pending: list[int] = []
        self._next = 0  # index of the first pending time not yet used (a day of 200 ms steps is 432,000)
        self._timer: Timer | None = None
        self.enabled = True
        self._arm()

    def _next_time(self) -> int | None:
        now = self._clock.now_ns()
        while True:
            pending = self._pending
            # skip the times already past in one search (a live start mid-day, or a late wake-up)
            i = bisect.bisect_left(pending, now, self._next)
            if i < len(pending):
                self._next = i + 1
                return pending[i]
            try:
                d = next(self._dates)
            except StopIteration:
                return None
            if self._end_ns is not None and datetime_to_ns(
                    datetime.combine(d, time(0), ZoneInfo("UTC"))) > self._end_ns + 86_400_000_000_000:
                return None
            self._pending = sorted(self._time_rule.times_for(d))
            self._next = 0

    def _arm(self) -> None:
        t = self._next_time()
        if t is not None and (self._end_ns is None or t <= self._end_ns):
            self._timer = self._clock.set_time_alert(self.name, t, self._fire)

    def _fire(self, t: int) -> None:
        if not self.enabled:
            return
        self.callback()
        self._arm()

    def cancel(self) -> None:
        self.enabled = False
        if self._timer is not None:
            self._timer.cancel()


class ScheduleManager:
    def __init__(self, clock: Clock, tz: ZoneInfo, end_ns: int | None = None) -> None:
        self._clock = clock
        self._tz = tz
        self.end_ns = end_ns
        self.events: list[ScheduledEvent] = []

    def set_time_zone(self, tz: ZoneInfo) -> None:
        """The algorithm's time zone changed: rules made from now on read it."""
        self._tz = tz

    def on(self, date_rule: DateRule, time_rule: TimeRule, callback: Callable[[], Any],
           name: str | None = None) -> ScheduledEvent:
        ev = ScheduledEvent(name or f"{date_rule.name}:{time_rule.name}", date_rule, time_rule, callback,
                            self._clock, self._tz, self.end_ns)
        self.events.append(ev)
        return ev
