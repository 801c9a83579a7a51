"""What a sweep optimizes (``--target``) and what it must satisfy (``--constraint``).

Both name a LEAN statistic, either as printed (``"Sharpe Ratio"``) or in snake case (``sharpe_ratio``), or by a
short alias (``sharpe``, ``sortino``, ``cagr``, ``psr``). Statistics where less is better (drawdown, variance,
fees…) are minimized; every other one is maximized.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable

import msgspec

STATISTICS = [
    "Total Orders", "Average Win", "Average Loss", "Compounding Annual Return", "Drawdown", "Expectancy",
    "Start Equity", "End Equity", "Net Profit", "Sharpe Ratio", "Sortino Ratio", "Probabilistic Sharpe Ratio",
    "Loss Rate", "Win Rate", "Profit-Loss Ratio", "Alpha", "Beta", "Annual Standard Deviation",
    "Annual Variance", "Information Ratio", "Tracking Error", "Treynor Ratio", "Total Fees",
    "Portfolio Turnover", "Drawdown Recovery",
]
ALIASES = {"sharpe": "Sharpe Ratio", "sortino": "Sortino Ratio", "cagr": "Compounding Annual Return",
           "car": "Compounding Annual Return", "psr": "Probabilistic Sharpe Ratio", "return": "Net Profit",
           "orders": "Total Orders", "fees": "Total Fees", "turnover": "Portfolio Turnover",
           "volatility": "Annual Standard Deviation", "dd": "Drawdown"}
MINIMIZE = {"Drawdown", "Annual Standard Deviation", "Annual Variance", "Total Fees", "Tracking Error",
            "Drawdown Recovery", "Loss Rate", "Portfolio Turnover"}


class TargetError(ValueError):
    """A target or constraint that names no statistic or does not parse."""


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


_BY_SNAKE = {_snake(s): s for s in STATISTICS}


def statistic(name: str) -> str:
    """The LEAN statistic a user's name means."""
    text = name.strip()
    if text in STATISTICS:
        return text
    s = _snake(text)
    if s in ALIASES:
        return ALIASES[s]
    if s in _BY_SNAKE:
        return _BY_SNAKE[s]
    raise TargetError(f"unknown statistic {name!r}: use one of {', '.join(sorted(ALIASES))} or a LEAN "
                      f"statistic in snake case ({', '.join(sorted(_BY_SNAKE))})")


class Target(msgspec.Struct, frozen=True):
    name: str
    statistic: str
    maximize: bool

    @classmethod
    def parse(cls, name: str) -> Target:
        stat = statistic(name)
        return cls(name, stat, stat not in MINIMIZE)

    def value(self, values: dict[str, float]) -> float | None:
        v = values.get(self.statistic)
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    def better(self, a: float, b: float | None) -> bool:
        """Whether ``a`` beats ``b`` (ties keep the earlier trial, so the best is deterministic)."""
        if b is None:
            return True
        return a > b if self.maximize else a < b


OPS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, ">=": operator.ge, "==": operator.eq,
                                                  "!=": operator.ne, "<": operator.lt, ">": operator.gt}


class Constraint(msgspec.Struct, frozen=True):
    text: str
    statistic: str
    op: str
    bound: float

    @classmethod
    def parse(cls, text: str) -> Constraint:
        m = re.fullmatch(r"\s*([A-Za-z][A-Za-z0-9 _\-]*?)\s*(<=|>=|==|!=|<|>)\s*(-?[0-9.eE+\-]+)\s*(%?)\s*", text)
        if not m:
            raise TargetError(f"--constraint {text!r}: expected STATISTIC OP NUMBER, e.g. \"drawdown<0.2\"")
        try:
            bound = float(m.group(3))
        except ValueError:
            raise TargetError(f"--constraint {text!r}: {m.group(3)!r} is not a number") from None
        if m.group(4):
            bound /= 100
        return cls(text.strip(), statistic(m.group(1)), m.group(2), bound)

    def holds(self, values: dict[str, float]) -> bool:
        v = values.get(self.statistic)
        return v is not None and not (isinstance(v, float) and math.isnan(v)) and OPS[self.op](float(v), self.bound)

    def violation(self, values: dict[str, float]) -> float:
        """How far a trial is outside the constraint (<= 0 when it holds), for Optuna's constrained TPE."""
        v = values.get(self.statistic)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return 1.0
        if self.holds(values):
            return 0.0
        return abs(float(v) - self.bound) + 1e-12
