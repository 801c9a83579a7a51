"""msgspec Structs for the Binance Spot messages the adapter reads (field names exactly as on the wire).

Prices and quantities stay decimal strings here (the clients convert at the edge, once), except on the
market-data streams, the hot path: there they decode straight to bounded floats (``Px``, ``Size``) with a lax
decoder (``market_data_decoder``), which converts Binance's decimal strings in C, four times faster than a
pattern-checked string and a float() call. Unknown fields are ignored, so a venue adding fields never breaks
decoding.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

#: a decimal amount as Binance writes it: plain digits, at most one point, no sign, exponent, nan or inf, so
#: every float() the clients take of it is finite (a frame that breaks this is refused at decoding, whole)
Num = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,20}(\.[0-9]{1,20})?$")]
Level = tuple[Num, Num]
#: a market-data price or trade size: a finite positive float (a decimal string converts; nan, inf, zero and
#: negatives are refused, so the frame is refused whole)
Px = Annotated[float, msgspec.Meta(gt=0, lt=1e18)]
#: a book level's size (0 removes the level)
Size = Annotated[float, msgspec.Meta(ge=0, lt=1e18)]
BookLevel = tuple[Px, Size]


class ApiError(msgspec.Struct):
    code: int
    msg: str = ""


class ServerTime(msgspec.Struct):
    serverTime: int


# -- exchangeInfo ----------------------------------------------------------------------------------------
class SymbolFilter(msgspec.Struct):
    filterType: str
    tickSize: Num | None = None
    stepSize: Num | None = None
    minQty: Num | None = None
    minNotional: Num | None = None


class SymbolInfo(msgspec.Struct):
    symbol: str
    status: str = "TRADING"
    baseAsset: str = ""
    quoteAsset: str = ""
    filters: list[SymbolFilter] = []


class ExchangeInfo(msgspec.Struct):
    symbols: list[SymbolInfo] = []


# -- market data --------------------------------------------------------------------------------------------
class DepthSnapshot(msgspec.Struct):
    lastUpdateId: int
    bids: list[Level]
    asks: list[Level]


class DepthUpdate(msgspec.Struct, tag_field="e", tag="depthUpdate"):
    E: int
    s: str
    U: int
    u: int
    b: list[BookLevel]
    a: list[BookLevel]


class Trade(msgspec.Struct, tag_field="e", tag="trade"):
    E: int
    s: str
    t: int
    p: Px
    q: Px
    T: int
    m: bool


class CombinedDepth(msgspec.Struct):
    """``/stream`` wraps each payload: ``{"stream": name, "data": payload}``."""

    stream: str
    data: DepthUpdate | Trade


def market_data_decoder() -> msgspec.json.Decoder[CombinedDepth]:
    """The combined-stream decoder: lax, so ``"0.0024"`` decodes into a ``Px`` float (strings that are not
    plain numbers still fail)."""
    return msgspec.json.Decoder(CombinedDepth, strict=False)


class StreamAck(msgspec.Struct):
    id: int | str | None = None
    result: None = None


# -- orders (REST) ----------------------------------------------------------------------------------------
class OrderFill(msgspec.Struct):
    price: Num
    qty: Num
    commission: Num
    commissionAsset: str
    tradeId: int


class OrderResponse(msgspec.Struct):
    """``POST /api/v3/order`` (ACK, RESULT or FULL: the later fields are optional)."""

    symbol: str
    orderId: int
    clientOrderId: str
    transactTime: int = 0
    status: str = ""
    executedQty: Num = "0"
    origQty: Num = "0"
    fills: list[OrderFill] = []


class CancelResponse(msgspec.Struct):
    symbol: str
    orderId: int
    origClientOrderId: str = ""
    status: str = ""
    executedQty: Num = "0"
    price: Num = "0"
    origQty: Num = "0"
    type: str = ""
    side: str = ""
    clientOrderId: str = ""


class CancelReplaceResult(msgspec.Struct):
    """``POST /api/v3/order/cancelReplace``: the answer, or the ``data`` of its -2021/-2022 error. Each half is an
    order (cancel or new-order response) when it succeeded, an error body otherwise."""

    cancelResult: str
    newOrderResult: str
    # raw (decoded once it is known which it is); ``null`` or absent when that half was not attempted. Not
    # ``Raw | None``: msgspec then accepts only null there
    cancelResponse: msgspec.Raw = msgspec.Raw()
    newOrderResponse: msgspec.Raw = msgspec.Raw()

    @property
    def cancel_half(self) -> msgspec.Raw | None:
        return _half_or_none(self.cancelResponse)

    @property
    def new_half(self) -> msgspec.Raw | None:
        return _half_or_none(self.newOrderResponse)


def _half_or_none(raw: msgspec.Raw) -> msgspec.Raw | None:
    return None if not len(raw) or bytes(raw).strip() == b"null" else raw


class CancelReplaceError(msgspec.Struct):
    code: int
    msg: str = ""
    data: CancelReplaceResult | None = None


class OrderListResponse(msgspec.Struct):
    """``POST /api/v3/orderList/*``: the list and, per leg, what ``POST /api/v3/order`` would have answered."""

    orderListId: int
    listClientOrderId: str = ""
    orderReports: list[OrderResponse] = []


class WsListAnswer(msgspec.Struct):
    """The WebSocket API's answer to ``orderList.place.*``: the REST answer as ``result``, or ``error``."""

    status: int | None = None
    result: OrderListResponse | None = None
    error: ApiError | None = None


class WsReplaceAnswer(msgspec.Struct):
    """The WebSocket API's answer to ``order.cancelReplace``: the REST answer as ``result``, or an ``error``
    whose ``data`` says what each half did (-2021 with status 409, -2022 with 400)."""

    status: int | None = None
    result: CancelReplaceResult | None = None
    error: CancelReplaceError | None = None


class QueryOrder(msgspec.Struct):
    """``GET /api/v3/order`` and each item of ``openOrders`` / ``allOrders``."""

    symbol: str
    orderId: int
    clientOrderId: str
    price: Num
    origQty: Num
    executedQty: Num
    status: str
    type: str
    side: str
    orderListId: int = -1
    time: int = 0
    updateTime: int = 0


class MyTrade(msgspec.Struct):
    symbol: str
    id: int
    orderId: int
    price: Num
    qty: Num
    commission: Num
    commissionAsset: str
    time: int
    isBuyer: bool
    isMaker: bool


class Balance(msgspec.Struct):
    asset: str
    free: Num
    locked: Num


class Account(msgspec.Struct):
    balances: list[Balance] = []
    updateTime: int = 0


# -- user data (WebSocket API) ------------------------------------------------------------------------------
class WsApiResponse(msgspec.Struct):
    id: str | int | None = None
    status: int = 200
    result: msgspec.Raw = msgspec.Raw()
    error: ApiError | None = None


class ExecutionReport(msgspec.Struct, tag_field="e", tag="executionReport"):
    E: int
    s: str
    c: str
    S: str
    o: str
    q: Num
    p: Num
    x: str
    X: str
    i: int
    l: Num  # noqa: E741 - the wire name
    z: Num
    L: Num
    T: int
    t: int
    C: str = ""
    r: str = "NONE"
    n: Num | None = "0"
    N: str | None = None
    m: bool = False
    #: the order list it belongs to (-1: none)
    g: int = -1
    #: why it expired (``eR``), when it did
    eR: str = ""

    @property
    def client_order_id(self) -> str:
        """The order's own id: on a cancel ``c`` is the cancel request's id and ``C`` the order's."""
        return self.C if self.x == "CANCELED" and self.C else self.c


class AccountBalance(msgspec.Struct):
    a: str
    f: Num
    l: Num  # noqa: E741


class AccountPosition(msgspec.Struct, tag_field="e", tag="outboundAccountPosition"):
    E: int
    B: list[AccountBalance] = []


class StreamTerminated(msgspec.Struct, tag_field="e", tag="eventStreamTerminated"):
    E: int = 0


class OtherEvent(msgspec.Struct):
    """Any user-data event this adapter does not act on (balanceUpdate, listStatus, ...)."""

    e: str = ""


UserEvent = ExecutionReport | AccountPosition | StreamTerminated


class UserDataFrame(msgspec.Struct):
    """A WebSocket API frame: either a response (``id`` set) or a wrapped event."""

    id: str | int | None = None
    status: int | None = None
    result: msgspec.Raw = msgspec.Raw()  # empty when absent
    error: ApiError | None = None
    subscriptionId: int | None = None
    event: msgspec.Raw = msgspec.Raw()
