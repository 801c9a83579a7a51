"""The exchange's record of a client order (Binance's view: statuses, decimal quantities, locked funds) and
its JSON shapes: query/RESULT/FULL responses and ``executionReport`` events."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from .accounts import ZERO, fmt

FINAL = frozenset({"FILLED", "CANCELED", "EXPIRED", "EXPIRED_IN_MATCH", "REJECTED"})
STOP_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
LIMIT_PRICED = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
ORDER_TYPES = ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
               "TAKE_PROFIT_LIMIT")
_FIELDS = ("side", "type", "timeInForce", "quantity", "quoteOrderQty", "price", "stopPrice", "trailingDelta",
           "icebergQty", "newClientOrderId")
#: a single order's wire names (``POST /api/v3/order``)
PLAIN = {f: f for f in _FIELDS}


def leg_names(prefix: str, **shared: str) -> dict[str, str]:
    """The wire names of an order list's leg: ``above`` + ``price`` -> ``abovePrice``; ``shared`` names fields
    the legs share (an OCO's ``side`` and ``quantity``). A list leg has no ``quoteOrderQty`` (empty name)."""
    names = {f: prefix + f[0].upper() + f[1:] for f in _FIELDS}
    names["newClientOrderId"] = prefix + "ClientOrderId"
    names["quoteOrderQty"] = ""
    names.update(shared)
    return names


class OrderSpec(NamedTuple):
    """One order's checked parameters, before the matching engine sees it."""

    side: str
    type: str
    tif: str
    qty: Decimal | None
    quote_qty: Decimal | None
    price: Decimal | None
    stop: Decimal | None
    cid: str


class OrderRec:
    __slots__ = ("account", "cancel_cid", "cid", "cum_quote", "executed", "expiry_reason", "fills", "list_id",
                 "lock_asset", "locked", "order_id", "orig_qty", "orig_quote_qty", "price", "side", "status", "stop_price",
                 "stp", "symbol", "tif", "time", "type", "update_time", "working_time")

    def __init__(self, *, account: str, symbol: str, order_id: int, cid: str, side: str, type_: str, tif: str,
                 price: Decimal, stop_price: Decimal, orig_qty: Decimal, orig_quote_qty: Decimal, stp: str,
                 now: int) -> None:
        self.account = account
        self.symbol = symbol
        self.order_id = order_id
        self.cid = cid
        self.cancel_cid = ""
        self.side = side
        self.type = type_
        self.tif = tif
        self.price = price
        self.stop_price = stop_price
        self.orig_qty = orig_qty
        self.orig_quote_qty = orig_quote_qty
        self.executed = ZERO
        self.cum_quote = ZERO
        self.status = "NEW"
        self.time = now
        self.update_time = now
        self.working_time = -1
        self.stp = stp
        self.lock_asset = ""
        self.locked = ZERO
        self.expiry_reason = ""
        self.fills: list[dict] = []
        #: the order list it belongs to (-1: none)
        self.list_id = -1

    @property
    def open(self) -> bool:
        return self.status not in FINAL

    def ack(self, now: int) -> dict:
        return {"symbol": self.symbol, "orderId": self.order_id, "orderListId": self.list_id,
                "clientOrderId": self.cid, "transactTime": now}

    def result(self, now: int, working: bool) -> dict:
        """The RESULT response body (FULL adds ``fills``)."""
        d = {"symbol": self.symbol, "orderId": self.order_id, "orderListId": self.list_id, "clientOrderId": self.cid,
             "transactTime": now, "price": fmt(self.price), "origQty": fmt(self.orig_qty),
             "executedQty": fmt(self.executed), "origQuoteOrderQty": fmt(self.orig_quote_qty),
             "cummulativeQuoteQty": fmt(self.cum_quote), "status": self.status, "timeInForce": self.tif,
             "type": self.type, "side": self.side,
             "workingTime": self.working_time if working or self.working_time > 0 else -1,
             "selfTradePreventionMode": self.stp}
        if self.type in STOP_TYPES:
            d["stopPrice"] = fmt(self.stop_price)
        if self.expiry_reason:
            d["expiryReason"] = self.expiry_reason
        return d

    def query(self, working: bool) -> dict:
        """The GET /api/v3/order (and openOrders/allOrders) object."""
        return {"symbol": self.symbol, "orderId": self.order_id, "orderListId": self.list_id, "clientOrderId": self.cid,
                "price": fmt(self.price), "origQty": fmt(self.orig_qty), "executedQty": fmt(self.executed),
                "cummulativeQuoteQty": fmt(self.cum_quote), "status": self.status, "timeInForce": self.tif,
                "type": self.type, "side": self.side, "stopPrice": fmt(self.stop_price),
                "icebergQty": fmt(ZERO), "time": self.time, "updateTime": self.update_time, "isWorking": working,
                "workingTime": self.working_time, "origQuoteOrderQty": fmt(self.orig_quote_qty),
                "selfTradePreventionMode": self.stp}

    def cancel_response(self, now: int) -> dict:
        return {"symbol": self.symbol, "origClientOrderId": self.cid, "orderId": self.order_id, "orderListId": self.list_id,
                "clientOrderId": self.cancel_cid, "transactTime": now, "price": fmt(self.price),
                "origQty": fmt(self.orig_qty), "executedQty": fmt(self.executed),
                "origQuoteOrderQty": fmt(self.orig_quote_qty), "cummulativeQuoteQty": fmt(self.cum_quote),
                "status": self.status, "timeInForce": self.tif, "type": self.type, "side": self.side,
                "selfTradePreventionMode": self.stp}

    def report(self, x: str, now: int, exec_id: int, working: bool, *, last_qty: Decimal = ZERO,
               last_px: Decimal = ZERO, commission: Decimal = ZERO, comm_asset: str | None = None,
               trade_id: int = -1, maker: bool = False, reject: str = "NONE") -> dict:
        """An ``executionReport`` for one state change of this order."""
        canceled = x == "CANCELED" and self.cancel_cid
        ev = {"e": "executionReport", "E": now, "s": self.symbol, "c": self.cancel_cid if canceled else self.cid,
              "S": self.side, "o": self.type, "f": self.tif, "q": fmt(self.orig_qty), "p": fmt(self.price),
              "P": fmt(self.stop_price), "F": fmt(ZERO), "g": self.list_id, "C": self.cid if canceled else "", "x": x,
              "X": self.status, "r": reject, "i": self.order_id, "l": fmt(last_qty), "z": fmt(self.executed),
              "L": fmt(last_px), "n": fmt(commission) if comm_asset else "0", "N": comm_asset, "T": now,
              "t": trade_id, "I": exec_id, "w": working, "m": maker, "M": False, "O": self.time,
              "Z": fmt(self.cum_quote), "Y": fmt(last_qty * last_px), "Q": fmt(self.orig_quote_qty),
              "V": self.stp}
        if self.working_time > 0:
            ev["W"] = self.working_time
        if self.expiry_reason and x == "EXPIRED":
            ev["eR"] = self.expiry_reason
        return ev
