"""Two real processes: ``leand sim serve`` (the Binance-protocol venue) and ``leand run`` with the Binance
adapter and the example strategy. Orders are placed and filled; afterwards the venue's account and trades (asked
over REST with the key) and the daemon's books (asked with ``leand ctl``, and its journal) agree exactly, and a
restarted daemon reconciles with no mismatch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.error import URLError

import pytest

pytest.importorskip("leand.simulator.binance", reason="the Binance-protocol server (leand.simulator.binance) is not "
                                                "importable: `leand sim serve` is needed for these tests")

from leand.adapters.binance.signing import signed_query

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "live"))

from daemon_util import Daemon, ctl_json, rows, wait_for  # noqa: E402

from leand.simulator.binance import DEFAULT_API_KEY, DEFAULT_API_SECRET  # noqa: E402

pytestmark = pytest.mark.slow
KEY_ENV, SECRET_ENV = "LEAND_TEST_BINANCE_KEY", "LEAND_TEST_BINANCE_SECRET"
ENV = {KEY_ENV: DEFAULT_API_KEY, SECRET_ENV: DEFAULT_API_SECRET}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SimServer:
    """``leand sim serve`` as a subprocess, with a tiny signed REST client for checking its side."""

    def __init__(self, tmp: Path, seed: int = 3, config: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log = open(tmp / "sim.log", "ab")  # noqa: SIM115 - closed in stop()
        extra = ["--config", str(config)] if config is not None else []
        self.proc = subprocess.Popen([sys.executable, "-m", "leand.cli", "sim", "serve", "--port", str(self.port),
                                      "--seed", str(seed), *extra], stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=tmp)
        t0 = time.monotonic()
        while True:
            try:
                self.get("/api/v3/ping")
                return
            except (URLError, ConnectionError) as e:
                if self.proc.poll() is not None or time.monotonic() - t0 > 15:
                    raise RuntimeError(f"sim server did not start: {(tmp / 'sim.log').read_text()[-2000:]}") from e
                time.sleep(0.05)

    def _call(self, method: str, path: str, params: dict | None = None, signed: bool = False,
              body: dict | None = None):
        p = dict(params or {})
        if signed:
            p["timestamp"] = int(time.time() * 1000)
            q = signed_query(p, DEFAULT_API_SECRET)
        else:
            q = "&".join(f"{k}={v}" for k, v in p.items())
        req = urllib.request.Request(f"{self.url}{path}{'?' + q if q else ''}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"X-MBX-APIKEY": DEFAULT_API_KEY, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def get(self, path: str, params: dict | None = None, signed: bool = False):
        return self._call("GET", path, params, signed)

    def fault(self, **kw) -> dict:
        return self._call("POST", "/_sim/faults", body=kw)

    def balances(self) -> dict[str, float]:
        acct = self.get("/api/v3/account", signed=True)
        return {b["asset"]: float(b["free"]) + float(b["locked"]) for b in acct["balances"]}

    def my_trades(self, symbol: str = "BTCUSDT") -> list[dict]:
        return self.get("/api/v3/myTrades", {"symbol": symbol, "limit": 1000}, signed=True)

    def venue_toml(self) -> str:
        """The lines of a ``[venue]``/``[[venues]]`` table that point the Binance adapter at this server, with
        its key and secret by reference (``ENV``) and quick reconnects."""
        return (f'base_url = "{self.url}"\nstream_url = "{self.ws_url}"\nws_api_url = "{self.ws_url}/ws-api/v3"\n'
                f'api_key_env = "{KEY_ENV}"\napi_secret_env = "{SECRET_ENV}"\n'
                "reconnect_base_s = 0.1\nreconnect_cap_s = 1.0\n")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def write_config(tmp: Path, srv: SimServer, *, every: int = 2, venue_extra: str = "") -> Path:
    cfg = tmp / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"
snapshot_interval_s = 0.5

[venue]
kind = "binance"
name = "binance-sim"
symbols = ["BTCUSDT"]
{srv.venue_toml()}{venue_extra}

[[strategies]]
id = "bnx"
file = "{ROOT / 'strategies' / 'binance_example.py'}"
parameters = {{ every = {every}, lookback = 5, clip = 0.001, max_position = 0.004 }}

[risk.global]
max_order_quantity = 0.01
""")
    return cfg


def quiesce(d: Daemon, srv: SimServer | None = None) -> None:
    """Halt with cancel-all and wait until nothing is open or in flight, and (given the server) until the last
    executionReports and account updates have landed: every venue trade journaled, balances equal."""
    ctl_json(d.sock, "halt", "--reason", "test: compare books", "--cancel-all")
    wait_for(lambda: ctl_json(d.sock, "status")["open_orders"] == 0, 10, "no open orders")
    if srv is None:
        time.sleep(0.5)
        return
    db = d.state / "journal.sqlite"

    def settled() -> bool:
        journaled = {r[0] for r in rows(db, "SELECT venue_fill_id FROM fills")}
        if journaled != {t["id"] for t in srv.my_trades()}:
            return False
        venue, bal = srv.balances(), ctl_json(d.sock, "balances")
        # the daemon's view of the account, and every strategy's books (its task applies the last reports
        # a moment after they are journaled)
        views = [bal["venue"], *bal["strategies"].values()] if len(bal["strategies"]) == 1 else [bal["venue"]]
        return all(abs(v.get(a, 0.0) - venue.get(a, 0.0)) < 1e-6 for v in views for a in ("USDT", "BTC"))
    wait_for(settled, 15, "journal and balances caught up with the venue")


def assert_books_agree(d: Daemon, srv: SimServer, start: dict[str, float]) -> list[dict]:
    """The venue and the daemon agree: trades one for one with the journal, balances three ways (venue
    REST, the daemon's venue view, the strategy's cash book), and the strategy's position."""
    db = d.state / "journal.sqlite"
    trades = srv.my_trades()
    fills = rows(db, "SELECT venue_fill_id, quantity, price, fee, fee_currency FROM fills ORDER BY venue_fill_id")
    assert [f[0] for f in fills] == sorted(t["id"] for t in trades), "journal fills != venue trades"
    by_id = {t["id"]: t for t in trades}
    for fid, qty, px, fee, ccy in fills:
        t = by_id[fid]
        assert qty == pytest.approx(float(t["qty"]) * (1 if t["isBuyer"] else -1), abs=1e-12)
        assert px == pytest.approx(float(t["price"])) and fee == pytest.approx(float(t["commission"]))
        assert ccy == t["commissionAsset"]
    venue = srv.balances()
    bal = ctl_json(d.sock, "balances")
    strat = bal["strategies"]["bnx"]
    for asset in ("USDT", "BTC"):
        assert bal["venue"][asset] == pytest.approx(venue[asset], abs=1e-8), asset
        assert strat[asset] == pytest.approx(venue[asset], abs=1e-6), asset
    net = sum(float(t["qty"]) * (1 if t["isBuyer"] else -1) for t in trades)
    pos = {p["symbol"]: p["quantity"] for p in ctl_json(d.sock, "positions") if p["strategy"] == "bnx"}
    assert pos.get("BTCUSDT", 0.0) == pytest.approx(net, abs=1e-12)
    usdt_flow = sum(-float(t["qty"]) * float(t["price"]) * (1 if t["isBuyer"] else -1) for t in trades)
    usdt_fees = sum(float(t["commission"]) for t in trades if t["commissionAsset"] == "USDT")
    assert venue["USDT"] == pytest.approx(start["USDT"] + usdt_flow - usdt_fees, abs=1e-6)
    return trades


@pytest.fixture
def sim(tmp_path: Path):
    srv = SimServer(tmp_path)
    yield srv
    srv.stop()


def test_daemon_trades_against_leand_sim_serve_and_both_sides_agree(tmp_path: Path, sim: SimServer) -> None:
    start = sim.balances()
    d = Daemon(write_config(tmp_path, sim), env=ENV)
    try:
        d.wait_ready(20)
        db = d.state / "journal.sqlite"
        wait_for(lambda: rows(db, "SELECT COUNT(*) FROM fills")[0][0] >= 6, 15, "6 fills")
        st = ctl_json(d.sock, "status")
        assert st["state"] == "ready" and st["strategies"] == {"bnx": "running"} and st["venue"] == "binance-sim"
        assert st["mismatches_at_start"] == 0
        statuses = dict(rows(db, "SELECT status, COUNT(*) FROM intents GROUP BY status"))
        assert statuses.get("filled", 0) >= 3 and not statuses.get("rejected"), statuses
        cids = [r[0] for r in rows(db, "SELECT client_order_id FROM intents")]
        assert all(c.startswith("bnx-1-") for c in cids)
        quiesce(d, sim)
        trades = assert_books_agree(d, sim, start)
        assert any(t["isBuyer"] for t in trades) and any(not t["isBuyer"] for t in trades)
        assert d.stop() == 0
        log = d.tail()
        assert DEFAULT_API_SECRET not in (tmp_path / "daemon.log").read_text()  # never logged
        # a second boot reconciles against the venue and finds nothing to fix
        d = Daemon(write_config(tmp_path, sim), env=ENV)
        d.wait_ready(20)
        st = ctl_json(d.sock, "status")
        assert st["mismatches_at_start"] == 0, log
        quiesce(d, sim)  # the restarted strategy trades on: compare books once it is halted and settled
        assert ctl_json(d.sock, "balances")["strategies"]["bnx"]["BTC"] == pytest.approx(sim.balances()["BTC"])
    finally:
        if d.proc.poll() is None:
            d.stop()


def test_missing_credentials_fail_clearly(tmp_path: Path, sim: SimServer) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--config", str(write_config(tmp_path, sim))],
                       capture_output=True, text=True, timeout=30, env=env)
    assert p.returncode == 2 and f"${KEY_ENV}" in p.stderr


def test_a_wrong_secret_stops_the_daemon_before_trading(tmp_path: Path, sim: SimServer) -> None:
    env = {**os.environ, **ENV, SECRET_ENV: "not-the-secret-" + "0" * 40}
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--config", str(write_config(tmp_path, sim))],
                       capture_output=True, text=True, timeout=30, env=env)
    assert p.returncode != 0 and "Signature for this request is not valid" in p.stdout + p.stderr
    assert "not-the-secret" not in p.stdout + p.stderr


def test_recorded_binance_session_with_trades_replays_identically(tmp_path: Path, sim: SimServer) -> None:
    """Trades as well as quotes go to the strategy with ``trades = true``: both are recorded, and the
    session replays with every decision matched."""
    import subprocess
    import sys

    from leand.replay.reader import read_frames
    from leand.replay.records import Decision, TradeData

    d = Daemon(write_config(tmp_path, sim, venue_extra="trades = true"), env=ENV)
    try:
        d.wait_ready(20)
        db = d.state / "journal.sqlite"
        wait_for(lambda: rows(db, "SELECT COUNT(*) FROM fills")[0][0] >= 2, 15, "2 fills")
        assert d.stop() == 0, d.tail()
    finally:
        if d.proc.poll() is None:
            d.stop()
    (session,) = [p for p in (d.state / "recordings").iterdir() if p.is_dir()]
    frames = list(read_frames(session))
    assert any(isinstance(f, TradeData) for f in frames), "trade ticks were not recorded"
    decisions = [f for f in frames if isinstance(f, Decision)]
    out = subprocess.run([sys.executable, "-m", "leand.cli", "replay", str(session)], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "match rate: 100.00%" in out.stdout and "first divergence: none" in out.stdout, out.stdout
    assert f"recorded {len(decisions)}, replayed {len(decisions)}" in out.stdout
