"""The Binance adapter uses the venue's own order operations, against a real ``leand sim serve`` process and a
real ``leand run``: ``ticket.update`` is one ``POST /api/v3/order/cancelReplace`` (the strategy's order carries on
across both venue orders, journaled under each client order id), a bracket's exits are one OCO order list, and a
restarted daemon adopts what is open with no mismatch."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from leand.adapters.binance.signing import signed_query
from leand.simulator.binance import DEFAULT_API_KEY, DEFAULT_API_SECRET

from .test_adapter_e2e import ENV, ROOT, SimServer, ctl_json, rows, wait_for

pytest.importorskip("leand.simulator.binance")

import sys

sys.path.insert(0, str(ROOT / "tests" / "live"))
from daemon_util import Daemon

pytestmark = pytest.mark.slow
STRATEGY = Path(__file__).parent / "strategies" / "replace_and_bracket.py"


def write_config(tmp: Path, srv: SimServer, bracket: int, order_entry: str = "ws", oco: int = 0) -> Path:
    cfg = tmp / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"

[venue]
kind = "binance"
name = "binance-sim"
symbols = ["BTCUSDT"]
order_entry = "{order_entry}"
{srv.venue_toml()}
[[strategies]]
id = "rb"
file = "{STRATEGY}"
parameters = {{ clip = 0.001, bracket = {bracket}, oco = {oco} }}

[risk.global]
max_order_quantity = 0.01
""")
    return cfg


@pytest.fixture
def sim(tmp_path: Path):
    srv = SimServer(tmp_path)
    yield srv
    srv.stop()


def venue_orders(srv: SimServer) -> list[dict]:
    return srv.get("/api/v3/allOrders", {"symbol": "BTCUSDT"}, signed=True)


def requests(srv: SimServer, rest_path: str, ws_method: str) -> dict[str, int]:
    """How often the venue was asked for one operation, by REST and by the WebSocket API."""
    counts = srv.get("/_sim/stats")["requests"]
    return {"rest": counts.get(rest_path, 0), "ws": counts.get(f"ws-api {ws_method}", 0)}


def test_update_is_one_native_cancel_replace_and_survives_a_restart(tmp_path: Path, sim: SimServer) -> None:
    d = Daemon(write_config(tmp_path, sim, bracket=0), env=ENV)
    try:
        d.wait_ready(20)
        wait_for(lambda: len(venue_orders(sim)) >= 3 and venue_orders(sim)[-1]["origQty"] == "0.00200000", 20,
                 "the order replaced twice at the venue")
        first, second, third = venue_orders(sim)
        base = first["clientOrderId"]
        assert (second["clientOrderId"], third["clientOrderId"]) == (f"{base}:1", f"{base}:2")
        assert [o["status"] for o in (first, second, third)] == ["CANCELED", "CANCELED", "NEW"]
        assert float(second["price"]) < float(first["price"]) and third["price"] == second["price"]
        stats = sim.get("/_sim/stats")["requests"]
        # native: one request per update, over the WebSocket API (the daemon's default order entry)
        assert requests(sim, "/api/v3/order/cancelReplace", "order.cancelReplace") == {"rest": 0, "ws": 2}, stats
        db = d.state / "journal.sqlite"
        wait_for(lambda: dict(rows(db, "SELECT client_order_id, status FROM intents")).get(f"{base}:2") ==
                 "accepted", 10, "the replacement journaled as accepted")
        intents = dict(rows(db, "SELECT client_order_id, status FROM intents"))
        assert intents == {base: "canceled", f"{base}:1": "canceled", f"{base}:2": "accepted"}, intents
        opened = ctl_json(d.sock, "orders")
        assert [(o["client_order_id"], o["quantity"], o["status"]) for o in opened] == \
            [(f"{base}:2", 0.002, "accepted")]
        assert opened[0]["limit_price"] == pytest.approx(float(third["price"]))
        log = (tmp_path / "daemon.log").read_text()
        assert log.count("REPLACED") >= 2 and "strategy.failed" not in log and "UPDATE_REJECTED" not in log
        assert "unknown_outcome" not in log  # each answer was read, not looked up afterwards
        d.kill()  # a crash: the replacement stays open at the venue and is adopted at restart
        d = Daemon(write_config(tmp_path, sim, bracket=0), env=ENV)
        d.wait_ready(20)
        assert ctl_json(d.sock, "status")["mismatches_at_start"] == 0
        opened = ctl_json(d.sock, "orders")
        assert [(o["client_order_id"], o["quantity"]) for o in opened] == [(f"{base}:2", 0.002)]
        assert len(venue_orders(sim)) == 3
    finally:
        if d.proc.poll() is None:
            d.stop()


TAKER_KEY, TAKER_SECRET = "takerKey" + "0" * 56, "takerSecret" + "0" * 53


def taker_order(srv: SimServer, **params: object) -> dict:
    """An order of another account of the venue (the daemon's counterparty)."""
    p = {**params, "timestamp": int(time.time() * 1000)}
    req = urllib.request.Request(f"{srv.url}/api/v3/order?{signed_query(p, TAKER_SECRET)}", method="POST",
                                 headers={"X-MBX-APIKEY": TAKER_KEY})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def two_account_sim(tmp_path: Path) -> SimServer:
    """A sim with the daemon's account and a taker account that trades against it."""
    sim_cfg = tmp_path / "sim.toml"
    sim_cfg.write_text(f"""
[[accounts]]
api_key = "{DEFAULT_API_KEY}"
api_secret = "{DEFAULT_API_SECRET}"
balances = {{ USDT = "100000", BTC = "1" }}
[[accounts]]
api_key = "{TAKER_KEY}"
api_secret = "{TAKER_SECRET}"
balances = {{ USDT = "100000000", BTC = "100" }}
""")
    return SimServer(tmp_path, config=sim_cfg)


def test_bracket_exits_are_one_native_oco_list(tmp_path: Path) -> None:
    sim = two_account_sim(tmp_path)
    d = Daemon(write_config(tmp_path, sim, bracket=1), env=ENV)
    try:
        d.wait_ready(20)
        lists = wait_for(lambda: sim.get("/api/v3/openOrderList", signed=True), 20, "the bracket's exits listed")
        assert len(lists) == 1 and lists[0]["contingencyType"] == "OCO"
        legs = {o["clientOrderId"]: o["orderId"] for o in lists[0]["orders"]}
        assert requests(sim, "/api/v3/orderList/oco", "orderList.place.oco") == {"rest": 0, "ws": 1}
        db = d.state / "journal.sqlite"

        def journaled() -> dict | None:  # the intent log is absorbed into the SQLite table a moment later
            i = {r[0]: (r[1], r[2]) for r in rows(db, "SELECT client_order_id, type, tag FROM intents")}
            return i if set(legs) <= set(i) else None

        intents = wait_for(journaled, 10, "the legs' intents in the journal's table")
        assert sorted(intents[c] for c in legs) == [("limit", "br take-profit"), ("stop_market", "br stop-loss")]
        tp_cid = next(c for c in legs if intents[c][0] == "limit")
        sl_cid = next(c for c in legs if intents[c][0] == "stop_market")
        tp = sim.get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": tp_cid}, signed=True)
        sl = sim.get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": sl_cid}, signed=True)
        assert (tp["type"], sl["type"], tp["side"], sl["side"]) == ("LIMIT_MAKER", "STOP_LOSS", "SELL", "SELL")
        assert not rows(db, "SELECT COUNT(*) FROM intents WHERE emulated = 1")[0][0]  # the venue holds the stop
        d.kill()  # down while the exits rest at the venue: they still protect the position; a restart adopts them
        d = Daemon(write_config(tmp_path, sim, bracket=1), env=ENV)
        d.wait_ready(20)
        assert ctl_json(d.sock, "status")["mismatches_at_start"] == 0
        assert {tp_cid, sl_cid} <= {o["client_order_id"] for o in ctl_json(d.sock, "orders")}
        # another account lifts the take-profit: the venue fills it and ends the stop-loss itself
        taker_order(sim, symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="IOC", quantity="40",
                    price=tp["price"])
        assert sim.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": legs[sl_cid]}, signed=True)["status"] == \
            "EXPIRED"
        st = wait_for(lambda: (s := dict(rows(db, "SELECT client_order_id, status FROM intents")))[sl_cid] ==
                      "canceled" and s, 15, "the stop-loss's end journaled")
        assert st[tp_cid] == "filled"
        log = (tmp_path / "daemon.log").read_text()
        assert "OCO: the other order filled" in log and "strategy.failed" not in log
    finally:
        if d.proc.poll() is None:
            d.stop()
        sim.stop()


@pytest.mark.parametrize("order_entry", ["ws", "rest"])
def test_limit_bracket_is_one_native_otoco_list_across_a_restart(tmp_path: Path, order_entry: str) -> None:
    """A bracket with a limit entry is one OTOCO order list (the WebSocket API's orderList.place.otoco, or
    POST /api/v3/orderList/otoco): the entry rests, the exits wait at the venue (PENDING_NEW) and are placed by it
    when the entry fills. The daemon is killed with the exits working; while it is down the take-profit fills and
    the venue expires the stop-loss; the restart finds all of it (REST: the take-profit fills with the daemon up, and
    the venue, not leand, ends the stop-loss). A first restart comes while the entry works and the exits wait."""
    sim = two_account_sim(tmp_path)
    d = Daemon(write_config(tmp_path, sim, bracket=2, order_entry=order_entry), env=ENV)
    sent = {"rest": 0, "ws": 0} | {order_entry: 1}
    try:
        d.wait_ready(20)
        lists = wait_for(lambda: sim.get("/api/v3/openOrderList", signed=True), 20, "the bracket listed")
        assert len(lists) == 1 and len(lists[0]["orders"]) == 3, lists
        assert requests(sim, "/api/v3/orderList/otoco", "orderList.place.otoco") == sent
        legs = {o["clientOrderId"]: o["orderId"] for o in lists[0]["orders"]}
        db = d.state / "journal.sqlite"

        def journaled() -> dict | None:
            i = {r[0]: (r[1], r[2]) for r in rows(db, "SELECT client_order_id, type, tag FROM intents")}
            return i if set(legs) <= set(i) else None

        intents = wait_for(journaled, 10, "the three legs' intents in the journal's table")
        by_tag = {intents[c][1]: c for c in legs}
        entry_cid, tp_cid, sl_cid = by_tag["br"], by_tag["br take-profit"], by_tag["br stop-loss"]

        def venue(cid: str) -> dict:
            return sim.get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": cid}, signed=True)

        entry = venue(entry_cid)
        assert (entry["status"], venue(tp_cid)["status"], venue(sl_cid)["status"]) == \
            ("NEW", "PENDING_NEW", "PENDING_NEW")
        assert venue(tp_cid)["type"] == "LIMIT_MAKER" and venue(sl_cid)["type"] == "STOP_LOSS"
        assert {o["client_order_id"]: o["status"] for o in ctl_json(d.sock, "orders")}[tp_cid] == "accepted"
        log = (tmp_path / "daemon.log").read_text()
        assert log.count("submitted OTOCO") == 2  # each exit says it waits at the venue
        d.kill()  # down with the entry working and the exits pending: the restart adopts all three
        d = Daemon(write_config(tmp_path, sim, bracket=2, order_entry=order_entry), env=ENV)
        d.wait_ready(20)
        assert ctl_json(d.sock, "status")["mismatches_at_start"] == 0
        assert set(legs) <= {o["client_order_id"] for o in ctl_json(d.sock, "orders")}
        # another account sells into the entry: the venue places the exits
        taker_order(sim, symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="IOC", quantity="40",
                    price=entry["price"])
        wait_for(lambda: venue(tp_cid)["status"] == "NEW" and venue(sl_cid)["status"] == "NEW", 10,
                 "the exits working at the venue")
        wait_for(lambda: dict(rows(db, "SELECT client_order_id, status FROM intents"))[entry_cid] == "filled", 15,
                 "the entry's fill journaled")
        assert requests(sim, "/api/v3/orderList/oco", "orderList.place.oco") == {"rest": 0, "ws": 0}  # nothing more
        if order_entry == "rest":  # the take-profit fills with the daemon up: the venue ends the stop-loss, and the
            # restarted daemon (which learned the list from the venue's open orders) leaves that to it
            taker_order(sim, symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="IOC", quantity="40",
                        price=venue(tp_cid)["price"])
            st = wait_for(lambda: (s := dict(rows(db, "SELECT client_order_id, status FROM intents")))[sl_cid] ==
                          "canceled" and s, 15, "the stop-loss's end journaled")
            assert st[tp_cid] == "filled" and venue(sl_cid)["status"] == "EXPIRED"
            log = (tmp_path / "daemon.log").read_text()
            assert f"pending_cancel  {sl_cid} " not in log  # no cancel from leand: the venue's expiry ended it
            assert "OCO: the other order filled" in log
            return
        d.kill()  # down while the exits work: the take-profit fills, the venue expires the stop-loss
        taker_order(sim, symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="IOC", quantity="40",
                    price=venue(tp_cid)["price"])
        assert (venue(tp_cid)["status"], venue(sl_cid)["status"]) == ("FILLED", "EXPIRED")
        d = Daemon(write_config(tmp_path, sim, bracket=2, order_entry=order_entry), env=ENV)
        d.wait_ready(20)
        # what happened while it was down, and nothing else: the take-profit's fill and the stop-loss's end
        assert ctl_json(d.sock, "status")["mismatches_at_start"] == 2
        found = [json.loads(line) for line in (tmp_path / "daemon.log").read_text().splitlines()
                 if "reconcile.mismatch" in line]
        assert sorted((m["client_order_id"], m["kind"]) for m in found) == [(tp_cid, "fill_recovered"),
                                                                            (sl_cid, "status")], found
        assert not {tp_cid, sl_cid} & {o["client_order_id"] for o in ctl_json(d.sock, "orders")}
        st = wait_for(lambda: (s := dict(rows(db, "SELECT client_order_id, status FROM intents")))[tp_cid] ==
                      "filled" and s, 15, "the take-profit's fill journaled")
        assert st[entry_cid] == "filled" and st[sl_cid] in ("canceled", "expired"), st
        assert requests(sim, "/api/v3/orderList/otoco", "orderList.place.otoco") == sent  # never resent
        log = (tmp_path / "daemon.log").read_text()
        assert "strategy.failed" not in log
    finally:
        if d.proc.poll() is None:
            d.stop()
        sim.stop()


def test_one_cancels_other_on_open_orders_is_emulated_and_survives_a_restart(tmp_path: Path) -> None:
    """Binance cannot link two orders already open: the order manager links them (its events say so, the link is
    journaled). The daemon is killed and restarted; then another account fills the buy and the restarted daemon
    cancels the sell at the venue."""
    sim = two_account_sim(tmp_path)
    d = Daemon(write_config(tmp_path, sim, bracket=0, oco=1), env=ENV)
    try:
        d.wait_ready(20)
        db = d.state / "journal.sqlite"

        def pair() -> dict | None:
            i = {r[1]: r[0] for r in rows(db, "SELECT client_order_id, tag FROM intents")}
            return i if {"oco-buy", "oco-sell"} <= set(i) else None

        cids = wait_for(pair, 20, "the two orders journaled")
        buy_cid, sell_cid = cids["oco-buy"], cids["oco-sell"]
        wait_for(lambda: len(rows(db, "SELECT * FROM links")) == 2, 10, "the link journaled")

        def venue(cid: str) -> dict:
            return sim.get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": cid}, signed=True)

        buy = wait_for(lambda: (o := venue(buy_cid))["status"] == "NEW" and o, 10, "the buy at the venue")
        assert buy["orderListId"] == -1 and venue(sell_cid)["orderListId"] == -1  # no venue list: leand's link
        assert sim.get("/api/v3/openOrderList", signed=True) == []
        log = wait_for(lambda: (t := (tmp_path / "daemon.log").read_text()).count("OCO_EMULATED") == 2 and t, 10,
                       "both orders' events saying the link is leand's")
        d.kill()
        d = Daemon(write_config(tmp_path, sim, bracket=0, oco=1), env=ENV)
        d.wait_ready(20)
        assert ctl_json(d.sock, "status")["mismatches_at_start"] == 0
        assert {buy_cid, sell_cid} <= {o["client_order_id"] for o in ctl_json(d.sock, "orders")}
        taker_order(sim, symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="IOC", quantity="40",
                    price=buy["price"])
        wait_for(lambda: venue(sell_cid)["status"] == "CANCELED", 15, "the restarted daemon canceling the sell")
        st = wait_for(lambda: (s := dict(rows(db, "SELECT client_order_id, status FROM intents")))[sell_cid] ==
                      "canceled" and s, 15, "the sell's cancel journaled")
        assert st[buy_cid] == "filled"
        log = (tmp_path / "daemon.log").read_text()
        assert "OCO: the other order filled" in log and "OCO_BOTH_FILLED" not in log
        assert "strategy.failed" not in log
    finally:
        if d.proc.poll() is None:
            d.stop()
        sim.stop()
