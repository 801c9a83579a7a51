"""The journal's write-ahead intent log: each record copied into a shared mapping of the file, in the kernel before
the request leaves.

A SQLite transaction per order intent costs a lock, a B-tree update and a WAL frame: tens of microseconds on
the hot path. A ``write()`` per record costs a system call (about 1 µs, more when the caches are cold). This
log costs a copy: the file is mapped ``MAP_SHARED``, so its pages *are* the kernel's page cache, and a record
stored into the mapping is in the kernel, as a ``write()`` would have put it, the moment the copy ends; a
SIGKILL cannot take it back (the kernel owns those pages and writes them back). Each record is framed as::

    u32 little-endian payload length | u32 CRC-32 of the payload | payload (msgpack, msgspec)

A SIGKILL mid-copy leaves a record whose checksum fails (it was never sent: the copy comes before the request),
and a torn tail (power loss mid-write) fails its length or checksum; either ends the readable log. The file is
reserved in 1 MB chunks (``posix_fallocate``: a full disk is an ``OSError`` when a chunk is reserved, not a
SIGBUS on a store into an unbacked page), zeros after the last record, and a zero length ends the log too.
Nothing makes the file shorter than its reserve but a torn record (non-zero bytes after the last whole one),
cut at the next open, so another process opening a running daemon's journal cannot pull pages from under its
mapping. :class:`leand.live.journal.Journal` absorbs records into SQLite in the background and before any read,
remembering in SQLite (in the same transaction) how far it got; recovery after a crash reads SQLite, then the
log from that point, and cuts a torn record that follows the last whole one.

Durability against power loss is the ``fsync`` policy (``fdatasync`` writes back the pages dirtied through the
mapping as it does written ones):

* ``"never"`` (default): safe against a crash of the process (what ``kill -9`` tests); the kernel writes back
  within its dirty-page timeout (about 30 s on Linux).
* ``"interval"``: an ``fdatasync`` at most every ``fsync_interval_s`` from the event loop, off the hot path: a
  power loss loses at most that window.
* ``"always"``: ``fdatasync`` after every record, before the request is sent. The cost is the disk's flush
  latency (``benchmarks/bench_journal.py`` prints it: tens of µs on NVMe, milliseconds on network disks).
"""

from __future__ import annotations

import errno
import mmap
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
#: the log's file is reserved and mapped in chunks of this size
CHUNK = 1 << 20


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

    def __init__(self, path: Path, fsync: FsyncPolicy = "never", end: int | None = None) -> None:
        """``end``: where the last whole record ends, when the caller knows (the journal's recovery read the log);
        else the log is read to find it."""
        if fsync not in ("never", "interval", "always"):
            raise ValueError(f"fsync policy must be never, interval or always, got {fsync!r}")
        self.path = Path(path)
        self.fsync = fsync
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._map: mmap.mmap | None = None
        self._cap = 0
        # the end of the last whole record (a file a crash left holds reserved zeros, or a torn record, after it):
        # appends go there, and what followed is cut so that nothing stale is read after a new record
        if end is None:
            end = 0
            if os.fstat(self._fd).st_size:
                for end, _ in read_records(self.path):  # noqa: B007 - the last good offset
                    pass
        cut_torn_tail(self.path, end)
        #: the offset just past the last record
        self.size = end
        self._dirty = False
        self._reserve(end + 1)

    def _reserve(self, need: int) -> None:
        """Map the file to at least ``need`` bytes, in whole chunks, with its blocks allocated."""
        cap = -(-need // CHUNK) * CHUNK
        try:
            os.posix_fallocate(self._fd, 0, cap)
        except OSError as e:  # no fallocate on this file system: a sparse file (a full disk would be a SIGBUS)
            if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
            if os.fstat(self._fd).st_size < cap:
                os.ftruncate(self._fd, cap)
        except AttributeError:  # no posix_fallocate (macOS)
            if os.fstat(self._fd).st_size < cap:
                os.ftruncate(self._fd, cap)
        if self._map is not None:
            self._map.close()
        self._map = mmap.mmap(self._fd, cap)  # MAP_SHARED, read and write: the file's pages in the page cache
        self._cap = cap

    def append(self, rec: Record) -> int:
        """Frame one record and copy it into the mapped file (in the kernel when this returns); returns the
        offset just past it."""
        payload = _encode(rec)
        n = len(payload)
        start = self.size
        end = start + 8 + n
        if end > self._cap:
            self._reserve(end)
        m = self._map
        assert m is not None, "the intent log is closed"
        m[start + 8:end] = payload
        _HEADER.pack_into(m, start, n, zlib.crc32(payload))
        if self.fsync == "always":
            os.fdatasync(self._fd)
        else:
            self._dirty = True
        self.size = end
        return end

    def sync(self) -> None:
        """Flush to the disk if anything was written since the last flush (the ``interval`` policy's tick)."""
        if self._dirty:
            os.fdatasync(self._fd)
            self._dirty = False

    def close(self) -> None:
        if self._fd >= 0:
            if self._map is not None:
                self._map.close()
                self._map = None
            if self.fsync != "never":
                self.sync()
            os.close(self._fd)
            self._fd = -1


def cut_torn_tail(path: Path, end: int) -> None:
    """Cut what follows the last whole record (ending at ``end``) when it is not zeros: a torn record a crash left,
    which a new record written over it would not wholly cover. Zeros, the reserved end of the file, stay: they end
    the log as they are, and the file is never made shorter than a running writer mapped it (a store past a
    file's end is a SIGBUS), even when another process opens the journal of a running daemon."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        size = os.fstat(fd).st_size
        pos = end
        while pos < size:
            chunk = os.pread(fd, min(CHUNK, size - pos), pos)
            if not chunk:
                return
            if chunk.count(0) != len(chunk):
                os.ftruncate(fd, end)
                return
            pos += len(chunk)
    finally:
        os.close(fd)


def read_records(path: Path, offset: int = 0) -> Iterator[tuple[int, Record]]:
    """Yield ``(end_offset, record)`` from ``offset`` on, streaming; stop quietly at a torn or corrupt tail.

    Everything before a bad frame was acknowledged by the kernel in order, so it is kept; the bad frame and
    anything after it never were (a record is one copy, made before its request is sent), so they are dropped.
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
            if length == 0 or length > MAX_RECORD:  # (zeros: the reserved end of a log a crash left)
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
