"""A daemon a failed test left running is killed after that test (tests/conftest.py), not left on the machine."""

from __future__ import annotations

from pathlib import Path

import daemon_util
from daemon_util import Daemon, write_config


def test_reap_kills_what_a_test_left_running_and_leaves_shared_daemons(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    left = Daemon(write_config(tmp_path / "a"))
    shared = Daemon(write_config(tmp_path / "b"), per_test=False)
    try:
        assert daemon_util.reap() == 1
        assert left.proc.poll() is not None and shared.proc.poll() is None
    finally:
        shared.kill()
