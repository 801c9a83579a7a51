"""Fee models (LEAN's): computed at fill time from the filled order. Each returns (fee, currency).

leand's own models also answer ``market_fee``: what ``fee`` answers for a market order (not post-only) of
``quantity`` created at ``created_ns``, from those numbers alone, so the order manager's quiet path
(``OrderManager.submit_market``) can price an order it has not made an ``Order`` for (it never needs one when the
order fills at once and nothing reads it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from leand.model import Order, OrderType
from leand.security import Security

_COINBASE_T1 = int(datetime(2019, 3, 23, 1, 30, tzinfo=UTC).timestamp()) * 1_000_000_000
_COINBASE_T2 = int(datetime(2019, 10, 8, 0, 30, tzinfo=UTC).timestamp()) * 1_000_000_000
# members the per-order path compares with, as module constants (``Enum.MEMBER`` costs about 150 ns on CPython 3.11:
# EnumType's __getattr__ slot)
_LIMIT = OrderType.LIMIT


class FeeModel(Protocol):
    def fee(self, security: Security, order: Order, fill_quantity: float, fill_price: float,
            now_ns: int) -> tuple[float, str]: ...


class ConstantFeeModel:
    def __init__(self, fee: float = 0.0, currency: str = "USD") -> None:
        self.amount = fee
        self.currency = currency

    def fee(self, security, order, fill_quantity, fill_price, now_ns):
        return self.amount, self.currency

    def market_fee(self, security: Security, quantity: float, fill_quantity: float, fill_price: float,
                   created_ns: int) -> tuple[float, str]:
        """``fee`` of a market order (see the module docstring)."""
        return self.amount, self.currency


class InteractiveBrokersFeeModel:
    """US equities: $0.005/share, $1 minimum, capped at 0.5 % of the order value."""

    def __init__(self, per_share: float = 0.005, minimum: float = 1.0, max_pct: float = 0.005) -> None:
        self.per_share = per_share
        self.minimum = minimum
        self.max_pct = max_pct

    def fee(self, security: Security, order: Order, fill_quantity: float, fill_price: float,
            now_ns: int) -> tuple[float, str]:
        price = security.price
        if order.type is OrderType.LIMIT and order.limit_price is not None:
            price = min(order.limit_price, price) if order.quantity > 0 else max(order.limit_price, price)
        elif order.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) and order.stop_price is not None:
            price = min(order.stop_price, price) if order.quantity > 0 else max(order.stop_price, price)
        return self._bounded(security, abs(order.quantity), price)

    def market_fee(self, security: Security, quantity: float, fill_quantity: float, fill_price: float,
                   created_ns: int) -> tuple[float, str]:
        """``fee`` of a market order (see the module docstring)."""
        return self._bounded(security, abs(quantity), security.price)

    def _bounded(self, security: Security, qty: float, price: float) -> tuple[float, str]:
        """The per-share fee of ``qty`` shares, at least the minimum, at most ``max_pct`` of their value."""
        fee = self.per_share * qty
        cap = self.max_pct * abs(qty * price * security.instrument.multiplier)
        if fee < self.minimum:
            fee = self.minimum
        elif fee > cap:
            fee = cap
        return fee, "USD"


class PerShareFeeModel:
    """A flat commission per share/unit, in the quote currency (benchmarks and simple examples)."""

    def __init__(self, per_share: float) -> None:
        self.per_share = per_share

    def fee(self, security: Security, order: Order, fill_quantity: float, fill_price: float,
            now_ns: int) -> tuple[float, str]:
        return self.per_share * abs(fill_quantity), security.quote_currency

    def market_fee(self, security: Security, quantity: float, fill_quantity: float, fill_price: float,
                   created_ns: int) -> tuple[float, str]:
        """``fee`` of a market order (see the module docstring)."""
        return self.per_share * abs(fill_quantity), security.quote_currency


class PercentFeeModel:
    """Maker/taker percent of the traded value, in the quote currency (generic crypto venue)."""

    def __init__(self, maker: float, taker: float) -> None:
        self.maker = maker
        self.taker = taker

    def fee(self, security: Security, order: Order, fill_quantity: float, fill_price: float,
            now_ns: int) -> tuple[float, str]:
        rate = self.maker if is_maker(order) else self.taker
        return abs(fill_quantity) * fill_price * rate, security.quote_currency

    def market_fee(self, security: Security, quantity: float, fill_quantity: float, fill_price: float,
                   created_ns: int) -> tuple[float, str]:
        """``fee`` of a market order (see the module docstring), which takes liquidity."""
        return abs(fill_quantity) * fill_price * self.taker, security.quote_currency


def is_maker(order: Order) -> bool:
    """A limit order that was not marketable when submitted, or post-only, adds liquidity."""
    if order.post_only:
        return True
    if order.type is not _LIMIT or order.limit_price is None:
        return False
    sub = order.submission_price
    if sub <= 0:
        return False
    return order.limit_price < sub if order.quantity > 0 else order.limit_price > sub


class CoinbaseFeeModel:
    """Coinbase's schedule by order time; unit price = ask for buys, bid for sells."""

    def fee(self, security: Security, order: Order, fill_quantity: float, fill_price: float,
            now_ns: int) -> tuple[float, str]:
        maker, taker = _coinbase_rates(order.created_time)
        rate = maker if is_maker(order) else taker
        unit = (security.ask or security.price) if order.quantity > 0 else (security.bid or security.price)
        return unit * abs(fill_quantity) * rate, security.quote_currency

    def market_fee(self, security: Security, quantity: float, fill_quantity: float, fill_price: float,
                   created_ns: int) -> tuple[float, str]:
        """``fee`` of a market order (see the module docstring), which takes liquidity."""
        unit = (security.ask or security.price) if quantity > 0 else (security.bid or security.price)
        return unit * abs(fill_quantity) * _coinbase_rates(created_ns)[1], security.quote_currency


def _coinbase_rates(t: int) -> tuple[float, float]:
    """Coinbase's (maker, taker) rates for an order created at ``t`` (ns)."""
    if t < _COINBASE_T1:
        return 0.0, 0.003
    if t < _COINBASE_T2:
        return 0.0015, 0.0025
    return 0.006, 0.008
