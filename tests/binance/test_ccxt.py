"""An unmodified ccxt (async_support and pro) trades against the simulator, pointed at it exactly as
docs/ccxt-against-localhost.md says (URL overrides, spot-only options)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from leand.simulator.binance import SimConfig, SimServer, finalize, start_server
from leand.simulator.binance.config import GeneratorConfig

ccxt = pytest.importorskip("ccxt")
ccxt_async = pytest.importorskip("ccxt.async_support")
ccxt_pro = pytest.importorskip("ccxt.pro")

OPTIONS = {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False,
           "adjustForTimeDifference": False}


def point_at_local(ex, http: str, ws: str) -> None:
    """The doc's override: every https root onto the local host (path kept), the spot WS roots too."""
    api = ex.urls["api"]
    for k, v in list(api.items()):
        if isinstance(v, str) and v.startswith("https://"):
            api[k] = http + "/" + v.split("/", 3)[3]
    if isinstance(api.get("ws"), dict):
        api["ws"]["spot"] = ws + "/ws"
        api["ws"]["margin"] = ws + "/ws"
        api["ws"]["ws-api"]["spot"] = ws + "/ws-api/v3"


def make(mod, srv: SimServer):
    ex = mod.binance({"apiKey": srv.api_key, "secret": srv.api_secret, "options": dict(OPTIONS),
                      "enableRateLimit": False})
    point_at_local(ex, srv.url, srv.ws_url)
    return ex


@pytest.fixture
async def srv():
    s = await start_server(finalize(SimConfig(generator=GeneratorConfig(rate_hz=20, warmup_steps=30))))
    yield s
    await s.close()


async def test_ccxt_async_rest_flow(srv: SimServer) -> None:
    ex = make(ccxt_async, srv)
    try:
        markets = await ex.load_markets()
        assert {"BTC/USDT", "ETH/USDT", "ETH/BTC"} <= set(markets)
        m = markets["BTC/USDT"]
        assert m["active"] and m["precision"]["price"] == 0.01 and m["limits"]["cost"]["min"] == 5
        assert await ex.fetch_time() > 0
        ob = await ex.fetch_order_book("BTC/USDT", 5)
        assert len(ob["bids"]) == 5 and ob["bids"][0][0] < ob["asks"][0][0]
        t = await ex.fetch_ticker("BTC/USDT")
        assert t["bid"] and t["ask"]
        assert await ex.fetch_trades("BTC/USDT", limit=5)
        assert len(await ex.fetch_ohlcv("BTC/USDT", "1m", limit=2)) >= 1
        bal0 = await ex.fetch_balance()
        assert bal0["USDT"]["free"] == 100000
        bid = ob["bids"][0][0]
        o = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, round(bid * 0.95, 2))
        assert o["status"] == "open" and o["id"]
        opens = await ex.fetch_open_orders("BTC/USDT")
        assert [x["id"] for x in opens] == [o["id"]]
        c = await ex.cancel_order(o["id"], "BTC/USDT")
        assert c["status"] == "canceled"
        assert (await ex.fetch_order(o["id"], "BTC/USDT"))["status"] == "canceled"
        assert await ex.fetch_open_orders("BTC/USDT") == []
        f = await ex.create_order("BTC/USDT", "market", "buy", 0.002)
        assert f["status"] == "closed" and f["filled"] == 0.002 and f["fee"]["currency"] == "BTC"
        trades = await ex.fetch_my_trades("BTC/USDT")
        assert {t["order"] for t in trades} == {f["id"]}
        bal1 = await ex.fetch_balance()
        assert bal1["BTC"]["free"] == pytest.approx(1 + 0.002 - 0.000002)
        assert bal1["USDT"]["free"] == pytest.approx(100000 - f["cost"])
        assert len(await ex.fetch_orders("BTC/USDT")) == 2
        with pytest.raises(ccxt.OrderNotFound):
            await ex.cancel_order("123456789", "BTC/USDT")
        ask = (await ex.fetch_order_book("BTC/USDT", 5))["asks"][0][0]
        with pytest.raises(ccxt.OrderImmediatelyFillable):  # LIMIT_MAKER that would take: -2010
            await ex.create_order("BTC/USDT", "LIMIT_MAKER", "buy", 0.001, ask + 100)
        with pytest.raises(ccxt.BadRequest):  # below the NOTIONAL filter: -1013
            await ex.create_order("BTC/USDT", "limit", "buy", 0.00001, round(bid * 0.99, 2))
        with pytest.raises(ccxt.InsufficientFunds):
            await ex.create_order("BTC/USDT", "limit", "buy", 10, round(bid * 0.99, 2))
        with pytest.raises(ccxt.BadSymbol):
            await ex.fetch_order_book("NOPE/USDT")
    finally:
        await ex.close()


async def test_ccxt_pro_watch(srv: SimServer) -> None:
    ex = make(ccxt_pro, srv)
    try:
        await ex.load_markets()
        ob = await asyncio.wait_for(ex.watch_order_book("BTC/USDT"), 5)
        assert ob["bids"] and ob["asks"] and ob["bids"][0][0] < ob["asks"][0][0]
        for _ in range(3):  # diffs keep applying with gap-free ids (ccxt raises ChecksumError otherwise)
            ob = await asyncio.wait_for(ex.watch_order_book("BTC/USDT"), 5)
        trades = await asyncio.wait_for(ex.watch_trades("BTC/USDT"), 10)
        assert trades and trades[0]["symbol"] == "BTC/USDT"
        ticker = await asyncio.wait_for(ex.watch_ticker("ETH/USDT"), 5)
        assert ticker["last"]
        orders_task = asyncio.ensure_future(ex.watch_orders("BTC/USDT"))
        trades_task = asyncio.ensure_future(ex.watch_my_trades("BTC/USDT"))
        balance_task = asyncio.ensure_future(ex.watch_balance())
        await asyncio.sleep(0.3)  # one ws-api userDataStream.subscribe.signature serves all three
        placed = await ex.create_order("BTC/USDT", "market", "buy", 0.001)
        orders = await asyncio.wait_for(orders_task, 5)
        assert orders[-1]["id"] == placed["id"]
        mine = await asyncio.wait_for(trades_task, 5)
        assert mine[-1]["order"] == placed["id"] and mine[-1]["amount"] == 0.001
        balance = await asyncio.wait_for(balance_task, 5)
        assert balance["BTC"]["free"] == pytest.approx(1 + 0.001 - 0.000001)
        while orders[-1]["status"] != "closed":
            orders = await asyncio.wait_for(ex.watch_orders("BTC/USDT"), 5)
        assert orders[-1]["filled"] == 0.001
        # orders over the WebSocket API (order.place / order.cancel on /ws-api/v3)
        ws_fill = await asyncio.wait_for(ex.create_order_ws("BTC/USDT", "market", "sell", 0.001), 5)
        assert ws_fill["status"] == "closed" and ws_fill["filled"] == 0.001
        bid = (await ex.fetch_order_book("BTC/USDT", 5))["bids"][0][0]
        resting = await asyncio.wait_for(ex.create_order_ws("BTC/USDT", "limit", "buy", 0.001, bid - 100), 5)
        assert resting["status"] == "open"
        canceled = await asyncio.wait_for(ex.cancel_order_ws(resting["id"], "BTC/USDT"), 5)
        assert canceled["status"] == "canceled"
    finally:
        with contextlib.suppress(Exception):
            await ex.close()


def test_ccxt_sync_against_threaded_server() -> None:
    """ccxt's synchronous client (requests) against a server on its own thread."""
    from leand.simulator.binance import ThreadedServer

    t = ThreadedServer(finalize(SimConfig(generator=GeneratorConfig(rate_hz=0, warmup_steps=20))))
    ex = make(ccxt, t.server)
    try:
        ex.load_markets()
        ob = ex.fetch_order_book("ETH/USDT", 5)
        o = ex.create_order("ETH/USDT", "limit", "sell", 0.01, ob["asks"][0][0] + 50)
        assert ex.fetch_order(o["id"], "ETH/USDT")["status"] == "open"
        assert ex.cancel_order(o["id"], "ETH/USDT")["status"] == "canceled"
        m = ex.create_order("ETH/USDT", "market", "sell", 0.01)
        assert m["status"] == "closed" and m["fee"]["currency"] == "USDT"
        assert ex.fetch_balance()["ETH"]["free"] == pytest.approx(9.99)
    finally:
        t.stop()
