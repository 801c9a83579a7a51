"""Fills journaled out of the venue's id order, then SIGKILL: nothing may be lost.

The paper venue matches a quote before the strategies see it and reports the fills right after the quote; a
strategy that sends a market order on that quote has its fill (a higher venue fill id) journaled first. Killed
between the two (``LEAND_FAULT_KILL_AT=fill_unjournaled:2``), the journal holds fill 2 and not fill 1: a restart
that asks the venue only for fills after the journal's highest id would lose fill 1 forever."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from crashlib import assert_clean, verify
from daemon_util import Daemon, rows, write_config

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent


def test_fill_journaled_after_a_later_one_is_recovered(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, rate_hz=200, strategy_file=HERE / "strategies" / "cross_then_market.py")
    journal, venue = tmp_path / "state" / "journal.sqlite", tmp_path / "state" / "paper-venue.sqlite"
    d = Daemon(cfg, env={"LEAND_FAULT_KILL_AT": "fill_unjournaled:2"})
    code = d.proc.wait(60)
    d.log.close()
    assert code == -signal.SIGKILL, d.tail()
    # the state the kill left: the venue has both fills, the journal only the later one
    by_tag = dict(rows(venue, "SELECT o.client_order_id, f.fill_id FROM fills f JOIN orders o USING "
                              "(client_order_id) ORDER BY f.fill_id"))
    tags = dict(rows(journal, "SELECT client_order_id, tag FROM intents"))
    assert sorted(tags[c] for c in by_tag) == ["chase", "rest"]
    rest = next(c for c in by_tag if tags[c] == "rest")
    chase = next(c for c in by_tag if tags[c] == "chase")
    assert by_tag[rest] < by_tag[chase]
    assert rows(journal, "SELECT venue_fill_id FROM fills") == [(by_tag[chase],)]

    d = Daemon(cfg)
    d.wait_ready()
    assert d.stop() == 0, d.tail()
    report = verify(d.state)
    assert_clean(report)
    assert rows(journal, "SELECT venue_fill_id, recovered FROM fills ORDER BY venue_fill_id") == [
        (by_tag[rest], 1), (by_tag[chase], 0)]
    log = (tmp_path / "daemon.log").read_text()
    assert '"kind": "fill_recovered"' in log and '"kind": "balance"' not in log, log[-3000:]
