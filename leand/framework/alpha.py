"""Alpha models: data in, insights out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from leand.framework.insights import Insight, InsightDirection, InsightType


class AlphaModel:
    """Base alpha model: override ``update(algorithm, data)`` (and ``on_securities_changed``)."""

    @property
    def name(self) -> str:
        return self.__dict__.get("_name") or type(self).__name__

    @name.setter
    def name(self, value: str) -> None:
        self.__dict__["_name"] = value

    def update(self, algorithm: Any, data: Any) -> list[Insight]:
        return []

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        pass


class NullAlphaModel(AlphaModel):
    pass


class ConstantAlphaModel(AlphaModel):
    """The same insight for every security, re-issued once its period (wall time) has passed."""

    def __init__(self, type: InsightType, direction: InsightDirection, period: timedelta,
                 magnitude: float | None = None, confidence: float | None = None, weight: float | None = None) -> None:
        self.type, self.direction, self.period = type, direction, period
        self.magnitude, self.confidence, self.weight = magnitude, confidence, weight
        self._securities: list[Any] = []
        self._last: dict[Any, int] = {}

    def update(self, algorithm: Any, data: Any) -> list[Insight]:
        now = algorithm.time_ns
        out = []
        per = int(self.period.total_seconds() * 1e9) if isinstance(self.period, timedelta) else self.period.value
        for sec in self._securities:
            if sec.price == 0:
                continue
            last = self._last.get(sec.symbol)
            if last is not None and now - last < per:
                continue
            self._last[sec.symbol] = now
            out.append(Insight(sec.symbol, self.period, self.type, self.direction, self.magnitude, self.confidence,
                               weight=self.weight))
        return out

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        for sec in changes.added_securities:
            if sec not in self._securities:
                self._securities.append(sec)
        for sec in changes.removed_securities:
            if sec in self._securities:
                self._securities.remove(sec)
            self._last.pop(sec.symbol, None)


class CompositeAlphaModel(AlphaModel):
    """Several alpha models; insights of all, each stamped with its model's name."""

    def __init__(self, *models: AlphaModel) -> None:
        self.models = list(models)

    def add_alpha(self, model: AlphaModel) -> None:
        self.models.append(model)

    def update(self, algorithm: Any, data: Any) -> list[Insight]:
        out = []
        for m in self.models:
            name = getattr(m, "name", type(m).__name__)
            for ins in m.update(algorithm, data) or []:
                if not ins.source_model:
                    ins.source_model = name
                out.append(ins)
        return out

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        for m in self.models:
            m.on_securities_changed(algorithm, changes)
