"""Timers in the daemon come from the event loop's own scheduling: the clock tells the daemon its earliest due
time and the daemon arms ``call_at`` for it, so a schedule fires on time with no market data and no polling."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from daemon_util import Daemon, rows, write_config

from leand.clock import LiveClock


def test_live_clock_tells_the_earliest_due_time_as_timers_are_added() -> None:
    c = LiveClock(1_000)
    heard: list[int] = []
    c.on_next_timer = heard.append
    c.set_time_alert("late", 5_000, lambda t: None)
    c.set_time_alert("early", 2_000, lambda t: None)
    c.set_timer("every", 10_000, lambda t: None)  # first due at 11,000: the earliest stays 2,000
    assert heard == [5_000, 2_000, 2_000]
    fired: list[int] = []
    c.set_time_alert("x", 3_000, fired.append)
    assert c.tick(3_500) == 2 and fired == [3_000] and c.next_timer_ns == 5_000


SCHEDULED = '''
from datetime import timedelta

from leand import Resolution, Strategy


class Ticker(Strategy):
    def initialize(self):
        self.add_crypto("BTCUSD", Resolution.TICK)
        self.fired = 0
        self.times = []
        self.schedule.on(self.date_rules.every_day(), self.time_rules.every(timedelta(milliseconds=200)),
                         self.on_timer)

    def on_timer(self):
        self.fired += 1
        self.times.append(self.now_ns)

    def get_state(self):
        return {"fired": self.fired, "first": self.times[0] if self.times else 0,
                "last": self.times[-1] if self.times else 0}
'''


@pytest.mark.slow
def test_a_schedule_fires_with_no_market_data(tmp_path: Path) -> None:
    f = tmp_path / "ticker.py"
    f.write_text(SCHEDULED)
    # one quote every 20 s: without the loop's own timers nothing would move this strategy's clock
    d = Daemon(write_config(tmp_path, rate_hz=0.05, strategy_file=f))
    try:
        d.wait_ready()
        time.sleep(2.5)
    finally:
        assert d.stop() == 0, d.tail()
    import json

    snap = rows(d.state / "journal.sqlite", "SELECT state FROM snapshots WHERE strategy = 'scalper'")
    st = json.loads(snap[0][0])
    # every 200 ms step from the first firing to the last fired exactly once (none skipped, none twice)
    assert st["fired"] >= 5 and st["fired"] == (st["last"] - st["first"]) // 200_000_000 + 1, st
