"""SIGKILL while a bracket's entry is still working: the bracket is journaled, so after the restart its exits
are armed once, with their prices, when the entry fills (after the restart, or while leand was down)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from daemon_util import Daemon, rows, write_config

from leand.model import Instrument, QuoteTick, Symbol
from leand.simulator.paper import PaperVenue

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
BTC = Symbol.crypto("BTCUSD")


def config(tmp: Path, volatility: float) -> Path:
    cfg = write_config(tmp, rate_hz=200, strategy_file=HERE / "strategies" / "bracket_wait.py")
    text = cfg.read_text().replace("volatility = 0.0005", f"volatility = {volatility}")
    # a venue without stops: the stop-loss exit is emulated by the order manager
    text = text.replace("[venue]\n", "[venue]\nstarting_balances = { USD = 100000.0, BTC = 1.0 }\n"
                                      "order_types = [\"market\", \"limit\"]\n")
    cfg.write_text(text)
    return cfg


def wait_for(pred, timeout: float = 30.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            if pred():
                return
        except Exception:  # the journal is being created
            pass
        time.sleep(0.05)
    raise TimeoutError


def entry_working(tmp: Path) -> tuple[str, float, float, float]:
    """Boot 1: the price barely moves, the bracket's entry rests; killed then. Its client id, limit and exits."""
    cfg = config(tmp, volatility=0.000001)
    journal = tmp / "state" / "journal.sqlite"
    d = Daemon(cfg)
    d.wait_ready()
    wait_for(lambda: rows(journal, "SELECT 1 FROM brackets") and
             rows(journal, "SELECT 1 FROM intents WHERE tag = 'br' AND status = 'accepted'"))
    d.kill()
    (cid, limit), = rows(journal, "SELECT client_order_id, limit_price FROM intents WHERE tag = 'br'")
    (tp, sl, armed), = rows(journal, "SELECT take_profit, stop_loss, armed FROM brackets")
    assert armed == 0
    assert not rows(journal, "SELECT 1 FROM intents WHERE tag != 'br'")
    return cid, limit, tp, sl


def exits(journal: Path) -> list[tuple]:
    return rows(journal, "SELECT tag, type, quantity, limit_price, stop_price FROM intents WHERE tag LIKE 'br %' "
                         "ORDER BY tag")


def check_armed_once(tmp: Path, cid: str, tp: float, sl: float) -> None:
    journal = tmp / "state" / "journal.sqlite"
    assert exits(journal) == [("br stop-loss", "stop_market", -0.01, None, sl),
                              ("br take-profit", "limit", -0.01, tp, None)], exits(journal)
    # armed, so done: a clean stop (like the journal's upkeep each second) pruned it; a restart arms nothing
    assert rows(journal, "SELECT armed FROM brackets WHERE client_order_id = ?", (cid,)) == []


def test_bracket_entry_fills_after_restart_arms_exits_once(tmp_path: Path) -> None:
    cid, limit, tp, sl = entry_working(tmp_path)
    journal = tmp_path / "state" / "journal.sqlite"
    cfg = config(tmp_path, volatility=0.002)  # boot 2: the price runs through the entry's limit
    d = Daemon(cfg)
    d.wait_ready()
    wait_for(lambda: rows(journal, "SELECT 1 FROM intents WHERE client_order_id = ? AND status = 'filled'", (cid,))
             and exits(journal))
    time.sleep(1.0)
    assert d.stop() == 0, d.tail()
    check_armed_once(tmp_path, cid, tp, sl)
    log = (tmp_path / "daemon.log").read_text()
    assert "order.bracket_restored" in log
    # the strategy got its bracket back as a ticket, and the exits armed after the restart landed on it
    assert f"bracket back: entry {cid} take-profit {tp} stop-loss {sl}" in log, log[-3000:]
    (tp_cid,), = rows(journal, "SELECT client_order_id FROM intents WHERE tag = 'br take-profit'")
    (sl_cid,), = rows(journal, "SELECT client_order_id FROM intents WHERE tag = 'br stop-loss'")
    assert f"bracket exits armed: take-profit {tp_cid} stop-loss {sl_cid}" in log, log[-3000:]


def test_bracket_entry_filled_while_down_arms_exits_once_at_restart(tmp_path: Path) -> None:
    cid, limit, tp, sl = entry_working(tmp_path)
    journal = tmp_path / "state" / "journal.sqlite"
    # the venue fills the resting entry while leand is down
    inst = {BTC: Instrument(BTC, quote_currency="USD", base_currency="BTC", lot_size=1e-8)}
    v = PaperVenue(tmp_path / "state" / "paper-venue.sqlite", inst, order_types=None)
    reports = v.on_quote(QuoteTick(BTC, time.time_ns(), limit - 2.0, 1.0, limit - 1.0, 1.0))
    assert any(r.client_order_id == cid for r in reports), reports
    del v
    cfg = config(tmp_path, volatility=0.000001)  # boot 2 (and 3): quiet, nothing triggers
    for _ in range(2):  # a second restart arms nothing again
        d = Daemon(cfg)
        d.wait_ready()
        wait_for(lambda: exits(journal))
        time.sleep(1.0)
        assert d.stop() == 0, d.tail()
        check_armed_once(tmp_path, cid, tp, sl)
    assert (tmp_path / "daemon.log").read_text().count("order.bracket_armed_at_restart") == 1


def test_bracket_armed_before_a_kill_comes_back_with_its_exits(tmp_path: Path) -> None:
    """SIGKILL after the entry filled and the exits were armed (a resting take-profit at the venue, an emulated
    stop-loss held by leand): the restarted strategy gets that live bracket back from
    ``transactions.get_bracket_tickets()``, its exits the orders adopted and armed again, not placed twice."""
    journal = tmp_path / "state" / "journal.sqlite"
    d = Daemon(config(tmp_path, volatility=0.001))  # boot 1: the price reaches the entry, not the exits
    d.wait_ready()
    wait_for(lambda: len(rows(journal, "SELECT 1 FROM intents WHERE tag LIKE 'br %' AND status IN "
                                       "('new', 'submitted', 'accepted')")) == 2, timeout=90)
    time.sleep(1.5)  # the journal's upkeep prunes done brackets every second: this one is live, so it stays
    d.kill()
    (cid, status), = rows(journal, "SELECT client_order_id, status FROM intents WHERE tag = 'br'")
    assert status == "filled"
    (tp_cid, tp_status), = rows(journal, "SELECT client_order_id, status FROM intents WHERE tag = 'br take-profit'")
    (sl_cid, sl_status), = rows(journal, "SELECT client_order_id, status FROM intents WHERE tag = 'br stop-loss'")
    assert tp_status == sl_status == "accepted", (tp_status, sl_status)
    (tp, sl, armed, row_tp, row_sl), = rows(journal, "SELECT take_profit, stop_loss, armed, take_profit_cid, "
                                                      "stop_loss_cid FROM brackets")
    assert (armed, row_tp, row_sl) == (1, tp_cid, sl_cid)

    d = Daemon(config(tmp_path, volatility=0.000001))  # boot 2: quiet, nothing triggers
    d.wait_ready()
    log = tmp_path / "daemon.log"
    wait_for(lambda: "bracket back:" in log.read_text())
    time.sleep(0.5)
    assert d.stop() == 0, d.tail()
    text = log.read_text()
    assert (f"bracket back: entry None take-profit {tp} stop-loss {sl} exit-tp {tp_cid} accepted "
            f"exit-sl {sl_cid} accepted") in text, text[-3000:]
    assert exits(journal) == [("br stop-loss", "stop_market", -0.01, None, sl),
                              ("br take-profit", "limit", -0.01, tp, None)]  # nothing placed again
    # the clean stop canceled the exits (shutdown.cancel_all): the bracket is done, and pruned
    assert rows(journal, "SELECT status FROM intents WHERE tag LIKE 'br %'") == [("canceled",), ("canceled",)]
    assert rows(journal, "SELECT 1 FROM brackets") == []
