"""Two real processes: ``leand sim serve`` and ``leand run`` with ``[venue] kind = "ccxt"`` (ccxt's binance
class pointed at the simulator through ``urls``). Fills match the server's myTrades one for one and balances agree
three ways; then the Binance adapter's fault drill against the ccxt venue (dropped sockets, a skipped depth id,
429/503, an answer lost after execution, delays), after which nothing is lost or applied twice."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ccxt.pro")
pytest.importorskip("leand.simulator.binance")

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "binance"), str(ROOT / "tests" / "live")]

from daemon_util import Daemon, rows  # noqa: E402
from test_adapter_e2e import SimServer, assert_books_agree, ctl_json, quiesce, wait_for  # noqa: E402
from test_adapter_faults import log_events  # noqa: E402

from leand.simulator.binance import DEFAULT_API_KEY, DEFAULT_API_SECRET  # noqa: E402

pytestmark = pytest.mark.slow
KEY_ENV, SECRET_ENV = "LEAND_TEST_CCXT_KEY", "LEAND_TEST_CCXT_SECRET"
ENV = {KEY_ENV: DEFAULT_API_KEY, SECRET_ENV: DEFAULT_API_SECRET}


def write_config(tmp: Path, srv: SimServer, *, every: int = 2, venue_extra: str = "") -> Path:
    cfg = tmp / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"
snapshot_interval_s = 0.5

[venue]
kind = "ccxt"
exchange = "binance"
name = "ccxt-sim"
market = "binance"
symbols = ["BTCUSDT"]
api_key_env = "{KEY_ENV}"
api_secret_env = "{SECRET_ENV}"
rate_limit = false
reconnect_base_s = 0.1
reconnect_cap_s = 1.0
options = {{ fetchMarkets = {{ types = ["spot"] }}, fetchCurrencies = false, fetchMargins = false }}
{venue_extra}

[venue.urls.api]
public = "{srv.url}/api/v3"
private = "{srv.url}/api/v3"
ws = {{ spot = "{srv.ws_url}/ws", margin = "{srv.ws_url}/ws", ws-api = {{ spot = "{srv.ws_url}/ws-api/v3" }} }}

[[strategies]]
id = "bnx"
file = "{ROOT / 'strategies' / 'binance_example.py'}"
parameters = {{ every = {every}, lookback = 5, clip = 0.001, max_position = 0.004 }}

[risk.global]
max_order_quantity = 0.01
""")
    return cfg


@pytest.fixture
def sim(tmp_path: Path):
    srv = SimServer(tmp_path)
    yield srv
    srv.stop()


def test_ccxt_venue_trades_against_leand_sim_serve_and_both_sides_agree(tmp_path: Path, sim: SimServer) -> None:
    start = sim.balances()
    d = Daemon(write_config(tmp_path, sim), env=ENV)
    try:
        d.wait_ready(30)
        db = d.state / "journal.sqlite"
        wait_for(lambda: rows(db, "SELECT COUNT(*) FROM fills")[0][0] >= 6, 20, "6 fills")
        st = ctl_json(d.sock, "status")
        assert st["state"] == "ready" and st["strategies"] == {"bnx": "running"} and st["venue"] == "ccxt-sim"
        assert st["mismatches_at_start"] == 0
        # the engine's deterministic ids are the exchange's client order ids; every one the venue has was
        # journaled first (the intent log reaches journal.sqlite within its absorb interval)
        venue_cids = {o["clientOrderId"] for o in sim.get("/api/v3/allOrders", {"symbol": "BTCUSDT"}, signed=True)}

        def journaled() -> set[str]:
            return {r[0] for r in rows(db, "SELECT client_order_id FROM intents")}
        wait_for(lambda: venue_cids <= journaled(), 5, "venue orders journaled")
        assert venue_cids and all(c.startswith("bnx-1-") for c in journaled())
        quiesce(d, sim)
        trades = assert_books_agree(d, sim, start)
        assert any(t["isBuyer"] for t in trades) and any(not t["isBuyer"] for t in trades)
        assert d.stop() == 0
        assert DEFAULT_API_SECRET not in (tmp_path / "daemon.log").read_text()  # never logged
        d = Daemon(write_config(tmp_path, sim), env=ENV)  # a second boot reconciles and finds nothing to fix
        d.wait_ready(30)
        assert ctl_json(d.sock, "status")["mismatches_at_start"] == 0
    finally:
        if d.proc.poll() is None:
            d.stop()


def test_ccxt_venue_rides_out_drops_gaps_429_5xx_lost_answers_and_delays(tmp_path: Path, sim: SimServer) -> None:
    start = sim.balances()
    d = Daemon(write_config(tmp_path, sim), env=ENV)
    try:
        d.wait_ready(30)
        db = d.state / "journal.sqlite"
        log = tmp_path / "daemon.log"

        def fills() -> int:
            return rows(db, "SELECT COUNT(*) FROM fills")[0][0]

        def seen(event: str, n: int = 1) -> bool:
            return log_events(log).get(event, 0) >= n

        wait_for(lambda: fills() >= 2, 15, "first fills")
        assert sim.fault(drop_ws=True)["dropped"] >= 2  # market data and user data
        wait_for(lambda: seen("ccxt.user.disconnected") and seen("ccxt.reconciled"), 15, "reconnect and reconcile")
        time.sleep(0.3)
        sim.fault(skip_depth_ids=3)
        wait_for(lambda: seen("ccxt.md.gap"), 15, "gap and resync")
        n = fills()
        sim.fault(http_status=429, http_count=2)
        sim.fault(http_status=503, http_count=1, http_mode="before")
        sim.fault(http_status=503, http_count=1, http_mode="after")  # executed, answer lost: looked up
        sim.fault(delay_ms=300, delay_count=4)
        wait_for(lambda: fills() >= n + 3, 20, "trading goes on")
        quiesce(d, sim)
        st = ctl_json(d.sock, "status")
        assert st["strategies"] == {"bnx": "running"}, d.tail()
        ev = log_events(log)
        assert not ev.get("ccxt.task.failed") and not ev.get("strategy.failed"), ev
        assert_books_agree(d, sim, start)
    finally:
        if d.proc.poll() is None:
            d.stop()
