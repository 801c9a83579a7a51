"""Operating the daemon safely: one daemon per state directory, its own socket only, clear start-up errors,
an honest health answer, and a control socket that refuses bad input without tracebacks."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from daemon_util import ROOT, Daemon, ctl, write_config

pytestmark = pytest.mark.slow


def leand(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leand.cli", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def test_second_daemon_on_same_state_exits_2_and_leaves_the_first_alone(tmp_path: Path) -> None:
    first = Daemon(write_config(tmp_path))
    try:
        first.wait_ready()
        ino = first.sock.stat().st_ino
        p = leand("run", "--config", str(tmp_path / "leand.toml"), cwd=tmp_path)
        assert p.returncode == 2, p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and f"pid {first.proc.pid}" in lines[0] and "in use" in lines[0], p.stderr
        # the second touched nothing: same socket file, and the first still answers and obeys halt
        assert first.sock.stat().st_ino == ino
        code, out, _ = ctl(first.sock, "--json", "status")
        assert code == 0 and json.loads(out)["state"] == "ready"
        code, out, err = ctl(first.sock, "halt")
        assert code == 0, err
        code, out, _ = ctl(first.sock, "--json", "status")
        assert json.loads(out)["trading_state"] == "halted"
    finally:
        assert first.stop() == 0
    assert not first.sock.exists()  # the first removes its own socket at exit


def test_flatten_unknown_symbol_and_log_level_case(tmp_path: Path) -> None:
    d = Daemon(write_config(tmp_path))
    try:
        d.wait_ready()
        code, _, err = ctl(d.sock, "flatten", "NOPE")
        assert code != 0 and "unknown symbol 'NOPE'" in err, err
        code, out, err = ctl(d.sock, "log-level", "DEBUG")
        assert code == 0, err
        code, out, err = ctl(d.sock, "log-level", "Warning")
        assert code == 0, err
        # malformed requests on the socket: a warning line for each, never a traceback, daemon unharmed
        for raw in (b"\x00\xffGARBAGE / HTTP/9\r\n\r\n",
                    b"POST /flatten HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{not json",
                    b"POST /flatten HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n[1]"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(str(d.sock))
            s.sendall(raw)
            s.settimeout(5)
            with contextlib.suppress(OSError):
                s.recv(4096)
            s.close()
        code, out, _ = ctl(d.sock, "--json", "status")
        assert code == 0 and json.loads(out)["state"] == "ready"
    finally:
        d.stop()
    log = (tmp_path / "daemon.log").read_text()  # all of it: orders and fills at info fill the tail quickly
    assert "Traceback" not in log, log[-3000:]
    refused = [json.loads(ln) for ln in log.splitlines() if '"ctl.refused"' in ln]
    assert [r["path"] for r in refused] == ["/flatten"] * 3, refused
    assert "unknown symbol" in refused[0]["error"] and "not JSON" in refused[1]["error"]
    assert "JSON object" in refused[2]["error"] and {r["level"] for r in refused} == {"warning"}


FAILS_IN_ON_DATA = '''
from leand import Strategy, Resolution


class Boom(Strategy):
    def initialize(self):
        self.add_crypto("BTCUSD", Resolution.TICK)

    def on_data(self, data):
        raise RuntimeError("boom in on_data")
'''

FAILS_AT_START = '''
from leand import Strategy


class Broken(Strategy):
    def initialize(self):
        x = {}
        x["missing"]  # line 8
'''


def test_health_is_not_ok_while_a_strategy_has_failed(tmp_path: Path) -> None:
    f = tmp_path / "boom.py"
    f.write_text(FAILS_IN_ON_DATA)
    d = Daemon(write_config(tmp_path, strategy_file=f))
    try:
        d.wait_ready()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 15:
            code, out, _ = ctl(d.sock, "--json", "health")
            h = json.loads(out)
            if h["failed_strategies"]:
                break
            time.sleep(0.1)
        assert h["ok"] is False and h["failed_strategies"] == ["scalper"], h
        assert any("failed" in p for p in h["problems"])
    finally:
        d.stop()


def test_strategy_failing_at_start_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "broken.py"
    f.write_text(FAILS_AT_START)
    cfg = write_config(tmp_path, strategy_file=f)
    p = leand("run", "--config", str(cfg), "--for", "5", cwd=tmp_path)
    assert p.returncode == 2
    err = [ln for ln in p.stderr.splitlines() if ln.startswith("leand run: error")]
    assert len(err) == 1 and f"{f}:8" in err[0] and "KeyError" in err[0], p.stderr
    assert "Traceback" not in p.stderr
    # the state is not held: the next start is possible at once
    ok = write_config(tmp_path)
    assert leand("run", "--config", str(ok), "--check", cwd=tmp_path).returncode == 0


def test_check_loads_every_strategy_and_reports_each_problem(tmp_path: Path) -> None:
    bad_syntax = tmp_path / "syntax.py"
    bad_syntax.write_text("from leand import Strategy\nclass A(Strategy):\n    def initialize(self)\n")
    two = tmp_path / "two.py"
    two.write_text("from leand import Strategy\nclass A(Strategy): pass\nclass B(Strategy): pass\n")
    cfg = tmp_path / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp_path / 'state'}"
[[strategies]]
id = "ok"
file = "{ROOT / 'strategies' / 'paper_scalper.py'}"
[[strategies]]
id = "syntax"
file = "{bad_syntax}"
[[strategies]]
id = "two"
file = "{two}"
[[strategies]]
id = "gone"
file = "{tmp_path / 'nope.py'}"
""")
    p = leand("run", "--config", str(cfg), "--check", cwd=tmp_path)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 3, p.stderr
    assert f"{bad_syntax}:3" in lines[0] and "'syntax'" in lines[0]
    assert "exactly one Strategy subclass" in lines[1] and "'two'" in lines[1]
    assert "file not found" in lines[2] and "'gone'" in lines[2]
    assert not (tmp_path / "state" / "journal.sqlite").exists()  # a check trades nothing, opens nothing


def test_equity_history_and_fills_over_ctl(tmp_path: Path) -> None:
    from leand.live.journal import Journal

    d = Daemon(write_config(tmp_path, extra="equity_interval_s = 0.2"))
    try:
        d.wait_ready()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 20:
            code, out, _ = ctl(d.sock, "--json", "fills")
            if code == 0 and len(json.loads(out)) >= 3:
                break
            time.sleep(0.1)
        fills = json.loads(out)
        assert len(fills) >= 3 and {f["strategy"] for f in fills} == {"scalper"}
        code, out, _ = ctl(d.sock, "--json", "fills", "--limit", "2")
        newest = [f["fill_id"] for f in json.loads(out)]  # the newest two, oldest first (more may have come)
        assert len(newest) == 2 and newest == sorted(newest) and newest[-1] >= fills[-1]["fill_id"]
        code, out, _ = ctl(d.sock, "--json", "equity", "--strategy", "scalper")
        curve = json.loads(out)
        assert code == 0 and len(curve) >= 2 and all(r["scope"] == "strategy" for r in curve)
        assert [r["time_ns"] for r in curve] == sorted(r["time_ns"] for r in curve)
        code, out, _ = ctl(d.sock, "equity", "--account", "paper")
        assert code == 0 and "account" in out and "EQUITY" in out
        code, _, err = ctl(d.sock, "equity", "--strategy", "nobody")
        assert code != 0 and "no strategy 'nobody'" in err
        code, _, err = ctl(d.sock, "fills", "--limit", "0")
        assert code != 0 and "limit" in err
    finally:
        assert d.stop() == 0
    # the last account sample, taken at stop, is the venue's own account
    j = Journal(d.state / "journal.sqlite")
    last = j.equity_history("account", "paper")[-1]
    j.close()
    from leand.simulator.paper import PaperVenue

    v = PaperVenue(d.state / "paper-venue.sqlite", {})
    bal = v.balances()
    v.close()
    assert last["cash"]["USD"] == pytest.approx(bal["USD"], abs=1e-9)
    assert last["positions"].get("BTC", 0.0) == pytest.approx(bal.get("BTC", 0.0), abs=1e-12)
