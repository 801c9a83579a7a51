"""Runs the framework's models after each ``on_data``, in LEAN's order (QCAlgorithm.OnFrameworkData)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from leand.framework.alpha import AlphaModel, CompositeAlphaModel, NullAlphaModel
from leand.framework.execution import ExecutionModel, ImmediateExecutionModel
from leand.framework.insights import Insight, InsightCollection
from leand.framework.portfolio import (
    NullPortfolioConstructionModel,
    PortfolioConstructionModel,
    PortfolioTarget,
)
from leand.framework.risk import NullRiskManagementModel, RiskManagementModel
from leand.framework.selection import ScheduledUniverseSelectionModel
from leand.model import Resolution

if TYPE_CHECKING:
    from leand.slice import Slice
    from leand.strategy import Strategy


@dataclass
class UniverseSettings:
    """How securities a universe adds are subscribed (LEAN's ``universe_settings``)."""

    resolution: Resolution = Resolution.MINUTE
    leverage: float | None = None
    fill_forward: bool = True
    extended_market_hours: bool = False
    #: a universe keeps a security at least this long (LEAN's UniverseSettings.MinimumTimeInUniverse)
    minimum_time_in_universe: timedelta = timedelta(days=1)


class Settings:
    """LEAN's ``algorithm.settings``: the framework's rebalancing switches and the order-size floor."""

    def __init__(self, strategy: Strategy) -> None:
        self._strategy = strategy
        self.rebalance_portfolio_on_insight_changes = True
        self.rebalance_portfolio_on_security_changes = True
        self.free_portfolio_value_percentage = 0.0025

    @property
    def minimum_order_margin_portfolio_percentage(self) -> float:
        return self._strategy._engine.min_order_margin_pct

    @minimum_order_margin_portfolio_percentage.setter
    def minimum_order_margin_portfolio_percentage(self, v: float) -> None:
        self._strategy._engine.min_order_margin_pct = float(v)


@dataclass
class SecurityChanges:
    added_securities: list[Any] = field(default_factory=list)
    removed_securities: list[Any] = field(default_factory=list)


class FrameworkRunner:
    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        self.alpha: Any = NullAlphaModel()
        self.portfolio_construction: Any = NullPortfolioConstructionModel()
        self.execution: Any = ImmediateExecutionModel()  # LEAN's default (QCAlgorithm.Framework)
        self.risk: Any = NullRiskManagementModel()
        self.insights = InsightCollection()
        self.pending = SecurityChanges()
        self.installed = False
        self.started = False

    def install(self) -> None:
        if not self.installed:
            self.strategy._engine.after_data.append(self.on_slice)
            self.installed = True

    # -- models -----------------------------------------------------------------------------------------
    def set_alpha(self, model: AlphaModel) -> None:
        self.alpha = model
        self.install()

    def add_alpha(self, model: AlphaModel) -> None:
        if isinstance(self.alpha, NullAlphaModel):
            self.alpha = model
        elif isinstance(self.alpha, CompositeAlphaModel):
            self.alpha.add_alpha(model)
        else:
            self.alpha = CompositeAlphaModel(self.alpha, model)
        self.install()

    def set_portfolio_construction(self, model: PortfolioConstructionModel) -> None:
        self.portfolio_construction = model
        self.install()

    def set_execution(self, model: ExecutionModel) -> None:
        self.execution = model
        self.install()

    def set_risk_management(self, model: RiskManagementModel) -> None:
        self.risk = model
        self.install()

    def add_universe_selection(self, model: Any) -> None:
        s = self.strategy
        if isinstance(model, ScheduledUniverseSelectionModel):
            from leand.framework.universe import ScheduledUniverse

            ScheduledUniverse(s._engine, s, model.date_rule, model.time_rule, model.selector, model.settings)
            self.install()
            return
        us = s.universe_settings
        now = s.time
        for sym in model.select(s, now):
            if sym in s.securities:
                continue
            kw: dict[str, Any] = {"fill_forward": us.fill_forward, "leverage": us.leverage}
            if sym.security_type.value == "equity":
                kw["extended_hours"] = us.extended_market_hours
            sec = s._engine.add_security(sym, us.resolution, **kw)
            self.pending.added_securities.append(sec)
        self.install()

    # -- the step ------------------------------------------------------------------------------------------
    def stamp(self, insights: list[Insight]) -> list[Insight]:
        now = self.strategy.time_ns
        for ins in insights:
            sec = self.strategy.securities.get(ins.symbol)
            ins.stamp(now, sec.exchange_hours if sec is not None else None)
        self.insights.add_range(insights)
        return insights

    def on_slice(self, data: Slice) -> None:
        s = self.strategy
        if not self.started:  # LEAN: every security the algorithm holds is an addition the models hear of
            self.started = True
            internal = s._engine.internal_symbols
            seen = {id(x) for x in self.pending.added_securities}
            self.pending.added_securities += [sec for sym, sec in s.securities.items()
                                              if sym not in internal and id(sec) not in seen]
        if self.pending.added_securities or self.pending.removed_securities:
            changes, self.pending = self.pending, SecurityChanges()
            for m in (self.alpha, self.portfolio_construction, self.risk, self.execution):
                m.on_securities_changed(s, changes)
            s.on_securities_changed(changes)
        if s.is_warming_up:
            return
        insights = list(self.alpha.update(s, data) or [])
        if insights:
            self.stamp(insights)
        targets = list(self.portfolio_construction.create_targets(s, insights) or [])
        overrides = list(self.risk.manage_risk(s, targets) or [])
        if overrides:
            seen = {t.symbol for t in overrides}
            targets = overrides + [t for t in targets if t.symbol not in seen]
        self.execution.execute(s, [t if isinstance(t, PortfolioTarget) else PortfolioTarget(t.symbol, t.quantity)
                                   for t in targets])
