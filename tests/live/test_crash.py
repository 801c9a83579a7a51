"""Crash test: SIGKILL at random points while trading, 10 times; no fill lost, no order sent twice, and the
journal's positions and cash equal the venue's.

Ten random kills (each a full boot, ~1.5 s) are the CI check that the restart path holds at points nobody chose;
every named kill point is hit on purpose by ``test_every_kill_point_is_recovered``, and the statistical claim
(hundreds of kills) is ``tests/live/crash_soak.py --kills 200``, which runs the same ``crash_cycles``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crashlib import FAULT_PLAN, assert_clean, crash_cycles, fault_cycles
from daemon_util import Daemon, ctl, rows

pytestmark = pytest.mark.slow


def test_sigkill_ten_times_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    report = crash_cycles(tmp_path, kills=10, seed=20261125)
    assert report["boots"] == 11 and report["orders"] > 10 and report["fills"] > 5
    assert_clean(report)


def test_every_kill_point_is_recovered(tmp_path: Path) -> None:
    """Deterministic kills (LEAND_FAULT_KILL_AT) between journal write and send, between send and the venue's
    answer, between a venue fill and its journal write, and during reconciliation: the restart paths run and
    nothing is lost, resent or left unresolved."""
    report = fault_cycles(tmp_path, FAULT_PLAN)
    assert {k.split(":")[0] for k in report["fault_kills"]} == {"intent_journaled", "sent_unacked",
                                                                "fill_unjournaled", "reconcile"}
    assert report["fills_recovered_at_restart"] > 0, report
    assert report["intents_never_sent"] > 0, report
    assert_clean(report)


@pytest.mark.parametrize("point", ["intent_journaled", "sent_unacked"])
def test_kill_points_mean_the_same_for_a_strategy_on_a_worker_thread(tmp_path: Path, point: str) -> None:
    """A strategy on a worker thread (``isolation = "thread"``, or ``auto`` after overruns on a loaded machine) has
    its journal writes and venue requests posted to the loop's thread, in order; its kill points are reached in
    that order too. ``intent_journaled``: the intent is journaled and the venue never heard of it, so the restart
    closes it as never sent; ``sent_unacked``: the venue has it, and the restart finds it there. (A kill point
    reached on the worker itself fired before the posted writes ran: no intent to recover, and
    test_every_kill_point_is_recovered's ``intents_never_sent > 0`` failed once on a loaded machine.)"""
    report = fault_cycles(tmp_path, [f"{point}:3"], isolation="thread")
    assert_clean(report)
    state = tmp_path / "state"
    first = rows(state / "journal.sqlite", "SELECT client_order_id FROM intents WHERE boot = 1 ORDER BY created_ns")
    sent = {r[0] for r in rows(state / "paper-venue.sqlite", "SELECT client_order_id FROM submissions")}
    assert len(first) == 3, first  # the third order was journaled before the kill
    never_sent = [c for (c,) in first if c not in sent]
    if point == "intent_journaled":
        assert never_sent == [first[2][0]] and report["intents_never_sent"] == 1, (report, never_sent)
    else:
        assert never_sent == [] and report["intents_never_sent"] == 0, (report, never_sent)


def test_engine_books_equal_venue_after_restart(tmp_path: Path) -> None:
    """After crashes, the restarted engine's cash and position (rebuilt from the journal) match the venue."""
    crash_cycles(tmp_path, kills=3, seed=7)
    d = Daemon(tmp_path / "leand.toml", env={})
    d.wait_ready()
    ctl(d.sock, "strategies", "stop", "scalper")
    ctl(d.sock, "orders", "cancel-all")
    import time

    time.sleep(0.5)
    bal = json.loads(ctl(d.sock, "--json", "balances")[1])
    d.stop()
    venue = dict(rows(d.state / "paper-venue.sqlite", "SELECT asset, amount FROM balances"))
    eng = bal["strategies"]["scalper"]
    for asset in ("USD", "BTC"):
        assert eng.get(asset, 0.0) == pytest.approx(venue.get(asset, 0.0), abs=1e-6), (asset, eng, venue)
