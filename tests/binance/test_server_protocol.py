"""The Binance Spot simulator server against the wire spec (docs/binance-subset.md), over real loopback
HTTP and WebSockets. The crowd is driven by hand (``rate_hz = 0``) so every run is the same."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from decimal import Decimal
from urllib.parse import urlencode

import aiohttp
import orjson
import pytest

from leand.model import OrderType
from leand.simulator.binance import SimConfig, SimServer, finalize, start_server
from leand.simulator.binance.auth import sign, ws_payload
from leand.simulator.binance.config import GeneratorConfig, LimitsConfig

DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_PAYLOAD = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
               "&timestamp=1499827319559")
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def cfg(**kw: object) -> SimConfig:
    c = SimConfig(generator=GeneratorConfig(rate_hz=0, warmup_steps=30), **kw)  # type: ignore[arg-type]
    return finalize(c)


class Client:
    """A minimal signed Binance REST client (what ccxt does, by hand)."""

    def __init__(self, srv: SimServer, session: aiohttp.ClientSession) -> None:
        self.srv, self.s = srv, session
        self.key, self.secret = srv.api_key, srv.api_secret
        self.last_headers: dict[str, str] = {}

    async def public(self, path: str, **params: object) -> tuple[int, object]:
        async with self.s.get(f"{self.srv.url}/api/v3/{path}", params={k: str(v) for k, v in params.items()}) as r:
            self.last_headers = dict(r.headers)
            return r.status, await r.json()

    async def signed(self, method: str, path: str, *, sign_with: str | None = None, key: str | None = "",
                     ts: int | None = None, tamper: bool = False, **params: object) -> tuple[int, object]:
        if ts != -1:
            params["timestamp"] = ts if ts is not None else int(time.time() * 1000)
        q = urlencode({k: str(v) for k, v in params.items()})
        sig = hmac.new((sign_with or self.secret).encode(), q.encode(), hashlib.sha256).hexdigest()
        if tamper:
            q = q.replace("quantity=", "quantity=1")
        body = f"{q}&signature={sig}"
        headers = {} if key is None else {"X-MBX-APIKEY": key or self.key}
        url = f"{self.srv.url}/api/v3/{path}"
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            kw = {"data": body}
        else:
            url += "?" + body
            kw = {}
        async with self.s.request(method, url, headers=headers, **kw) as r:
            self.last_headers = dict(r.headers)
            return r.status, await r.json()

    async def balances(self) -> dict[str, tuple[Decimal, Decimal]]:
        st, acct = await self.signed("GET", "account")
        assert st == 200, acct
        return {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"])) for b in acct["balances"]}


@pytest.fixture
async def srv():
    s = await start_server(cfg())
    yield s
    await s.close()


@pytest.fixture
async def client(srv):
    async with aiohttp.ClientSession() as session:
        yield Client(srv, session)


async def recv_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = 3.0) -> dict:
    msg = await ws.receive(timeout=timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return orjson.loads(msg.data)


# ---- signing -----------------------------------------------------------------------------------------------

def test_signature_test_vector() -> None:
    assert sign(DOC_SECRET, DOC_PAYLOAD) == DOC_SIGNATURE


async def test_server_accepts_the_doc_vector() -> None:
    """The doc's exact request (query string) verifies on the server: auth passes, and LTCBTC is unknown here."""
    c = SimConfig(generator=GeneratorConfig(rate_hz=0, warmup_steps=0))
    c.accounts = []
    c = finalize(c)
    c.accounts[0].api_secret = DOC_SECRET
    s = await start_server(c)
    s.exchange.clock = lambda: 1499827319559 + 10
    try:
        async with aiohttp.ClientSession() as session:
            url = f"{s.url}/api/v3/order?{DOC_PAYLOAD}&signature={DOC_SIGNATURE.upper()}"
            async with session.post(url, headers={"X-MBX-APIKEY": s.api_key}) as r:
                assert (r.status, await r.json()) == (400, {"code": -1121, "msg": "Invalid symbol."})
            body = DOC_PAYLOAD.replace("quantity=1", "quantity=2") + "&signature=" + DOC_SIGNATURE
            async with session.post(f"{s.url}/api/v3/order", data=body, headers={
                    "X-MBX-APIKEY": s.api_key, "Content-Type": "application/x-www-form-urlencoded"}) as r:
                assert (r.status, (await r.json())["code"]) == (400, -1022)
    finally:
        await s.close()


# ---- errors ------------------------------------------------------------------------------------------------

async def test_auth_errors(client: Client) -> None:
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
             "price": "50000"}
    st, body = await client.signed("POST", "order", tamper=True, **order)
    assert (st, body) == (400, {"code": -1022, "msg": "Signature for this request is not valid."})
    st, body = await client.signed("POST", "order", sign_with="wrong-secret", **order)
    assert (st, body["code"]) == (400, -1022)
    st, body = await client.signed("POST", "order", ts=-1, **order)
    assert (st, body["code"]) == (400, -1102)
    assert "timestamp" in body["msg"]
    st, body = await client.signed("POST", "order", ts=int(time.time() * 1000) - 20_000, **order)
    assert (st, body) == (400, {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."})
    st, body = await client.signed("POST", "order", ts=int(time.time() * 1000) - 20_000, recvWindow=30000,
                                   **{**order, "price": "1000000.01"})
    assert body["code"] == -1013  # inside a wider recvWindow: accepted, then the filter refuses the price
    st, body = await client.signed("POST", "order", ts=int(time.time() * 1000) + 5_000, **order)
    assert (st, body["code"]) == (400, -1021)
    assert "ahead" in body["msg"]
    st, body = await client.signed("GET", "account", recvWindow=70000)
    assert (st, body["code"]) == (400, -1131)
    st, body = await client.signed("GET", "account", key=None)
    assert (st, body["code"]) == (401, -2014)
    st, body = await client.signed("GET", "account", key="not-a-key")
    assert (st, body["code"]) == (401, -2015)


async def test_bad_requests(client: Client) -> None:
    st, body = await client.public("depth", symbol="NOPEUSDT")
    assert (st, body) == (400, {"code": -1121, "msg": "Invalid symbol."})
    st, body = await client.public("depth")
    assert (st, body["code"]) == (400, -1102)
    st, body = await client.public("exchangeInfo", symbol="NOPE")
    assert body["code"] == -1121
    st, body = await client.public("klines", symbol="BTCUSDT", interval="7m")
    assert (st, body["code"]) == (400, -1120)
    st, body = await client.signed("POST", "order", symbol="NOPE", side="BUY", type="MARKET", quantity="1")
    assert (st, body["code"]) == (400, -1121)
    st, body = await client.signed("POST", "order", symbol="BTCUSDT", type="MARKET", quantity="1")
    assert (st, body["code"]) == (400, -1102)
    assert "'side'" in body["msg"]
    st, body = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="LIMIT", quantity="0.001",
                                   price="50000")
    assert (st, body["code"]) == (400, -1102)
    assert "timeInForce" in body["msg"]
    st, body = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="abc")
    assert (st, body["code"]) == (400, -1100)
    st, body = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001",
                                   price="50000")
    assert (st, body["code"]) == (400, -1106)
    st, body = await client.signed("POST", "order", symbol="BTCUSDT", side="UP", type="MARKET", quantity="0.001")
    assert (st, body["code"]) == (400, -1117)
    st, body = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="ICEBERG", quantity="0.001")
    assert (st, body["code"]) == (400, -1116)
    st, body = await client.signed("GET", "order", symbol="BTCUSDT", orderId=999999)
    assert (st, body) == (400, {"code": -2013, "msg": "Order does not exist."})
    st, body = await client.signed("GET", "order", symbol="BTCUSDT")
    assert (st, body["code"]) == (400, -1102)
    st, body = await client.signed("DELETE", "order", symbol="BTCUSDT", orderId=999999)
    assert (st, body) == (400, {"code": -2011, "msg": "Unknown order sent."})
    st, body = await client.signed("DELETE", "order", symbol="BTCUSDT", origClientOrderId="never-sent")
    assert (st, body["code"]) == (400, -2011)


async def test_filter_rejections(client: Client) -> None:
    base = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    cases = [({"quantity": "0.001", "price": "50000.005"}, "PRICE_FILTER"),
             ({"quantity": "0.001", "price": "0.001"}, "PRICE_FILTER"),
             ({"quantity": "0.0010001", "price": "50000"}, "LOT_SIZE"),
             ({"quantity": "0.000001", "price": "50000"}, "LOT_SIZE"),
             ({"quantity": "10000", "price": "50000"}, "LOT_SIZE"),
             ({"quantity": "0.00001", "price": "50000"}, "NOTIONAL")]
    for extra, name in cases:
        st, body = await client.signed("POST", "order", **base, **extra)
        assert (st, body) == (400, {"code": -1013, "msg": f"Filter failure: {name}"}), extra
    st, body = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.00001")
    assert body == {"code": -1013, "msg": "Filter failure: NOTIONAL"}
    st, body = await client.signed("POST", "order", **base, quantity="5", price="50000")
    assert (st, body) == (400, {"code": -2010, "msg": "Account has insufficient balance for requested action."})
    st, info = await client.public("exchangeInfo", symbol="BTCUSDT")
    filters = {f["filterType"]: f for f in info["symbols"][0]["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"


# ---- orders ------------------------------------------------------------------------------------------------

async def test_limit_order_lifecycle(client: Client) -> None:
    before = await client.balances()
    st, o = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                quantity="0.01", price="50000", newClientOrderId="x-TKT5PX2F0123456789abcdef012345")
    assert st == 200, o
    assert o["status"] == "NEW" and o["clientOrderId"] == "x-TKT5PX2F0123456789abcdef012345"
    assert o["fills"] == [] and o["origQty"] == "0.01000000"
    assert "X-MBX-ORDER-COUNT-10S" in client.last_headers
    after = await client.balances()
    assert after["USDT"] == (before["USDT"][0] - 500, before["USDT"][1] + 500)
    st, q = await client.signed("GET", "order", symbol="BTCUSDT", orderId=o["orderId"])
    assert st == 200 and q["status"] == "NEW" and q["isWorking"] is True and q["price"] == "50000.00000000"
    st, q2 = await client.signed("GET", "order", symbol="BTCUSDT", origClientOrderId=o["clientOrderId"])
    assert q2["orderId"] == o["orderId"]
    st, dup = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                  quantity="0.01", price="50000", newClientOrderId=o["clientOrderId"])
    assert dup == {"code": -2010, "msg": "Duplicate order sent."}
    st, oo = await client.signed("GET", "openOrders", symbol="BTCUSDT")
    assert [x["orderId"] for x in oo] == [o["orderId"]]
    st, c = await client.signed("DELETE", "order", symbol="BTCUSDT", orderId=o["orderId"],
                                newClientOrderId="cancel-1")
    assert st == 200 and c["status"] == "CANCELED"
    assert c["origClientOrderId"] == o["clientOrderId"] and c["clientOrderId"] == "cancel-1"
    st, oo = await client.signed("GET", "openOrders", symbol="BTCUSDT")
    assert oo == []
    assert (await client.balances())["USDT"] == before["USDT"]
    st, again = await client.signed("DELETE", "order", symbol="BTCUSDT", orderId=o["orderId"])
    assert again["code"] == -2011
    st, all_ = await client.signed("GET", "allOrders", symbol="BTCUSDT")
    assert [(x["orderId"], x["status"]) for x in all_] == [(o["orderId"], "CANCELED")]


async def test_marketable_order_fills_and_moves_balances(client: Client, srv: SimServer) -> None:
    before = await client.balances()
    st, book = await client.public("depth", symbol="BTCUSDT", limit=5)
    best_ask = Decimal(book["asks"][0][0])
    st, o = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    assert st == 200 and o["status"] == "FILLED", o
    assert o["executedQty"] == "0.01000000"
    fills = o["fills"]
    assert fills and Decimal(fills[0]["price"]) == best_ask
    cost = sum(Decimal(f["price"]) * Decimal(f["qty"]) for f in fills)
    fee = sum(Decimal(f["commission"]) for f in fills)
    assert {f["commissionAsset"] for f in fills} == {"BTC"}
    assert fee == Decimal("0.01") * Decimal("0.001")
    assert Decimal(o["cummulativeQuoteQty"]) == cost
    after = await client.balances()
    assert after["USDT"][0] == before["USDT"][0] - cost
    assert after["BTC"][0] == before["BTC"][0] + Decimal("0.01") - fee
    st, trades = await client.signed("GET", "myTrades", symbol="BTCUSDT")
    assert [t["orderId"] for t in trades] == [o["orderId"]] * len(fills)
    assert trades[0]["isBuyer"] is True and trades[0]["isMaker"] is False
    assert [t["id"] for t in trades] == [f["tradeId"] for f in fills]
    # now sell it back with a crossing limit: fee in quote
    st, bt = await client.public("ticker/bookTicker", symbol="BTCUSDT")
    st, s = await client.signed("POST", "order", symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="IOC",
                                quantity="0.005", price=bt["bidPrice"])
    assert s["status"] in ("FILLED", "EXPIRED") and Decimal(s["executedQty"]) > 0
    assert {f["commissionAsset"] for f in s["fills"]} == {"USDT"}
    final = await client.balances()
    proceeds = Decimal(s["cummulativeQuoteQty"])
    sfee = sum(Decimal(f["commission"]) for f in s["fills"])
    assert final["USDT"][0] == after["USDT"][0] + proceeds - sfee
    assert final["BTC"] == (after["BTC"][0] - Decimal(s["executedQty"]), Decimal(0))


async def test_resting_order_filled_by_the_crowd(client: Client, srv: SimServer) -> None:
    """A client bid at the best bid is a maker: crowd takers reach it, and the fee is the maker fee."""
    st, bt = await client.public("ticker/bookTicker", symbol="ETHUSDT")
    st, o = await client.signed("POST", "order", symbol="ETHUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                                quantity="0.01", price=bt["askPrice"])
    assert o["status"] == "NEW"
    # a crowd taker buys through the ask
    srv.exchange.crowd_submit("ETHUSDT", 1, 500.0, 0.0, OrderType.MARKET, "")
    st, q = await client.signed("GET", "order", symbol="ETHUSDT", orderId=o["orderId"])
    assert q["status"] == "FILLED"
    st, trades = await client.signed("GET", "myTrades", symbol="ETHUSDT", orderId=o["orderId"])
    assert trades[0]["isMaker"] is True and trades[0]["isBuyer"] is False


async def test_order_types(client: Client) -> None:
    st, bt = await client.public("ticker/bookTicker", symbol="BTCUSDT")
    st, body = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER",
                                   quantity="0.001", price=bt["askPrice"])
    assert body == {"code": -2010, "msg": "Order would immediately match and take."}
    st, o = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="FOK",
                                quantity="50", price=bt["askPrice"])
    assert o["code"] == -2010  # 50 BTC: the balance check comes first
    st, o = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="FOK",
                                quantity="1.5", price=bt["askPrice"])  # more than the best level holds
    assert o["status"] == "EXPIRED" and o["executedQty"] == "0.00000000" and o["fills"] == []
    st, o = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="IOC",
                                quantity="0.001", price="50000")
    assert o["status"] == "EXPIRED" and o["executedQty"] == "0.00000000"
    st, o = await client.signed("POST", "order", symbol="BTCUSDT", side="SELL", type="STOP_LOSS", quantity="0.001",
                                stopPrice=str(Decimal(bt["bidPrice"]) + 1000))
    assert o == {"code": -2010, "msg": "Order would trigger immediately."}
    st, o = await client.signed("POST", "order", symbol="BTCUSDT", side="SELL", type="STOP_LOSS_LIMIT",
                                timeInForce="GTC", quantity="0.001", price="40000", stopPrice="41000")
    assert st == 200 and set(o) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}  # ACK
    st, q = await client.signed("GET", "order", symbol="BTCUSDT", orderId=o["orderId"])
    assert q["status"] == "NEW" and q["isWorking"] is False and q["stopPrice"] == "41000.00000000"
    st, c = await client.signed("DELETE", "order", symbol="BTCUSDT", orderId=o["orderId"])
    assert c["status"] == "CANCELED"
    st, o = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="MARKET", quoteOrderQty="100")
    assert o["status"] == "FILLED" and Decimal(o["cummulativeQuoteQty"]) <= 100
    assert Decimal(o["cummulativeQuoteQty"]) > 99


# ---- market data streams -------------------------------------------------------------------------------------

async def test_depth_snapshot_and_diff_stream_chain(client: Client, srv: SimServer) -> None:
    async with client.s.ws_connect(f"{srv.ws_url}/ws/0") as ws:
        await ws.send_str(orjson.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1}).decode())
        assert await recv_json(ws) == {"result": None, "id": 1}
        srv.step(2)
        srv.flush(second=False)
        st, snap = await client.public("depth", symbol="BTCUSDT", limit=1000)
        for _ in range(3):
            srv.step(1)
            srv.flush(second=False)
        events = []
        while True:
            try:
                events.append(await recv_json(ws, 0.3))
            except TimeoutError:
                break
    assert len(events) >= 3
    for a, b in zip(events, events[1:]):
        assert b["U"] == a["u"] + 1
    nonce = snap["lastUpdateId"]
    book = {"b": {p: q for p, q in snap["bids"]}, "a": {p: q for p, q in snap["asks"]}}
    live = [e for e in events if e["u"] > nonce]
    assert live and live[0]["U"] <= nonce + 1 <= live[0]["u"]
    for e in live:
        assert e["e"] == "depthUpdate" and e["s"] == "BTCUSDT"
        for side in ("b", "a"):
            for p, q in e[side]:
                if Decimal(q) == 0:
                    book[side].pop(p, None)
                else:
                    book[side][p] = q
    st, final = await client.public("depth", symbol="BTCUSDT", limit=1000)
    assert final["lastUpdateId"] == live[-1]["u"]
    assert book["b"] == dict(final["bids"]) and book["a"] == dict(final["asks"])


async def test_subscribe_ack_list_and_streams(client: Client, srv: SimServer) -> None:
    async with client.s.ws_connect(f"{srv.ws_url}/ws/1") as ws:
        await ws.send_str('{"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@bookTicker"],"id":7}')
        assert await recv_json(ws) == {"result": None, "id": 7}
        await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":8}')
        assert await recv_json(ws) == {"result": ["btcusdt@bookTicker", "btcusdt@trade"], "id": 8}
        await ws.send_str('{"method":"SUBSCRIBE","params":["nope@trade"],"id":9}')
        err = await recv_json(ws)
        assert err["code"] == 2 and err["id"] == 9
        srv.exchange.crowd_submit("BTCUSDT", 1, 0.01, 0.0, OrderType.MARKET, "")
        got = {}
        while len(got) < 2:
            m = await recv_json(ws)
            got["trade" if m.get("e") == "trade" else "bookTicker"] = m
        assert got["trade"]["s"] == "BTCUSDT" and got["trade"]["m"] is False and got["trade"]["q"] == "0.01000000"
        assert set(got["bookTicker"]) == {"u", "s", "b", "B", "a", "A"}
        await ws.send_str('{"method":"UNSUBSCRIBE","params":["btcusdt@trade","btcusdt@bookTicker"],"id":10}')
        assert await recv_json(ws) == {"result": None, "id": 10}
    async with client.s.ws_connect(f"{srv.ws_url}/stream?streams=ethusdt@aggTrade/ethusdt@miniTicker") as ws:
        await asyncio.sleep(0.05)
        srv.exchange.crowd_submit("ETHUSDT", -1, 1.0, 0.0, OrderType.MARKET, "")
        srv.flush(second=True)
        seen = {}
        while len(seen) < 2:
            m = await recv_json(ws)
            seen[m["stream"]] = m["data"]
        assert seen["ethusdt@aggTrade"]["e"] == "aggTrade" and seen["ethusdt@aggTrade"]["m"] is True
        assert seen["ethusdt@miniTicker"]["e"] == "24hrMiniTicker"


# ---- user data ---------------------------------------------------------------------------------------------

async def test_user_data_execution_report_for_a_fill(client: Client, srv: SimServer) -> None:
    async with client.s.ws_connect(f"{srv.ws_url}/ws-api/v3") as ws:
        params = {"apiKey": srv.api_key, "recvWindow": 10000, "timestamp": int(time.time() * 1000)}
        params["signature"] = sign(srv.api_secret, ws_payload(params))
        await ws.send_str(orjson.dumps({"id": "1", "method": "userDataStream.subscribe.signature",
                                        "params": params}).decode())
        resp = await recv_json(ws)
        assert resp["id"] == "1" and resp["status"] == 200 and resp["result"] == {"subscriptionId": 0}
        bad = {**params, "signature": "00" * 32}
        await ws.send_str(orjson.dumps({"id": 2, "method": "userDataStream.subscribe.signature",
                                        "params": bad}).decode())
        resp = await recv_json(ws)
        assert resp["status"] == 400 and resp["error"]["code"] == -1022
        st, o = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.002",
                                    newClientOrderId="mkt-1")
        assert o["status"] == "FILLED"
        events = []
        while not events or events[-1]["event"]["e"] != "outboundAccountPosition":
            events.append(await recv_json(ws))
        assert all(e["subscriptionId"] == 0 for e in events)
        reports = [e["event"] for e in events if e["event"]["e"] == "executionReport"]
        assert reports[0]["x"] == "NEW" and reports[0]["c"] == "mkt-1"
        trades = [r for r in reports if r["x"] == "TRADE"]
        assert trades and trades[-1]["X"] == "FILLED" and trades[-1]["z"] == "0.00200000"
        assert trades[0]["N"] == "BTC" and trades[0]["t"] == o["fills"][0]["tradeId"] and trades[0]["i"] == o["orderId"]
        pos = events[-1]["event"]
        assert {b["a"] for b in pos["B"]} == {"BTC", "USDT"}
        # a resting order, then its cancel: NEW, position (locked), CANCELED with C = original id
        st, o2 = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                     quantity="0.001", price="50000", newClientOrderId="rest-1")
        new = await recv_json(ws)
        assert (new["event"]["x"], new["event"]["w"]) == ("NEW", True)
        pos = (await recv_json(ws))["event"]
        assert pos["e"] == "outboundAccountPosition" and pos["B"][0]["l"] == "50.00000000"
        st, c = await client.signed("DELETE", "order", symbol="BTCUSDT", orderId=o2["orderId"],
                                    newClientOrderId="cxl-1")
        ev = (await recv_json(ws))["event"]
        assert (ev["x"], ev["X"], ev["c"], ev["C"]) == ("CANCELED", "CANCELED", "cxl-1", "rest-1")
        # a deposit: balanceUpdate then the position
        async with client.s.post(f"{srv.url}/_sim/deposit", json={"asset": "USDT", "amount": "10"},
                                 headers={"X-MBX-APIKEY": srv.api_key}) as r:
            assert r.status == 200
        while True:
            ev = (await recv_json(ws))["event"]
            if ev["e"] == "balanceUpdate":
                break
        assert ev["a"] == "USDT" and ev["d"] == "10.00000000"
        await ws.send_str('{"id":"9","method":"userDataStream.unsubscribe","params":{}}')
        while True:
            m = await recv_json(ws)
            if m.get("id") == "9":
                break
        assert m["status"] == 200


async def test_legacy_listen_key(client: Client, srv: SimServer) -> None:
    async with client.s.post(f"{srv.url}/api/v3/userDataStream", headers={"X-MBX-APIKEY": srv.api_key}) as r:
        lk = (await r.json())["listenKey"]
    async with client.s.ws_connect(f"{srv.ws_url}/ws/{lk}") as ws:
        await asyncio.sleep(0.05)
        st, o = await client.signed("POST", "order", symbol="ETHUSDT", side="SELL", type="MARKET", quantity="0.01")
        ev = await recv_json(ws)
        assert ev["e"] == "executionReport" and ev["i"] == o["orderId"]
    async with client.s.put(f"{srv.url}/api/v3/userDataStream?listenKey={lk}",
                            headers={"X-MBX-APIKEY": srv.api_key}) as r:
        assert await r.json() == {}


# ---- weights, faults, determinism ---------------------------------------------------------------------------

async def test_weight_header_and_429() -> None:
    c = cfg(limits=LimitsConfig(weight_per_minute=60, ban_after_429s=2))
    s = await start_server(c)
    try:
        async with aiohttp.ClientSession() as session:
            cl = Client(s, session)
            used = []
            for _ in range(3):
                await cl.public("ping")
                used.append(int(cl.last_headers["X-MBX-USED-WEIGHT-1M"]))
            assert used[1] == used[0] + 1 and used[2] == used[0] + 2
            st, _ = await cl.public("exchangeInfo")
            assert int(cl.last_headers["X-MBX-USED-WEIGHT-1M"]) == used[2] + 20
            statuses = []
            for _ in range(4):
                st, body = await cl.public("exchangeInfo")
                statuses.append((st, body.get("code") if isinstance(body, dict) and "code" in body else None,
                                 cl.last_headers.get("Retry-After")))
            assert [x[:2] for x in statuses] == [(200, None), (429, -1003), (429, -1003), (418, -1003)]
            assert 1 <= int(statuses[1][2]) <= 60
            assert int(statuses[3][2]) == 120
            st, body = await cl.public("ping")
            assert (st, body["code"]) == (418, -1003)
    finally:
        await s.close()


async def test_faults(client: Client, srv: SimServer) -> None:
    h = {"X-MBX-APIKEY": srv.api_key}
    async with client.s.post(f"{srv.url}/_sim/faults", json={"http_status": 503, "http_count": 2}, headers=h) as r:
        assert r.status == 200
    assert (await client.public("ping"))[0] == 503
    st, body = await client.public("time")
    assert (st, body["code"]) == (503, -1007)
    assert (await client.public("ping"))[0] == 200
    # "after": the order is placed but the answer is lost
    async with client.s.post(f"{srv.url}/_sim/faults", json={"http_status": 503, "http_mode": "after"},
                             headers=h) as r:
        assert r.status == 200
    st, _ = await client.signed("POST", "order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                quantity="0.001", price="50000", newClientOrderId="lost-1")
    assert st == 503
    st, q = await client.signed("GET", "order", symbol="BTCUSDT", origClientOrderId="lost-1")
    assert q["status"] == "NEW"
    async with client.s.post(f"{srv.url}/_sim/faults", json={"http_status": 429}, headers=h) as r:
        assert r.status == 200
    st, body = await client.public("ping")
    assert (st, body["code"]) == (429, -1003)
    # delays
    async with client.s.post(f"{srv.url}/_sim/faults", json={"delay_ms": 200, "delay_count": 1}, headers=h) as r:
        assert r.status == 200
    t0 = time.monotonic()
    await client.public("ping")
    assert time.monotonic() - t0 >= 0.19
    # control endpoint needs a known key
    async with client.s.post(f"{srv.url}/_sim/faults", json={"drop_ws": True}) as r:
        assert r.status == 401
    # a gap in the depth ids, then drop every socket
    async with client.s.ws_connect(f"{srv.ws_url}/ws/btcusdt@depth@100ms") as ws:
        srv.step(1)
        srv.flush(second=False)
        e1 = await recv_json(ws)
        async with client.s.post(f"{srv.url}/_sim/faults", json={"skip_depth_ids": 3}, headers=h) as r:
            assert r.status == 200
        srv.step(1)
        srv.flush(second=False)
        e2 = await recv_json(ws)
        assert e2["U"] == e1["u"] + 4
        async with client.s.post(f"{srv.url}/_sim/faults", json={"drop_ws": True}, headers=h) as r:
            assert (await r.json())["dropped"] == 1
        msg = await ws.receive(timeout=3)
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR)


async def test_deterministic_given_a_seed() -> None:
    snaps = []
    for _ in range(2):
        s = await start_server(cfg(seed=42))
        try:
            s.step(20)
            snaps.append((s.exchange.depth({"symbol": "BTCUSDT", "limit": "50"}),
                          s.exchange.recent_trades({"symbol": "ETHUSDT"})))
        finally:
            await s.close()
    for tr in snaps[1][1]:
        tr.pop("time")
    for tr in snaps[0][1]:
        tr.pop("time")
    assert snaps[0] == snaps[1]
    other = await start_server(cfg(seed=43))
    try:
        other.step(20)
        assert other.exchange.depth({"symbol": "BTCUSDT", "limit": "50"}) != snaps[0][0]
    finally:
        await other.close()


async def test_lean_replay_source() -> None:
    """``generator.source = "lean"``: the mid follows LEAN coinbase minute quotes (btcusd 2018-04-04 ~ 7400)."""
    c = cfg()
    c.symbols = [s for s in c.symbols if s.symbol == "BTCUSDT"]
    c.generator.source = "lean"
    c.generator.lean_date = "20180404"
    s = await start_server(c)
    try:
        bp, _, ap, _ = s.exchange.markets["BTCUSDT"].bbo()
        assert 7300 < bp < ap < 7500
    finally:
        await s.close()


def test_cli_bad_config(tmp_path, capsys) -> None:
    from leand.cli import main

    bad = tmp_path / "sim.toml"
    bad.write_text('[[symbols]]\nsymbol = "btc-usdt"\nbase = "BTC"\nquote = "USDT"\n')
    assert main(["sim", "serve", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "symbols[0].symbol" in err and str(bad) in err
    bad.write_text('[generator]\nsource = "lean"\nlean_date = "19990101"\n')
    assert main(["sim", "serve", "--config", str(bad)]) == 2
    assert "lean" in capsys.readouterr().err


async def test_self_trade_prevention_expires_the_taker(client: Client) -> None:
    st, bt = await client.public("ticker/bookTicker", symbol="ETHUSDT")
    ask = Decimal(bt["askPrice"])
    inside = ask - Decimal("0.01")  # our own ask becomes the best
    st, mine = await client.signed("POST", "order", symbol="ETHUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                                   quantity="0.01", price=str(inside))
    assert mine["status"] == "NEW"
    st, taker = await client.signed("POST", "order", symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                    quantity="0.01", price=str(ask))
    assert taker["status"] == "EXPIRED_IN_MATCH" and taker["executedQty"] == "0.00000000"
    assert taker["selfTradePreventionMode"] == "EXPIRE_TAKER"
    st, q = await client.signed("GET", "order", symbol="ETHUSDT", orderId=mine["orderId"])
    assert q["status"] == "NEW"
    bal = await client.balances()
    assert bal["USDT"][1] == 0 and bal["ETH"][1] == Decimal("0.01")  # the taker's lock came back
