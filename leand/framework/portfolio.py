"""Portfolio construction: active insights in, portfolio targets (quantities) out, with LEAN's rebalancing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

from leand.framework.insights import Insight, InsightDirection
from leand.model import Resolution, Symbol


class PortfolioTarget:
    """A symbol and the quantity to hold (in ``set_holdings([...])``: the fraction of the portfolio)."""

    __slots__ = ("quantity", "symbol", "tag")

    def __init__(self, symbol: Symbol, quantity: float, tag: str = "") -> None:
        self.symbol, self.quantity, self.tag = symbol, float(quantity), tag

    @classmethod
    def percent(cls, algorithm: Any, symbol: Symbol, percent: float, tag: str = "") -> PortfolioTarget | None:
        """The quantity that makes ``symbol`` ``percent`` of the portfolio (LEAN's PortfolioTarget.Percent):
        holdings plus the order set_holdings would place, none when the change is below the minimum."""
        sec = algorithm.securities[symbol]
        if sec.price == 0:
            return None
        q = algorithm.calculate_order_quantity(sec.symbol, percent)
        return cls(sec.symbol, sec.holdings.quantity + q, tag)

    def __repr__(self) -> str:
        return f"PortfolioTarget({self.symbol}, {self.quantity:g})"


class PortfolioBias(IntEnum):
    SHORT = -1
    LONG_SHORT = 0
    LONG = 1


def _rebalancing_func(rebalance: Any, algorithm_tz: Any = None) -> Callable[[int], int | None] | None:
    """LEAN's rebalancing function of UTC time: a Resolution or timedelta after now, the next date of a date
    rule, or the user's function (datetime -> datetime or None)."""
    if rebalance is None:
        return None
    if isinstance(rebalance, Resolution):
        step = rebalance.value
        return lambda t: t + step
    if isinstance(rebalance, timedelta):
        step = int(rebalance.total_seconds() * 1e9)
        return lambda t: t + step
    dates = getattr(rebalance, "dates", None)
    if dates is not None:  # a DateRule: the next of its dates (midnight), compared with UTC time as LEAN does
        state: dict[str, Any] = {}

        def from_rule(t: int) -> int | None:
            it = state.get("it")
            if it is None:
                it = state["it"] = dates(datetime.fromtimestamp(t / 1e9, UTC).date())
                state["cur"] = _mid(next(it))
            if t >= state["cur"]:
                state["cur"] = _mid(next(it))
            return state["cur"]
        return from_rule

    def user(t: int) -> int | None:
        r = rebalance(datetime.fromtimestamp(t / 1e9, UTC).replace(tzinfo=None))
        if r is None:
            return None
        if r.tzinfo is None:
            r = r.replace(tzinfo=UTC)
        return int(r.timestamp() * 1e9)
    return user


def _mid(d: Any) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1e9)


class PortfolioConstructionModel:
    """Base model with LEAN's rebalancing rules: targets are (re)created when the rebalancing time is due,
    when securities changed, or when insights came or expired (each rule switchable in ``settings``)."""

    def __init__(self, rebalance: Any = None) -> None:
        self._rebalance_func = _rebalancing_func(rebalance)
        self.portfolio_bias = PortfolioBias.LONG_SHORT
        self._rebalancing_time: int | None = None
        self._security_changes = False
        self._removed: list[Symbol] = []
        self.algorithm: Any = None
        self.rebalance_on_security_changes: bool | None = None
        self.rebalance_on_insight_changes: bool | None = None

    def set_rebalancing_func(self, func: Any) -> None:
        """LEAN's SetRebalancingFunc: a function of the UTC time (datetime) giving the next rebalance time."""
        self._rebalance_func = _rebalancing_func(func)

    def respect_portfolio_bias(self, insight: Insight) -> bool:
        return self.portfolio_bias == PortfolioBias.LONG_SHORT or int(insight.direction) == int(self.portfolio_bias)

    # -- to override -----------------------------------------------------------------------------------
    def determine_target_percent(self, active_insights: list[Insight]) -> dict[Insight, float]:
        return {}

    def should_create_target_for_insight(self, insight: Insight) -> bool:
        return True

    # -- LEAN's flow -----------------------------------------------------------------------------------
    def _settings(self, name: str) -> bool:
        own = getattr(self, name)
        if own is not None:
            return own
        return getattr(self.algorithm.settings, f"rebalance_portfolio_{name.removeprefix('rebalance_')}")

    def is_rebalance_due(self, insights: list[Insight], utc_ns: int) -> bool:
        if self._rebalance_func is None:
            self._refresh(utc_ns)
            return True
        nxt = self.algorithm.insights.get_next_expiry_time()
        if self._rebalancing_time is None:
            self._rebalancing_time = self._rebalance_func(utc_ns)
            if self._rebalancing_time is not None and self._rebalancing_time <= utc_ns:
                self._rebalancing_time = utc_ns
        if (self._rebalancing_time is not None and self._rebalancing_time <= utc_ns) \
                or (self._settings("rebalance_on_security_changes") and self._security_changes) \
                or (self._settings("rebalance_on_insight_changes")
                    and (insights or (nxt is not None and nxt < utc_ns))):
            self._refresh(utc_ns)
            return True
        return False

    def _refresh(self, utc_ns: int) -> None:
        if self._rebalance_func is not None:
            self._rebalancing_time = self._rebalance_func(utc_ns)
        self._security_changes = False

    def get_target_insights(self) -> list[Insight]:
        alg = self.algorithm
        last: dict[Symbol, Insight] = {}
        for ins in alg.insights.get_active_insights(alg.time_ns):
            if not self.should_create_target_for_insight(ins):
                continue
            cur = last.get(ins.symbol)
            if cur is None or ins.generated_time_ns >= cur.generated_time_ns:
                last[ins.symbol] = ins
        return list(last.values())

    def create_targets(self, algorithm: Any, insights: list[Insight]) -> list[PortfolioTarget]:
        self.algorithm = algorithm
        now = algorithm.time_ns
        if not self.is_rebalance_due(insights, now):
            return []
        targets: list[PortfolioTarget] = []
        errors: set[Symbol] = set()
        active = self.get_target_insights()
        percents = self.determine_target_percent(active)
        for ins in active:
            if ins not in percents:
                continue
            t = PortfolioTarget.percent(algorithm, ins.symbol, percents[ins])
            if t is not None:
                targets.append(t)
            else:
                errors.add(ins.symbol)
        expired = algorithm.insights.remove_expired_insights(now)
        seen: set[Symbol] = set()
        for ins in expired:
            s = ins.symbol
            if s in seen or s in errors or algorithm.insights.has_active_insights(s, now):
                continue
            seen.add(s)
            targets.append(PortfolioTarget(s, 0))
        if self._removed:
            targets += [PortfolioTarget(s, 0) for s in self._removed]
            self._removed = []
        return targets

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        self.algorithm = algorithm
        self._security_changes = True
        removed = [s.symbol for s in changes.removed_securities]
        if removed:
            self._removed += removed
            algorithm.insights.clear(removed)


class NullPortfolioConstructionModel(PortfolioConstructionModel):
    def create_targets(self, algorithm: Any, insights: list[Insight]) -> list[PortfolioTarget]:
        return []


class EqualWeightingPortfolioConstructionModel(PortfolioConstructionModel):
    """Equal weight to every symbol with an active up or down insight (flat insights get 0)."""

    def __init__(self, rebalance: Any = Resolution.DAILY, portfolio_bias: PortfolioBias = PortfolioBias.LONG_SHORT
                 ) -> None:
        super().__init__(rebalance)
        self.portfolio_bias = portfolio_bias

    def _respects_bias(self, ins: Insight) -> bool:
        return self.portfolio_bias == PortfolioBias.LONG_SHORT or int(ins.direction) == int(self.portfolio_bias)

    def determine_target_percent(self, active_insights: list[Insight]) -> dict[Insight, float]:
        n = sum(1 for i in active_insights if i.direction != InsightDirection.FLAT and self._respects_bias(i))
        pct = 0.0 if n == 0 else 1.0 / n
        return {i: (int(i.direction) if self._respects_bias(i) else 0) * pct for i in active_insights}
