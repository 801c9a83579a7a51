"""LEAN's ``from AlgorithmImports import *`` for leand: the names a LEAN Python algorithm uses, so a port of
a LEAN algorithm changes its import line and little else (``from leand.algorithm_imports import *``).

``QCAlgorithm`` is :class:`leand.Strategy`; the enums and helpers are leand's own under LEAN's names.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

import numpy as np

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
from leand.fees import BrokerageName
from leand.indicators.base import IndicatorDataPoint
from leand.indicators.delay import Delay
from leand.indicators.lean_names import LEAN_INDICATORS, MovingAverageType, PythonIndicator
from leand.model import (
    AccountType,
    DataNormalizationMode,
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
from leand.security import Security
from leand.slice import Slice
from leand.strategy import Strategy
from leand.tickets import OrderField, OrderResponse, OrderTicket, UpdateOrderFields

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


class RegressionTestException(Exception):
    """Raised by LEAN's regression algorithms when an expectation fails."""


__all__ = [
    *LEAN_INDICATORS,
    "BrokerageName",
    "Calendar",
    "ClassicRenkoConsolidator",
    "Delay",
    "IndicatorDataPoint",
    "MovingAverageType",
    "PythonIndicator",
    "QuoteBarConsolidator",
    "RenkoConsolidator",
    "TickConsolidator",
    "TickQuoteBarConsolidator",
    "TradeBarConsolidator",
    "VolumeRenkoConsolidator",
    "AccountType",
    "DataNormalizationMode",
    "Dividend",
    "Market",
    "Order",
    "OrderDirection",
    "OrderEvent",
    "OrderField",
    "OrderProperties",
    "OrderResponse",
    "OrderStatus",
    "OrderTicket",
    "OrderType",
    "QCAlgorithm",
    "QuoteBar",
    "QuoteTick",
    "RegressionTestException",
    "Resolution",
    "Security",
    "SecurityType",
    "Slice",
    "Split",
    "Symbol",
    "SymbolChanged",
    "Tick",
    "TimeInForce",
    "TradeBar",
    "TradeTick",
    "UpdateOrderFields",
    "date",
    "datetime",
    "math",
    "np",
    "time",
    "timedelta",
]
