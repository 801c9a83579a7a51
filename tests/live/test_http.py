"""`[http]`: a real daemon's /metrics parsed with Prometheus' own parser, and the token-protected JSON API."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from daemon_util import Daemon, ctl, rows, write_config
from http_util import free_port, http
from prometheus_client.parser import text_string_to_metric_families

from leand.live.config import ConfigError, HttpConfig, parse_config
from leand.live.http.server import is_loopback
from leand.live.http.token import TokenError, load_token

pytestmark = pytest.mark.slow


def scrape(base: str) -> dict[str, dict[tuple, float]]:
    code, body, headers = http(base + "metrics")
    assert code == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    out: dict[str, dict[tuple, float]] = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def total(m: dict, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for k, v in m.get(name, {}).items() if want <= set(k))


def wait_for(fn, timeout: float = 15.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise TimeoutError("condition not met")


def test_metrics_and_the_token_protected_api(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    d = Daemon(write_config(tmp_path, extra=f'[http]\nlisten = "127.0.0.1:{port}"\n'),
               env={"LEAND_HTTP_TOKEN": ""})
    try:
        d.wait_ready()
        # the token was generated into the state directory, owner-only, and printed once
        tok_file = d.state / "http-token"
        assert stat.S_IMODE(tok_file.stat().st_mode) == 0o600
        token = tok_file.read_text().strip()
        log = (tmp_path / "daemon.log").read_text()
        assert log.count(token) == 2  # the token line and the dashboard link, on stderr; never in a log line
        assert all(token not in line for line in log.splitlines() if line.startswith("{"))

        db = d.state / "journal.sqlite"
        wait_for(lambda: rows(db, "SELECT COUNT(*) FROM fills")[0][0] >= 2)
        m1 = scrape(base)
        submitted1 = total(m1, "leand_orders_total", strategy="scalper", status="submitted")
        assert submitted1 >= 2
        assert total(m1, "leand_fills_total", strategy="scalper", symbol="BTCUSD") >= 2
        assert total(m1, "leand_feed_messages_total", symbol="BTCUSD") > 0
        assert total(m1, "leand_risk_decisions_total", code="APPROVED") >= submitted1
        assert m1["leand_trading_state"][(("state", "active"), ("strategy", "scalper"))] == 1.0
        assert m1["leand_level_trading_state"][(("level", "global"), ("state", "active"))] == 1.0
        assert total(m1, "leand_equity", strategy="scalper") > 0
        assert total(m1, "leand_account_equity") > 0
        assert total(m1, "leand_tick_to_order_seconds_count") >= 1
        assert total(m1, "leand_venue_round_trip_seconds_count") >= 1
        assert total(m1, "leand_journal_write_seconds_count") >= 1
        assert "leand_loop_lag_seconds_bucket" in m1 and "leand_queue_depth" in m1
        assert "leand_reconnects_total" in m1 and "leand_feed_staleness_seconds" in m1
        # the counters move as orders are made
        wait_for(lambda: total(scrape(base), "leand_orders_total", strategy="scalper",
                               status="submitted") > submitted1 + 2)
        m2 = scrape(base)
        assert total(m2, "leand_order_events_total", strategy="scalper") > \
            total(m1, "leand_order_events_total", strategy="scalper")
        assert total(m2, "leand_feed_messages_total") > total(m1, "leand_feed_messages_total")

        # open: /metrics and /healthz, and the static page; everything else needs the token
        assert http(base + "healthz")[0] == 200
        for path in ("api/status", "api/strategies", "api/orders", "api/fills", "api/positions", "api/balances",
                     "api/equity", "api/risk", "api/stream"):
            code, body, headers = http(base + path)
            assert code == 401 and headers.get("WWW-Authenticate", "").startswith("Bearer"), path
            assert http(base + path, token="wrong" + token)[0] == 401
        assert http(base + "api/halt", method="POST", body={})[0] == 401
        code, body, _ = http(base + "api/status", token=token)
        st = json.loads(body)
        _, ctl_out, _ = ctl(d.sock, "--json", "status")
        assert code == 200 and st["state"] == "ready" and st["strategies"] == json.loads(ctl_out)["strategies"]
        for path in ("api/strategies", "api/orders", "api/positions", "api/balances", "api/risk", "api/latency"):
            assert http(base + path, token=token)[0] == 200, path
        code, body, _ = http(base + "api/fills?limit=3", token=token)
        fills = json.loads(body)
        assert code == 200 and 1 <= len(fills) <= 3 and fills[0]["strategy"] == "scalper"
        wait_for(lambda: json.loads(http(base + "api/equity", token=token)[1]))
        assert http(base + "api/fills?limit=x", token=token)[0] == 400

        # halt over HTTP: journaled like the ctl command, and ctl agrees
        code, body, _ = http(base + "api/halt", token=token, method="POST", body={"reason": "from a test"})
        assert code == 200
        wait_for(lambda: json.loads(ctl(d.sock, "--json", "status")[1])["trading_state"] == "halted")
        audit = rows(db, "SELECT who, command, args FROM ctl_audit")
        assert audit[-1][0] == "http 127.0.0.1" and audit[-1][1] == "halt" and "from a test" in audit[-1][2]
        wait_for(lambda: scrape(base)["leand_trading_state"][(("state", "halted"), ("strategy", "scalper"))] == 1)
        assert http(base + "api/resume", token=token, method="POST", body={})[0] == 200
        wait_for(lambda: json.loads(ctl(d.sock, "--json", "status")[1])["trading_state"] == "active")
    finally:
        if d.proc.poll() is None:
            assert d.stop() == 0
    # orders and fills are in the structured log at info level
    events = [json.loads(line) for line in (tmp_path / "daemon.log").read_text().splitlines() if line.startswith("{")]
    kinds = {e["event"] for e in events if e.get("level") == "info"}
    assert {"order.submitted", "order.fill", "http.listening"} <= kinds


def test_a_port_in_use_is_one_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        d = Daemon(write_config(tmp_path, extra=f'[http]\nlisten = "127.0.0.1:{port}"\n'))
        code = d.proc.wait(30)
        d.log.close()
    assert code == 2 and f"127.0.0.1:{port}" in d.tail(), d.tail()
    assert not (d.state / "journal.sqlite").exists()  # refused before anything was touched


def test_token_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = HttpConfig()
    monkeypatch.delenv("LEAND_HTTP_TOKEN", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    tok, src, generated = load_token(cfg, tmp_path / "state")
    assert generated and len(tok) >= 32 and src.endswith("http-token")
    assert stat.S_IMODE((tmp_path / "state" / "http-token").stat().st_mode) == 0o600
    assert load_token(cfg, tmp_path / "state") == (tok, src, False)  # generated once, then read back
    monkeypatch.setenv("LEAND_HTTP_TOKEN", "from-the-environment")
    assert load_token(cfg, tmp_path / "state")[:2] == ("from-the-environment", "$LEAND_HTTP_TOKEN")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "leand-http-token").write_text("from-a-credential\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert load_token(cfg, tmp_path / "state")[0] == "from-a-credential"
    monkeypatch.delenv("LEAND_HTTP_TOKEN")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    os.chmod(tmp_path / "state" / "http-token", 0o644)
    with pytest.raises(TokenError, match="chmod 600"):
        load_token(cfg, tmp_path / "state")


def test_http_config_and_loopback() -> None:
    assert parse_config({"http": {}}).http.listen == "127.0.0.1:8780"
    assert parse_config({}).http is None
    with pytest.raises(ConfigError, match=r"http\.listen = '8780'"):
        parse_config({"http": {"listen": "8780"}})
    with pytest.raises(ConfigError, match=r"http\.token"):
        parse_config({"http": {"token": "abc"}})  # secrets never in the file
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1") and not is_loopback("example.org")
