"""Attaching consolidators and indicator objects to a symbol's data, and warming indicators up from history:
the engine side of ``register_indicator``, ``warm_up_indicator``, ``consolidate`` and
``subscription_manager.add_consolidator``. Any indicator object works: leand's, LEAN-named ones, a user's
``PythonIndicator`` or any object with ``update(data_point)`` (LEAN's duck-typed indicators)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from leand.consolidators import DataConsolidator, TradeBarConsolidator, consolidator_for
from leand.indicators.base import Indicator, IndicatorDataPoint, selector_of, tick_updater
from leand.indicators.lean_names import PythonIndicator, feed_python_indicator
from leand.model import QuoteBar, QuoteTick, Resolution, Symbol, TradeBar, TradeTick

if TYPE_CHECKING:
    from leand.engine import Engine


def feeder(ind: Any, selector: Any = None) -> Callable[[Any], Any]:
    """How one bar (or consolidated bar) reaches ``ind``."""
    sel = selector_of(selector) if selector is not None else None
    if isinstance(ind, Indicator):
        if sel is None:
            return ind.update_bar
        return lambda d: ind.update(d.end_time, sel(d))

    def feed(d: Any) -> None:
        v = sel(d) if sel is not None else (d.close if hasattr(d, "close") else d.value)
        point = IndicatorDataPoint(float(v), d.end_time)
        if isinstance(ind, PythonIndicator):
            feed_python_indicator(ind, point)
        else:
            ind.update(point)
    return feed


def data_type_of(engine: Engine, sym: Symbol) -> type:
    sec = engine.securities[sym]
    if sec.resolution is Resolution.TICK:
        return TradeTick if sec.subscribes_trades else QuoteTick
    return TradeBar if sec.subscribes_trades else QuoteBar


def add_consolidator(engine: Engine, symbol: Any, consolidator: DataConsolidator) -> DataConsolidator:
    sym = engine.resolve(symbol)
    sec = engine.securities[sym]
    hours = sec.exchange_hours
    engine.consolidation.add(sym, consolidator, hours.time_zone if hours is not None else engine.time_zone)
    return consolidator


def consolidate(engine: Engine, symbol: Any, period: Any, handler: Callable[[Any], Any] | None,
                start_time: timedelta | None = None, data_type: type | None = None) -> DataConsolidator:
    sym = engine.resolve(symbol)
    c = consolidator_for(period, data_type or data_type_of(engine, sym), start_time)
    if handler is not None:
        c.data_consolidated += lambda _sender, bar: handler(bar)
    return add_consolidator(engine, sym, c)


def register(engine: Engine, symbol: Any, ind: Any, period: Any = None, selector: Any = None) -> Any:
    """Keep ``ind`` updated from ``symbol``: from each bar at the security's resolution, or through a
    consolidator (given, or made for a coarser resolution or a timedelta)."""
    sym = engine.resolve(symbol)
    sec = engine.securities[sym]
    feed = feeder(ind, selector)
    if isinstance(period, Resolution) and period <= sec.resolution:
        period = None
    if isinstance(period, timedelta) and sec.resolution is not Resolution.TICK and \
            period.total_seconds() * 1e9 <= sec.resolution.value:
        period = None
    if period is None:
        if sec.resolution is Resolution.TICK and isinstance(ind, Indicator):
            feed = tick_updater(ind, selector_of(selector) if selector is not None else None)
        engine.indicator_updaters_for(sym).append(feed)
        engine.indicator_registrations.setdefault(id(ind), []).append((sym, feed, None, None))
        return ind
    c = period if isinstance(period, DataConsolidator) else consolidator_for(period, data_type_of(engine, sym))

    def handler(_sender: Any, bar: Any) -> None:
        feed(bar)
    c.data_consolidated += handler
    if c not in engine.consolidation.by_symbol.get(sym, []):
        add_consolidator(engine, sym, c)
    engine.indicator_registrations.setdefault(id(ind), []).append((sym, None, c, handler))
    return ind


def unregister(engine: Engine, ind: Any) -> bool:
    entries = engine.indicator_registrations.pop(id(ind), None)
    if not entries:
        return False
    for sym, feed, c, handler in entries:  # one per symbol it was registered on
        if feed is not None:
            ups = engine.indicator_updaters_for(sym)
            if feed in ups:
                ups.remove(feed)
        if c is not None:
            c.data_consolidated -= handler
    return True


def warm_up(engine: Engine, symbol: Any, ind: Any, period: Any = None, selector: Any = None) -> Any:
    """LEAN's WarmUpIndicator: feed ``ind`` its ``warm_up_period`` bars from history (none when it is 0)."""
    sym = engine.resolve(symbol)
    sec = engine.securities[sym]
    n = int(getattr(ind, "warm_up_period", 0) or 0)
    if n <= 0:
        return ind
    feed = feeder(ind, selector)
    if isinstance(period, timedelta):
        res = next((r for r in (Resolution.DAILY, Resolution.HOUR, Resolution.MINUTE, Resolution.SECOND)
                    if r.value == int(period.total_seconds() * 1e9)), None)
        if res is None:  # an odd span: consolidate bars of the security's resolution into it
            base = max(sec.resolution, Resolution.MINUTE)
            per = int(period.total_seconds() * 1e9) // base.value
            c = TradeBarConsolidator(period)
            out: list[Any] = []
            c.data_consolidated += lambda _s, bar: out.append(bar)
            for bar in engine.history(sym, n * max(per, 1), base):
                c.update(bar)
            for bar in out[-n:]:
                feed(bar)
            return ind
        period = res
    res = period if isinstance(period, Resolution) else None
    if res is None or res is Resolution.TICK:
        res = max(sec.resolution, Resolution.SECOND)
    for bar in engine.history(sym, n, res):
        feed(bar)
    return ind
