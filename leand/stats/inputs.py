"""What the engine hands to the statistics: sampled series and LEAN's transaction records."""

from __future__ import annotations

from typing import Any

import msgspec


class StatisticsInput(msgspec.Struct, kw_only=True):
    start_equity: float
    end_equity: float
    #: the sampled equity series E: (time_ns UTC, total portfolio value)
    equity: list[tuple[int, float]]
    #: daily performance samples incl. the start and the final one:
    #: (time_ns, portfolio value, benchmark value, sales volume since the previous daily sample)
    daily: list[tuple[int, float, float, float]]
    #: (time_ns, P&L net of 2×fee), one per position-reducing fill
    transactions: list[tuple[int, float]]
    total_fees: float
    total_orders: int
    trading_days_per_year: int = 252
    account_currency: str = "USD"
    risk_free: Any = None  # an InterestRateProvider, or None for 0
    custom: dict[str, str] = {}
