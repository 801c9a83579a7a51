"""sd_notify against a real datagram socket: READY only after reconciliation, and WATCHDOG pings stop while
the event loop is blocked."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from daemon_util import Daemon, write_config

pytestmark = pytest.mark.slow

BLOCKER = '''
import time
from pathlib import Path

from leand import Resolution, Strategy


class Blocker(Strategy):
    """Blocks the event loop for 2 s whenever a flag file appears (a hung strategy, on purpose)."""

    def initialize(self):
        self.add_crypto("BTCUSD", Resolution.TICK)
        self.flag = Path(__file__).with_name("block.flag")

    def on_data(self, data):
        if self.flag.exists():
            self.flag.unlink()
            time.sleep(2.0)
'''


class Listener:
    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        self.sock.close()


def test_ready_after_reconcile_and_watchdog_stops_when_blocked(tmp_path: Path) -> None:
    strat = tmp_path / "blocker.py"
    strat.write_text(BLOCKER)
    listener = Listener(tmp_path / "notify.sock")
    try:
        d = Daemon(write_config(tmp_path, strategy_file=strat),
                   env={"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "400000"})
        d.wait_ready()
        time.sleep(1.5)
        msgs = [m for _, m in listener.messages]
        reconcile = next(i for i, m in enumerate(msgs) if "reconciling" in m)
        ready = next(i for i, m in enumerate(msgs) if "READY=1" in m.split("\n"))
        assert reconcile < ready
        pings = [t for t, m in listener.messages if m == "WATCHDOG=1"]
        assert len(pings) >= 3  # every 0.2 s while healthy
        (tmp_path / "block.flag").write_text("")
        t_block = time.monotonic()
        time.sleep(3.0)
        during = [t for t, m in listener.messages if m == "WATCHDOG=1" and t_block + 0.4 < t < t_block + 1.9]
        after = [t for t, m in listener.messages if m == "WATCHDOG=1" and t > t_block + 2.3]
        assert during == [], "watchdog pinged while the loop was blocked"
        assert after, "watchdog did not resume after the loop recovered"
        d.stop()
        assert any("STOPPING=1" in m for _, m in listener.messages)
    finally:
        listener.close()
