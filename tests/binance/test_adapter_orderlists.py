"""The Binance adapter uses the venue's own order operations, against a real ``leand sim serve`` process and a
real ``leand run``: ``ticket.update`` is one ``POST /api/v3/order/cancelReplace`` (the strategy's order carries on
across both venue orders, journaled under each client order id), a bracket's exits are one OCO order list, and a
restarted daemon adopts what is open with no mismatch."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_adapter_e2e import ENV, KEY_ENV, ROOT, SECRET_ENV, SimServer, ctl_json, rows, wait_for

pytest.importorskip("leand.simulator.binance")

import sys  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "live"))
from daemon_util import Daemon  # noqa: E402

pytestmark = pytest.mark.slow
STRATEGY = Path(__file__).parent / "strategies" / "replace_and_bracket.py"


def write_config(tmp: Path, srv: SimServer, bracket: int) -> Path:
    cfg = tmp / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"

[venue]
kind = "binance"
name = "binance-sim"
symbols = ["BTCUSDT"]
base_url = "{srv.url}"
stream_url = "{srv.ws_url}"
ws_api_url = "{srv.ws_url}/ws-api/v3"
api_key_env = "{KEY_ENV}"
api_secret_env = "{SECRET_ENV}"
reconnect_base_s = 0.1
reconnect_cap_s = 1.0

[[strategies]]
id = "rb"
file = "{STRATEGY}"
parameters = {{ clip = 0.001, bracket = {bracket} }}

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
        assert stats.get("/api/v3/order/cancelReplace") == 2, stats  # native: one request per update
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
