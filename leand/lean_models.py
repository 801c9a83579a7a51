"""LEAN-style fill models a strategy subclasses (``FillModel``, ``ImmediateFillModel``, ``EquityFillModel``):
``fill(parameters)`` answering a ``Fill`` of order events, and per-type ``market_fill(asset, order)``... that
answer one ``OrderEvent`` whose ``fill_quantity``/``fill_price``/``status`` the user may change — partial fills
included. Underneath, each uses leand's fill model of the same name for the price; the bar brokerage applies
what the model answers.

The ``order`` a model sees is a read-only view with LEAN's fields (``absolute_quantity``, ``direction``, ``time``
in UTC); ``asset`` is the security, whose ``cache.get_data(TradeBar)`` gives the last bar with LEAN's
``end_time`` (exchange time)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from leand.model import Order, OrderSide, OrderStatus, OrderType, QuoteBar, TradeBar, TradeTick
from leand.orders import fills as _fills


class OrderView:
    """An order as LEAN's models read it."""

    __slots__ = ("_o",)

    def __init__(self, order: Order) -> None:
        self._o = order

    def __getattr__(self, name: str) -> Any:
        return getattr(self._o, name)

    @property
    def absolute_quantity(self) -> float:
        return abs(self._o.quantity)

    AbsoluteQuantity = absolute_quantity

    @property
    def direction(self) -> OrderSide:
        return self._o.side

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self._o.created_time / 1e9, UTC).replace(tzinfo=None)


class FillEvent:
    """The order event a model answers: set ``fill_quantity``, ``fill_price`` and ``status``."""

    def __init__(self, order: Any, fill_price: float = 0.0, fill_quantity: float = 0.0,
                 status: OrderStatus | None = None) -> None:
        self.order_id = order.id
        self.symbol = order.symbol
        self.fill_price, self.fill_quantity = fill_price, fill_quantity
        self.status = status if status is not None else order.status
        self.message = ""

    def __str__(self) -> str:
        return (f"OrderID: {self.order_id} Symbol: {self.symbol} Status: {self.status.value} "
                f"FillQuantity: {self.fill_quantity:g} FillPrice: {self.fill_price:g}")


class Fill:
    """LEAN's Fill: the order events of one fill attempt (none when nothing filled)."""

    def __init__(self, order_events: list[FillEvent] | FillEvent | None = None) -> None:
        if order_events is None:
            order_events = []
        self.order_events = [order_events] if isinstance(order_events, FillEvent) else list(order_events)

    def __iter__(self):
        return iter(self.order_events)


class FillModelParameters:
    def __init__(self, security: Any, order: Any) -> None:
        self.security, self.order = security, order


class _LeanFill:
    lean_style = True
    _inner_cls: type = _fills.FillModel

    now_ns = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def _model(self) -> Any:
        # made on first use: a user's subclass may skip super().__init__() (LEAN's examples do)
        m = self.__dict__.get("_inner")
        if m is None:
            m = self.__dict__["_inner"] = self._inner_cls()
        return m

    def fill(self, parameters: FillModelParameters) -> Fill:
        asset, order = parameters.security, parameters.order
        kind = order.type
        if kind is OrderType.MARKET:
            ev = self.market_fill(asset, order)
        elif kind is OrderType.LIMIT:
            ev = self.limit_fill(asset, order)
        elif kind is OrderType.STOP_MARKET:
            ev = self.stop_market_fill(asset, order)
        elif kind is OrderType.STOP_LIMIT:
            ev = self.stop_limit_fill(asset, order)
        elif kind is OrderType.MARKET_ON_OPEN:
            ev = self.market_on_open_fill(asset, order)
        elif kind is OrderType.MARKET_ON_CLOSE:
            ev = self.market_on_close_fill(asset, order)
        else:
            ev = self._base(asset, order)
        return Fill(ev)

    def _base(self, asset: Any, order: Any) -> FillEvent:
        raw = order._o if isinstance(order, OrderView) else order
        price = self._model().fill(asset, raw, self.now_ns)
        if price is None:
            return FillEvent(order)
        price = apply_slippage(asset, raw, price)
        return FillEvent(order, price, raw.quantity - raw.filled_quantity, OrderStatus.FILLED)

    market_fill = limit_fill = stop_market_fill = stop_limit_fill = _base
    market_on_open_fill = market_on_close_fill = trailing_stop_fill = _base


class FillModel(_LeanFill):
    """LEAN's FillModel (crypto, forex and the base of custom models)."""


ImmediateFillModel = FillModel


class EquityFillModel(_LeanFill):
    """LEAN's EquityFillModel."""

    _inner_cls = _fills.EquityFillModel


def lean_fill(model: Any, security: Any, order: Order, now_ns: int) -> tuple[float, float]:
    """Ask a LEAN-style model; (quantity, price) of what it filled, quantity 0 when nothing."""
    if hasattr(model, "now_ns") or isinstance(model, _LeanFill):
        model.now_ns = now_ns
    result = model.fill(FillModelParameters(security, OrderView(order)))
    events = list(result) if result is not None else []
    for ev in events:
        q = float(ev.fill_quantity)
        if q and not math.isnan(q):
            remaining = order.quantity - order.filled_quantity
            q = max(q, remaining) if remaining < 0 else min(q, remaining)  # never past the order
            return q, float(ev.fill_price)
    return 0.0, 0.0


class _BarView:
    """A cached bar as LEAN's security cache hands it out: times as exchange-time datetimes."""

    def __init__(self, bar: Any, tz: Any) -> None:
        self._b, self._tz = bar, tz

    def __getattr__(self, name: str) -> Any:
        return getattr(self._b, name)

    def _dt(self, ns: int) -> datetime:
        return datetime.fromtimestamp(ns / 1e9, UTC).astimezone(self._tz).replace(tzinfo=None)

    @property
    def end_time(self) -> datetime:
        return self._dt(self._b.end_time)

    @property
    def time(self) -> datetime:
        return self._dt(self._b.time)


class SecurityCache:
    """``security.cache``: the last data of each kind, and the last prices."""

    def __init__(self, security: Any) -> None:
        self._s = security

    def get_data(self, data_type: Any = None) -> Any:
        s = self._s
        tz = s.exchange_hours.time_zone
        bar = {TradeBar: s.last_trade_bar, QuoteBar: s.last_quote_bar}.get(data_type)
        if data_type is TradeTick or getattr(data_type, "__name__", "") == "Tick":
            bar = s.last_trade_tick
        if data_type is None:
            bar = s.last_trade_bar or s.last_quote_bar
        return None if bar is None else _BarView(bar, tz)

    @property
    def ask_price(self) -> float:
        return self._s.ask or self._s.price

    @property
    def bid_price(self) -> float:
        return self._s.bid or self._s.price

    @property
    def price(self) -> float:
        return self._s.price


# -- slippage ----------------------------------------------------------------------------------------------
_SLIPPED = (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.MARKET_ON_OPEN, OrderType.MARKET_ON_CLOSE)


def apply_slippage(security: Any, order: Order, price: float) -> float:
    """LEAN's base fill model adds the security's slippage model's answer (an absolute price amount) against
    the order to market, stop-market, market-on-open and market-on-close fills."""
    model = getattr(security, "slippage_model", None)
    if model is None or order.type not in _SLIPPED:
        return price
    slip = float(model.get_slippage_approximation(security, OrderView(order)))
    return price + slip if order.quantity > 0 else price - slip


# -- fee models --------------------------------------------------------------------------------------------
class CashAmount:
    """An amount of one currency (LEAN's ``CashAmount``)."""

    def __init__(self, amount: float, currency: str) -> None:
        self.amount, self.currency = float(amount), currency

    def __repr__(self) -> str:
        return f"{self.amount:g} {self.currency}"


class OrderFee:
    """LEAN's ``OrderFee``: ``value`` is a CashAmount."""

    def __init__(self, value: CashAmount) -> None:
        self.value = value

    def __str__(self) -> str:
        return f"{self.value.amount:g} {self.value.currency}"


OrderFee.ZERO = OrderFee(CashAmount(0.0, "USD"))  # type: ignore[attr-defined]


class OrderFeeParameters:
    def __init__(self, security: Any, order: Any) -> None:
        self.security, self.order = security, order


class FeeModel:
    """LEAN's ``FeeModel`` for a strategy to subclass: override ``get_order_fee(parameters)`` (``security``,
    ``order``) to answer an ``OrderFee``; the base charges nothing. leand asks it through ``fee()``, once per
    fill (LEAN: once, for the whole order, when a strategy's fill model filled it in parts)."""

    lean_style = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def get_order_fee(self, parameters: OrderFeeParameters) -> OrderFee:
        return OrderFee(CashAmount(0.0, parameters.security.quote_currency))

    def fee(self, security: Any, order: Order, fill_quantity: float, fill_price: float,
            now_ns: int) -> tuple[float, str]:
        value = self.get_order_fee(OrderFeeParameters(security, OrderView(order))).value
        return float(value.amount), value.currency


# -- buying power models ----------------------------------------------------------------------------------
class GetMaximumOrderQuantityResult:
    def __init__(self, quantity: float, reason: str = "", is_error: bool = False) -> None:
        self.quantity, self.reason, self.is_error = float(quantity), reason, is_error


class HasSufficientBuyingPowerForOrderResult:
    def __init__(self, is_sufficient: bool, reason: str = "") -> None:
        self.is_sufficient, self.reason = bool(is_sufficient), reason


class MaintenanceMargin:
    def __init__(self, value: float) -> None:
        self.value = float(value)


class _Parameters:
    """The parameters object LEAN hands a buying power model (``portfolio``, ``security``, ``order``, ...)."""

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)

    def result_in_account_currency(self, value: float) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(value=float(value))


class BuyingPowerModel:
    """LEAN's BuyingPowerModel for a strategy to subclass: leverage (1 unless given) and the default answers,
    which are leand's margin rules; override ``get_maximum_order_quantity_for_target_buying_power``,
    ``has_sufficient_buying_power_for_order``, ``get_maintenance_margin``..."""

    lean_style = True

    def __init__(self, leverage: float = 1.0, required_free_buying_power_percent: float = 0.0) -> None:
        self.leverage = leverage

    def get_leverage(self, security: Any) -> float:
        return self.__dict__.get("leverage", 1.0)

    def get_maximum_order_quantity_for_target_buying_power(self, parameters: Any) -> GetMaximumOrderQuantityResult:
        return GetMaximumOrderQuantityResult(parameters._default_quantity())

    def has_sufficient_buying_power_for_order(self, parameters: Any) -> HasSufficientBuyingPowerForOrderResult:
        ok, msg = parameters._default_check()
        return HasSufficientBuyingPowerForOrderResult(ok, msg)

    def get_maintenance_margin(self, parameters: Any) -> MaintenanceMargin:
        return MaintenanceMargin(0.0)

    def get_reserved_buying_power_for_position(self, parameters: Any) -> Any:
        return parameters.result_in_account_currency(0.0)


def model_order_quantity(model: Any, security: Any, portfolio: Any, target: float,
                         default: Any) -> float:
    params = _Parameters(portfolio=portfolio, security=security, target_buying_power=target,
                         _default_quantity=default)
    return float(model.get_maximum_order_quantity_for_target_buying_power(params).quantity)


def model_sufficient(model: Any, security: Any, portfolio: Any, order: Any, default: Any) -> tuple[bool, str]:
    params = _Parameters(portfolio=portfolio, security=security, order=OrderView(order), _default_check=default)
    r = model.has_sufficient_buying_power_for_order(params)
    return bool(r.is_sufficient), getattr(r, "reason", "") or ""


# -- margin interest ---------------------------------------------------------------------------------------
class _HoldingsView:
    def __init__(self, security: Any, cash_book: Any) -> None:
        self._s, self._cb = security, cash_book

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s.holdings, name)

    def get_quantity_value(self, quantity: float) -> Any:
        """LEAN's ``Holdings.GetQuantityValue``: the value of ``quantity`` in the quote currency, with its Cash."""
        from types import SimpleNamespace

        s = self._s
        return SimpleNamespace(amount=quantity * s.price * s.holdings.multiplier,
                               cash=self._cb.ensure(s.quote_currency))


class _SecurityView:
    def __init__(self, security: Any, cash_book: Any) -> None:
        self._s = security
        self.holdings = _HoldingsView(security, cash_book)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s, name)


class MarginInterestRateParameters:
    def __init__(self, security: Any, time: datetime) -> None:
        self.security, self.time = security, time


def apply_margin_interest(securities: Any, cash_book: Any, time: datetime) -> None:
    """Call each security's margin interest rate model once (the engine does it every time step)."""
    for sec in securities.values():
        model = sec.margin_interest_rate_model
        if model is not None:
            model.apply_margin_interest_rate(MarginInterestRateParameters(_SecurityView(sec, cash_book), time))
