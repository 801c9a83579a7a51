"""A strategy that raises is isolated; secrets never reach a log line; SIGHUP reloads the risk limits."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from daemon_util import Daemon, ctl, rows, write_config

pytestmark = pytest.mark.slow

FAILING = '''
import os

from leand import Resolution, Strategy


class Failing(Strategy):
    def initialize(self):
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.n = 0

    def on_data(self, data):
        self.n += 1
        if self.n == 5:
            self.limit_order(self.symbol, 0.01, round(data.ticks[self.symbol][-1].bid_price * 0.8, 2))
        if self.n == 20:
            raise RuntimeError("boom with key " + os.environ["LEAND_TEST_KEY"])
'''


def wait_for(fn, timeout=15.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError


def test_failing_strategy_is_isolated_and_its_secret_redacted(tmp_path: Path) -> None:
    strat = tmp_path / "failing.py"
    strat.write_text(FAILING)
    key = "sk-test-0123456789abcdef"
    cfg = write_config(tmp_path, strategy_file=strat)
    cfg.write_text(cfg.read_text().replace("[venue]", '[venue]\napi_key_env = "LEAND_TEST_KEY"'))
    d = Daemon(cfg, env={"LEAND_TEST_KEY": key})
    d.wait_ready()
    wait_for(lambda: json.loads(ctl(d.sock, "--json", "status")[1])["strategies"]["scalper"] == "failed")
    st = json.loads(ctl(d.sock, "--json", "strategies")[1])[0]
    assert "RuntimeError" in st["error"]
    # its resting order was cancelled per on_error = "cancel"; the daemon is still up and healthy
    wait_for(lambda: rows(d.state / "paper-venue.sqlite",
                          "SELECT COUNT(*) FROM orders WHERE status='canceled'")[0][0] == 1)
    assert json.loads(ctl(d.sock, "--json", "status")[1])["state"] == "ready"
    assert ctl(d.sock, "strategies", "start", "scalper")[0] == 0
    d.stop()
    log = (tmp_path / "daemon.log").read_text()
    assert "strategy.failed" in log and "boom with key" in log
    assert key not in log and "[REDACTED]" in log
    for db in ("journal.sqlite", "paper-venue.sqlite"):
        assert key.encode() not in (d.state / db).read_bytes()


def test_missing_secret_is_a_clear_start_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[venue]", '[venue]\napi_secret_env = "LEAND_NOT_SET"'))
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--config", str(cfg)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 2 and "secret not found: set $LEAND_NOT_SET" in p.stderr


def test_sighup_reloads_risk_limits(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    d = Daemon(cfg)
    d.wait_ready()
    assert json.loads(ctl(d.sock, "--json", "risk", "show")[1])["config"]["global"]["max_order_quantity"] == 1.0
    cfg.write_text(cfg.read_text().replace("max_order_quantity = 1.0", "max_order_quantity = 0.5"))
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: json.loads(ctl(d.sock, "--json", "risk", "show")[1])["config"]["global"]
             ["max_order_quantity"] == 0.5)
    cfg.write_text(cfg.read_text().replace("max_order_quantity = 0.5", "max_order_quantity = -1"))
    code, _, err = ctl(d.sock, "reload")
    assert code == 1 and "nothing changed" in err
    assert json.loads(ctl(d.sock, "--json", "risk", "show")[1])["config"]["global"]["max_order_quantity"] == 0.5
    assert d.stop() == 0


