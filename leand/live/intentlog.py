"""The journal's write-ahead intent log: one ``write()`` per record, in the kernel before the request leaves.

A SQLite transaction per order intent costs a lock, a B-tree update and a WAL frame: tens of microseconds on
the hot path. This log costs one system call. Each record is framed as::

    u32 little-endian payload length | u32 CRC-32 of the payload | payload (msgpack, msgspec)

and appended with a single ``os.write`` on an ``O_APPEND`` descriptor, so a SIGKILL leaves either the whole
record in the page cache or none of it, and a torn tail (power loss mid-write) fails its length or checksum and
ends the readable log. :class:`leand.live.journal.Journal` absorbs records into SQLite in the background and
before any read, remembering in SQLite (in the same transaction) how far it got; recovery after a crash reads
SQLite, then the log from that point.

Durability against power loss is the ``fsync`` policy:

* ``"never"`` (default): safe against a crash of the process (what ``kill -9`` tests); the kernel writes back
  within its dirty-page timeout (about 30 s on Linux).
* ``"interval"``: an ``fdatasync`` at most every ``fsync_interval_s`` from the event loop, off the hot path: a
  power loss loses at most that window.
* ``"always"``: ``fdatasync`` after every record, before the request is sent. The cost is the disk's flush
  latency (``benchmarks/bench_journal.py`` prints it: tens of µs on NVMe, milliseconds on network disks).
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import msgspec

FsyncPolicy = Literal["never", "interval", "always"]
_HEADER = struct.Struct("<II")
#: a record larger than this is corruption, not data (intents are a few hundred bytes)
MAX_RECORD = 1 << 20


class IntentRecord(msgspec.Struct, tag="intent", tag_field="kind", array_like=True):
    """An order intent, exactly the journal's ``intents`` row as first written."""

    client_order_id: str
    strategy: str
    symbol: str
    quantity: float
    type: str
    limit_price: float | None
    stop_price: float | None
    time_in_force: str
    tag: str
    time_ns: int
    boot: int
    #: held by the order manager (a type the venue lacks), not sent until triggered
    emulated: bool = False
    trailing_amount: float | None = None
    trailing_pct: bool = False
    #: a GTD order's expiry (ns), so a restart still expires it
    expire_ns: int | None = None


class StatusRecord(msgspec.Struct, tag="status", tag_field="kind", array_like=True):
    """An order's journaled status moved (sent, accepted, canceled, ...), with the event's code and message."""

    client_order_id: str
    status: str
    time_ns: int
    code: str = ""
    message: str = ""


Record = IntentRecord | StatusRecord
_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Record).decode


class IntentLog:
    """An append-only file of framed records. ``append`` is the hot path; ``read`` is for recovery and absorb."""

    def __init__(self, path: Path, fsync: FsyncPolicy = "never") -> None:
        if fsync not in ("never", "interval", "always"):
            raise ValueError(f"fsync policy must be never, interval or always, got {fsync!r}")
        self.path = Path(path)
        self.fsync = fsync
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self.size = os.fstat(self._fd).st_size
        self._dirty = False

    def append(self, rec: Record) -> int:
        """Frame and write one record with one system call; returns the offset just past it."""
        payload = _encode(rec)
        frame = _HEADER.pack(len(payload), zlib.crc32(payload)) + payload
        n = os.write(self._fd, frame)
        if n != len(frame):  # a regular file short-writes only when the disk is full: the intent is not safe
            raise OSError(f"intent log {self.path}: short write ({n} of {len(frame)} bytes)")
        if self.fsync == "always":
            os.fdatasync(self._fd)
        else:
            self._dirty = True
        self.size += n
        return self.size

    def sync(self) -> None:
        """Flush to the disk if anything was written since the last flush (the ``interval`` policy's tick)."""
        if self._dirty:
            os.fdatasync(self._fd)
            self._dirty = False

    def close(self) -> None:
        if self._fd >= 0:
            if self.fsync != "never":
                self.sync()
            os.close(self._fd)
            self._fd = -1


def read_records(path: Path, offset: int = 0) -> Iterator[tuple[int, Record]]:
    """Yield ``(end_offset, record)`` from ``offset`` on, streaming; stop quietly at a torn or corrupt tail.

    Everything before a bad frame was acknowledged by the kernel in order, so it is kept; the bad frame and
    anything after it never were (a record is one write), so they are dropped.
    """
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed in finally: this is a generator
    except FileNotFoundError:
        return
    try:
        f.seek(offset)
        pos = offset
        while True:
            head = f.read(_HEADER.size)
            if len(head) < _HEADER.size:
                return
            length, crc = _HEADER.unpack(head)
            if length > MAX_RECORD:
                return
            payload = f.read(length)
            if len(payload) < length or zlib.crc32(payload) != crc:
                return
            try:
                rec = _decode(payload)
            except msgspec.DecodeError:
                return
            pos += _HEADER.size + length
            yield pos, rec
    finally:
        f.close()
