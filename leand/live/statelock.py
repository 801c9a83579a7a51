"""One daemon per state directory: an exclusive ``flock`` on ``<state>/leand.lock`` held for the daemon's life.

A second ``leand run`` on the same state must not open the journal, the venue store or the control socket of
the first: it finds the lock taken, reads the holder's pid from the file and stops before touching anything.
The kernel drops the lock when the holder dies (even by SIGKILL), so a crash never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


class StateLocked(Exception):
    """Another live daemon holds the state directory."""

    def __init__(self, state: Path, pid: int | None) -> None:
        self.state, self.pid = state, pid
        holder = f"pid {pid}" if pid else "another process"
        super().__init__(f"state directory {state} is in use by a running leand daemon ({holder}); "
                         "stop it first or use another state directory")


class StateLock:
    """Exclusive, non-blocking lock on a state directory; :meth:`release` (or process exit) frees it."""

    def __init__(self, state: Path) -> None:
        self.state = Path(state)
        self.path = self.state / "leand.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raw = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            raise StateLocked(self.state, int(raw) if raw.isdigit() else None) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
