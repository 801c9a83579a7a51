"""Streaming indicators. ``REGISTRY`` maps the strategy API's helper names to constructors."""

from collections.abc import Callable

from leand.indicators.base import Indicator, RollingWindow
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

__all__ = ["ATR", "EMA", "MACD", "REGISTRY", "RSI", "SMA", "BollingerBands", "Indicator", "Maximum", "Minimum",
           "RollingWindow", "StandardDeviation"]
