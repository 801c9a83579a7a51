"""The Binance adapter on a bad day at the venue: WebSockets dropped mid-session, a skipped depth update id,
429s and 5xx (including a lost answer to an executed order), slow responses. It reconnects, resyncs the book,
backs off, and no execution report is lost or applied twice (the journal's fills against the venue's myTrades).

The first tests run the server in this process (deterministic: the crowd only moves when told); the last one
runs both ``leand sim serve`` and ``leand run`` as processes and injects the faults over ``/_sim/faults``."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

pytest.importorskip("leand.simulator.binance", reason="the Binance-protocol server (leand.simulator.binance) is not "
                                                "importable: `leand sim serve` is needed for these tests")

import sys

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "live")]  # the shared helpers, whatever the import mode

from daemon_util import Daemon, rows  # noqa: E402
from test_adapter_e2e import (  # noqa: E402
    ENV,
    SimServer,
    assert_books_agree,
    ctl_json,
    quiesce,
    wait_for,
    write_config,
)

from leand.adapters.binance.config import BinanceVenueConfig  # noqa: E402
from leand.adapters.binance.data import BinanceDataClient  # noqa: E402
from leand.adapters.binance.execution import BinanceExecutionClient  # noqa: E402
from leand.live.journal import Journal  # noqa: E402
from leand.live.reports import apply_view, persist_report  # noqa: E402
from leand.model import Instrument, Order, OrderType, ReportKind, Symbol, UpdateRequest  # noqa: E402
from leand.simulator.binance import SimConfig, finalize, start_server  # noqa: E402

BTC = Symbol.crypto("BTCUSDT", "binance")
INST = {BTC: Instrument(BTC, quote_currency="USDT", base_currency="BTC", lot_size=1e-5, tick_size=0.01)}


async def sim_in_process(rate_hz: float = 0.0):
    cfg = SimConfig()
    cfg.generator.rate_hz = rate_hz
    return await start_server(finalize(cfg, "test"), seed=5)


def venue_cfg(srv, order_entry: str = "ws") -> BinanceVenueConfig:
    return BinanceVenueConfig(base_url=srv.url, stream_url=srv.ws_url, ws_api_url=f"{srv.ws_url}/ws-api/v3",
                              reconnect_base_s=0.05, reconnect_cap_s=0.5, order_entry=order_entry)


async def started_session(srv, tmp: Path, order_entry: str = "ws") -> BinanceExecutionClient:
    j = Journal(tmp / "journal.sqlite")
    j.next_boot()
    s = BinanceExecutionClient(venue_cfg(srv, order_entry), j, INST, {"api_key": srv.api_key,
                                                                      "api_secret": srv.api_secret})
    await s.connect()
    apply_view(j, s.reconcile())
    return s


def order(cid: str, qty: float, price: float | None = None) -> Order:
    return Order(id=1, symbol=BTC, quantity=qty, type=OrderType.LIMIT if price else OrderType.MARKET,
                 limit_price=price, client_order_id=cid)


def submit(s: BinanceExecutionClient, o: Order) -> None:
    s.store.intent(o.client_order_id, "t", BTC, o.quantity, o.type.value, o.limit_price, None, "gtc", "", 1, 1)
    s.submit(o, 1)


async def settle(s: BinanceExecutionClient, pred, timeout: float = 5.0) -> list:
    """Persist reports as the daemon would, until ``pred(all_reports)`` holds."""
    out: list = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        while not s.reports.empty():
            r = s.reports.get_nowait()
            out.append((r, persist_report(s.store, r)))
        if pred(out):
            return out
        await asyncio.sleep(0.02)
    raise TimeoutError(f"reports so far: {out}")


def venue_trade_ids(srv) -> list[int]:
    return sorted(t.id for t in srv.exchange.accounts[srv.api_key].trades) if hasattr(
        srv.exchange.accounts[srv.api_key], "trades") else []


@pytest.mark.parametrize("attached", [False, True], ids=["iterated", "attached"])
async def test_gap_in_depth_ids_resyncs_and_the_book_matches_the_venue(tmp_path: Path, attached: bool) -> None:
    """Iterated, the stream awaits the snapshot; attached (the daemon's way: events from the socket's callback),
    its task fetches it while the frames behind the gap wait, in order, and reading pauses."""
    srv = await sim_in_process()
    s = await started_session(srv, tmp_path)
    dc = BinanceDataClient(venue_cfg(srv), INST, s.rest)
    quotes: list = []
    if attached:
        dc.attach(quotes.append)

    async def consume() -> None:
        async for q in dc.stream():
            assert not attached, "an attached client yields nothing"
            quotes.append(q)

    task = asyncio.create_task(consume())
    try:
        await asyncio.wait_for(dc.connected.wait(), 5)
        for _ in range(3):
            srv.step(2)
            srv.flush()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
        assert dc.books["BTCUSDT"].synced and dc.stats["snapshots"] == 1
        srv.exchange.markets["BTCUSDT"].arm_skip(2)
        for _ in range(4):
            srv.step(2)
            srv.flush()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        assert dc.stats["gaps"] == 1 and dc.stats["snapshots"] >= 2 and dc.books["BTCUSDT"].synced
        # the rebuilt book is the venue's book, level for level
        snap = await s.rest.request("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 1000}, weight=50)
        venue = json.loads(snap)
        bk = dc.books["BTCUSDT"]
        assert bk.last_id == venue["lastUpdateId"]
        assert [(float(p), float(q)) for p, q in venue["bids"]] == list(reversed(bk.book.bids.items()))
        assert [(float(p), float(q)) for p, q in venue["asks"]] == list(bk.book.asks.items())
        last = quotes[-1]
        assert (last.bid_price, last.ask_price) == (float(venue["bids"][0][0]), float(venue["asks"][0][0]))
    finally:
        task.cancel()
        await s.close()
        await srv.close()


async def test_an_attached_consumer_that_raises_reopens_the_stream(tmp_path: Path) -> None:
    """What the consumer raises ends the stream with that error, as it ended the daemon's feed task before
    (whose supervisor starts it again): logged, the connection closed; iterated again, it reconnects and
    rebuilds every book from a snapshot, and events go on, each stamped with its socket read's time."""
    srv = await sim_in_process()
    s = await started_session(srv, tmp_path)
    dc = BinanceDataClient(venue_cfg(srv), INST, s.rest)
    quotes: list = []
    boom = [True]

    def sink(q) -> None:
        if boom[0] and quotes:
            boom[0] = False
            raise RuntimeError("strategy host failed")
        quotes.append(q)

    dc.attach(sink)

    failures: list[BaseException] = []

    async def consume() -> None:  # as the daemon's supervisor runs its feed task
        while True:
            try:
                async for _ in dc.stream():
                    pass
            except RuntimeError as e:
                failures.append(e)

    task = asyncio.create_task(consume())
    try:
        await asyncio.wait_for(dc.connected.wait(), 5)
        t0 = time.time_ns()
        for _ in range(20):
            srv.step(2)
            srv.flush()
            await asyncio.sleep(0.05)
            if dc.stats["connects"] >= 2 and len(quotes) >= 3:
                break
        assert not boom[0] and [str(e) for e in failures] == ["strategy host failed"]
        assert dc.stats["connects"] >= 2 and dc.stats["snapshots"] >= 2
        assert len(quotes) >= 3 and dc.books["BTCUSDT"].synced
        assert all(t0 < q.time <= time.time_ns() for q in quotes[1:])
        assert [q.time for q in quotes] == sorted(q.time for q in quotes)
    finally:
        task.cancel()
        await s.close()
        await srv.close()


async def test_lost_answer_to_an_executed_order_is_resolved_not_resent(tmp_path: Path) -> None:
    srv = await sim_in_process()
    s = await started_session(srv, tmp_path, order_entry="rest")
    try:
        srv.faults.http_status, srv.faults.http_count, srv.faults.http_mode = 503, 1, "after"
        submit(s, order("t-1-1", 0.001))
        reps = await settle(s, lambda out: any(r.status == "filled" for r, _ in out))
        assert s.stats["unknown_outcomes"] == 1 and s.rest.stats["server_errors"] == 1
        fills = [r for r, fresh in reps if r.fill_quantity and fresh]
        trades = await s.rest.request("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"}, signed=True, weight=20)
        mine = [o for o in json.loads(trades) if o["clientOrderId"] == "t-1-1"]
        assert len(mine) == 1 and mine[0]["status"] == "FILLED"  # sent once
        assert sum(f.fill_quantity for f in fills) == pytest.approx(0.001)
        assert s.store.intents()[0]["status"] == "filled"
    finally:
        await s.close()
        await srv.close()


async def test_ws_order_whose_connection_drops_before_the_answer_is_resolved_not_resent(tmp_path: Path) -> None:
    """order.place went out on the WS API connection, the venue executed it, and the connection dropped before
    its answer: the order is looked up by its client order id (never sent again) and its fill recovered."""
    srv = await sim_in_process()
    s = await started_session(srv, tmp_path)
    new_order = srv.exchange.new_order

    def executed_then_dropped(*a, **k):
        out = new_order(*a, **k)
        srv.hub.drop_all()  # the answer goes nowhere
        return out

    srv.exchange.new_order = executed_then_dropped
    try:
        submit(s, order("t-1-9", 0.001))
        assert s.stats["ws_orders"] == 1 and s.stats["rest_orders"] == 0  # written to the kept-alive socket
        reps = await settle(s, lambda out: any(r.status == "filled" for r, _ in out))
        srv.exchange.new_order = new_order
        assert s.stats["unknown_outcomes"] == 1
        fills = [r for r, fresh in reps if r.fill_quantity and fresh]
        trades = await s.rest.request("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"}, signed=True, weight=20)
        mine = [o for o in json.loads(trades) if o["clientOrderId"] == "t-1-9"]
        assert len(mine) == 1 and mine[0]["status"] == "FILLED"  # sent once
        assert sum(f.fill_quantity for f in fills) == pytest.approx(0.001)
    finally:
        await s.close()
        await srv.close()


async def best_bid(s: BinanceExecutionClient) -> float:
    body = await s.rest.request("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5}, weight=5)
    return float(json.loads(body)["bids"][0][0])


def bracket_legs(bid: float, qty: float = 0.001, prefix: str = "t-2") -> tuple[Order, Order, Order]:
    """A bracket's three orders as the order manager makes them: a resting limit buy, a take-profit limit sell
    above, a stop-loss sell below."""
    entry = Order(id=1, symbol=BTC, quantity=qty, type=OrderType.LIMIT, limit_price=round(bid * 0.99, 2),
                  client_order_id=f"{prefix}-1")
    tp = Order(id=2, symbol=BTC, quantity=-qty, type=OrderType.LIMIT, limit_price=round(bid * 1.05, 2),
               client_order_id=f"{prefix}-2")
    sl = Order(id=3, symbol=BTC, quantity=-qty, type=OrderType.STOP_MARKET, stop_price=round(bid * 0.95, 2),
               client_order_id=f"{prefix}-3")
    return entry, tp, sl


def journal_legs(s: BinanceExecutionClient, legs: tuple[Order, ...]) -> None:
    for o in legs:
        s.store.intent(o.client_order_id, "t", BTC, o.quantity, o.type.value, o.limit_price, o.stop_price, "gtc",
                       "", 1, 1)


async def test_ws_otoco_whose_answer_is_lost_is_looked_up_not_resent(tmp_path: Path) -> None:
    """orderList.place.otoco went out on the WS API connection, the venue placed the list, and the connection
    dropped before its answer: each leg is looked up by its client order id (the list is never sent again) and
    reported as the venue holds it (the entry working, the exits pending)."""
    srv = await sim_in_process()
    s = await started_session(srv, tmp_path)
    place_oto = srv.exchange.place_oto

    def placed_then_dropped(*a, **k):
        out = place_oto(*a, **k)
        srv.hub.drop_all()  # the answer goes nowhere
        return out

    srv.exchange.place_oto = placed_then_dropped
    try:
        legs = bracket_legs(await best_bid(s))
        journal_legs(s, legs)
        s.submit_otoco(legs, 1)
        assert s.stats["ws_orders"] == 3 and s.inflight == 3  # one frame on the kept-alive socket
        reps = await settle(s, lambda out: {r.client_order_id for r, _ in out if r.status == "accepted"} ==
                            {o.client_order_id for o in legs})
        srv.exchange.place_oto = place_oto
        assert s.stats["unknown_outcomes"] == 1 and not any(r.status == "rejected" for r, _ in reps)
        lists = json.loads(await s.rest.request("GET", "/api/v3/allOrderList", signed=True, weight=20))
        assert len(lists) == 1 and len(lists[0]["orders"]) == 3  # sent once
        assert all(s.in_order_list(o.client_order_id) for o in legs)
    finally:
        await s.close()
        await srv.close()


async def test_ws_order_list_refused_refuses_every_leg(tmp_path: Path) -> None:
    srv = await sim_in_process()
    s = await started_session(srv, tmp_path)
    try:
        legs = bracket_legs(await best_bid(s), qty=1000.0, prefix="t-3")  # past the symbol's notional filter
        journal_legs(s, legs)
        s.submit_otoco(legs, 1)
        reps = await settle(s, lambda out: len(out) == 3)
        assert {(r.client_order_id, r.status) for r, _ in reps} == {(o.client_order_id, "rejected") for o in legs}
        assert all(r.reason == "-1013 Filter failure: NOTIONAL" for r, _ in reps)  # the venue's code and words
        assert s.stats["rest_orders"] == 0 and s.stats["unknown_outcomes"] == 0 and not s.inflight
    finally:
        await s.close()
        await srv.close()


async def test_ws_cancel_replace_whose_answer_is_lost_is_looked_up_not_resent(tmp_path: Path) -> None:
    """order.cancelReplace over the WS API: answered, the update is applied from the answer; the answer lost
    (the connection dropped after the venue replaced the order), both halves are looked up, never resent."""
    srv = await sim_in_process()
    s = await started_session(srv, tmp_path)
    replace = srv.exchange.cancel_replace
    try:
        bid = await best_bid(s)
        o = order("t-4-1", 0.001, round(bid * 0.98, 2))
        submit(s, o)
        await settle(s, lambda out: any(r.status == "accepted" for r, _ in out))
        for n, lose in ((1, False), (2, True)):
            if lose:
                def replaced_then_dropped(*a, **k):
                    out = replace(*a, **k)
                    srv.hub.drop_all()
                    return out

                srv.exchange.cancel_replace = replaced_then_dropped
            new = Order(id=1, symbol=BTC, quantity=0.001, type=OrderType.LIMIT, limit_price=o.limit_price,
                        client_order_id=f"t-4-1:{n}")
            s.store.intent(new.client_order_id, "t", BTC, 0.001, "limit", new.limit_price, None, "gtc", "", 1, 1)
            old = "t-4-1" if n == 1 else "t-4-1:1"
            s.modify(new, UpdateRequest(order_id=1, limit_price=round(bid * (0.97 - 0.01 * n), 2), replaces=old), 1)
            reps = await settle(s, lambda out, c=new.client_order_id: any(
                r.client_order_id == c and r.kind is ReportKind.UPDATE_ACCEPTED for r, _ in out))
            assert any(r.client_order_id == old and r.status == "canceled" for r, _ in reps)
            assert s.stats["unknown_outcomes"] == (1 if lose else 0)
        srv.exchange.cancel_replace = replace
        every = json.loads(await s.rest.request("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"}, signed=True,
                                                weight=20))
        assert [(x["clientOrderId"], x["status"]) for x in every] == [("t-4-1", "CANCELED"), ("t-4-1:1", "CANCELED"),
                                                                     ("t-4-1:2", "NEW")]  # each sent once
        assert s.stats["rest_orders"] == 0
    finally:
        await s.close()
        await srv.close()


async def test_ws_order_entry_answers_and_falls_back_to_rest_while_disconnected(tmp_path: Path) -> None:
    srv = await sim_in_process()
    s = await started_session(srv, tmp_path)
    try:
        submit(s, order("t-1-10", 0.001))
        await settle(s, lambda out: any(r.status == "filled" for r, _ in out))
        assert s.stats["ws_orders"] == 1 and s.stats["unknown_outcomes"] == 0 and not s.inflight
        s.user_connected.clear()  # as while the connection is being reopened
        submit(s, order("t-1-11", -0.001))
        await settle(s, lambda out: any(r.status == "filled" and r.client_order_id == "t-1-11" for r, _ in out))
        assert s.stats["rest_orders"] == 1 and s.stats["ws_orders"] == 1
    finally:
        await s.close()
        await srv.close()


async def test_fill_while_the_user_stream_is_down_is_recovered_once(tmp_path: Path) -> None:
    srv = await sim_in_process()
    s = await started_session(srv, tmp_path)
    try:
        book = json.loads(await s.rest.request("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5}))
        bid = round(float(book["bids"][0][0]) + 0.01, 2)
        submit(s, order("t-1-2", 0.002, bid))
        await settle(s, lambda out: any(r.status == "accepted" for r, _ in out))
        srv.hub.drop_all()
        from leand.model import OrderType as OT

        srv.exchange.crowd_submit("BTCUSDT", -1, 0.002, 0.0, OT.MARKET, "")  # fills us while we are away
        reps = await settle(s, lambda out: any(r.status == "filled" for r, _ in out))
        assert s.stats["user_connects"] == 2 and s.stats["recovered_fills"] >= 1
        fresh = [r for r, f in reps if r.fill_quantity and f]
        assert sum(r.fill_quantity for r in fresh) == pytest.approx(0.002)
        mt = json.loads(await s.rest.request("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}, signed=True,
                                             weight=20))
        assert sorted(f.trade_id for f in s.store.fills()) == sorted(t["id"] for t in mt)
        await asyncio.sleep(0.2)  # anything late from the stream is a duplicate and is dropped
        late = await settle(s, lambda out: True)
        assert not [r for r, f in late if r.fill_quantity and f]
    finally:
        await s.close()
        await srv.close()


def log_events(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in path.read_text().splitlines():
        try:
            ev = json.loads(line).get("event", "")
        except ValueError:
            continue
        counts[ev] = counts.get(ev, 0) + 1
    return counts


def test_daemon_rides_out_drops_gaps_429_5xx_and_delays(tmp_path: Path) -> None:
    sim = SimServer(tmp_path)
    d = None
    try:
        start = sim.balances()
        d = Daemon(write_config(tmp_path, sim), env=ENV)
        d.wait_ready(20)
        db = d.state / "journal.sqlite"
        log = tmp_path / "daemon.log"

        def fills() -> int:
            return rows(db, "SELECT COUNT(*) FROM fills")[0][0]

        def seen(event: str, n: int = 1) -> bool:
            return log_events(log).get(event, 0) >= n

        wait_for(lambda: fills() >= 2, 10, "first fills")
        assert sim.fault(drop_ws=True)["dropped"] >= 2  # market data and user data
        wait_for(lambda: seen("binance.user.subscribed", 2) and seen("binance.md.connected", 2)
                 and seen("binance.reconciled") and seen("binance.md.snapshot", 2), 10, "reconnect and reconcile")
        time.sleep(0.3)  # a skip inside the resync window is covered by the snapshot: no gap to see
        sim.fault(skip_depth_ids=3)
        wait_for(lambda: seen("binance.md.gap") and seen("binance.md.snapshot", 3), 10, "gap and resync")
        n = fills()
        sim.fault(http_status=429, http_count=2)
        wait_for(lambda: seen("binance.rate_limited"), 10, "a 429 seen")
        # "before": the next request is refused, whatever it is (an "after" fault on a cancel of an order that
        # has just filled comes back as the cancel's own -2011); the lost answer is covered in-process above
        sim.fault(http_status=503, http_count=1, http_mode="before")
        wait_for(lambda: seen("binance.order.unknown_outcome") or seen("binance.retry"), 10, "a 5xx seen")
        sim.fault(delay_ms=300, delay_count=4)
        wait_for(lambda: fills() >= n + 3, 15, "trading goes on")
        quiesce(d, sim)
        st = ctl_json(d.sock, "status")
        assert st["strategies"] == {"bnx": "running"}, d.tail()
        ev = log_events(log)
        assert not ev.get("binance.task.failed") and not ev.get("strategy.failed") and not ev.get("task.failed")
        assert_books_agree(d, sim, start)
    finally:
        if d is not None and d.proc.poll() is None:
            d.stop()
        sim.stop()
