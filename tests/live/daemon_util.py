"""Start and drive real `leand run` processes for the daemon tests."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp: Path, *, rate_hz: float = 100.0, every: int = 2, extra: str = "",
                 strategy_file: Path | None = None, risk: str = "") -> Path:
    cfg = tmp / "leand.toml"
    strategy = strategy_file or ROOT / "strategies" / "paper_scalper.py"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"
snapshot_interval_s = 0.5
{extra}
[venue]
rate_hz = {rate_hz}
seed = 11
volatility = 0.0005

[[strategies]]
id = "scalper"
file = "{strategy}"
parameters = {{ every = {every}, lookback = 5 }}

[risk.global]
max_order_quantity = 1.0
{risk}
""")
    return cfg


#: every daemon started by a test, so the suite can kill what a failed test left running (see ``reap``)
_STARTED: list[Daemon] = []


def reap() -> int:
    """SIGKILL every daemon a test started and did not stop (a test that failed before its ``stop``); the
    suite's conftest calls this after each test, so no daemon outlives its test. Returns how many it killed."""
    n = 0
    while _STARTED:
        d = _STARTED.pop()
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait(10)
            n += 1
        d.log.close()
    return n


class Daemon:
    def __init__(self, cfg: Path, env: dict[str, str] | None = None, *, per_test: bool = True) -> None:
        """``per_test=False``: the daemon outlives one test (a module fixture stops it), so ``reap`` leaves it."""
        self.cfg = cfg
        self.state = cfg.parent / "state"
        self.sock = self.state / "leand.sock"
        self.log = open(cfg.parent / "daemon.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "leand.cli", "run", "--config", str(cfg)],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=cfg.parent,
                                     env={**os.environ, **(env or {})})
        if per_test:
            _STARTED.append(self)

    def wait_ready(self, timeout: float = 20.0) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}: {self.tail()}")
            if self.sock.exists():
                code, out, _ = ctl(self.sock, "--json", "status")
                if code == 0 and json.loads(out)["state"] == "ready":
                    return time.monotonic() - t0
            time.sleep(0.05)
        raise TimeoutError(f"daemon not ready: {self.tail()}")

    def tail(self) -> str:
        p = self.cfg.parent / "daemon.log"
        return p.read_text()[-3000:] if p.exists() else ""

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self, timeout: float = 30.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self.log.close()
        return code


def ctl(sock: Path, *args: str, preexec=None) -> tuple[int, str, str]:
    p = subprocess.run([sys.executable, "-m", "leand.cli", "ctl", "--socket", str(sock), *args],
                       capture_output=True, text=True, timeout=30, preexec_fn=preexec)
    return p.returncode, p.stdout, p.stderr


def rows(db: Path, sql: str, args: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def wait_for(fn, timeout: float = 15.0, what: str = "condition"):
    """Poll ``fn`` until it returns something true; TimeoutError naming ``what`` otherwise."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError(f"{what} not met within {timeout} s")


def ctl_json(sock: Path, *args: str):
    """``leand ctl --json ARGS``'s answer, asserting it succeeded."""
    code, out, err = ctl(sock, "--json", *args)
    assert code == 0, (args, err)
    return json.loads(out)
