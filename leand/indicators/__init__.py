"""Streaming indicators (LEAN semantics) and their vectorized twins (:mod:`leand.indicators.vector`).

``REGISTRY`` maps the strategy API's helper names to constructors: ``self.indicator("kama", symbol, 10)`` or
simply ``self.kama(symbol, 10)``. Helper names follow LEAN's (``rma`` is LEAN's RelativeMovingAverage;
Wilder's average is ``wwma``/``wilders``; ``vwap`` resets each day, ``mvwap`` is the rolling one)."""

from collections.abc import Callable

from leand.indicators import averages, oscillators, trend, volume
from leand.indicators.base import SELECTORS, BarIndicator, Indicator, RollingWindow, selector_of
from leand.indicators.core import (
    ATR,
    EMA,
    MACD,
    RSI,
    SMA,
    BollingerBands,
    Maximum,
    Minimum,
    StandardDeviation,
)
from leand.indicators.delay import Delay

REGISTRY: dict[str, Callable[..., Indicator]] = {
    "sma": SMA,
    "ema": EMA,
    "macd": MACD,
    "rsi": RSI,
    "bb": BollingerBands,
    "max": Maximum,
    "min": Minimum,
    "std": StandardDeviation,
    "atr": ATR,
}
for _part in (averages.REGISTRY_PART, oscillators.REGISTRY_PART, trend.REGISTRY_PART, volume.REGISTRY_PART):
    for _name, _cls in _part.items():
        if _name in REGISTRY and REGISTRY[_name] is not _cls:
            raise ImportError(f"indicator helper name {_name!r} registered twice")
        REGISTRY[_name] = _cls
REGISTRY["wilders"] = averages.WilderMovingAverage
REGISTRY["delay"] = Delay

__all__ = ["ATR", "EMA", "MACD", "REGISTRY", "RSI", "SELECTORS", "SMA", "BarIndicator", "BollingerBands", "Delay",
           "Indicator", "Maximum", "Minimum", "RollingWindow", "StandardDeviation", "averages", "oscillators",
           "selector_of", "trend", "volume"]
