"""LEAN's algorithm framework over leand's order and portfolio API.

As in LEAN, a strategy plugs in five models and the engine runs them after each ``on_data``: universe
selection adds securities; the alpha model turns data into insights; portfolio construction turns active
insights into portfolio targets (quantities); risk management overrides targets; execution places the orders
that move holdings to the targets. Each model is an object with LEAN's methods, so a user's own Python model
(subclassing the base here or duck-typed) plugs in too.
"""

from leand.framework.alpha import AlphaModel, CompositeAlphaModel, ConstantAlphaModel, NullAlphaModel
from leand.framework.execution import ExecutionModel, ImmediateExecutionModel, NullExecutionModel
from leand.framework.insights import Insight, InsightCollection, InsightDirection, InsightType
from leand.framework.portfolio import (
    EqualWeightingPortfolioConstructionModel,
    NullPortfolioConstructionModel,
    PortfolioBias,
    PortfolioConstructionModel,
    PortfolioTarget,
)
from leand.framework.risk import (
    MaximumDrawdownPercentPerSecurity,
    NullRiskManagementModel,
    RiskManagementModel,
)
from leand.framework.runner import FrameworkRunner, SecurityChanges, Settings, UniverseSettings
from leand.framework.selection import (
    CustomUniverseSelectionModel,
    ManualUniverseSelectionModel,
    ScheduledUniverseSelectionModel,
    UniverseSelectionModel,
)

__all__ = [
    "AlphaModel",
    "CompositeAlphaModel",
    "ConstantAlphaModel",
    "CustomUniverseSelectionModel",
    "EqualWeightingPortfolioConstructionModel",
    "ExecutionModel",
    "FrameworkRunner",
    "ImmediateExecutionModel",
    "Insight",
    "InsightCollection",
    "InsightDirection",
    "InsightType",
    "ManualUniverseSelectionModel",
    "MaximumDrawdownPercentPerSecurity",
    "NullAlphaModel",
    "NullExecutionModel",
    "NullPortfolioConstructionModel",
    "NullRiskManagementModel",
    "PortfolioBias",
    "PortfolioConstructionModel",
    "PortfolioTarget",
    "RiskManagementModel",
    "ScheduledUniverseSelectionModel",
    "SecurityChanges",
    "Settings",
    "UniverseSelectionModel",
    "UniverseSettings",
]
