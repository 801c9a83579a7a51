"""msgspec Structs for the Binance Spot messages the adapter reads (field names exactly as on the wire).

Prices and quantities stay decimal strings here; the clients convert at the edge, once. Unknown fields are
ignored, so a venue adding fields never breaks decoding.
"""

from __future__ import annotations

import msgspec

Level = tuple[str, str]


class ApiError(msgspec.Struct):
    code: int
    msg: str = ""


class ServerTime(msgspec.Struct):
    serverTime: int


# -- exchangeInfo ----------------------------------------------------------------------------------------
class SymbolFilter(msgspec.Struct):
    filterType: str
    tickSize: str | None = None
    stepSize: str | None = None
    minQty: str | None = None
    minNotional: str | None = None


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
    b: list[Level]
    a: list[Level]


class Trade(msgspec.Struct, tag_field="e", tag="trade"):
    E: int
    s: str
    t: int
    p: str
    q: str
    T: int
    m: bool


class CombinedDepth(msgspec.Struct):
    """``/stream`` wraps each payload: ``{"stream": name, "data": payload}``."""

    stream: str
    data: DepthUpdate | Trade


class StreamAck(msgspec.Struct):
    id: int | str | None = None
    result: None = None


# -- orders (REST) ----------------------------------------------------------------------------------------
class OrderFill(msgspec.Struct):
    price: str
    qty: str
    commission: str
    commissionAsset: str
    tradeId: int


class OrderResponse(msgspec.Struct):
    """``POST /api/v3/order`` (ACK, RESULT or FULL: the later fields are optional)."""

    symbol: str
    orderId: int
    clientOrderId: str
    transactTime: int = 0
    status: str = ""
    executedQty: str = "0"
    origQty: str = "0"
    fills: list[OrderFill] = []


class CancelResponse(msgspec.Struct):
    symbol: str
    orderId: int
    origClientOrderId: str = ""
    status: str = ""
    executedQty: str = "0"
    price: str = "0"
    origQty: str = "0"
    type: str = ""
    side: str = ""
    clientOrderId: str = ""


class QueryOrder(msgspec.Struct):
    """``GET /api/v3/order`` and each item of ``openOrders`` / ``allOrders``."""

    symbol: str
    orderId: int
    clientOrderId: str
    price: str
    origQty: str
    executedQty: str
    status: str
    type: str
    side: str
    time: int = 0
    updateTime: int = 0


class MyTrade(msgspec.Struct):
    symbol: str
    id: int
    orderId: int
    price: str
    qty: str
    commission: str
    commissionAsset: str
    time: int
    isBuyer: bool
    isMaker: bool


class Balance(msgspec.Struct):
    asset: str
    free: str
    locked: str


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
    q: str
    p: str
    x: str
    X: str
    i: int
    l: str  # noqa: E741 - the wire name
    z: str
    L: str
    T: int
    t: int
    C: str = ""
    r: str = "NONE"
    n: str | None = "0"
    N: str | None = None
    m: bool = False

    @property
    def client_order_id(self) -> str:
        """The order's own id: on a cancel ``c`` is the cancel request's id and ``C`` the order's."""
        return self.C if self.x == "CANCELED" and self.C else self.c


class AccountBalance(msgspec.Struct):
    a: str
    f: str
    l: str  # noqa: E741


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
