"""Strategy log lines reach the daemon's structured log with the strategy's id, and stay bounded in memory."""

from __future__ import annotations

from pathlib import Path

from structlog.testing import capture_logs

from leand import Strategy
from leand.clock import VirtualClock
from leand.engine import LIVE_LOG_LINES, Engine
from leand.live.daemon import _strategy_logger

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"


class Chatty(Strategy):
    def initialize(self) -> None:
        self.add_crypto("BTCUSD")


def test_strategy_logs_go_to_the_structured_log_and_are_bounded() -> None:
    e = Engine(Chatty(), DATA, live_mode=True, clock=VirtualClock(1_700_000_000_000_000_000))
    e.log_hook = _strategy_logger("alpha")
    e.start_live()
    with capture_logs() as logs:
        for i in range(LIVE_LOG_LINES + 50):
            e.strategy.log(f"line {i}")
        e.strategy.debug("details")
        e.strategy.error("bad")
    assert len(e.logs) == LIVE_LOG_LINES and e.logs[-1].endswith("ERROR bad")
    assert logs[0] == {"event": "strategy.log", "strategy": "alpha", "message": "line 0", "log_level": "info"}
    assert [x["log_level"] for x in logs[-2:]] == ["debug", "error"]
