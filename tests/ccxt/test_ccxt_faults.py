"""The ccxt execution client against the simulator in this process (deterministic: the crowd moves only when
told): a lost answer to an executed order is looked up, never resent; a 429 is retried after a backoff and the
order goes in once; a fill made while the order stream is down is recovered once, by REST."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

pytest.importorskip("ccxt.pro")
pytest.importorskip("leand.simulator.binance")

from leand.adapters.ccxt.config import CcxtVenueConfig
from leand.adapters.ccxt.execution import CcxtExecutionClient
from leand.live.journal import Journal
from leand.live.reports import apply_view, persist_report
from leand.model import Instrument, Order, OrderType, Symbol
from leand.simulator.binance import SimConfig, finalize, start_server

BTC = Symbol.crypto("BTCUSDT", "binance")
INST = {BTC: Instrument(BTC, quote_currency="USDT", base_currency="BTC", lot_size=1e-5, tick_size=0.01)}


async def sim_in_process():
    cfg = SimConfig()
    cfg.generator.rate_hz = 0.0
    return await start_server(finalize(cfg, "test"), seed=5)


def venue_cfg(srv) -> CcxtVenueConfig:
    ws = {"spot": f"{srv.ws_url}/ws", "margin": f"{srv.ws_url}/ws", "ws-api": {"spot": f"{srv.ws_url}/ws-api/v3"}}
    return CcxtVenueConfig(exchange="binance", market="binance", symbols=["BTCUSDT"], rate_limit=False,
                           reconnect_base_s=0.05, reconnect_cap_s=0.3,
                           options={"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                                    "fetchMargins": False},
                           urls={"api": {"public": f"{srv.url}/api/v3", "private": f"{srv.url}/api/v3", "ws": ws}})


async def started(srv, tmp: Path) -> CcxtExecutionClient:
    j = Journal(tmp / "journal.sqlite")
    j.next_boot()
    c = CcxtExecutionClient(venue_cfg(srv), j, INST, {"api_key": srv.api_key, "api_secret": srv.api_secret})
    await c.connect()
    apply_view(j, c.reconcile())
    return c


def submit(c: CcxtExecutionClient, cid: str, qty: float, price: float | None = None) -> None:
    o = Order(id=1, symbol=BTC, quantity=qty, type=OrderType.LIMIT if price else OrderType.MARKET,
              limit_price=price, client_order_id=cid)
    c.store.intent(cid, "t", BTC, qty, o.type.value, price, None, "gtc", "", 1, 1)
    c.submit(o, 1)


async def settle(c: CcxtExecutionClient, pred, timeout: float = 8.0) -> list:
    out: list = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        while not c.reports.empty():
            r = c.reports.get_nowait()
            out.append((r, persist_report(c.store, r)))
        if pred(out):
            return out
        await asyncio.sleep(0.02)
    raise TimeoutError(f"reports so far: {out}")


def venue_orders(srv, cid: str) -> list:
    acct = srv.exchange.accounts[srv.api_key]
    return [o for o in acct.orders.values() if o.client_order_id == cid] if hasattr(acct, "orders") else []


async def all_orders(c: CcxtExecutionClient) -> list[dict]:
    return await c.exchange.fetch_orders("BTC/USDT")


async def test_lost_answer_to_an_executed_order_is_looked_up_not_resent(tmp_path: Path) -> None:
    srv = await sim_in_process()
    c = await started(srv, tmp_path)
    try:
        srv.faults.http_status, srv.faults.http_count, srv.faults.http_mode = 503, 1, "after"
        submit(c, "t-1-1", 0.001)
        reps = await settle(c, lambda out: any(r.status == "filled" and r.fill_quantity for r, _ in out))
        assert c.stats["unknown_outcomes"] == 1
        mine = [o for o in await all_orders(c) if o["clientOrderId"] == "t-1-1"]
        assert len(mine) == 1 and mine[0]["status"] == "closed"  # sent once
        fills = [r for r, fresh in reps if r.fill_quantity and fresh]
        assert sum(f.fill_quantity for f in fills) == pytest.approx(0.001)
        assert c.store.intents()[0]["status"] == "filled"
    finally:
        await c.close()
        await srv.close()


async def test_429_is_retried_after_a_backoff_and_the_order_goes_in_once(tmp_path: Path) -> None:
    srv = await sim_in_process()
    c = await started(srv, tmp_path)
    try:
        srv.faults.http_status, srv.faults.http_count, srv.faults.http_mode = 429, 2, "before"
        submit(c, "t-1-2", 0.001)
        await settle(c, lambda out: any(r.status == "filled" and r.fill_quantity for r, _ in out))
        assert c.stats["retries"] == 2 and c.stats["unknown_outcomes"] == 0
        mine = [o for o in await all_orders(c) if o["clientOrderId"] == "t-1-2"]
        assert len(mine) == 1
    finally:
        await c.close()
        await srv.close()


async def test_fill_while_the_order_stream_is_down_is_recovered_once(tmp_path: Path) -> None:
    srv = await sim_in_process()
    c = await started(srv, tmp_path)
    try:
        book = await c.exchange.fetch_order_book("BTC/USDT", 5)
        bid = round(book["bids"][0][0] + 0.01, 2)
        submit(c, "t-1-3", 0.002, bid)
        await settle(c, lambda out: any(r.status == "accepted" for r, _ in out))
        srv.hub.drop_all()
        srv.exchange.crowd_submit("BTCUSDT", -1, 0.002, 0.0, OrderType.MARKET, "")  # fills us while we are away
        reps = await settle(c, lambda out: any(r.status == "filled" and r.fill_quantity for r, _ in out))
        assert c.stats["user_reconnects"] >= 1 and c.stats["reconciles"] >= 1
        fresh = [r for r, f in reps if r.fill_quantity and f]
        assert sum(r.fill_quantity for r in fresh) == pytest.approx(0.002)
        mt = await c.exchange.fetch_my_trades("BTC/USDT")
        assert sorted(f.trade_id for f in c.store.fills()) == sorted(int(t["id"]) for t in mt)
        await asyncio.sleep(0.5)  # anything late from the stream is a duplicate and is dropped
        late = await settle(c, lambda out: True)
        assert not [r for r, f in late if r.fill_quantity and f]
    finally:
        await c.close()
        await srv.close()


async def test_reconciliation_with_stream_reports_queued_recovers_the_fill_not_a_queued_report(tmp_path: Path) -> None:
    """Regression (64fcb28): reconciliation once popped its recovered fills back off the front of the report
    queue; a stream report already waiting there went into the view instead (a 0-quantity 'fill', which made a
    restart divide by zero) and was queued again behind the real fill."""
    from leand.model import OrderStatus
    from leand.model.reports import ExecReport

    srv = await sim_in_process()
    c = await started(srv, tmp_path)
    try:
        book = await c.exchange.fetch_order_book("BTC/USDT", 5)
        bid = round(book["bids"][0][0] + 0.01, 2)
        submit(c, "t-1-4", 0.002, bid)
        await settle(c, lambda out: any(r.status == "accepted" for r, _ in out))
        srv.hub.drop_all()
        marker = ExecReport(client_order_id="t-1-4", status=OrderStatus.ACCEPTED, symbol=BTC.id, time_ns=1,
                            reason="queued-before-reconcile")
        c.reports.put_nowait(marker)  # a stream report still waiting when the reconcile runs
        srv.exchange.crowd_submit("BTCUSDT", -1, 0.002, 0.0, OrderType.MARKET, "")
        await c.reconcile_now()  # the reconnect may run one too: the fill is recovered once either way
        reps = await settle(c, lambda out: any(r.status == "filled" and r.fill_quantity for r, _ in out))
        order = [r for r, _ in reps]
        assert order.count(marker) == 1  # neither lost nor repeated ...
        first_fill = next(i for i, r in enumerate(order) if r.fill_quantity)
        assert order.index(marker) < first_fill  # ... nor taken out of the stream's order
        fills = [r for r, fresh in reps if r.fill_quantity and fresh]
        assert sum(r.fill_quantity for r in fills) == pytest.approx(0.002)
        assert all(r.fill_id for r in fills)
    finally:
        await c.close()
        await srv.close()


async def test_an_emulated_order_not_yet_triggered_is_not_looked_up_nor_rejected(tmp_path: Path) -> None:
    """An emulated order (a type the exchange lacks, held by the order manager) is never sent until it triggers:
    a restart's view leaves it to be armed again, and the reconciliations after it (every poll without an order
    stream, every reconnect with one) must not report it REJECTED as NOT_FOUND_AT_VENUE."""
    srv = await sim_in_process()
    j = Journal(tmp_path / "journal.sqlite")
    j.next_boot()
    j.intent("t-1-9", "t", BTC, 0.002, OrderType.LIMIT_IF_TOUCHED.value, 10.0, 10.0, "gtc", "", 1, 1, emulated=True)
    c = CcxtExecutionClient(venue_cfg(srv), j, INST, {"api_key": srv.api_key, "api_secret": srv.api_secret})
    await c.connect()
    try:
        assert apply_view(j, c.reconcile()) == []  # left open, to be armed again
        await c.reconcile_now()
        await c.reconcile_now()
        await asyncio.sleep(0.2)
        reps = await settle(c, lambda out: True)
        assert not [r for r, _ in reps if r.client_order_id == "t-1-9"], reps
        assert [i["status"] for i in j.open_intents()] == ["new"]
        assert "t-1-9" not in c._orders  # not the adapter's to follow until the order manager sends it
    finally:
        await c.close()
        await srv.close()


async def test_an_order_canceled_while_the_stream_is_down_is_reported_by_the_reconciliation(tmp_path: Path) -> None:
    """An order canceled at the venue while the order stream delivers nothing: the reconciliation's snapshot sees
    it canceled, and reconcile_now reports it (once), so the daemon closes it instead of keeping it open."""
    srv = await sim_in_process()
    c = await started(srv, tmp_path)
    try:
        book = await c.exchange.fetch_order_book("BTC/USDT", 5)
        submit(c, "t-1-5", 0.002, round(book["bids"][0][0] * 0.9, 2))
        await settle(c, lambda out: any(r.status == "accepted" for r, _ in out))
        for t in c._user_tasks:  # the order stream delivers nothing from here on
            t.cancel()
        await asyncio.sleep(0.1)
        assert (await c.exchange.cancel_order("", "BTC/USDT", {"clientOrderId": "t-1-5"}))["status"] == "canceled"
        await c.reconcile_now()
        await c.reconcile_now()
        reps = await settle(c, lambda out: True)
        assert [(r.client_order_id, str(r.status)) for r, _ in reps] == [("t-1-5", "canceled")], reps
        assert [i["status"] for i in c.store.intents()] == ["canceled"]
    finally:
        await c.close()
        await srv.close()
