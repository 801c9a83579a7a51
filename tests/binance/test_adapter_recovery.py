"""A Binance trade journaled after a later one of the same symbol, then a crash: the restart recovers it.

An order's answer carries its own trades at once, while the user stream reports a resting order's earlier trade
when it gets to it; a daemon killed in between has the later trade id journaled and not the earlier one. Asking
myTrades only from the journal's highest trade id on would lose the earlier trade forever."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("leand.simulator.binance", reason="the Binance-protocol server (leand.simulator.binance) is not "
                                                "importable: `leand sim serve` is needed for these tests")

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "live")]  # the shared helpers, whatever the import mode

from test_adapter_faults import BTC, INST, order, settle, sim_in_process, started_session, submit, venue_cfg  # noqa: E402

from leand.adapters.binance.execution import REPORT_REORDER_NS, BinanceExecutionClient  # noqa: E402
from leand.live.journal import Journal  # noqa: E402
from leand.live.reports import apply_view, persist_report  # noqa: E402
from leand.model import OrderType  # noqa: E402


async def my_trade_ids(s: BinanceExecutionClient) -> list[int]:
    body = await s.rest.request("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}, signed=True, weight=20)
    return sorted(t["id"] for t in json.loads(body))


@pytest.mark.parametrize("older", [False, True], ids=["window-from-time", "window-from-older-fill"])
async def test_trade_journaled_after_a_later_one_is_recovered_at_restart(tmp_path: Path, older: bool) -> None:
    """``older``: the journal also has a trade from before the window (so the venue is asked from the trade id
    after it); otherwise the window is asked for by time."""
    srv = await sim_in_process()
    s = await started_session(srv, tmp_path)
    j = s.store
    assert isinstance(j, Journal)
    try:
        book = json.loads(await s.rest.request("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5}))
        bid = round(float(book["bids"][0][0]) + 0.01, 2)
        submit(s, order("t-1-1", 0.002, bid))
        await settle(s, lambda out: any(r.status == "accepted" for r, _ in out))
        srv.exchange.crowd_submit("BTCUSDT", -1, 0.002, 0.0, OrderType.MARKET, "")  # fills our resting bid
        submit(s, order("t-1-2", 0.001))  # a market buy: a later trade id
        reps: list = []
        while not (any(r.client_order_id == "t-1-1" and r.fill_quantity for r in reps)
                   and any(r.client_order_id == "t-1-2" and r.status == "filled" for r in reps)):
            reps.append(await s.reports.get())
        first = next(r for r in reps if r.client_order_id == "t-1-1" and r.fill_quantity)
        later = [r for r in reps if r.client_order_id == "t-1-2" and r.fill_quantity]
        assert later and all(r.fill_id > first.fill_id for r in later)
        for r in reps:  # the later trades reach the journal; the daemon dies before the resting order's does
            if r is not first and r.client_order_id == "t-1-2":
                persist_report(j, r)
        if older:  # a trade of an earlier day (id 1: below every trade of this session)
            j.fill(1, "t-0-1", BTC.id, 0.001, 1.0, 0.0, "USDT", "taker", later[0].time_ns - 2 * REPORT_REORDER_NS,
                   "filled")
    finally:
        await s.close()
    assert j.last_fill_id() > first.fill_id and first.fill_id not in j.fill_ids()
    s2 = BinanceExecutionClient(venue_cfg(srv), j, INST, {"api_key": srv.api_key, "api_secret": srv.api_secret})
    try:
        await s2.connect()
        mism = apply_view(j, s2.reconcile())
        assert [(m["kind"], m["fill_id"]) for m in mism if m["kind"] == "fill_recovered"] == [
            ("fill_recovered", first.fill_id)]
        assert sorted(j.fill_ids() - {1} if older else j.fill_ids()) == await my_trade_ids(s2)
        assert not [m for m in apply_view(j, s2.reconcile()) if m["kind"] == "fill_recovered"]  # idempotent
    finally:
        await s2.close()
        await srv.close()


def test_fill_floor_is_the_newest_fill_a_window_older_than_the_newest(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.sqlite")
    w = REPORT_REORDER_NS
    assert j.fill_floor(0, 100, w) == (None, None)
    for fid, t in ((1, 0), (2, w // 2), (5, 2 * w), (7, 3 * w), (6, 2 * w + 5)):  # 7 journaled before 6
        j.fill(fid, "x", BTC.id, 1.0, 1.0, 0.0, "USDT", "taker", t, "filled")
    assert j.fill_floor(0, 100, w) == (5, 3 * w)  # 6 is in the window before the newest, 7; 5 is not
    assert j.fill_floor(0, 5, w) == (None, w // 2)
    assert j.fill_floor(0, 6, w) == (2, 2 * w)
    assert j.fill_floor(1, 2, w) == (None, 0)
