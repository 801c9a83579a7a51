"""Append-only segment files of length-prefixed msgpack frames, rotated by size, fsynced on a policy and
catalogued in SQLite. A crash leaves at most a truncated final frame, which the reader skips with a warning.

Frame layout: 4-byte little-endian length, then the msgspec msgpack encoding of one ``records.Frame``.
Secrets never enter a recording: every registered secret is masked (``*`` at equal length, so the msgpack stays
decodable) in each frame's bytes before writing.
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from pathlib import Path
from typing import BinaryIO

import msgspec
import sqlite_utils

from leand.live import secrets
from leand.replay.records import Frame

_LEN = struct.Struct("<I")
SEGMENT_PREFIX = "segment-"
SEGMENT_SUFFIX = ".lrec"


class Catalog:
    """``recordings/catalog.sqlite``: one row per session."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.db = sqlite_utils.Database(root / "catalog.sqlite")
        self.db.execute("PRAGMA journal_mode=WAL")
        if "sessions" not in self.db.table_names():
            self.db.table("sessions").create({"session": str, "started_ns": int, "ended_ns": int, "venues": str,
                                        "symbols": str, "strategies": str, "frames": int, "bytes": int,
                                        "segments": int, "path": str}, pk="session")

    def upsert(self, row: dict) -> None:
        self.db.table("sessions").upsert(row, pk="session")

    def sessions(self) -> list[dict]:
        return list(self.db.query("SELECT * FROM sessions ORDER BY started_ns"))

    def get(self, session: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM sessions WHERE session = ?", [session]))
        return rows[0] if rows else None


#: frames a deferring recorder holds before it encodes them anyway
DEFER_MAX = 256


class Recorder:
    def __init__(self, root: Path, session: str, *, rotate_bytes: int = 64 << 20, fsync: str = "interval",
                 fsync_interval_s: float = 1.0, background_sync: bool = False, deferred: bool = False) -> None:
        if fsync not in ("always", "interval", "never"):
            raise ValueError(f"record.fsync must be always, interval or never, got {fsync!r}")
        self.root = root
        self.session = session
        self.dir = root / session
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.rotate_bytes = rotate_bytes
        self.fsync = fsync
        self.fsync_interval_s = fsync_interval_s
        #: the ``interval`` policy's flush and fsync are left to :meth:`flush_if_due` and its caller (the daemon's
        #: upkeep task, which fsyncs on a worker thread), instead of stalling whichever write comes due
        self.background_sync = background_sync
        #: ``deferred``: ``write`` only keeps the frame; :meth:`drain` (the daemon's: once the socket read that
        #: brought market data has been handled, see :meth:`drain_soon`; after each report and each upkeep tick),
        #: any flush or sync, and every ``DEFER_MAX`` frames encode and write them, in order. What it changes is when the encoding is paid (after the order went out, not before), not what
        #: a crash keeps: frames waiting here or in the file's buffer are both lost to a SIGKILL
        self._deferred: list[Frame] | None = [] if deferred else None
        self._drain_due = False
        self.catalog = Catalog(root)
        self._enc = msgspec.msgpack.Encoder()
        self.segment = 0
        self.frames = 0
        self.bytes = 0
        self._seg_bytes = 0
        self._last_sync = time.monotonic()
        self._fh: BinaryIO | None = None
        self.md_seq = -1
        self.meta: dict = {"venues": "", "symbols": "", "strategies": "", "started_ns": time.time_ns()}
        self._open_next()

    def _open_next(self) -> None:
        if self._fh is not None:
            self._sync()
            self._fh.close()
        self.segment += 1
        path = self.dir / f"{SEGMENT_PREFIX}{self.segment:06d}{SEGMENT_SUFFIX}"
        self._fh = open(path, "ab", buffering=1 << 16)  # noqa: SIM115 - closed on rotate/close
        self._seg_bytes = 0

    def write(self, frame: Frame) -> None:
        q = self._deferred
        if q is None:
            self._write(frame)
            return
        q.append(frame)
        if len(q) >= DEFER_MAX:
            self.drain()

    def drain(self) -> None:
        """Encode and write the frames a deferring recorder holds, in order: all of them joined into one buffer
        (each length-prefixed), scanned once for secrets and written in one call, so a frame costs its encoding and
        little else (one ``_write`` per frame cost about twice as much: a scan per secret, two file writes and
        the bookkeeping, per frame). A buffer that holds a secret is written frame by frame instead, each
        masked as ``_write`` masks it, so the bytes on disk are exactly what per-frame writes make."""
        q = self._deferred
        if not q:
            return
        self._deferred = []  # a rotation while writing drains again: it finds the new list empty
        parts: list[bytes] = []
        put, encode, pack = parts.append, self._enc.encode, _LEN.pack
        for frame in q:
            data = encode(frame)
            put(pack(len(data)))
            put(data)
        buf = b"".join(parts)
        if secrets._KNOWN and any(s.encode() in buf for s in secrets._KNOWN):
            write = self._write
            for frame in q:
                write(frame)
            return
        fh = self._fh
        assert fh is not None, "the recorder is closed"
        fh.write(buf)
        n = len(buf)
        self._seg_bytes += n
        self.bytes += n
        self.frames += len(q)
        self._after_write()

    def drain_soon(self) -> None:
        """Drain once the callback running now has returned (one ``call_soon``): the daemon's feed asks after
        each market-data event, so every frame of one socket read is encoded and written in one go, after the
        orders of all of them went out, instead of once per event (a drain's scan for secrets and its write
        cost more than a frame's encoding). A SIGKILL loses what waits here as it loses the file buffer."""
        if not self._drain_due and self._deferred:
            self._drain_due = True
            asyncio.get_running_loop().call_soon(self._due_drain)

    def _due_drain(self) -> None:
        self._drain_due = False
        if self._fh is not None:
            self.drain()

    def _after_write(self) -> None:
        """The fsync policy and the rotation, after a write."""
        if self.fsync == "always":
            self._sync()
        elif self.fsync == "interval" and not self.background_sync:
            now = time.monotonic()
            if now - self._last_sync >= self.fsync_interval_s:
                self._sync()
        if self._seg_bytes >= self.rotate_bytes:
            self._open_next()

    def _write(self, frame: Frame) -> None:
        data = self._enc.encode(frame)
        if secrets._KNOWN:
            for s in secrets._KNOWN:
                b = s.encode()
                if b in data:  # masked at equal length, so the msgpack framing stays valid
                    data = data.replace(b, b"*" * len(b))
        fh = self._fh
        assert fh is not None, "the recorder is closed"
        fh.write(_LEN.pack(len(data)))
        fh.write(data)
        n = len(data) + 4
        self._seg_bytes += n
        self.bytes += n
        self.frames += 1
        self._after_write()

    def market(self, frame) -> int:
        """Write a MarketData frame; returns its sequence number (what Slice frames point at)."""
        q = self._deferred
        if q is None:
            self._write(frame)
        else:  # (``write`` inline: once per market-data event, before the strategy's handler)
            q.append(frame)
            if len(q) >= DEFER_MAX:
                self.drain()
        self.md_seq += 1
        return self.md_seq

    def flush_if_due(self) -> int | None:
        """The ``interval`` policy's tick when ``background_sync`` is on: flush what is buffered and return the
        file descriptor to fsync (the caller does it off its thread), or None when nothing is due."""
        self.drain()
        fh = self._fh
        if fh is None or self.fsync != "interval" or time.monotonic() - self._last_sync < self.fsync_interval_s:
            return None
        fh.flush()
        self._last_sync = time.monotonic()
        return fh.fileno()

    def _sync(self) -> None:
        fh = self._fh
        if fh is None:
            return
        self.drain()
        fh.flush()
        if self.fsync != "never":
            os.fsync(fh.fileno())
        self._last_sync = time.monotonic()

    def update_catalog(self, ended_ns: int = 0) -> None:
        if self._fh is not None:
            self.drain()  # its counts include what waits
        self.catalog.upsert({"session": self.session, "started_ns": self.meta["started_ns"], "ended_ns": ended_ns,
                             "venues": self.meta["venues"], "symbols": self.meta["symbols"],
                             "strategies": self.meta["strategies"], "frames": self.frames, "bytes": self.bytes,
                             "segments": self.segment, "path": str(self.dir)})

    def close(self) -> None:
        if self._fh is not None:
            self._sync()
            self._fh.close()
            self._fh = None
        self.update_catalog(time.time_ns())
