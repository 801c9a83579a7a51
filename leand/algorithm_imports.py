# ruff: noqa: F401
"""LEAN's ``from AlgorithmImports import *`` for leand: the names a LEAN Python algorithm uses, so a port of
a LEAN algorithm changes its import line and little else (``from leand.algorithm_imports import *``).

``QCAlgorithm`` is :class:`leand.Strategy`; the enums and helpers are leand's own under LEAN's names.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any

import numpy as np

from leand.brokerage_models import BrokerageMessageEvent, BrokerageMessageType, DefaultBrokerageModel
from leand.consolidators import (
    Calendar,
    ClassicRenkoConsolidator,
    QuoteBarConsolidator,
    RenkoConsolidator,
    TickConsolidator,
    TickQuoteBarConsolidator,
    TradeBarConsolidator,
    VolumeRenkoConsolidator,
)
from leand.dotnet_random import DotNetRandom as Random
from leand.fees import BrokerageName
from leand.framework import (
    AlphaModel,
    CompositeAlphaModel,
    ConstantAlphaModel,
    CustomUniverseSelectionModel,
    EqualWeightingPortfolioConstructionModel,
    ExecutionModel,
    ImmediateExecutionModel,
    Insight,
    InsightDirection,
    InsightType,
    ManualUniverseSelectionModel,
    MaximumDrawdownPercentPerSecurity,
    NullAlphaModel,
    NullExecutionModel,
    NullPortfolioConstructionModel,
    NullRiskManagementModel,
    PortfolioBias,
    PortfolioConstructionModel,
    PortfolioTarget,
    RiskManagementModel,
    ScheduledUniverseSelectionModel,
    SecurityChanges,
)
from leand.indicators.base import IndicatorDataPoint
from leand.indicators.breadth import ArmsIndex
from leand.indicators.delay import Delay
from leand.indicators.lean_names import LEAN_INDICATORS, MovingAverageType, PythonIndicator
from leand.lean_models import (
    BuyingPowerModel,
    CashAmount,
    EquityFillModel,
    FeeModel,
    Fill,
    FillModel,
    FillModelParameters,
    GetMaximumOrderQuantityResult,
    HasSufficientBuyingPowerForOrderResult,
    ImmediateFillModel,
    MaintenanceMargin,
    MarginInterestRateParameters,
    OrderFee,
    OrderFeeParameters,
)
from leand.model import (
    AccountType,
    DataNormalizationMode,
    Delisting,
    Dividend,
    Order,
    OrderEvent,
    OrderStatus,
    OrderType,
    QuoteBar,
    QuoteTick,
    Resolution,
    SecurityType,
    Split,
    Symbol,
    SymbolChanged,
    TimeInForce,
    TradeBar,
    TradeTick,
)
from leand.model import OrderSide as OrderDirection
from leand.orders.moc import MarketOnCloseOrder
from leand.security import Security
from leand.slice import Slice
from leand.strategy import Strategy
from leand.tickets import OrderField, OrderResponse, OrderTicket, SubmitOrderRequest, UpdateOrderFields

QCAlgorithm = Strategy
Tick = TradeTick


class OrderProperties:
    """LEAN's order properties: the time in force."""

    def __init__(self, time_in_force: TimeInForce | None = None) -> None:
        self.time_in_force = time_in_force


class Market:
    """LEAN's market names (lower case, as LEAN's ``Market`` constants)."""

    USA = "usa"
    OANDA = "oanda"
    FXCM = "fxcm"
    COINBASE = "coinbase"
    GDAX = "coinbase"
    BINANCE = "binance"
    BINANCE_US = "binanceus"
    BITFINEX = "bitfinex"
    BYBIT = "bybit"
    KRAKEN = "kraken"


globals().update(LEAN_INDICATORS)


class SecurityMarginModel:
    """LEAN's margin model: leand takes its leverage."""

    def __init__(self, leverage: float = 2.0, required_free_buying_power_percent: float = 0.0) -> None:
        self.leverage = leverage


class SymbolCache:
    """LEAN's symbol cache. leand keeps none: a ticker is never cached (the benchmark included)."""

    @staticmethod
    def try_get_symbol(ticker: str, _security_type: Any = None) -> tuple[bool, Symbol | None]:
        return False, None


class DelistingType:
    WARNING = 0
    DELISTED = 1


Delistings = Splits = Dividends = SymbolChangedEvents = dict


class Time:
    """LEAN's Time helpers used by framework models."""

    @staticmethod
    def multiply(span: timedelta, times: float) -> timedelta:
        return span * times

    @staticmethod
    def max(a: timedelta, b: timedelta) -> timedelta:
        return a if a >= b else b


class Extensions:
    """LEAN's extension methods used by algorithms."""

    @staticmethod
    def to_time_span(resolution: Resolution) -> timedelta:
        return timedelta(seconds=resolution.value / 1e9)

    @staticmethod
    def convert_from_utc(t: datetime, tz: Any) -> datetime:
        aware = t if t.tzinfo is not None else t.replace(tzinfo=UTC)
        return aware.astimezone(tz).replace(tzinfo=None)

    @staticmethod
    def convert_to_utc(t: datetime, tz: Any) -> datetime:
        return t.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None)

    @staticmethod
    def round_to_significant_digits(x: float, digits: int) -> float:
        return float(f"{x:.{digits}g}")


UpdateOrderRequest = UpdateOrderFields


class DayOfWeek:
    """Weekdays as leand's date rules take them (Python's: Monday = 0)."""

    MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)


class TimeSpan:
    """LEAN's TimeSpan factories, as timedeltas."""

    @staticmethod
    def from_days(n: float) -> timedelta:
        return timedelta(days=n)

    @staticmethod
    def from_hours(n: float) -> timedelta:
        return timedelta(hours=n)

    @staticmethod
    def from_minutes(n: float) -> timedelta:
        return timedelta(minutes=n)

    @staticmethod
    def from_seconds(n: float) -> timedelta:
        return timedelta(seconds=n)

    ZERO = timedelta(0)


class TimeZones:
    UTC = "UTC"
    NEW_YORK = "America/New_York"
    CHICAGO = "America/Chicago"
    LONDON = "Europe/London"


class RegressionTestException(Exception):
    """Raised by LEAN's regression algorithms when an expectation fails."""


#: everything above, as LEAN's AlgorithmImports exports everything it imports
__all__ = [_n for _n in dir() if not _n.startswith("_") and _n != "annotations"]
