"""Binance adapter units, no server needed: signing (the docs' vector), the local book's update-id chaining,
executionReport handling, the weight throttle and the REST client's manners against a scripted stub."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from leand.adapters.binance.book import L2Book, LocalBook, Sync
from leand.adapters.binance.config import BinanceVenueConfig
from leand.adapters.binance.execution import BinanceExecutionClient, Filters, fill_key
from leand.adapters.binance.rest import BinanceError, BinanceRest, UnknownOutcome, WeightThrottle
from leand.adapters.binance.schemas import (
    DepthSnapshot,
    DepthUpdate,
    ExecutionReport,
    Trade,
    market_data_decoder,
)
from leand.adapters.binance.signing import hmac_hex, signed_query, ws_signature
from leand.live.journal import Journal
from leand.model import Instrument, Symbol

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
PAYLOAD = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
           "&timestamp=1499827319559")
SIG = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


# -- signing -----------------------------------------------------------------------------------------------
def test_signing_vector_from_the_docs() -> None:
    assert hmac_hex(SECRET, PAYLOAD) == SIG
    params = {"symbol": "LTCBTC", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1",
              "price": "0.1", "recvWindow": 5000, "timestamp": 1499827319559}
    assert signed_query(params, SECRET) == f"{PAYLOAD}&signature={SIG}"


def test_ws_api_signature_sorts_params_and_skips_signature() -> None:
    p = {"timestamp": 1499827319559, "apiKey": "k", "recvWindow": 5000, "signature": "ignored"}
    assert ws_signature(p, SECRET) == hmac_hex(SECRET, "apiKey=k&recvWindow=5000&timestamp=1499827319559")


# -- local book ----------------------------------------------------------------------------------------------
def diff(first: int, last: int, b=(), a=()) -> DepthUpdate:
    return DepthUpdate(E=0, s="BNBBTC", U=first, u=last, b=list(b), a=list(a))


SNAP = DepthSnapshot(lastUpdateId=160, bids=[("4.00000000", "431.00000000"), ("3.9", "1")],
                     asks=[("4.00000200", "12.00000000")])


_LEVELS = st.lists(st.tuples(st.integers(1, 40).map(lambda i: i / 4), st.sampled_from([0.0, 0.0, 1.0, 2.5, 7.0])),
                   max_size=6)


@settings(max_examples=300)
@given(st.lists(st.tuples(_LEVELS, _LEVELS), max_size=30))
def test_l2book_is_a_sorted_map_of_its_levels(diffs: list) -> None:
    """The book's sides (a dict and a bisect-kept price list) against a plain dict per side: same levels in
    ascending order, the top is the highest bid and lowest ask, a zero size removes its level."""
    book = L2Book()
    ref_b: dict[float, float] = {}
    ref_a: dict[float, float] = {}
    for bids, asks in diffs:
        book.apply(bids, asks)
        for ref, levels in ((ref_b, bids), (ref_a, asks)):
            for p, q in levels:
                if q == 0.0:
                    ref.pop(p, None)
                else:
                    ref[p] = q
        assert book.bids.items() == sorted(ref_b.items()) and book.asks.items() == sorted(ref_a.items())
        b = max(ref_b) if ref_b else 0.0
        a = min(ref_a) if ref_a else 0.0
        assert book.top() == (b, ref_b.get(b, 0.0), a, ref_a.get(a, 0.0))


def test_snapshot_then_diffs_chain_and_stale_ones_drop() -> None:
    bk = LocalBook("BNBBTC")
    assert bk.on_diff(diff(157, 160, b=[("3.8", "5")])) is Sync.BUFFERED  # inside the snapshot: dropped
    assert bk.on_diff(diff(161, 162, b=[("4.00000000", "0")])) is Sync.BUFFERED
    assert bk.on_snapshot(SNAP) is Sync.APPLIED
    assert bk.last_id == 162 and bk.book.top() == (3.9, 1.0, 4.000002, 12.0)
    assert 3.8 not in bk.book.bids
    assert bk.on_diff(diff(150, 161)) is Sync.STALE
    assert bk.on_diff(diff(162, 164, a=[("4.0000015", "2")])) is Sync.APPLIED  # overlaps: U <= id+1 <= u
    assert bk.on_diff(diff(165, 165, b=[("3.95", "7")])) is Sync.APPLIED
    assert bk.book.top() == (3.95, 7.0, 4.0000015, 2.0) and bk.last_id == 165


def test_gap_resets_the_book_and_resyncs() -> None:
    bk = LocalBook("BNBBTC")
    bk.on_snapshot(SNAP)
    assert bk.on_diff(diff(161, 163)) is Sync.APPLIED
    assert bk.on_diff(diff(165, 166)) is Sync.GAP  # 164 was lost
    assert not bk.synced and bk.book.top() == (0.0, 0.0, 0.0, 0.0) and bk.gaps == 1
    assert bk.on_diff(diff(167, 168, b=[("4.1", "1")])) is Sync.BUFFERED
    too_old = DepthSnapshot(lastUpdateId=150, bids=[], asks=[])
    assert bk.on_snapshot(too_old) is Sync.SNAPSHOT_TOO_OLD and not bk.synced
    fresh = DepthSnapshot(lastUpdateId=166, bids=[("4.0", "3")], asks=[("4.2", "1")])
    assert bk.on_snapshot(fresh) is Sync.APPLIED
    assert bk.last_id == 168 and bk.book.top() == (4.1, 1.0, 4.2, 1.0)


def test_a_gap_inside_the_buffer_is_caught_at_snapshot_time() -> None:
    bk = LocalBook("BNBBTC")
    bk.on_diff(diff(161, 162))
    bk.on_diff(diff(164, 165))  # 163 missing
    assert bk.on_snapshot(SNAP) is Sync.GAP and not bk.synced


def test_combined_stream_payloads_decode() -> None:
    dec = market_data_decoder()
    m = dec.decode(b'{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC",'
                   b'"U":157,"u":160,"b":[["0.0024","10"],["0.0023","0.00000000"]],"a":[["0.0026","100"]]}}')
    assert isinstance(m.data, DepthUpdate) and m.data.b == [(0.0024, 10.0), (0.0023, 0.0)]
    trade = (b'{"stream":"bnbbtc@trade","data":{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,'
             b'"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}}')
    m = dec.decode(trade)
    assert isinstance(m.data, Trade) and m.data.m and (m.data.p, m.data.q) == (0.001, 100.0)
    # decimal strings convert to floats; anything else refuses the whole frame
    for bad in (b'"nan"', b'"inf"', b'"-1"', b'"0"', b'"1e400"', b'" 1"', b'"0x10"', b'"abc"', b'null'):
        with pytest.raises(msgspec.ValidationError):
            dec.decode(trade.replace(b'"0.001"', bad))
    with pytest.raises(msgspec.ValidationError):
        dec.decode(trade.replace(b'"100"', b'"0"'))  # a trade of nothing


def test_diffs_waiting_for_a_snapshot_are_bounded() -> None:
    bk = LocalBook("BNBBTC", max_buffer=3)
    assert [bk.on_diff(diff(i, i)) for i in range(161, 164)] == [Sync.BUFFERED] * 3
    assert bk.on_diff(diff(164, 164)) is Sync.OVERFLOW and bk.overflows == 1
    assert [e.U for e in bk.buffer] == [164]  # the sequence starts again at the newest
    assert bk.on_snapshot(SNAP) is Sync.SNAPSHOT_TOO_OLD  # 160 does not reach 163
    fresh = DepthSnapshot(lastUpdateId=163, bids=[("4.0", "3")], asks=[("4.2", "1")])
    assert bk.on_snapshot(fresh) is Sync.APPLIED and bk.last_id == 164


# -- execution reports -------------------------------------------------------------------------------------------
ER = {"e": "executionReport", "E": 1499405658658, "s": "BTCUSDT", "c": "s-1-1", "S": "BUY", "o": "LIMIT",
      "f": "GTC", "q": "1.00000000", "p": "0.10264410", "P": "0.00000000", "F": "0.00000000", "g": -1, "C": "",
      "x": "NEW", "X": "NEW", "r": "NONE", "i": 4293153, "l": "0.00000000", "z": "0.00000000",
      "L": "0.00000000", "n": "0", "N": None, "T": 1499405658657, "t": -1, "v": 3, "I": 8641984, "w": True,
      "m": False, "M": False, "O": 1499405658657, "Z": "0.00000000", "Y": "0.00000000", "Q": "0.00000000",
      "W": 1499405658657, "V": "NONE"}
BTC = Symbol.crypto("BTCUSDT", "binance")
INST = {BTC: Instrument(BTC, quote_currency="USDT", base_currency="BTC", lot_size=1e-5, tick_size=0.01)}


def session(tmp: Path) -> BinanceExecutionClient:
    j = Journal(tmp / "journal.sqlite")
    j.next_boot()
    return BinanceExecutionClient(BinanceVenueConfig(), j, INST, {"api_key": "k", "api_secret": "s"})


def frame(**over) -> bytes:
    return msgspec.json.encode({"subscriptionId": 0, "event": {**ER, **over}})


def drain(q: asyncio.Queue) -> list:
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


def test_execution_report_decodes_the_docs_example() -> None:
    ev = msgspec.json.decode(msgspec.json.encode(ER), type=ExecutionReport)
    assert ev.client_order_id == "s-1-1" and ev.N is None and ev.t == -1


def test_execution_reports_become_one_report_each_in_order(tmp_path: Path) -> None:
    s = session(tmp_path)
    s._on_user_frame(frame())
    s._on_user_frame(frame(x="TRADE", X="PARTIALLY_FILLED", l="0.4", L="0.1", z="0.4", t=77, n="0.0004",
                           N="BTC", m=True))
    s._on_user_frame(frame(x="TRADE", X="FILLED", l="0.6", L="0.11", z="1", t=78, n="0.00006", N="USDT"))
    s._on_user_frame(frame())  # a late duplicate NEW cannot move a filled order back
    s._on_user_frame(b'{"subscriptionId":0,"event":{"e":"balanceUpdate","E":1,"a":"BTC","d":"1","T":1}}')
    reps = drain(s.reports)
    assert [r.status for r in reps] == ["accepted", "partially_filled", "filled"]
    f1, f2 = reps[1], reps[2]
    assert (f1.fill_id, f1.fill_quantity, f1.fill_price, f1.fee, f1.fee_currency, f1.liquidity) == \
        (fill_key(0, 77), 0.4, 0.1, 0.0004, "BTC", "maker")
    assert f2.fill_id == 78 and f2.liquidity == "taker" and f2.client_order_id == "s-1-1"


def test_cancel_report_names_the_original_order_and_sell_fills_are_negative(tmp_path: Path) -> None:
    s = session(tmp_path)
    s._on_user_frame(frame(c="s-1-2", S="SELL"))
    s._on_user_frame(frame(c="s-1-2", S="SELL", x="TRADE", X="PARTIALLY_FILLED", l="0.25", L="5", t=9))
    s._on_user_frame(frame(c="cancelId42", C="s-1-2", S="SELL", x="CANCELED", X="CANCELED"))
    s._on_user_frame(frame(c="s-1-3", x="EXPIRED", X="EXPIRED"))
    reps = drain(s.reports)
    assert [(r.client_order_id, r.status) for r in reps] == [
        ("s-1-2", "accepted"), ("s-1-2", "partially_filled"), ("s-1-2", "canceled"), ("s-1-3", "expired")]
    assert reps[1].fill_quantity == -0.25 and reps[3].reason == "EXPIRED"


def test_account_position_updates_balances_and_terminated_asks_to_resubscribe(tmp_path: Path) -> None:
    s = session(tmp_path)
    ev = {"e": "outboundAccountPosition", "E": 1, "u": 1, "B": [{"a": "BTC", "f": "1.5", "l": "0.5"}]}
    assert s._on_user_frame(msgspec.json.encode({"subscriptionId": 0, "event": ev})) is False
    assert s.balances() == {"BTC": 2.0}
    assert s._on_user_frame(b'{"event":{"e":"eventStreamTerminated","E":1728973001334}}') is True


def test_fills_journaled_once_whatever_the_path(tmp_path: Path) -> None:
    s = session(tmp_path)
    from leand.live.reports import persist_report

    j = s.store
    j.intent("s-1-1", "s", BTC, 1.0, "limit", 0.1, None, "gtc", "", 1, 1)
    s._on_user_frame(frame(x="TRADE", X="FILLED", l="1", L="0.1", z="1", t=5))
    s._on_user_frame(frame(x="TRADE", X="FILLED", l="1", L="0.1", z="1", t=5))  # replayed by the venue
    assert [persist_report(j, r) for r in drain(s.reports)] == [True, False]
    assert j.intents()[0]["status"] == "filled" and len(j.fills()) == 1


def test_order_params_follow_the_symbol_filters(tmp_path: Path) -> None:
    from leand.model import Order, OrderType

    s = session(tmp_path)
    o = Order(id=1, symbol=BTC, quantity=-0.012, type=OrderType.LIMIT, limit_price=20000.123,
              client_order_id="s-1-9")
    p = s.order_params(o)
    assert p == {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
                 "price": "20000.13", "quantity": "0.01200", "newClientOrderId": "s-1-9",
                 "newOrderRespType": "FULL"}
    assert "LOT_SIZE" in s.order_params(Order(id=2, symbol=BTC, quantity=0.0000123, client_order_id="x"))
    f = Filters(tick="0.10000000", step="0.00100000")
    assert f.price(4.0000001, "BUY") == "4.0" and f.quantity(1.0) == "1.000"


# -- throttle and REST manners ------------------------------------------------------------------------------------
def test_weight_throttle_uses_the_header_and_waits_for_the_next_minute() -> None:
    now = [120.0]
    t = WeightThrottle(limit=1000, headroom=0.9, clock=lambda: now[0])
    assert t.delay(20) == 0.0
    t.observe("880")
    assert t.delay(20) == 0.0 and t.delay(21) == pytest.approx(60.05)
    now[0] = 150.0
    assert t.delay(21) == pytest.approx(30.05)
    now[0] = 180.0  # a new minute: the venue's counter restarted
    assert t.delay(500) == 0.0
    t.block(2.5)
    assert t.delay(1) == pytest.approx(2.5)
    now[0] = 183.0
    assert t.delay(1) == 0.0


async def stub_server(script: list[tuple[int, dict[str, str], bytes]]):
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(f"{request.method} {request.path_qs}")
        status, headers, body = script.pop(0) if script else (200, {}, b"{}")
        return web.Response(status=status, headers={"X-MBX-USED-WEIGHT-1M": "7", **headers}, body=body,
                            content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}", hits


async def test_rest_waits_out_429_retries_5xx_reads_and_never_retries_an_unknown_post() -> None:
    err = b'{"code":-1003,"msg":"Too much request weight used"}'
    runner, url, hits = await stub_server([
        (429, {"Retry-After": "0.3"}, err), (503, {}, b"busy"), (200, {}, b'{"serverTime": 1}'),
        (500, {}, b"oops"),
        (400, {}, b'{"code":-2010,"msg":"Account has insufficient balance for requested action."}'),
    ])
    rest = BinanceRest(url, "key", "secret", backoff_base_s=0.05, backoff_cap_s=0.1)
    try:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        assert await rest.request("GET", "/api/v3/time") == b'{"serverTime": 1}'
        assert loop.time() - t0 >= 0.3  # Retry-After honoured
        assert rest.stats["rate_limited"] == 1 and rest.stats["server_errors"] == 1
        assert rest.throttle.used == 7
        with pytest.raises(UnknownOutcome):
            await rest.request("POST", "/api/v3/order", {"symbol": "BTCUSDT"}, signed=True)
        with pytest.raises(BinanceError) as e:
            await rest.request("POST", "/api/v3/order", {"symbol": "BTCUSDT"}, signed=True)
        assert e.value.code == -2010 and e.value.status == 400
        assert len(hits) == 5 and "signature=" in hits[3] and "timestamp=" in hits[3]
    finally:
        await rest.close()
        await runner.cleanup()


async def test_rest_backs_off_on_418_with_retry_after_for_every_request() -> None:
    runner, url, hits = await stub_server([(418, {"Retry-After": "0.2"}, b'{"code":-1003,"msg":"banned"}')])
    rest = BinanceRest(url)
    try:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.gather(rest.request("GET", "/api/v3/ping"), asyncio.sleep(0.01))
        await rest.request("GET", "/api/v3/ping")
        assert loop.time() - t0 >= 0.2 and len(hits) == 3
    finally:
        await rest.close()
        await runner.cleanup()


