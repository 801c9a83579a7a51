"""An emulated order across a SIGKILL on the Binance venue: a limit-if-touched (a type Binance lacks, held by the
order manager and never sent until it triggers) is armed, the daemon is killed and restarted, and the user-data
stream then drops. The reconnect's reconciliation must not look the order up at the venue (it was never sent)
and reject it as ``NOT_FOUND_AT_VENUE``: it stays open, armed, in the journal and in the order manager.

Real ``leand sim serve`` and ``leand run`` processes, as the other daemon tests of this folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from .test_adapter_e2e import ENV, SimServer, ctl_json, rows, wait_for
from .test_adapter_faults import log_events
from .test_adapter_orderlists import Daemon

pytest.importorskip("leand.simulator.binance")
pytestmark = pytest.mark.slow
STRATEGY = Path(__file__).parent / "strategies" / "emulated_wait.py"


def write_config(tmp: Path, srv: SimServer) -> Path:
    cfg = tmp / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"

[venue]
kind = "binance"
name = "binance-sim"
symbols = ["BTCUSDT"]
{srv.venue_toml()}
[[strategies]]
id = "ew"
file = "{STRATEGY}"
""")
    return cfg


def test_emulated_order_survives_a_restart_and_a_reconnect(tmp_path: Path) -> None:
    sim = SimServer(tmp_path)
    cfg = write_config(tmp_path, sim)
    d = Daemon(cfg, env=ENV)
    try:
        d.wait_ready(20)
        db = d.state / "journal.sqlite"
        found = wait_for(lambda: rows(db, "SELECT client_order_id, type, status FROM intents WHERE emulated = 1"),
                         20, "the emulated order journaled")
        (cid, kind, status), = found
        assert kind == "limit_if_touched" and status in ("new", "submitted", "accepted"), found
        d.kill()
        d = Daemon(cfg, env=ENV)
        d.wait_ready(20)
        log = tmp_path / "daemon.log"
        assert log_events(log).get("order.rearmed") == 1, d.tail()
        reconciled = log_events(log).get("binance.reconciled", 0)
        assert sim.fault(drop_ws=True)["dropped"] >= 1  # the user-data stream: a reconnect reconciles
        wait_for(lambda: log_events(log).get("binance.reconciled", 0) > reconciled, 15, "a reconnect reconciled")
        time.sleep(0.5)  # a report the reconciliation pushed is journaled and applied by now
        text = log.read_text()
        assert "NOT_FOUND_AT_VENUE" not in text, [ln for ln in text.splitlines() if "NOT_FOUND" in ln][:3]
        assert rows(db, "SELECT status FROM intents WHERE client_order_id = ?", (cid,)) == [(status,)]
        assert [o["client_order_id"] for o in ctl_json(d.sock, "orders")] == [cid]  # still held, armed
        assert json.dumps(sim.get("/api/v3/allOrders", {"symbol": "BTCUSDT"}, signed=True)).count(cid) == 0
        assert d.stop() == 0, d.tail()
    finally:
        if d.proc.poll() is None:
            d.stop()
        sim.stop()
