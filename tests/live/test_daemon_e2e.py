"""`leand run` as a real subprocess with the paper venue, driven by `leand ctl`, checked in its SQLite state."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest
from daemon_util import Daemon, ctl, rows, write_config

pytestmark = pytest.mark.slow


def wait_for(fn, timeout=15.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError("condition not met")


@pytest.fixture
def daemon(tmp_path: Path):
    d = Daemon(write_config(tmp_path))
    d.wait_ready()
    yield d
    if d.proc.poll() is None:
        d.stop()


def test_trades_and_answers_ctl(daemon: Daemon) -> None:
    sock, db = daemon.sock, daemon.state / "journal.sqlite"
    wait_for(lambda: rows(db, "SELECT COUNT(*) FROM fills")[0][0] >= 3)
    code, out, _ = ctl(sock, "--json", "status")
    st = json.loads(out)
    assert code == 0 and st["state"] == "ready" and st["strategies"] == {"scalper": "running"}
    code, out, _ = ctl(sock, "status")
    assert code == 0 and "trading_state" in out and "ready" in out
    # balances agree: the strategy's books against the venue's account
    code, out, _ = ctl(sock, "--json", "balances")
    bal = json.loads(out)
    assert code == 0 and set(bal["venue"]) >= {"USD"}
    code, out, _ = ctl(sock, "--json", "strategies")
    assert json.loads(out)[0]["id"] == "scalper"
    for args in (("orders",), ("positions",), ("risk", "show"), ("health",)):
        code, out, err = ctl(sock, *args)
        assert code == 0, (args, err)
    # every intent carries a deterministic id: strategy-boot-sequence
    cids = [r[0] for r in rows(db, "SELECT client_order_id FROM intents")]
    assert cids and all(c.startswith("scalper-1-") for c in cids)


def test_halt_stops_new_orders_and_is_journaled(daemon: Daemon) -> None:
    sock, db = daemon.sock, daemon.state / "journal.sqlite"
    wait_for(lambda: rows(db, "SELECT COUNT(*) FROM intents")[0][0] >= 2)
    code, out, _ = ctl(sock, "--json", "halt", "--reason", "test halt", "--cancel-all")
    assert code == 0 and json.loads(out)["trading_state"] == "halted"
    time.sleep(0.3)
    n = rows(db, "SELECT COUNT(*) FROM intents")[0][0]
    time.sleep(1.0)
    assert rows(db, "SELECT COUNT(*) FROM intents")[0][0] == n  # nothing passes the gate
    assert json.loads(ctl(sock, "--json", "status")[1])["trading_state"] == "halted"
    assert ctl(sock, "resume")[0] == 0
    wait_for(lambda: rows(db, "SELECT COUNT(*) FROM intents")[0][0] > n)
    audit = rows(db, "SELECT who, command, args FROM ctl_audit ORDER BY seq")
    assert [a[1] for a in audit] == ["halt", "resume"]
    assert audit[0][0].startswith(f"uid={os.getuid()} pid=") and "test halt" in audit[0][2]


def test_pause_resume_cancel_all_flatten(daemon: Daemon) -> None:
    sock = daemon.sock
    assert ctl(sock, "strategies", "pause", "scalper")[0] == 0
    code, _, err = ctl(sock, "strategies", "pause", "scalper")
    assert code == 1 and "is paused: cannot pause" in err
    assert ctl(sock, "strategies", "resume", "scalper")[0] == 0
    assert ctl(sock, "orders", "cancel-all")[0] == 0
    assert ctl(sock, "flatten")[0] == 0
    code, _, err = ctl(sock, "orders", "cancel", "nope-1-1")
    assert code == 1 and "no open order" in err
    code, _, err = ctl(sock, "strategies", "stop", "ghost")
    assert code == 1 and "no strategy 'ghost'" in err


def test_bad_requests_get_clear_errors_and_the_daemon_keeps_running(daemon: Daemon) -> None:
    sock = daemon.sock
    code, _, err = ctl(sock, "risk", "set", '{"global": {"max_order_quantity": -5}}')
    assert code == 1 and "global.max_order_quantity = -5" in err
    code, _, err = ctl(sock, "risk", "set", "{not json")
    assert code == 2 and "not JSON" in err
    code, _, err = ctl(sock, "bogus")
    assert code == 2
    # raw malformed HTTP requests on the socket
    for raw in (b"POST /halt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{oops",
                b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", b"garbage\r\n\r\n"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(sock))
        s.sendall(raw)
        reply = s.recv(4096)
        s.close()
        assert reply.startswith(b"HTTP/1.") and (b" 400 " in reply or b" 404 " in reply), reply[:80]
    assert json.loads(ctl(sock, "--json", "status")[1])["state"] == "ready"
    assert ctl(sock, "risk", "set", '{"global": {"max_order_quantity": 2}}')[0] == 0
    assert ctl(sock, "log-level", "debug")[0] == 0


def test_ctl_client_without_permission(daemon: Daemon) -> None:
    """Another user cannot talk to the 0600 socket and gets a clear error; the daemon carries on."""
    if os.getuid() != 0:
        pytest.skip("needs root to act as another user")
    assert oct(daemon.sock.stat().st_mode & 0o777) == "0o600"
    os.chmod(daemon.state, 0o755)  # the directory is not what stops them: the socket's mode is
    from leand import ctl as ctl_module

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: become nobody, run the real client code
        os.close(r)
        sys.stderr = os.fdopen(w, "w")
        os.setgid(65534)
        os.setuid(65534)
        code = ctl_module.main(["--socket", str(daemon.sock), "status"])
        sys.stderr.flush()
        os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    err = os.read(r, 4096).decode()
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 1
    assert "permission denied" in err
    assert ctl(daemon.sock, "status")[0] == 0


def test_ctl_reports_a_missing_daemon(tmp_path: Path) -> None:
    code, _, err = ctl(tmp_path / "none.sock", "status")
    assert code == 3 and "not running" in err


def test_malformed_config_fails_start_with_the_key_path(tmp_path: Path) -> None:
    import subprocess
    import sys

    cfg = tmp_path / "bad.toml"
    cfg.write_text('[venue]\nrate_hz = "fast"\n')
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--config", str(cfg)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 2 and "venue.rate_hz = 'fast'" in p.stderr and "Expected `float`" in p.stderr
    cfg.write_text('[[strategies]]\nid = "a"\nfile = "x.py"\napi_secret = "hunter22"\n')
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--config", str(cfg)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 2 and "secrets may not be written" in p.stderr and "hunter22" not in p.stderr


def test_graceful_stop_cancels_and_restart_reconciles(tmp_path: Path) -> None:
    d = Daemon(write_config(tmp_path))
    d.wait_ready()
    db = d.state / "journal.sqlite"
    wait_for(lambda: rows(db, "SELECT COUNT(*) FROM fills")[0][0] >= 2)
    assert d.stop() == 0
    venue = d.state / "paper-venue.sqlite"
    assert rows(venue, "SELECT COUNT(*) FROM orders WHERE status IN ('accepted','partially_filled')")[0][0] == 0
    assert "daemon.stopped" in d.tail()
    d2 = Daemon(d.cfg)
    d2.wait_ready()
    assert json.loads(ctl(d2.sock, "--json", "status")[1])["boot"] == 2
    d2.stop()


def test_restart_with_a_balance_mismatch_reports_it_and_trades(tmp_path: Path) -> None:
    """A venue balance that disagrees with the journal (changed while the daemon was down) is a reconcile
    mismatch naming the venue and the asset, never a crash at start (a log call once raised TypeError here)."""
    d = Daemon(write_config(tmp_path))
    d.wait_ready()
    assert d.stop() == 0
    venue = d.state / "paper-venue.sqlite"
    import sqlite3

    with sqlite3.connect(venue) as c:
        c.execute("UPDATE balances SET amount = amount + 1 WHERE asset = 'USD'")
    d2 = Daemon(d.cfg)
    d2.wait_ready()
    st = json.loads(ctl(d2.sock, "--json", "status")[1])
    assert st["mismatches_at_start"] >= 1
    lines = [json.loads(x) for x in (d2.cfg.parent / "daemon.log").read_text().splitlines() if "reconcile.mismatch" in x]
    assert any(m.get("kind") == "balance" and m.get("asset") == "USD" and m.get("venue") == "paper"
               and abs(m["at_venue"] - m["journal"] - 1.0) < 1e-6 for m in lines), lines
    assert d2.stop() == 0
