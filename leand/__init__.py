"""leand: one strategy code for backtest and live, a simulated exchange, and a daemon that loses nothing."""

__version__ = "0.1.0"

from leand.model import (
    AccountType,
    DataNormalizationMode,
    OrderStatus,
    OrderType,
    Resolution,
    SecurityType,
    Symbol,
    TimeInForce,
)
from leand.strategy import Strategy

__all__ = [
    "AccountType",
    "DataNormalizationMode",
    "OrderStatus",
    "OrderType",
    "Resolution",
    "SecurityType",
    "Strategy",
    "Symbol",
    "TimeInForce",
    "__version__",
]
