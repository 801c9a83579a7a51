"""The sweep's SQLite table: each trial is written in its own transaction as it finishes, so a sweep that is
interrupted (Ctrl-C, SIGKILL, a lost machine) resumes with every finished trial kept and none run twice.

A trial's identity is (window, phase, idx): window -1 and phase ``sweep`` for a plain sweep, phases ``train``
and ``test`` per walk-forward window. The primary key makes a duplicate impossible; the settings fingerprint
stops a resume with different settings from mixing two sweeps in one table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from leand.optimize.space import key
from leand.optimize.worker import TrialOutcome

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    window INTEGER NOT NULL,
    phase TEXT NOT NULL,
    idx INTEGER NOT NULL,
    params TEXT NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT NOT NULL,
    feasible INTEGER NOT NULL,
    target REAL,
    statistics TEXT NOT NULL,
    vals TEXT NOT NULL,
    times BLOB NOT NULL,
    equity BLOB NOT NULL,
    seconds REAL NOT NULL,
    pid INTEGER NOT NULL DEFAULT 0,
    rss_mb REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (window, phase, idx)
);
"""


class StoreError(Exception):
    """The results folder holds a different sweep."""


class TrialRow(msgspec.Struct, kw_only=True):
    window: int
    phase: str
    idx: int
    params: dict[str, Any]
    ok: bool
    error: str
    feasible: bool
    target: float | None
    statistics: dict[str, str]
    values: dict[str, float | int]
    times: bytes
    equity: bytes

    @property
    def key(self) -> str:
        return key(self.params)

    def daily(self) -> tuple[np.ndarray, np.ndarray]:
        return np.frombuffer(self.times, dtype="<i8"), np.frombuffer(self.equity, dtype="<f8")

    def returns(self) -> np.ndarray:
        _, eq = self.daily()
        if len(eq) < 2:
            return np.zeros(0)
        prev = eq[:-1]
        return np.where(prev > 0, eq[1:] / np.where(prev > 0, prev, 1.0) - 1.0, 0.0)


_COLS = "window, phase, idx, params, ok, error, feasible, target, statistics, vals, times, equity"


def _row(r: tuple) -> TrialRow:
    return TrialRow(window=r[0], phase=r[1], idx=r[2], params=msgspec.json.decode(r[3]), ok=bool(r[4]),
                    error=r[5], feasible=bool(r[6]), target=r[7], statistics=msgspec.json.decode(r[8]),
                    values=msgspec.json.decode(r[9]), times=r[10], equity=r[11])


class TrialStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def check_settings(self, settings: dict[str, Any]) -> bool:
        """Record the sweep's settings, or check them against those already recorded; True on a resume."""
        have = dict(self.db.execute("SELECT name, value FROM settings").fetchall())
        want = {k: msgspec.json.encode(v).decode() for k, v in sorted(settings.items())}
        if not have:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT INTO settings VALUES (?, ?)", list(want.items()))
            self.db.execute("COMMIT")
            return False
        diff = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
        if diff:
            raise StoreError(f"{self.path} holds a sweep with other settings ({', '.join(diff)} differ): "
                             "resume it with the same command, or use another --out")
        return True

    def add(self, window: int, phase: str, idx: int, outcome: TrialOutcome, feasible: bool,
            target: float | None) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                f"INSERT INTO trials ({_COLS}, seconds, pid, rss_mb) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (window, phase, idx, key(outcome.params), int(outcome.ok), outcome.error, int(feasible), target,
                 msgspec.json.encode(outcome.statistics).decode(), msgspec.json.encode(outcome.values).decode(),
                 outcome.times, outcome.equity, outcome.seconds, outcome.pid, outcome.rss_mb))
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def done(self, window: int, phase: str) -> dict[int, TrialRow]:
        """Finished trials of one stage (summaries only: no daily series), by idx."""
        cur = self.db.execute(
            "SELECT window, phase, idx, params, ok, error, feasible, target, '{}', '{}', x'', x'' "
            "FROM trials WHERE window=? AND phase=? ORDER BY idx", (window, phase))
        return {r[2]: _row(r) for r in cur}

    def get(self, window: int, phase: str, idx: int) -> TrialRow | None:
        r = self.db.execute(f"SELECT {_COLS} FROM trials WHERE window=? AND phase=? AND idx=?",
                            (window, phase, idx)).fetchone()
        return _row(r) if r else None

    def rows(self, window: int | None = None, phase: str | None = None) -> Iterator[TrialRow]:
        """Trials in table order, one at a time (the full rows, series included)."""
        where: list[str] = []
        args: list[int | str] = []
        if window is not None:
            where.append("window=?")
            args.append(window)
        if phase is not None:
            where.append("phase=?")
            args.append(phase)
        sql = f"SELECT {_COLS} FROM trials" + (f" WHERE {' AND '.join(where)}" if where else "") + \
            " ORDER BY window, CASE phase WHEN 'test' THEN 1 ELSE 0 END, idx"
        for r in self.db.execute(sql, args):
            yield _row(r)

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
