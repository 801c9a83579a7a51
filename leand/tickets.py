"""Order tickets as LEAN hands them out: the handle a strategy keeps on an order it asked for.

A ticket lives as long as the run and is the same object in every order event (``event.ticket``). It keeps
the submit request and every update request; ``get(OrderField...)`` reads the order's current fields;
``cancel()`` and ``update()`` return an :class:`OrderResponse` (truthy when it succeeded). An order refused
before it existed (unknown symbol, zero quantity, warm-up, no price yet) still gets a ticket, with status
``OrderStatus.INVALID`` and the reason in ``submit_request.response.error_message``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import msgspec

from leand.clock import ns_to_datetime
from leand.model import Order, OrderStatus, OrderType, Symbol, plain_numbers

if TYPE_CHECKING:
    from leand.engine import Engine


class OrderField(Enum):
    """Fields ``OrderTicket.get`` reads (LEAN's ``OrderField``)."""

    LIMIT_PRICE = "limit_price"
    STOP_PRICE = "stop_price"
    TRIGGER_PRICE = "trigger_price"
    TRAILING_AMOUNT = "trailing_amount"
    TRAILING_AS_PERCENTAGE = "trailing_as_percentage"


class OrderResponseErrorCode(Enum):
    NONE = 0
    ORDER_DOES_NOT_EXIST = -10
    INVALID_ORDER_STATUS = -9
    INVALID_REQUEST = -26
    UNSUPPORTED_REQUEST_TYPE = -4
    BROKERAGE_MODEL_REFUSED_TO_SUBMIT_ORDER = -7
    BROKERAGE_MODEL_REFUSED_TO_UPDATE_ORDER = -14
    INSUFFICIENT_BUYING_POWER = -3
    ALGORITHM_WARMING_UP = -24
    MISSING_SECURITY = -11
    SECURITY_PRICE_ZERO = -28
    ORDER_QUANTITY_ZERO = -27
    ORDER_QUANTITY_LESS_THAN_LOT_SIZE = -21
    MARKET_ON_CLOSE_ORDER_TOO_LATE = -22
    EXCHANGE_NOT_OPEN = -25
    RISK_REFUSED = -100


class OrderResponse(msgspec.Struct, gc=False):
    """The answer to a submit, update or cancel request. Truthy when the request succeeded. (A Struct: one is
    made per order and per request, in C.)"""

    order_id: int
    error_code: OrderResponseErrorCode = OrderResponseErrorCode.NONE
    error_message: str = ""

    @property
    def is_success(self) -> bool:
        return self.error_code is OrderResponseErrorCode.NONE

    @property
    def is_error(self) -> bool:
        return not self.is_success

    def __bool__(self) -> bool:
        return self.is_success


@dataclass(slots=True)
class UpdateOrderFields:
    """What ``OrderTicket.update`` may change (LEAN's ``UpdateOrderFields``); ``None`` leaves a field alone."""

    quantity: float | None = None
    limit_price: float | None = None
    stop_price: float | None = None
    trigger_price: float | None = None
    trailing_amount: float | None = None
    tag: str | None = None

    def __post_init__(self) -> None:  # numpy's numbers as Python's: the ticket keeps these fields, the archive packs them
        self.quantity, self.limit_price, self.stop_price, self.trigger_price, self.trailing_amount = plain_numbers(
            self.quantity, self.limit_price, self.stop_price, self.trigger_price, self.trailing_amount)


class SubmitRequest(msgspec.Struct, gc=False):
    """What the strategy asked for when it placed the order (a Struct: one is made per order, and msgspec makes
    it in C; it refers to nothing that refers back to it, so it need not be tracked by the cycle collector)."""

    order_type: OrderType
    symbol: Symbol | str
    quantity: float
    limit_price: float | None = None
    stop_price: float | None = None
    trigger_price: float | None = None
    tag: str = ""
    asynchronous: bool = False
    time: int = 0
    response: OrderResponse = msgspec.field(default_factory=lambda: OrderResponse(0))
    time_in_force: Any = None

    @property
    def order_properties(self) -> Any:
        """LEAN's OrderProperties of the request: its time in force (GTC unless given)."""
        from types import SimpleNamespace

        from leand.model import TimeInForce

        return SimpleNamespace(time_in_force=self.time_in_force or TimeInForce.GTC)


class SubmitOrderRequest:
    """LEAN's ``SubmitOrderRequest(order_type, security_type, symbol, quantity, stop_price, limit_price,
    trigger_price, time, tag, order_properties=None, asynchronous=False)``, placed with
    ``transactions.add_order(request)``. A price the order type does not use is ignored (LEAN passes 0)."""

    _LIMITS = (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED)
    _STOPS = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)

    def __init__(self, order_type: OrderType, security_type: Any, symbol: Symbol | str, quantity: float,
                 stop_price: float, limit_price: float, trigger_price: float = 0.0, time: Any = None,
                 tag: str = "", order_properties: Any = None, group_order_manager: Any = None,
                 asynchronous: bool = False) -> None:
        self.order_type, self.security_type, self.symbol = order_type, security_type, symbol
        self.quantity = float(quantity)
        self.stop_price, self.limit_price, self.trigger_price = stop_price, limit_price, trigger_price
        self.time, self.tag, self.order_properties = time, tag, order_properties
        self.asynchronous = asynchronous

    def prices(self) -> dict[str, float | None]:
        """The prices this order type uses, as ``submit`` keywords."""
        t = self.order_type
        return {"limit_price": float(self.limit_price) if t in self._LIMITS else None,
                "stop_price": float(self.stop_price) if t in self._STOPS else None,
                "trigger_price": float(self.trigger_price) if t is OrderType.LIMIT_IF_TOUCHED else None}


@dataclass(slots=True)
class UpdateRequest:
    """One update the strategy asked for, with the engine's answer."""

    fields: UpdateOrderFields
    time: int
    response: OrderResponse

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fields, name)


class OrderTicket:
    """A handle on an order: status, fills, the requests made, cancel and update."""

    __slots__ = ("_engine", "_invalid", "cancel_request", "order_id", "submit_request", "update_requests")

    def __init__(self, engine: Engine, order_id: int, submit_request: SubmitRequest | None = None,
                 invalid: Order | None = None) -> None:
        self._engine = engine
        self.order_id = order_id
        self.submit_request = submit_request
        self.update_requests: list[UpdateRequest] = []
        self.cancel_request: OrderResponse | None = None
        self._invalid = invalid

    @property
    def order(self) -> Order:
        if self._invalid is not None:
            return self._invalid
        return self._engine.orders[self.order_id]

    @property
    def status(self) -> OrderStatus:
        return OrderStatus.INVALID if self._invalid is not None else self.order.status

    @property
    def symbol(self) -> Symbol:
        return self.order.symbol

    @property
    def quantity(self) -> float:
        return self.order.quantity

    @property
    def quantity_filled(self) -> float:
        return self.order.filled_quantity

    @property
    def average_fill_price(self) -> float:
        return self.order.average_fill_price

    @property
    def order_type(self) -> OrderType:
        return self.order.type

    @property
    def tag(self) -> str:
        return self.order.tag

    @property
    def time(self) -> datetime:
        """When the order was submitted (UTC, as LEAN's ``OrderTicket.Time``)."""
        return ns_to_datetime(self.order.created_time)

    @property
    def order_closed(self) -> bool:
        return self._invalid is not None or not self.order.status.is_open

    def get(self, order_field: OrderField) -> Any:
        """The order's current value of ``order_field`` (LEAN's ``OrderTicket.Get``)."""
        return getattr(self.order, order_field.value)

    def cancel(self, tag: str = "") -> OrderResponse:
        resp = self._engine.cancel_order_response(self.order_id, tag)
        self.cancel_request = resp
        return resp

    def update(self, fields: UpdateOrderFields | None = None, *, quantity: float | None = None,
               limit_price: float | None = None, stop_price: float | None = None,
               trigger_price: float | None = None, trailing_amount: float | None = None,
               tag: str | None = None) -> OrderResponse:
        if fields is None:
            fields = UpdateOrderFields(quantity=quantity, limit_price=limit_price, stop_price=stop_price,
                                       trigger_price=trigger_price, trailing_amount=trailing_amount, tag=tag)
        resp = self._engine.update_order_response(self.order_id, fields)
        self.update_requests.append(UpdateRequest(fields, self._engine.clock.now_ns(), resp))
        return resp

    def update_quantity(self, quantity: float, tag: str | None = None) -> OrderResponse:
        return self.update(UpdateOrderFields(quantity=quantity, tag=tag))

    def update_limit_price(self, limit_price: float, tag: str | None = None) -> OrderResponse:
        return self.update(UpdateOrderFields(limit_price=limit_price, tag=tag))

    def update_stop_price(self, stop_price: float, tag: str | None = None) -> OrderResponse:
        return self.update(UpdateOrderFields(stop_price=stop_price, tag=tag))

    def update_trigger_price(self, trigger_price: float, tag: str | None = None) -> OrderResponse:
        return self.update(UpdateOrderFields(trigger_price=trigger_price, tag=tag))

    def update_tag(self, tag: str) -> OrderResponse:
        return self.update(UpdateOrderFields(tag=tag))

    def to_string(self) -> str:
        return str(self)

    def __str__(self) -> str:
        o = self.order
        return (f"{o.id}: {o.type.value} {o.quantity:g} {o.symbol} status: {self.status.value} "
                f"filled: {o.filled_quantity:g} avg: {o.average_fill_price:g}")

    def __repr__(self) -> str:
        o = self.order
        return f"OrderTicket(id={o.id}, {o.type.value} {o.quantity:+g} {o.symbol}, {self.status.value})"
