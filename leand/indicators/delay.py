"""LEAN's Delay indicator: the input of ``period`` samples ago."""

from __future__ import annotations

from collections import deque

from leand.indicators.base import Indicator


class Delay(Indicator):
    """Outputs the value received ``period`` updates ago (the first input until that many have come); ready
    once more than ``period`` samples were seen, as LEAN's ``Delay``."""

    __slots__ = ("_buf", "period")

    def __init__(self, period: int, name: str | None = None) -> None:
        super().__init__(name or f"DELAY({period})", period + 1)
        self.period = period
        self._buf: deque[float] = deque(maxlen=period + 1)

    def _compute(self, time: int, value: float) -> float:
        self._buf.append(value)
        return self._buf[0]

    def reset(self) -> None:
        super().reset()
        self._buf.clear()
