"""A native OTOCO bracket across a SIGKILL: the daemon is killed while the entry works and the exits wait at the
venue; after the restart the entry fills in part and is canceled, so the venue ends the waiting exits. The
restarted daemon knows the bracket (journaled) and protects what filled with new exits, once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .test_adapter_e2e import ENV, rows, wait_for
from .test_adapter_orderlists import Daemon, requests, taker_order, two_account_sim, write_config

pytest.importorskip("leand.simulator.binance")
pytestmark = pytest.mark.slow


def test_native_bracket_entry_part_filled_after_restart_gets_new_exits(tmp_path: Path) -> None:
    sim = two_account_sim(tmp_path)
    d = Daemon(write_config(tmp_path, sim, bracket=2), env=ENV)
    try:
        d.wait_ready(20)
        lists = wait_for(lambda: sim.get("/api/v3/openOrderList", signed=True), 20, "the bracket listed")
        legs = {o["clientOrderId"] for o in lists[0]["orders"]}
        db = d.state / "journal.sqlite"

        def tags() -> dict[str, str] | None:
            i = {r[1]: r[0] for r in rows(db, "SELECT client_order_id, tag FROM intents")}
            return i if {"br", "br take-profit", "br stop-loss"} <= set(i) else None

        by_tag = wait_for(tags, 10, "the three legs journaled")
        entry_cid = by_tag["br"]
        assert {entry_cid, by_tag["br take-profit"], by_tag["br stop-loss"]} == legs
        wait_for(lambda: rows(db, "SELECT list, armed FROM brackets WHERE client_order_id = ?", (entry_cid,))
                 == [(1, 0)], 10, "the bracket journaled")
        d.kill()  # down with the entry working and the exits pending at the venue
        d = Daemon(write_config(tmp_path, sim, bracket=2), env=ENV)
        d.wait_ready(20)
        assert "order.bracket_restored" in (tmp_path / "daemon.log").read_text()

        def venue(cid: str) -> dict:
            return sim.get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": cid}, signed=True)

        price = float(venue(entry_cid)["price"])
        above = sum(float(q) for p, q in sim.get("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 1000})["bids"]
                    if float(p) > price)
        taker_order(sim, symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="IOC",
                    quantity=f"{above + 0.0004:.8f}", price=f"{price:.2f}")
        wait_for(lambda: float(venue(entry_cid)["executedQty"]) > 0, 10, "the entry part-filled")
        sim._call("DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": entry_cid}, signed=True)

        def new_exits() -> list[tuple] | None:
            r = rows(db, "SELECT tag, quantity, status FROM intents WHERE tag LIKE 'br %' AND client_order_id "
                         "NOT IN (?, ?)", (by_tag["br take-profit"], by_tag["br stop-loss"]))
            return r if len(r) == 2 else None

        found = wait_for(new_exits, 15, "new exits for the filled part")
        filled = float(venue(entry_cid)["executedQty"])
        assert 0 < filled < 0.001
        assert sorted((t, q) for t, q, _ in found) == [("br stop-loss", -filled), ("br take-profit", -filled)]
        assert requests(sim, "/api/v3/orderList/oco", "orderList.place.oco")["ws"] == 1  # one OCO list, once
        time.sleep(1.0)
        assert new_exits() is not None  # and nothing more
        # armed (pruned once the journal's upkeep has seen it): nothing waits for a restart to arm it again
        assert rows(db, "SELECT armed FROM brackets WHERE client_order_id = ?", (entry_cid,)) in ([(1,)], [])
    finally:
        if d.proc.poll() is None:
            d.stop()
        sim.stop()
