"""LEAN's indicator class names and calling conventions, for code written against LEAN.

``SimpleMovingAverage("name", 10)`` or ``SimpleMovingAverage(10)``; ``update(time, value)`` with a datetime
or ns time, ``update(bar)``, ``update(data_point)``; ``MovingAverageType.WILDERS``. Each class here is a thin
subclass of leand's indicator of the same meaning (the fast paths stay leand's). ``PythonIndicator`` is the
base of a user's own indicator, as in LEAN: it overrides ``update(input)``, sets ``self.value`` and returns
whether it is ready; ``register_indicator`` and ``warm_up_indicator`` feed it like any other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from leand.indicators import REGISTRY
from leand.indicators.base import Indicator, IndicatorDataPoint


class MovingAverageType(StrEnum):
    SIMPLE = "simple"
    EXPONENTIAL = "exponential"
    WILDERS = "wilders"
    LINEAR_WEIGHTED_MOVING_AVERAGE = "lwma"
    DOUBLE_EXPONENTIAL = "dema"
    TRIPLE_EXPONENTIAL = "tema"
    TRIANGULAR = "trima"
    T3 = "t3"
    KAMA = "kama"
    HULL = "hma"
    ALMA = "alma"


def _ns(t: Any) -> Any:
    if isinstance(t, datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        return int(t.timestamp() * 1_000_000_000)
    return t


def _lean_class(cls: type[Indicator], lean_name: str) -> type[Indicator]:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        name = None
        if args and ((isinstance(args[0], str) and not isinstance(args[0], StrEnum))
                     or type(args[0]).__name__ == "Symbol"):  # LEAN takes a name (often a Symbol) first
            name, args = str(args[0]), args[1:]
        cls.__init__(self, *args, **kwargs)
        if name:
            self.name = name

    def update(self, a: Any, b: Any = None) -> bool:
        if b is not None:
            return cls.update(self, _ns(a), float(b))
        if hasattr(a, "high") and hasattr(a, "low"):
            return cls.update_bar(self, a)
        t = getattr(a, "end_time", None)
        if t is None:
            t = a.time
        return cls.update(self, _ns(t), float(a.value))

    def smoothing_factor_default(period: int) -> float:
        return 2.0 / (period + 1)

    return type(lean_name, (cls,), {"__init__": __init__, "update": update, "__slots__": (),
                                    "smoothing_factor_default": staticmethod(smoothing_factor_default),
                                    "__doc__": f"LEAN's {lean_name}: leand's {cls.__name__}."})


_ALIASES = {"SMA": "SimpleMovingAverage", "EMA": "ExponentialMovingAverage", "RSI": "RelativeStrengthIndex",
            "ATR": "AverageTrueRange", "MACD": "MovingAverageConvergenceDivergence",
            "IntradayVwap": "VolumeWeightedAveragePriceIndicator"}

#: every registry indicator under LEAN's class name
LEAN_INDICATORS: dict[str, type[Indicator]] = {}
for _cls in dict.fromkeys(REGISTRY.values()):
    _name = _ALIASES.get(_cls.__name__, _cls.__name__)
    if isinstance(_cls, type) and _name not in LEAN_INDICATORS:
        LEAN_INDICATORS[_name] = _lean_class(_cls, _name)


class PythonIndicator:
    """Base of a user's indicator (LEAN's ``PythonIndicator``): override ``update(input)`` to set
    ``self.value`` and return readiness. The engine counts samples and keeps ``is_ready`` and ``current``."""

    def __init__(self, *args: Any) -> None:
        self.name = type(self).__name__
        self.value = 0.0
        self.warm_up_period = 0
        self.samples = 0
        self.is_ready = False
        self._time: Any = 0

    def update(self, input: Any) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def current(self) -> IndicatorDataPoint:
        return IndicatorDataPoint(float(self.value), self._time)

    def reset(self) -> None:
        self.samples, self.is_ready, self.value = 0, False, 0.0


def feed_python_indicator(ind: PythonIndicator, point: IndicatorDataPoint) -> None:
    """One input into a user's indicator, with LEAN's bookkeeping around its ``update``."""
    ind.samples += 1
    ind._time = point._t
    ind.is_ready = bool(ind.update(point))
