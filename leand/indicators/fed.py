"""Indicators fed from a day's columns: the engine's columnar bar loop updates a helper-registered SMA of the
close from the close column, a whole run of bars at once, instead of one ``update_bar`` call per bar.

The run's outputs are computed up front (:meth:`SMA.bar_outputs`, bit for bit the per-bar values). While the
run lasts the indicator is a :class:`FedSMA`: the engine writes ``value`` at each bar (a plain store, where the
handler reads it; ``is_ready`` is set once, when the run starts), ``samples`` and the latest bar's time
(``current``) come from the run's cursor, and anything else that looks at or changes the state (its window, an update, a reset, another
indicator composed on it) first brings the state up to the bar the engine has reached and turns the object
back into a plain SMA for good; the engine sees that (``BarRun.broken``) and feeds bar by bar from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from leand.indicators.base import Indicator, close
from leand.indicators.core import SMA

_SAMPLES = Indicator.__dict__["samples"]
_TIME = Indicator.__dict__["_time"]


class BarRun:
    """Rows ``lo`` .. of one batch of bars fed to some indicators from the close column. ``last`` is the
    cursor: the last row the indicators have taken, ``lo - 1`` before the first (the engine moves it at each
    bar: a store of the row index it has, not a new int)."""

    __slots__ = ("broken", "clock", "fed", "last", "lo", "times")

    def __init__(self, times: Sequence[int], lo: int, clock: Any = None) -> None:
        self.times = times
        self.lo = lo
        #: the engine's clock, whose ``epoch`` tells the columnar bar loop the run broke (None: no loop watches)
        self.clock = clock
        self.last = lo - 1
        #: set when a fed indicator went back to a plain SMA part way (something looked at its state)
        self.broken = False
        #: (indicator, its values from row ``lo``) while fed
        self.fed: list[tuple[SMA, memoryview]] = []

    def feed(self, ind: SMA, closes: np.ndarray) -> memoryview:
        """Start feeding ``ind`` rows ``lo`` .. of ``closes`` (the batch's close column); returns its value at
        each of those rows (index 0: row ``lo``), as a view of the float64 outputs: the engine iterates it
        beside the rows, so a value's float is made when its row runs, not the whole run's up front."""
        values, sums = ind.bar_outputs(closes[self.lo:])
        ind._feed = _Fed(self, closes[self.lo:], sums, values)
        ind.__class__ = FedSMA
        # ready for the whole run, as update_bar would leave it at every bar: a run starts only once the
        # indicator has a period of samples, and what could make it not ready (a reset) ends the run first; so
        # the engine writes only ``value`` bar by bar
        ind.is_ready = True
        view = memoryview(values)  # type: ignore[arg-type]
        self.fed.append((ind, view))
        return view

    def stop(self) -> None:
        """End the run part way (``broken``): the engine feeds its indicators bar by bar from the next bar."""
        self.broken = True
        if self.clock is not None:
            self.clock.epoch += 1

    def finish(self) -> None:
        """Bring every indicator still fed up to the cursor and make it a plain SMA again."""
        for ind, _ in self.fed:
            if type(ind) is FedSMA and ind._feed.run is self:
                ind._leave(broken=False)
        self.fed = []


class _Fed:
    __slots__ = ("closes", "run", "sums", "values")

    def __init__(self, run: BarRun, closes: np.ndarray, sums: np.ndarray, values: np.ndarray) -> None:
        self.run = run
        self.closes = closes
        self.sums = sums
        self.values = values


def feedable(updater: Any) -> SMA | None:
    """The SMA whose bar updater ``updater`` is, when the engine may feed it from the close column: a plain
    SMA of the close (not a subclass), nothing composed on it, not being fed already."""
    ind = getattr(updater, "__self__", None)
    if type(ind) is not SMA or getattr(updater, "__func__", None) is not SMA.update_bar:
        return None
    if ind.selector is not close or ind._consumers or ind._feed is not None:
        return None
    if getattr(ind, "updated", None):  # handlers to call on every update (LEAN's Updated event): bar by bar
        return None
    return ind


def _brought_up_to_date(name: str) -> Any:
    """A state attribute of a fed SMA: reading or writing it first makes the object a plain SMA again, up to
    date with the bars fed so far, and then goes to the plain attribute."""

    def get(self: FedSMA) -> Any:
        self._leave()
        return getattr(self, name)

    def set_(self: FedSMA, v: Any) -> None:
        self._leave()
        setattr(self, name, v)

    return property(get, set_)


class FedSMA(SMA):
    """An SMA while a :class:`BarRun` feeds it (see the module's docstring)."""

    __slots__ = ()

    def _leave(self, broken: bool = True) -> None:
        """The state the bars fed so far leave, as a plain SMA again (``broken``: part way through the run,
        so the engine feeds it bar by bar next)."""
        f = self._feed
        run = f.run
        end = run.last + 1
        rows = end - run.lo
        self.__class__ = SMA  # type: ignore[assignment]
        self._feed = None
        if rows:  # the window needs the last few values only
            tail = f.values[max(0, rows - self.window.size):rows].tolist()
            self.absorb_bars(f.closes, f.sums, tail, rows, run.times[run.last])
        if broken:
            run.stop()

    # what the engine does not write bar by bar: from the cursor
    @property
    def samples(self) -> int:
        run = self._feed.run
        return _SAMPLES.__get__(self) + run.last + 1 - run.lo

    @samples.setter
    def samples(self, v: int) -> None:
        self._leave()
        self.samples = v

    @property
    def _time(self) -> int:
        run = self._feed.run
        return run.times[run.last] if run.last >= run.lo else _TIME.__get__(self)

    @_time.setter
    def _time(self, v: int) -> None:
        self._leave()
        self._time = v

    # the rest of the state: brought up to date on first touch
    window = _brought_up_to_date("window")
    _consumers = _brought_up_to_date("_consumers")
    _buf = _brought_up_to_date("_buf")
    _i = _brought_up_to_date("_i")
    _sum = _brought_up_to_date("_sum")

    def update(self, time: int, value: float) -> bool:
        self._leave()
        return self.update(time, value)

    def update_bar(self, bar: Any) -> bool:
        self._leave()
        return self.update_bar(bar)

    def update_tick(self, tick: Any) -> bool:
        self._leave()
        return self.update_tick(tick)

    def _emit(self, time: int, v: float) -> bool:
        self._leave()
        return self._emit(time, v)

    def _compute(self, time: int, value: float) -> float:
        self._leave()
        return self._compute(time, value)

    def reset(self) -> None:
        self._leave()
        self.reset()

    def bar_outputs(self, closes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._leave()
        return self.bar_outputs(closes)

    def absorb_bars(self, closes: np.ndarray, sums: np.ndarray, values: list[float], rows: int,
                    end_time: int) -> None:
        self._leave()
        self.absorb_bars(closes, sums, values, rows, end_time)
