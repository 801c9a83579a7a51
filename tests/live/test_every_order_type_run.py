"""``leand run`` on the embedded paper venue with a strategy that uses every order type and operation: no
strategy fails, and every type reaches the venue or the order manager's emulation and ends as it should."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_every_order_type_runs_live_without_a_failure(tmp_path: Path) -> None:
    cfg = tmp_path / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp_path / 'state'}"
log_format = "json"
[venue]
rate_hz = 50.0
volatility = 0.0005
starting_balances = {{ USD = 100000.0, BTC = 1.0 }}
[[strategies]]
id = "every"
file = "{ROOT / 'strategies' / 'every_order_type.py'}"
parameters = {{ every = 5 }}
""")
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--config", str(cfg), "--for", "10"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    out = p.stdout + p.stderr
    assert "strategy.failed" not in out and "task.failed" not in out and "Traceback" not in out, out[-3000:]
    assert "RISK_TICK_SIZE" not in out
    db = sqlite3.connect(tmp_path / "state" / "journal.sqlite")
    try:
        by_type = {t: dict(db.execute("SELECT status, COUNT(*) FROM intents WHERE type=? GROUP BY status",
                                      (t,)).fetchall())
                   for (t,) in db.execute("SELECT DISTINCT type FROM intents").fetchall()}
        emulated = db.execute("SELECT COUNT(*) FROM intents WHERE emulated = 1").fetchone()[0]
        open_left = db.execute("SELECT COUNT(*) FROM intents WHERE status IN ('new','submitted','accepted',"
                               "'partially_filled','pending_cancel','pending_update')").fetchone()[0]
    finally:
        db.close()
    assert set(by_type) >= {"market", "limit", "stop_market", "stop_limit", "trailing_stop", "limit_if_touched"}
    assert by_type["market"].get("filled", 0) >= 1 and emulated >= 4
    assert open_left == 0  # shutdown cancels what was open, emulated orders included
