"""`leand backtest` draws a progress bar on a terminal (and only there)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _backtest(tmp_path: Path, stderr) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leand.cli", "backtest", str(ROOT / "strategies" / "sma_crossover.py"),
                           "--out", str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=stderr, timeout=300,
                          cwd=tmp_path)


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    try:
        p = _backtest(tmp_path, slave)
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                b = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed and drained
                break
            if not b:
                break
            chunks.append(b)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    out = b"".join(chunks).decode()
    assert p.returncode == 0
    frames = [f for f in out.split("\r") if "events/s" in f]
    assert frames, out[-500:]
    last = frames[-1]
    # the simulated date, the bar, percent, events/s and time left
    assert last[:4].isdigit() and last[4] == "-" and "%" in last and " left" in last, last


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    p = _backtest(tmp_path, subprocess.PIPE)
    assert p.returncode == 0
    assert b"events/s" not in p.stderr and b"\r" not in p.stderr
