"""What a ccxt exchange's market definitions and ``has`` table mean for leand: symbols, order rules, capabilities.

ccxt normalizes every exchange's market into one shape (``precision``, ``limits``, ``base``/``quote``, ``id``)
and every exchange's features into ``has``. This module reads those shapes, so an order is rounded or refused
here, before it is sent, with the reason a user can act on, and the order manager knows what is native.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

import msgspec

from leand.model import OrderType, TimeInForce

#: ccxt's precision modes (ccxt.base.decimal_to_precision)
DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE = 2, 3, 4


class OrderRefused(ValueError):
    """The order breaks the market's rules: it is refused before anything is sent."""


def _dec(x: Any) -> Decimal | None:
    if x is None:
        return None
    try:
        d = Decimal(str(x))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() and d > 0 else None


def _step(precision: Any, mode: int) -> Decimal | None:
    """A precision entry as a grid step: TICK_SIZE gives the step itself, DECIMAL_PLACES a count of places."""
    p = _dec(precision)
    if p is None:
        return None
    if mode == DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(p))
    if mode == SIGNIFICANT_DIGITS:  # no fixed grid: only the digit count is checked, not done here
        return None
    return p


class MarketRules(msgspec.Struct, frozen=True, kw_only=True):
    """One market's order rules, in leand's terms (strings of decimals, so nothing is lost to binary floats)."""

    ccxt_symbol: str
    venue_symbol: str
    base: str
    quote: str
    price_step: str | None = None
    amount_step: str | None = None
    min_amount: float | None = None
    max_amount: float | None = None
    min_price: float | None = None
    max_price: float | None = None
    min_cost: float | None = None
    active: bool = True

    def price(self, price: float, is_buy: bool) -> float:
        """The limit or stop price on the tick grid, rounded away from crossing (buys down, sells up), so the
        rounding never makes an order more aggressive than the strategy asked."""
        if not price > 0:
            raise OrderRefused(f"{self.ccxt_symbol}: price {price!r} must be positive")
        if self.min_price is not None and price < self.min_price:
            raise OrderRefused(f"{self.ccxt_symbol}: price {price:g} is below the market's minimum {self.min_price:g}")
        if self.max_price is not None and price > self.max_price:
            raise OrderRefused(f"{self.ccxt_symbol}: price {price:g} is above the market's maximum {self.max_price:g}")
        if self.price_step is None:
            return price
        step = Decimal(self.price_step)
        n = (Decimal(repr(price)) / step).to_integral_value(ROUND_FLOOR if is_buy else ROUND_CEILING)
        if n <= 0:
            raise OrderRefused(f"{self.ccxt_symbol}: price {price:g} rounds to zero on the tick {self.price_step}")
        return float(n * step)

    def amount(self, quantity: float) -> float:
        """The unsigned amount, which must lie on the lot grid (a rounded amount would leave leand and the venue
        disagreeing about what was ordered) and within the market's limits."""
        q = abs(quantity)
        if not q > 0:
            raise OrderRefused(f"{self.ccxt_symbol}: quantity {quantity!r} must be non-zero")
        if self.amount_step is not None:
            step = Decimal(self.amount_step)
            units = Decimal(repr(q)) / step
            n = units.to_integral_value()
            if abs(units - n) > Decimal("1e-6") or n == 0:
                raise OrderRefused(f"{self.ccxt_symbol}: quantity {q:g} is not a multiple of the lot size "
                                   f"{self.amount_step}")
            q = float(n * step)
        if self.min_amount is not None and q < self.min_amount:
            raise OrderRefused(f"{self.ccxt_symbol}: quantity {q:g} is below the minimum {self.min_amount:g}")
        if self.max_amount is not None and q > self.max_amount:
            raise OrderRefused(f"{self.ccxt_symbol}: quantity {q:g} is above the maximum {self.max_amount:g}")
        return q

    def check_cost(self, amount: float, price: float | None) -> None:
        if self.min_cost is not None and price is not None and amount * price < self.min_cost:
            raise OrderRefused(f"{self.ccxt_symbol}: notional {amount * price:g} {self.quote} is below the "
                               f"minimum {self.min_cost:g}")


def _limit(limits: dict, key: str, side: str) -> float | None:
    v = (limits.get(key) or {}).get(side)
    d = _dec(v)
    return float(d) if d is not None else None


def rules_from_market(market: dict[str, Any], precision_mode: int) -> MarketRules:
    """Read one ccxt unified market (``exchange.markets[symbol]``)."""
    prec = market.get("precision") or {}
    limits = market.get("limits") or {}
    ps, as_ = _step(prec.get("price"), precision_mode), _step(prec.get("amount"), precision_mode)
    return MarketRules(
        ccxt_symbol=market["symbol"], venue_symbol=str(market.get("id") or market["symbol"]),
        base=str(market.get("base") or ""), quote=str(market.get("quote") or ""),
        price_step=None if ps is None else str(ps.normalize()), amount_step=None if as_ is None else
        str(as_.normalize()), min_amount=_limit(limits, "amount", "min"), max_amount=_limit(limits, "amount", "max"),
        min_price=_limit(limits, "price", "min"), max_price=_limit(limits, "price", "max"),
        min_cost=_limit(limits, "cost", "min"), active=market.get("active") is not False)


def leand_ticker(market: dict[str, Any]) -> str:
    """The leand ticker of a ccxt market: base and quote joined, upper case (``BTC/USDT`` -> ``BTCUSDT``)."""
    return f"{market['base']}{market['quote']}".upper()


def _yes(has: dict[str, Any], *keys: str) -> bool:
    """ccxt's ``has`` says True, False, None (unknown) or 'emulated' (ccxt does it in several requests): only
    True is native."""
    return any(has.get(k) is True for k in keys)


def native_order_types(has: dict[str, Any]) -> frozenset[OrderType]:
    types = {OrderType.MARKET, OrderType.LIMIT} if _yes(has, "createOrder") else set()
    if _yes(has, "createStopMarketOrder", "createStopOrder", "createStopLossOrder", "createTriggerOrder"):
        types.add(OrderType.STOP_MARKET)
    if _yes(has, "createStopLimitOrder", "createStopOrder", "createTriggerOrder"):
        types.add(OrderType.STOP_LIMIT)
    if _yes(has, "createTrailingAmountOrder", "createTrailingPercentOrder"):
        types.add(OrderType.TRAILING_STOP)
    return frozenset(types)


def native_time_in_force(exchange: Any) -> frozenset[TimeInForce]:
    """GTC always; IOC/FOK where the exchange's order parser knows them (its ``options`` or ``has`` flags)."""
    tifs = {TimeInForce.GTC}
    has = exchange.has
    if _yes(has, "createOrder"):
        # ccxt passes timeInForce through for the exchanges whose ``features`` list it
        features = getattr(exchange, "features", None) or {}
        spot = (features.get("spot") or {}).get("createOrder") or {}
        tif = spot.get("timeInForce") or {}
        for name, enum in (("IOC", TimeInForce.IOC), ("FOK", TimeInForce.FOK), ("GTD", TimeInForce.GTD)):
            if tif.get(name):
                tifs.add(enum)
    return frozenset(tifs)
