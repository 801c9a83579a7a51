"""``leand sim serve``'s order lists and cancel-replace against Binance's documented behaviour, over loopback HTTP
and the WebSocket API: OCO (new and legacy), OTO, OTOCO, list cancel and queries, ``listStatus`` events, and
``POST /api/v3/order/cancelReplace`` with its partial-failure answers. The crowd is driven by hand."""

from __future__ import annotations

import time
from decimal import Decimal

import aiohttp
import orjson
import pytest

from leand.model import OrderType
from leand.simulator.binance import SimServer, start_server
from leand.simulator.binance.auth import sign, ws_payload

from .test_server_protocol import Client, cfg, recv_json

SYM = "BTCUSDT"


@pytest.fixture
async def srv():
    s = await start_server(cfg())
    yield s
    await s.close()


@pytest.fixture
async def client(srv):
    async with aiohttp.ClientSession() as session:
        yield Client(srv, session)


def bbo(srv: SimServer) -> tuple[Decimal, Decimal]:
    b = srv.exchange.markets[SYM].book
    return Decimal(f"{b.best_bid:.2f}"), Decimal(f"{b.best_ask:.2f}")


def sweep(srv: SimServer, side: int, price: Decimal) -> None:
    """The crowd takes every level up to (buy) or down to (sell) ``price``."""
    srv.exchange.crowd_submit(SYM, side, 50.0, float(price), OrderType.LIMIT, "crowd")


async def user_stream(client: Client, srv: SimServer) -> aiohttp.ClientWebSocketResponse:
    ws = await client.s.ws_connect(f"{srv.ws_url}/ws-api/v3")
    params = {"apiKey": srv.api_key, "timestamp": int(time.time() * 1000)}
    params["signature"] = sign(srv.api_secret, ws_payload(params))
    await ws.send_str(orjson.dumps({"id": "s", "method": "userDataStream.subscribe.signature",
                                    "params": params}).decode())
    assert (await recv_json(ws))["status"] == 200
    return ws


async def drain(ws: aiohttp.ClientWebSocketResponse) -> list[dict]:
    out = []
    while True:
        try:
            out.append((await recv_json(ws, 0.3))["event"])
        except TimeoutError:
            return out


async def order(client: Client, oid: int) -> dict:
    st, o = await client.signed("GET", "order", symbol=SYM, orderId=oid)
    assert st == 200, o
    return o


async def test_oco_limit_leg_fills_and_expires_the_stop(client: Client, srv: SimServer) -> None:
    ws = await user_stream(client, srv)
    bid, ask = bbo(srv)
    before = await client.balances()
    st, r = await client.signed("POST", "orderList/oco", symbol=SYM, side="SELL", quantity="0.002",
                                aboveType="LIMIT_MAKER", abovePrice=str(ask + 20), aboveClientOrderId="tp-1",
                                belowType="STOP_LOSS", belowStopPrice=str(bid - 200), belowClientOrderId="sl-1",
                                listClientOrderId="oco-1", newOrderRespType="RESULT")
    assert st == 200, r
    assert (r["contingencyType"], r["listStatusType"], r["listOrderStatus"], r["listClientOrderId"]) == \
        ("OCO", "EXEC_STARTED", "EXECUTING", "oco-1")
    below, above = r["orderReports"]  # Binance lists the below leg first
    assert (below["clientOrderId"], below["type"], below["status"]) == ("sl-1", "STOP_LOSS", "NEW")
    assert (above["clientOrderId"], above["type"], above["status"]) == ("tp-1", "LIMIT_MAKER", "NEW")
    assert {o["orderListId"] for o in r["orderReports"]} == {r["orderListId"]}
    bal = await client.balances()
    assert bal["BTC"][1] == before["BTC"][1] + Decimal("0.002")  # locked once for the pair
    st, opened = await client.signed("GET", "openOrderList")
    assert [o["orderListId"] for o in opened] == [r["orderListId"]]
    sweep(srv, 1, ask + 20)
    assert (await order(client, above["orderId"]))["status"] == "FILLED"
    sl = await order(client, below["orderId"])
    assert (sl["status"], sl["orderListId"]) == ("EXPIRED", r["orderListId"])
    st, q = await client.signed("GET", "orderList", orderListId=r["orderListId"])
    assert (q["listStatusType"], q["listOrderStatus"]) == ("ALL_DONE", "ALL_DONE")
    bal = await client.balances()
    assert bal["BTC"] == (before["BTC"][0] - Decimal("0.002"), before["BTC"][1])
    events = await drain(ws)
    lists = [e for e in events if e["e"] == "listStatus"]
    assert [e["l"] for e in lists] == ["EXEC_STARTED", "ALL_DONE"] and lists[0]["g"] == r["orderListId"]
    reports = [(e["c"], e["x"], e["X"], e["g"]) for e in events if e["e"] == "executionReport"]
    assert ("sl-1", "EXPIRED", "EXPIRED", r["orderListId"]) in reports
    assert ("tp-1", "TRADE", "FILLED", r["orderListId"]) in reports
    await ws.close()


async def test_oco_stop_leg_triggers_and_the_limit_leg_expires(client: Client, srv: SimServer) -> None:
    bid, ask = bbo(srv)
    before = await client.balances()
    st, r = await client.signed("POST", "order/oco", symbol=SYM, side="SELL", quantity="0.002",
                                price=str(ask + 500), stopPrice=str(bid - 5), stopLimitPrice=str(bid - 100),
                                stopLimitTimeInForce="GTC", limitClientOrderId="lim", stopClientOrderId="stp")
    assert st == 200, r  # the deprecated endpoint: the same list
    by_cid = {o["clientOrderId"]: o for o in r["orderReports"]}
    assert by_cid["stp"]["type"] == "STOP_LOSS_LIMIT" and by_cid["lim"]["type"] == "LIMIT_MAKER"
    sweep(srv, -1, bid - 20)  # the last price falls through the stop
    stp = await order(client, by_cid["stp"]["orderId"])
    assert (stp["status"] in ("FILLED", "PARTIALLY_FILLED", "NEW") and stp["isWorking"]) or stp["status"] == "FILLED"
    assert (await order(client, by_cid["lim"]["orderId"]))["status"] == "EXPIRED"
    srv.step(200)
    bal = await client.balances()
    sold = before["BTC"][0] - bal["BTC"][0]
    filled = Decimal((await order(client, by_cid["stp"]["orderId"]))["executedQty"])
    assert bal["BTC"][1] == before["BTC"][1] + (Decimal("0.002") - filled)  # the stop-limit leg holds the rest
    assert sold == Decimal("0.002")


async def test_oto_pending_leg_waits_for_the_working_fill(client: Client, srv: SimServer) -> None:
    ws = await user_stream(client, srv)
    bid, ask = bbo(srv)
    st, r = await client.signed("POST", "orderList/oto", symbol=SYM, workingType="LIMIT", workingSide="BUY",
                                workingPrice=str(bid - 50), workingQuantity="0.002", workingTimeInForce="GTC",
                                workingClientOrderId="w-1", pendingType="LIMIT_MAKER", pendingSide="SELL",
                                pendingPrice=str(ask + 300), pendingQuantity="0.002", pendingClientOrderId="p-1")
    assert st == 200, r
    w, p = r["orderReports"]
    assert (w["status"], p["status"], p["workingTime"]) == ("NEW", "PENDING_NEW", -1)
    assert (await order(client, p["orderId"]))["status"] == "PENDING_NEW"
    sweep(srv, -1, bid - 50)
    assert (await order(client, w["orderId"]))["status"] == "FILLED"
    po = await order(client, p["orderId"])
    assert (po["status"], po["isWorking"]) == ("NEW", True)
    events = await drain(ws)
    reps = [(e["c"], e["x"], e["X"]) for e in events if e["e"] == "executionReport"]
    assert reps[0] == ("p-1", "NEW", "PENDING_NEW") and ("p-1", "NEW", "NEW") in reps
    # canceling one leg of a working list cancels the list
    st, c = await client.signed("DELETE", "order", symbol=SYM, origClientOrderId="p-1")
    assert st == 200 and c["orderListId"] == r["orderListId"]
    st, q = await client.signed("GET", "orderList", origClientOrderId=r["listClientOrderId"])
    assert q["listOrderStatus"] == "ALL_DONE"
    await ws.close()


async def test_oto_cancel_list_cancels_the_pending_leg(client: Client, srv: SimServer) -> None:
    bid, ask = bbo(srv)
    before = await client.balances()
    st, r = await client.signed("POST", "orderList/oto", symbol=SYM, workingType="LIMIT_MAKER", workingSide="BUY",
                                workingPrice=str(bid - 50), workingQuantity="0.002", pendingType="STOP_LOSS",
                                pendingSide="SELL", pendingStopPrice=str(bid - 500), pendingQuantity="0.002")
    assert st == 200, r
    st, c = await client.signed("DELETE", "orderList", symbol=SYM, orderListId=r["orderListId"],
                                newClientOrderId="cx")
    assert st == 200, c
    assert c["listStatusType"] == "ALL_DONE" and [o["status"] for o in c["orderReports"]] == ["CANCELED"] * 2
    assert await client.balances() == before
    st, again = await client.signed("DELETE", "orderList", symbol=SYM, orderListId=r["orderListId"])
    assert (st, again["code"]) == (400, -2011)


async def test_otoco_bracket_arms_its_exits_when_the_entry_fills(client: Client, srv: SimServer) -> None:
    bid, ask = bbo(srv)
    st, r = await client.signed("POST", "orderList/otoco", symbol=SYM, workingType="LIMIT", workingSide="BUY",
                                workingPrice=str(ask + 5), workingQuantity="0.002", workingTimeInForce="GTC",
                                pendingSide="SELL", pendingQuantity="0.002", pendingAboveType="LIMIT_MAKER",
                                pendingAbovePrice=str(ask + 400), pendingBelowType="STOP_LOSS",
                                pendingBelowStopPrice=str(bid - 400), newOrderRespType="FULL")
    assert st == 200, r
    assert r["contingencyType"] == "OTO" and len(r["orders"]) == 3
    w, above, below = r["orderReports"]
    # the entry filled at once: the answer still shows its exits PENDING_NEW (Binance's docs say so)
    assert (w["status"], above["status"], below["status"]) == ("FILLED", "PENDING_NEW", "PENDING_NEW")
    assert w["fills"]
    assert (await order(client, above["orderId"]))["status"] == "NEW"
    assert (await order(client, below["orderId"]))["status"] == "NEW"
    sweep(srv, 1, ask + 400)  # the take-profit fills: the stop-loss expires
    assert (await order(client, above["orderId"]))["status"] == "FILLED"
    assert (await order(client, below["orderId"]))["status"] == "EXPIRED"
    st, opened = await client.signed("GET", "openOrderList")
    assert opened == []
    st, every = await client.signed("GET", "allOrderList")
    assert [x["orderListId"] for x in every] == [r["orderListId"]] and every[0]["listOrderStatus"] == "ALL_DONE"


@pytest.mark.parametrize(("params", "code", "word"), [
    ({"aboveType": "LIMIT_MAKER", "abovePrice": "-1", "belowType": "STOP_LOSS", "belowStopPrice": "-200"},
     -2010, "relationship"),
    ({"aboveType": "LIMIT_MAKER", "abovePrice": "-200", "belowType": "STOP_LOSS", "belowStopPrice": "-400"},
     -2010, "relationship"),
    ({"aboveType": "STOP_LOSS", "aboveStopPrice": "+200", "belowType": "STOP_LOSS", "belowStopPrice": "-200"},
     -2010, "Unsupported"),
    ({"belowType": "STOP_LOSS", "belowStopPrice": "-200"}, -1102, "'aboveType'"),
    ({"aboveType": "MARKET", "belowType": "STOP_LOSS", "belowStopPrice": "-200"}, -1116, "orderType"),
    ({"aboveType": "LIMIT_MAKER", "abovePrice": "1e5", "belowType": "STOP_LOSS", "belowStopPrice": "-200"},
     -1100, "'abovePrice'"),
    ({"aboveType": "LIMIT_MAKER", "belowType": "STOP_LOSS", "belowStopPrice": "-200"}, -1102, "'abovePrice'"),
    ({"aboveType": "LIMIT_MAKER", "abovePrice": "+200", "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": "-200",
      "belowPrice": "-210"}, -1102, "'belowTimeInForce'"),
    ({"aboveType": "LIMIT_MAKER", "abovePrice": "+200.001", "belowType": "STOP_LOSS", "belowStopPrice": "-200"},
     -1013, "PRICE_FILTER"),
])
async def test_oco_validation(client: Client, srv: SimServer, params: dict, code: int, word: str) -> None:
    m = srv.exchange.markets[SYM]
    last = Decimal(f"{srv.exchange.ref_price(m):.2f}")
    p = {k: (str(last + Decimal(v)) if v[:1] in "+-" else v) for k, v in params.items()}
    before = await client.balances()
    st, body = await client.signed("POST", "orderList/oco", symbol=SYM, side="SELL", quantity="0.002", **p)
    assert st == 400 and body["code"] == code and word in body["msg"], body
    assert await client.balances() == before


async def test_list_validation_and_unknown_lists(client: Client, srv: SimServer) -> None:
    bid, _ = bbo(srv)
    st, body = await client.signed("POST", "orderList/oto", symbol=SYM, workingType="MARKET", workingSide="BUY",
                                   workingQuantity="0.001", pendingType="LIMIT", pendingSide="SELL",
                                   pendingQuantity="0.001", pendingPrice="70000", pendingTimeInForce="GTC")
    assert (st, body["code"]) == (400, -1116)
    st, body = await client.signed("POST", "orderList/oto", symbol=SYM, workingType="LIMIT", workingSide="BUY",
                                   workingQuantity="0.001", workingPrice=str(bid - 10), workingTimeInForce="GTC",
                                   pendingType="LIMIT", pendingSide="SELL", pendingQuantity="0.001",
                                   pendingPrice="70000")
    assert (st, body["code"]) == (400, -1102) and "pendingTimeInForce" in body["msg"]
    st, body = await client.signed("GET", "orderList", orderListId=999)
    assert (st, body["code"]) == (400, -2013)
    st, body = await client.signed("GET", "orderList")
    assert (st, body["code"]) == (400, -1102)
    st, body = await client.signed("DELETE", "orderList", symbol=SYM, listClientOrderId="nope")
    assert (st, body["code"]) == (400, -2011)
    st, body = await client.signed("POST", "orderList/oco", symbol=SYM, side="SELL", quantity="9999",
                                   aboveType="LIMIT_MAKER", abovePrice="90000", belowType="STOP_LOSS",
                                   belowStopPrice="100")
    assert st == 400 and body["code"] in (-1013, -2010), body


async def test_cancel_replace(client: Client, srv: SimServer) -> None:
    bid, ask = bbo(srv)
    st, o = await client.signed("POST", "order", symbol=SYM, side="BUY", type="LIMIT", timeInForce="GTC",
                                quantity="0.002", price=str(bid - 100), newClientOrderId="a:0")
    assert st == 200
    st, r = await client.signed("POST", "order/cancelReplace", symbol=SYM, side="BUY", type="LIMIT",
                                timeInForce="GTC", quantity="0.003", price=str(bid - 80),
                                cancelReplaceMode="STOP_ON_FAILURE", cancelOrigClientOrderId="a:0",
                                newClientOrderId="a:1")
    assert st == 200, r
    assert (r["cancelResult"], r["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert (r["cancelResponse"]["status"], r["cancelResponse"]["origClientOrderId"]) == ("CANCELED", "a:0")
    assert (r["newOrderResponse"]["clientOrderId"], r["newOrderResponse"]["status"]) == ("a:1", "NEW")
    # the cancel fails: STOP_ON_FAILURE places nothing (400, -2022)
    st, r = await client.signed("POST", "order/cancelReplace", symbol=SYM, side="BUY", type="LIMIT",
                                timeInForce="GTC", quantity="0.003", price=str(bid - 80),
                                cancelReplaceMode="STOP_ON_FAILURE", cancelOrigClientOrderId="a:0")
    assert (st, r["code"]) == (400, -2022)
    assert r["data"] == {"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                         "cancelResponse": {"code": -2011, "msg": "Unknown order sent."}, "newOrderResponse": None}
    # ALLOW_FAILURE: the new order goes in anyway (409, -2021)
    st, r = await client.signed("POST", "order/cancelReplace", symbol=SYM, side="BUY", type="LIMIT",
                                timeInForce="GTC", quantity="0.001", price=str(bid - 90),
                                cancelReplaceMode="ALLOW_FAILURE", cancelOrderId=123456, newClientOrderId="b")
    assert (st, r["code"], r["data"]["cancelResult"], r["data"]["newOrderResult"]) == \
        (409, -2021, "FAILURE", "SUCCESS")
    # the cancel works, the new order is refused by the matching engine (409, -2021)
    st, r = await client.signed("POST", "order/cancelReplace", symbol=SYM, side="BUY", type="LIMIT_MAKER",
                                quantity="0.001", price=str(ask + 10), cancelReplaceMode="STOP_ON_FAILURE",
                                cancelOrigClientOrderId="b")
    assert (st, r["code"], r["data"]["cancelResult"], r["data"]["newOrderResult"]) == \
        (409, -2021, "SUCCESS", "FAILURE")
    assert r["data"]["newOrderResponse"] == {"code": -2010, "msg": "Order would immediately match and take."}
    # bad requests change nothing
    for extra, code in (({"cancelReplaceMode": "SOMETIMES"}, -1100), ({}, -1102),
                        ({"cancelReplaceMode": "ALLOW_FAILURE", "cancelRestrictions": "ONLY_OLD"}, -1145),
                        ({"cancelReplaceMode": "ALLOW_FAILURE", "price": "1.001"}, -1013)):
        params = {"symbol": SYM, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.003",
                  "price": str(bid - 70), "cancelOrigClientOrderId": "a:1", **extra}
        st, r = await client.signed("POST", "order/cancelReplace", **params)
        assert (st, r["code"]) == (400, code), (extra, r)
    assert (await order(client, o["orderId"] + 1))["status"] == "NEW"  # a:1 is still there
    st, r = await client.signed("POST", "order/cancelReplace", symbol=SYM, side="BUY", type="LIMIT",
                                timeInForce="GTC", quantity="0.003", price=str(bid - 70),
                                cancelReplaceMode="STOP_ON_FAILURE", cancelOrigClientOrderId="a:1",
                                cancelRestrictions="ONLY_PARTIALLY_FILLED")
    assert (st, r["code"], r["data"]["cancelResponse"]["code"]) == (400, -2022, -2011)


async def test_ws_api_order_list_methods(client: Client, srv: SimServer) -> None:
    bid, ask = bbo(srv)

    async def call(ws, rid: str, method: str, **params: object) -> dict:
        p = {"apiKey": srv.api_key, "timestamp": int(time.time() * 1000), **params}
        p["signature"] = sign(srv.api_secret, ws_payload(p))
        await ws.send_str(orjson.dumps({"id": rid, "method": method, "params": p}).decode())
        while True:
            m = await recv_json(ws)
            if m.get("id") == rid:
                return m

    async with client.s.ws_connect(f"{srv.ws_url}/ws-api/v3") as ws:
        m = await call(ws, "1", "orderList.place.oco", symbol=SYM, side="SELL", quantity="0.002",
                       aboveType="LIMIT_MAKER", abovePrice=str(ask + 50), belowType="STOP_LOSS",
                       belowStopPrice=str(bid - 50))
        assert m["status"] == 200 and m["result"]["contingencyType"] == "OCO", m
        lid = m["result"]["orderListId"]
        m = await call(ws, "2", "orderList.status", orderListId=lid)
        assert m["result"]["listOrderStatus"] == "EXECUTING"
        m = await call(ws, "3", "openOrderLists.status")
        assert [x["orderListId"] for x in m["result"]] == [lid]
        m = await call(ws, "4", "orderList.cancel", symbol=SYM, orderListId=lid)
        assert m["status"] == 200 and m["result"]["listStatusType"] == "ALL_DONE"
        m = await call(ws, "5", "orderList.place.oto", symbol=SYM, workingType="LIMIT", workingSide="BUY",
                       workingPrice=str(bid - 30), workingQuantity="0.001", workingTimeInForce="GTC",
                       pendingType="MARKET", pendingSide="SELL", pendingQuantity="0.001")
        assert m["status"] == 200, m
        m = await call(ws, "6", "orderList.place.otoco", symbol=SYM, workingType="LIMIT_MAKER", workingSide="BUY",
                       workingPrice=str(bid - 30), workingQuantity="0.001", pendingSide="SELL",
                       pendingQuantity="0.001", pendingAboveType="LIMIT_MAKER", pendingAbovePrice=str(ask + 30),
                       pendingBelowType="STOP_LOSS", pendingBelowStopPrice=str(bid - 300))
        assert m["status"] == 200, m
        m = await call(ws, "7", "order.cancelReplace", symbol=SYM, side="BUY", type="LIMIT", timeInForce="GTC",
                       quantity="0.001", price=str(bid - 40), cancelReplaceMode="ALLOW_FAILURE",
                       cancelOrigClientOrderId="missing")
        assert m["status"] == 409 and m["error"]["code"] == -2021 and m["error"]["data"]["newOrderResult"] == "SUCCESS"
        m = await call(ws, "8", "allOrderLists")
        assert len(m["result"]) == 3
