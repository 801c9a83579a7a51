"""Two strategies sharing the paper venue's account in a real daemon: each sees only its allocation, fills and
positions are attributed to the strategy that made them and add up to the account, the account's order rate holds
across both, a per-account halt stops both, over-allocation is a start-up error, and after SIGKILLs nothing is lost
or duplicated and each strategy's books are rebuilt from its allocation and its own fills."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crashlib import assert_clean, verify
from daemon_util import ROOT, Daemon, ctl, ctl_json, rows, wait_for

pytestmark = pytest.mark.slow


def two_strategy_config(tmp: Path, *, alloc_a: str = "0.6", alloc_b: str = "{ USD = 30000 }", risk: str = "",
                        rate_hz: float = 100.0) -> Path:
    cfg = tmp / "leand.toml"
    scalper = ROOT / "strategies" / "paper_scalper.py"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"
snapshot_interval_s = 0.5
equity_interval_s = 0.2

[venue]
rate_hz = {rate_hz}
seed = 11
volatility = 0.0005

[[strategies]]
id = "a"
file = "{scalper}"
parameters = {{ every = 1, lookback = 5 }}
allocation = {alloc_a}

[[strategies]]
id = "b"
file = "{scalper}"
parameters = {{ every = 2, lookback = 3 }}
allocation = {alloc_b}

[risk.global]
max_order_quantity = 1.0
{risk}
""")
    return cfg


def strategy_fills(db: Path) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {"a": [], "b": []}
    for sid, qty, px, fee in rows(db, "SELECT i.strategy, f.quantity, f.price, f.fee FROM fills f JOIN intents i "
                                      "ON i.client_order_id = f.client_order_id"):
        out[sid].append((qty, px, fee))
    return out


def test_two_strategies_share_one_account_by_allocation(tmp_path: Path) -> None:
    d = Daemon(two_strategy_config(tmp_path))
    try:
        d.wait_ready()
        db = d.state / "journal.sqlite"
        wait_for(lambda: all(len(f) >= 2 for f in strategy_fills(db).values()), 20, "fills for both")
        ctl_json(d.sock, "halt", "--cancel-all")
        wait_for(lambda: ctl_json(d.sock, "status")["open_orders"] == 0, 10, "no open orders")
        time.sleep(0.5)
        bal = ctl_json(d.sock, "balances")
        acct = bal["accounts"]["paper"]
        start = json.loads(rows(db, "SELECT value FROM meta WHERE key='starting_balances'")[0][0])
        assert acct["allocations"]["a"]["USD"] == pytest.approx(0.6 * start["USD"])
        assert acct["allocations"]["b"] == {"USD": 30_000.0}
        fills = strategy_fills(db)
        venue = bal["venue"]
        for sid in ("a", "b"):  # each strategy's cash: its allocation plus its own fills, nothing of the other's
            spent = sum(q * p + fee for q, p, fee in fills[sid])
            assert bal["strategies"][sid]["USD"] == pytest.approx(acct["allocations"][sid]["USD"] - spent, abs=1e-6)
        # together they are the account: cash moved and BTC held add up to the venue's
        moved = sum(q * p + fee for f in fills.values() for q, p, fee in f)
        assert venue["USD"] == pytest.approx(start["USD"] - moved, abs=1e-6)
        pos = {(p["strategy"], p["symbol"]): p["quantity"] for p in ctl_json(d.sock, "positions")}
        held = sum(pos.values())
        assert held == pytest.approx(venue.get("BTC", 0.0), abs=1e-12)
        for sid in ("a", "b"):
            assert pos.get((sid, "BTCUSD"), 0.0) == pytest.approx(sum(q for q, _, _ in fills[sid]), abs=1e-12)
        # buying power is the allocation: b cannot buy more than its 30,000
        code, out, _ = ctl(d.sock, "equity", "--strategy", "b")
        assert code == 0
    finally:
        d.stop()


def test_account_order_rate_and_account_halt_cover_both_strategies(tmp_path: Path) -> None:
    d = Daemon(two_strategy_config(tmp_path, risk="[risk.account]\norder_rate_per_second = 2.0\norder_burst = 1"))
    try:
        d.wait_ready()
        db = d.state / "journal.sqlite"
        time.sleep(3.0)
        created = sorted(r[0] for r in rows(db, "SELECT created_ns FROM intents"))
        by = dict(rows(db, "SELECT strategy, COUNT(*) FROM intents GROUP BY strategy"))
        assert by.get("a") and by.get("b"), by  # both trade, and together they keep the account's rate
        for i, t0 in enumerate(created):
            n = sum(1 for t in created[i:] if t - t0 <= 1_000_000_000)
            assert n <= 1 + 2.0 * 1.0 + 1e-9, (n, created)
        log = (tmp_path / "daemon.log").read_text()
        assert "RISK_ACCOUNT_ORDER_RATE" in log
        st = ctl_json(d.sock, "halt", "--account", "paper", "--cancel-all")
        assert st["level"] == "account"
        assert ctl_json(d.sock, "status")["accounts"] == {"paper": "halted"}
        time.sleep(0.5)
        n = rows(db, "SELECT COUNT(*) FROM intents")[0][0]
        time.sleep(1.5)
        assert rows(db, "SELECT COUNT(*) FROM intents")[0][0] == n  # neither strategy sends anything
        code, _, err = ctl(d.sock, "halt", "--account", "nope")
        assert code != 0 and "no account 'nope'" in err
        ctl_json(d.sock, "resume", "--account", "paper")
        wait_for(lambda: rows(db, "SELECT COUNT(*) FROM intents")[0][0] > n, 10, "trading again")
        ctl_json(d.sock, "halt", "--strategy", "a")
        time.sleep(0.5)
        na = dict(rows(db, "SELECT strategy, COUNT(*) FROM intents GROUP BY strategy"))
        time.sleep(1.5)
        nb = dict(rows(db, "SELECT strategy, COUNT(*) FROM intents GROUP BY strategy"))
        assert nb["a"] == na["a"] and nb["b"] > na["b"]  # only a is halted
    finally:
        d.stop()


def test_over_allocation_is_a_start_up_error(tmp_path: Path) -> None:
    cfg = two_strategy_config(tmp_path, alloc_a="0.8", alloc_b="{ USD = 90000 }")
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--config", str(cfg), "--for", "3"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    err = [ln for ln in p.stderr.splitlines() if ln.startswith("leand run: error")]
    assert len(err) == 1 and "allocations of USD add up to" in err[0] and "more than" in err[0], p.stderr
    bad = two_strategy_config(tmp_path, alloc_a="0.7", alloc_b="0.5")
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--config", str(bad), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "add up to more than all of it (a 0.7, b 0.5)" in p.stderr


def test_crash_with_two_strategies_sharing_an_account(tmp_path: Path) -> None:
    cfg = two_strategy_config(tmp_path, rate_hz=200)
    rng = random.Random(20261203)
    for _ in range(6):
        d = Daemon(cfg)
        d.wait_ready()
        time.sleep(rng.uniform(0.05, 0.5))
        d.kill()
    d = Daemon(cfg)
    d.wait_ready()
    time.sleep(0.3)
    db = d.state / "journal.sqlite"
    ctl_json(d.sock, "halt", "--cancel-all")
    wait_for(lambda: ctl_json(d.sock, "status")["open_orders"] == 0, 10, "no open orders")
    time.sleep(0.5)
    bal = ctl_json(d.sock, "balances")
    fills = strategy_fills(db)
    assert d.stop() == 0, d.tail()
    report = verify(d.state)
    assert report["boots"] == 7 and report["fills"] > 5
    assert_clean(report)
    acct = bal["accounts"]["paper"]
    for sid in ("a", "b"):  # allocations reconciled: allocation + own fills, rebuilt after every restart
        spent = sum(q * p + fee for q, p, fee in fills[sid])
        assert bal["strategies"][sid]["USD"] == pytest.approx(acct["allocations"][sid]["USD"] - spent, abs=1e-6)
