"""Universe selection models: which securities the framework trades."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from leand.model import Symbol


class UniverseSelectionModel:
    def select(self, algorithm: Any, now: datetime) -> list[Symbol]:  # pragma: no cover - abstract
        return []

    #: selection runs again each new day (LEAN's default universe refresh)
    daily = False


class ManualUniverseSelectionModel(UniverseSelectionModel):
    """A fixed list of symbols (or tickers, as US equities)."""

    def __init__(self, symbols: list[Symbol | str] | None = None, *more: Symbol) -> None:
        items = list(symbols or []) if not isinstance(symbols, (Symbol, str)) else [symbols]
        self.symbols = [s if isinstance(s, Symbol) else Symbol.equity(s) for s in [*items, *more]]

    def select(self, algorithm: Any, now: datetime) -> list[Symbol]:
        return self.symbols


class CustomUniverseSelectionModel(UniverseSelectionModel):
    """LEAN's CustomUniverseSelectionModel(name, selector): tickers from ``selector(time)``, US equities."""

    daily = True

    def __init__(self, name: str, selector: Callable[[datetime], list[str]]) -> None:
        self.name, self.selector = name, selector

    def select(self, algorithm: Any, now: datetime) -> list[Symbol]:
        return [s if isinstance(s, Symbol) else Symbol.equity(str(s)) for s in self.selector(now)]


class ScheduledUniverseSelectionModel(UniverseSelectionModel):
    """LEAN's ScheduledUniverseSelectionModel(date_rule, time_rule, selector[, settings]): ``selector(time)``
    answers Symbols (or US equity tickers) at the schedule's times; securities come and go during the run."""

    def __init__(self, date_rule: Any, time_rule: Any, selector: Callable[[datetime], Any],
                 settings: Any = None) -> None:
        self.date_rule, self.time_rule, self.selector, self.settings = date_rule, time_rule, selector, settings
