"""Insights: an alpha model's prediction for a symbol over a period, and the collection of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum
from itertools import count
from typing import Any

from leand.model import Resolution, Symbol

_ids = count(1)


class InsightType(StrEnum):
    PRICE = "price"
    VOLATILITY = "volatility"


class InsightDirection(IntEnum):
    DOWN = -1
    FLAT = 0
    UP = 1


def _ns(t: datetime) -> int:
    return int(t.timestamp() * 1_000_000_000)


def _dt(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


class Insight:
    """LEAN's Insight. ``period`` is a timedelta or a Resolution (one bar); its close time counts bars of
    market time from when it was generated, so a 20-minute insight issued at 15:50 closes at 09:40 next
    session, as LEAN computes it."""

    def __init__(self, symbol: Symbol, period: timedelta | Resolution, type: InsightType = InsightType.PRICE,
                 direction: InsightDirection = InsightDirection.FLAT, magnitude: float | None = None,
                 confidence: float | None = None, source_model: str | None = None, weight: float | None = None,
                 tag: str = "") -> None:
        self.id = next(_ids)
        self.symbol = symbol
        self.period = period
        self.type = InsightType(type)
        self.direction = InsightDirection(direction)
        self.magnitude, self.confidence, self.weight = magnitude, confidence, weight
        self.source_model = source_model or ""
        self.tag = tag
        self.generated_time_ns = 0
        self.close_time_ns = 0

    @classmethod
    def price(cls, symbol: Symbol, period: timedelta | Resolution, direction: InsightDirection,
              magnitude: float | None = None, confidence: float | None = None, source_model: str | None = None,
              weight: float | None = None, tag: str = "") -> Insight:
        return cls(symbol, period, InsightType.PRICE, direction, magnitude, confidence, source_model, weight, tag)

    @property
    def generated_time_utc(self) -> datetime:
        return _dt(self.generated_time_ns)

    @property
    def close_time_utc(self) -> datetime:
        return _dt(self.close_time_ns)

    def is_active(self, utc_ns: int) -> bool:
        return self.close_time_ns >= utc_ns

    def is_expired(self, utc_ns: int) -> bool:
        return self.close_time_ns < utc_ns

    def cancel(self, utc_ns: int) -> None:
        self.close_time_ns = utc_ns - 1

    def stamp(self, utc_ns: int, hours: Any) -> None:
        """Set the generated and close times (LEAN's Insight.ComputeCloseTime)."""
        self.generated_time_ns = utc_ns
        self.close_time_ns = close_time(utc_ns, self.period, hours)

    def __repr__(self) -> str:
        return (f"Insight({self.symbol} {self.direction.name} {self.period} "
                f"{self.generated_time_utc:%Y-%m-%d %H:%M}->{self.close_time_utc:%Y-%m-%d %H:%M})")


def _bar_size(period: timedelta) -> Resolution:
    for r in (Resolution.DAILY, Resolution.HOUR, Resolution.MINUTE, Resolution.SECOND):
        if period.total_seconds() * 1e9 >= r.value:
            return r
    return Resolution.SECOND


def close_time(start_ns: int, period: timedelta | Resolution, hours: Any) -> int:
    if isinstance(period, Resolution):
        res, bars = period, 1
    else:
        res = _bar_size(period)
        bars = int(period.total_seconds() * 1e9 // res.value)
        if bars * res.value != int(period.total_seconds() * 1e9) or hours is None or hours.always_open:
            return start_ns + int(period.total_seconds() * 1e9)
    if hours is None or hours.always_open:
        return start_ns + bars * res.value
    if res is Resolution.DAILY:
        d = hours.local_date(start_ns)
        n = 0
        while n < bars:
            d += timedelta(days=1)
            if hours.session(d) is not None:
                n += 1
        s = hours.session(d)
        return s[1] if s else start_ns + bars * res.value
    step = res.value
    cur = start_ns - start_ns % step
    n = 0
    while n < bars:
        if not hours.is_open(cur):
            nxt = hours.next_open(cur)
            cur = max(nxt - nxt % step, cur + step)
            continue
        cur += step
        n += 1
    return cur


class InsightCollection:
    """Every insight generated (LEAN's ``algorithm.insights``)."""

    def __init__(self) -> None:
        self._all: list[Insight] = []

    def add(self, insight: Insight) -> None:
        self._all.append(insight)

    def add_range(self, insights: list[Insight]) -> None:
        self._all.extend(insights)

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self):
        return iter(self._all)

    @property
    def total_count(self) -> int:
        return len(self._all)

    def get_active_insights(self, utc_ns: int) -> list[Insight]:
        return [i for i in self._all if i.is_active(utc_ns)]

    def has_active_insights(self, symbol: Symbol, utc_ns: int) -> bool:
        return any(i.symbol == symbol and i.is_active(utc_ns) for i in self._all)

    def remove_expired_insights(self, utc_ns: int) -> list[Insight]:
        expired = [i for i in self._all if i.is_expired(utc_ns)]
        if expired:
            self._all = [i for i in self._all if not i.is_expired(utc_ns)]
        return expired

    def get_next_expiry_time(self) -> int | None:
        return min((i.close_time_ns for i in self._all), default=None)

    def cancel(self, symbols: list[Symbol], utc_ns: int) -> None:
        wanted = set(symbols)
        for i in self._all:
            if i.symbol in wanted and i.is_active(utc_ns):
                i.cancel(utc_ns)

    def clear(self, symbols: list[Symbol]) -> None:
        wanted = set(symbols)
        self._all = [i for i in self._all if i.symbol not in wanted]
