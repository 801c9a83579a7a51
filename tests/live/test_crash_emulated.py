"""SIGKILL while an emulated stop and a bracket are open: after the restart they are armed again with their
types and prices, and each stop triggers once, not twice."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from daemon_util import Daemon, rows, write_config

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent


def config(tmp: Path, volatility: float) -> Path:
    cfg = write_config(tmp, rate_hz=200, strategy_file=HERE / "strategies" / "protective.py")
    text = cfg.read_text().replace("volatility = 0.0005", f"volatility = {volatility}")
    # a venue without stops: the order manager emulates them (the paper venue's book has them natively)
    text = text.replace("[venue]\n", "[venue]\nstarting_balances = { USD = 100000.0, BTC = 1.0 }\n"
                                      "order_types = [\"market\", \"limit\"]\n")
    cfg.write_text(text)
    return cfg


def wait_for(pred, timeout: float = 20.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return
        time.sleep(0.05)
    raise TimeoutError


def test_emulated_stop_and_bracket_survive_sigkill_armed_and_fire_once(tmp_path: Path) -> None:
    cfg = config(tmp_path, volatility=0.000001)  # boot 1: the price barely moves, nothing triggers
    journal = tmp_path / "state" / "journal.sqlite"
    d = Daemon(cfg)
    d.wait_ready()

    def armed() -> bool:
        try:
            return len(rows(journal, "SELECT 1 FROM intents WHERE emulated = 1")) == 2 and \
                len(rows(journal, "SELECT 1 FROM intents")) == 4
        except Exception:
            return False
    wait_for(armed)
    d.kill()
    before = {r[0]: r[1:] for r in rows(journal, "SELECT client_order_id, type, stop_price, triggered, status "
                                                 "FROM intents WHERE emulated = 1")}
    assert sorted(v[0] for v in before.values()) == ["stop_market", "stop_market"]
    assert all(v[2] == 0 for v in before.values()), before

    config(tmp_path, volatility=0.01)  # boot 2: the price runs, the stops fire
    d = Daemon(cfg)
    d.wait_ready()

    def fired() -> bool:
        return len(rows(journal, "SELECT 1 FROM intents WHERE emulated = 1 AND triggered = 1")) >= 1
    wait_for(fired)
    time.sleep(1.0)
    assert d.stop() == 0, d.tail()
    log = (tmp_path / "daemon.log").read_text()
    assert log.count("order.rearmed") == 2, log[-3000:]
    triggers = rows(journal, "SELECT client_order_id, COUNT(*) FROM events WHERE code = 'EMULATED_TRIGGERED' "
                             "GROUP BY client_order_id")
    assert triggers and all(n == 1 for _, n in triggers), triggers
    sent = dict(rows(tmp_path / "state" / "paper-venue.sqlite",
                     "SELECT client_order_id, COUNT(*) FROM submissions GROUP BY client_order_id"))
    for cid, _ in triggers:
        assert sent.get(cid) == 1, (cid, sent)
    after = {r[0]: r[1:] for r in rows(journal, "SELECT client_order_id, type, stop_price FROM intents "
                                                "WHERE emulated = 1")}
    assert {c: v[:2] for c, v in after.items()} == {c: v[:2] for c, v in before.items()}  # type and trigger kept
