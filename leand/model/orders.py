"""Orders, order events, fills and the order state machine.

Quantities are signed like LEAN's: positive buys, negative sells. ``Order`` is the one mutable record of an
order's life; every change of status goes through :meth:`Order.transition`, which raises
:class:`IllegalTransition` for a move the state machine does not allow.
"""

from __future__ import annotations

import msgspec

from leand.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType, TimeInForce
from leand.model.instrument import Symbol

S = OrderStatus

#: Allowed status moves. Terminal states have no way out; an update or cancel request is a pending state
#: that returns to an open one (or to a terminal one if the venue fills/cancels meanwhile).
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset({S.SUBMITTED, S.REJECTED, S.CANCELED}),
    S.SUBMITTED: frozenset(
        {S.ACCEPTED, S.REJECTED, S.CANCELED, S.PARTIALLY_FILLED, S.FILLED, S.EXPIRED, S.PENDING_CANCEL,
         S.PENDING_UPDATE}
    ),
    S.ACCEPTED: frozenset(
        {S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED, S.PENDING_CANCEL, S.PENDING_UPDATE, S.ACCEPTED,
         S.REJECTED}
    ),
    S.PARTIALLY_FILLED: frozenset(
        {S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED, S.PENDING_CANCEL, S.PENDING_UPDATE, S.REJECTED}
    ),
    S.PENDING_UPDATE: frozenset(
        {S.ACCEPTED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED, S.PENDING_CANCEL, S.REJECTED}
    ),
    S.PENDING_CANCEL: frozenset({S.CANCELED, S.FILLED, S.PARTIALLY_FILLED, S.ACCEPTED, S.EXPIRED, S.REJECTED}),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}

#: ``TRANSITIONS`` by member name (what ``Order.transition`` reads: a str hash is cached, an Enum member's is a
#: Python-level call)
_TRANSITION_NAMES: dict[str, frozenset[str]] = {src._name_: frozenset(d._name_ for d in dst)
                                                for src, dst in TRANSITIONS.items()}


class IllegalTransition(Exception):
    """Raised when an order is asked to move to a status its current status does not allow."""

    def __init__(self, order_id: int, src: OrderStatus, dst: OrderStatus) -> None:
        super().__init__(f"order {order_id}: illegal transition {src.value} -> {dst.value}")
        self.order_id = order_id
        self.src = src
        self.dst = dst


class Order(msgspec.Struct, kw_only=True):
    id: int
    symbol: Symbol
    quantity: float
    type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    trailing_amount: float | None = None
    trailing_as_percentage: bool = False
    trigger_price: float | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_time: int | None = None
    post_only: bool = False
    status: OrderStatus = OrderStatus.NEW
    created_time: int = 0
    last_update_time: int = 0
    filled_quantity: float = 0.0
    average_fill_price: float = 0.0
    stop_triggered: bool = False
    client_order_id: str = ""
    strategy_id: str = ""
    tag: str = ""
    #: price of the security when the order was created (LEAN's OrderSubmissionData), for fee caps and tests
    submission_price: float = 0.0

    @property
    def side(self) -> OrderSide:
        return OrderSide.BUY if self.quantity > 0 else OrderSide.SELL

    @property
    def direction(self) -> int:
        return 1 if self.quantity > 0 else -1

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def transition(self, new: OrderStatus) -> None:
        if new._name_ not in _TRANSITION_NAMES[self.status._name_]:
            raise IllegalTransition(self.id, self.status, new)
        self.status = new

    def apply_fill(self, quantity: float, price: float) -> None:
        """Record a (partial) fill: moves the status to PARTIALLY_FILLED or FILLED."""
        if quantity == 0 or (quantity > 0) != (self.quantity > 0):
            raise ValueError(f"order {self.id}: fill quantity {quantity} does not match order {self.quantity}")
        filled = self.filled_quantity + quantity
        if abs(filled) > abs(self.quantity) + 1e-9:
            raise ValueError(f"order {self.id}: overfill {filled} of {self.quantity}")
        self.average_fill_price = (
            self.average_fill_price * self.filled_quantity + price * quantity
        ) / filled
        self.filled_quantity = filled
        self.transition(OrderStatus.FILLED if abs(filled - self.quantity) < 1e-9 else OrderStatus.PARTIALLY_FILLED)


class OrderEvent(msgspec.Struct, kw_only=True, gc=False):
    """Something that happened to an order. Fill fields are zero for non-fill events.

    ``code`` is a machine-readable reason for rejections and cancels (e.g. ``RISK_MAX_NOTIONAL``);
    ``message`` says it for humans, naming the limit and the values.
    """

    order_id: int
    symbol: Symbol
    time: int
    status: OrderStatus
    fill_price: float = 0.0
    fill_quantity: float = 0.0
    fee: float = 0.0
    fee_currency: str = "USD"
    liquidity: LiquiditySide = LiquiditySide.NONE
    code: str = ""
    message: str = ""
    client_order_id: str = ""
    #: the order's quantity and prices when the event happened (LEAN's OrderEvent fields)
    quantity: float = 0.0
    limit_price: float | None = None
    stop_price: float | None = None
    trigger_price: float | None = None
    #: the strategy's OrderTicket for the order (set by the engine; not part of any persisted record)
    ticket: object = None
    #: the event's number within its order's life (LEAN's EventID)
    id: int = 0

    @property
    def is_fill(self) -> bool:
        return self.fill_quantity != 0

    @property
    def direction(self) -> OrderSide:
        q = self.quantity or self.fill_quantity
        return OrderSide.BUY if q > 0 else OrderSide.SELL

    @property
    def order_fee(self) -> float:
        return self.fee

    def __str__(self) -> str:
        """As LEAN prints an order event (``OrderEvent.ToString``)."""
        from datetime import UTC, datetime

        t = datetime.fromtimestamp(self.time // 1_000_000_000, UTC).strftime("%m/%d/%Y %H:%M:%S")
        status = "".join(w.capitalize() for w in self.status.value.split("_"))
        if status == "Rejected":
            status = "Invalid"
        elif status == "Canceled":
            status = "Canceled"
        out = (f"Time: {t} OrderID: {self.order_id} EventID: {self.id} Symbol: {self.symbol.value} "
               f"Status: {status} Quantity: {_smart(self.quantity)}")
        if self.fill_quantity:
            out += f" FillQuantity: {_smart(self.fill_quantity)} FillPrice: ${_smart(self.fill_price)}"
        if self.limit_price is not None:
            out += f" LimitPrice: ${_smart(self.limit_price)}"
        if self.stop_price is not None:
            out += f" StopPrice: ${_smart(self.stop_price)}"
        if self.trigger_price is not None:
            out += f" TriggerPrice: ${_smart(self.trigger_price)}"
        if self.fee:
            out += f" OrderFee: {_smart(self.fee)} {self.fee_currency}"
        if self.message:
            out += f" Message: {self.message}"
        return out


def _smart(x: float) -> str:
    """LEAN's SmartRounding: at most 4 decimals past the point for numbers >= 1, 4 significant digits below."""
    if x == int(x):
        return str(int(x))
    if abs(x) >= 1:
        return f"{round(x, 4):f}".rstrip("0").rstrip(".")
    return f"{float(f'{x:.4g}'):f}".rstrip("0").rstrip(".")


class Fill(msgspec.Struct, kw_only=True, gc=False):
    """One execution, as persisted and as fed to accounting."""

    order_id: int
    symbol: Symbol
    time: int
    quantity: float
    price: float
    fee: float
    fee_currency: str = "USD"
    liquidity: LiquiditySide = LiquiditySide.NONE
    trade_id: int = 0
    client_order_id: str = ""


class OrderRequest(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """What a strategy (or ``leand ctl``) asks for. It becomes an :class:`Order` only after the risk gate."""

    symbol: Symbol
    quantity: float
    type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    trailing_amount: float | None = None
    trailing_as_percentage: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_time: int | None = None
    post_only: bool = False
    strategy_id: str = ""
    tag: str = ""


class UpdateRequest(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    order_id: int
    quantity: float | None = None
    limit_price: float | None = None
    stop_price: float | None = None
    trailing_amount: float | None = None
    trigger_price: float | None = None
    tag: str | None = None
    #: a native cancel-replace: the client order id of the venue order it cancels (the order arrives with the
    #: replacement's id, already journaled)
    replaces: str | None = None
