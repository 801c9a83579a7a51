"""Clocks. The engine, strategies and schedules read time only from a clock object.

``VirtualClock`` jumps to the next event's time (backtest, replay); ``LiveClock`` reads wall time (daemon).
Both keep timers in a heap and fire them through :meth:`Clock.advance_to` (virtual) or the asyncio loop (live),
so a schedule behaves the same in data time and in wall time.
"""

from __future__ import annotations

import heapq
import itertools
import time as _time
from collections.abc import Callable
from datetime import UTC, datetime

TimerCallback = Callable[[int], None]

NS_PER_SECOND = 1_000_000_000


def ns_to_datetime(t_ns: int, tz=UTC) -> datetime:
    return datetime.fromtimestamp(t_ns // NS_PER_SECOND, tz).replace(microsecond=(t_ns // 1000) % 1_000_000)


def datetime_to_ns(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: give it a time zone")
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1000


class Timer:
    """A one-shot or repeating timer. Cancel by calling :meth:`cancel`; the heap entry is skipped lazily."""

    __slots__ = ("callback", "canceled", "interval_ns", "name", "next_ns", "stop_ns")

    def __init__(self, name: str, next_ns: int, callback: TimerCallback, interval_ns: int = 0,
                 stop_ns: int | None = None) -> None:
        self.name = name
        self.next_ns = next_ns
        self.callback = callback
        self.interval_ns = interval_ns
        self.stop_ns = stop_ns
        self.canceled = False

    def cancel(self) -> None:
        self.canceled = True


class Clock:
    """The interface every clock offers: ``now_ns()``, ``set_timer(...)`` and ``set_time_alert(...)``."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Timer]] = []
        self._seq = itertools.count()
        #: bumped by everything that may take the engine's columnar bar loop off its fast path: a timer set, a
        #: quit, a security added or removed, a consolidator registered, a fed indicator run broken. The loop
        #: compares this one int per row and looks at what changed only when it moved
        self.epoch = 0

    def now_ns(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def set_time_alert(self, name: str, alert_ns: int, callback: TimerCallback) -> Timer:
        """Call ``callback(alert_ns)`` once, when the clock reaches ``alert_ns``."""
        timer = Timer(name, alert_ns, callback)
        heapq.heappush(self._heap, (alert_ns, next(self._seq), timer))
        self.epoch += 1
        return timer

    def set_timer(self, name: str, interval_ns: int, callback: TimerCallback, start_ns: int | None = None,
                  stop_ns: int | None = None) -> Timer:
        """Call ``callback(t)`` every ``interval_ns`` from ``start_ns`` (default now + interval)."""
        if interval_ns <= 0:
            raise ValueError(f"timer {name!r}: interval must be positive, got {interval_ns}")
        first = start_ns if start_ns is not None else self.now_ns() + interval_ns
        timer = Timer(name, first, callback, interval_ns, stop_ns)
        heapq.heappush(self._heap, (first, next(self._seq), timer))
        self.epoch += 1
        return timer

    @property
    def timer_heap(self) -> list[tuple[int, int, Timer]]:
        """The timers' heap of (due ns, seq, timer), read-only: the loop peeks at ``[0][0]`` to skip
        ``advance_to`` when nothing is due (the list object never changes, so a reference may be kept). Timers
        enter it only through ``set_time_alert``/``set_timer`` (counted in ``epoch``) and ``advance_to``."""
        return self._heap

    @property
    def next_timer_ns(self) -> int | None:
        heap = self._heap
        while heap and heap[0][2].canceled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def _fire_due(self, until_ns: int, set_now: Callable[[int], None] | None,
                  stop: Callable[[], bool] | None = None) -> int:
        """Fire every timer due at or before ``until_ns`` in time order (until ``stop()`` says so after one);
        returns how many fired."""
        heap = self._heap
        fired = 0
        while heap and heap[0][0] <= until_ns:
            if stop is not None and fired and stop():
                break
            t, _, timer = heapq.heappop(heap)
            if timer.canceled:
                continue
            if set_now is not None:
                set_now(t)
            timer.callback(t)
            fired += 1
            if timer.interval_ns and not timer.canceled:
                nxt = t + timer.interval_ns
                if timer.stop_ns is None or nxt <= timer.stop_ns:
                    timer.next_ns = nxt
                    heapq.heappush(heap, (nxt, next(self._seq), timer))
        return fired


class VirtualClock(Clock):
    """Data time. ``advance_to`` moves time forward, firing due timers at their own times first."""

    __slots__ = ("now",)

    def __init__(self, start_ns: int = 0) -> None:
        super().__init__()
        #: the time in ns. Public so the engine's loop can put the clock at each slice's time with a store
        #: (``clock.now = t``, the same as :meth:`set_time`) instead of a call on every event
        self.now = start_ns

    def now_ns(self) -> int:
        return self.now

    def set_time(self, t_ns: int) -> None:
        """Put the clock at ``t_ns`` without firing timers (the engine at a run's start, and each slice's time
        once the timers due before it have fired)."""
        self.now = t_ns

    def _set(self, t: int) -> None:
        if t > self.now:
            self.now = t

    def advance_to(self, t_ns: int, stop: Callable[[], bool] | None = None) -> int:
        """Fire timers due up to ``t_ns`` (each sees its own time), then set the time to ``t_ns``. With ``stop``,
        the first timer after which ``stop()`` is true is the last to fire, and the time stays at its own (the
        loop stops there when a timer added a security, so the new data joins the feed from that time)."""
        fired = 0
        if self._heap and self._heap[0][0] <= t_ns:
            fired = self._fire_due(t_ns, self._set, stop)
            if stop is not None and stop():
                return fired
        if t_ns > self.now:
            self.now = t_ns
        return fired


class LiveClock(VirtualClock):
    """Wall time, observed at events. The engine sets it to each slice's receive time and the daemon ticks it to
    the wall clock (:meth:`tick`) when the earliest timer is due, so timers and schedules fire in wall time — and
    everything a strategy sees of time is a recorded input, which is what lets a session replay deterministically.

    ``on_next_timer`` (set by the daemon) hears the earliest due time whenever a timer is added, so the daemon
    arms the event loop's own ``call_at`` for it instead of polling."""

    def __init__(self, start_ns: int = 0) -> None:
        super().__init__(start_ns)
        self.on_next_timer: Callable[[int], None] | None = None

    def set_time_alert(self, name: str, alert_ns: int, callback: TimerCallback) -> Timer:
        timer = super().set_time_alert(name, alert_ns, callback)
        self._notify()
        return timer

    def set_timer(self, name: str, interval_ns: int, callback: TimerCallback, start_ns: int | None = None,
                  stop_ns: int | None = None) -> Timer:
        timer = super().set_timer(name, interval_ns, callback, start_ns, stop_ns)
        self._notify()
        return timer

    def _notify(self) -> None:
        cb = self.on_next_timer
        if cb is not None:
            due = self.next_timer_ns
            if due is not None:
                cb(due)

    def tick(self, wall_ns: int | None = None) -> int:
        return self.advance_to(_time.time_ns() if wall_ns is None else wall_ns)
