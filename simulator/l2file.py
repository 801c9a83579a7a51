"""leand's recorded market-by-price format (``.l2d``): a header and fixed-size little-endian records.

Layout::

    b"LEANDL2\\x00"                      8-byte magic (the last byte is the format version, 0)
    u32 header length, then that many bytes of JSON (msgspec): {"symbol", "tick_size", "lot_size", "source"}
    records, RECORD dtype (34 bytes each), in time order:
        time  i8   exchange time, ns since the Unix epoch (UTC)
        seq   i8   venue sequence number (deltas and snapshot levels; 0 for trades)
        kind  u1   0 delta, 1 snapshot start (clears the book), 2 snapshot level, 3 snapshot end, 4 trade
        side  i1   +1 bid / -1 ask; for a trade, the aggressor's side (+1 buyer-initiated)
        price f8
        size  f8   level size (0 deletes the level) or trade quantity

Fixed-size records let a reader stream the file in chunks with ``numpy.fromfile`` (no parsing, constant
memory) and let a writer append as data arrives. LEAN tick quotes and trades convert to it with
:func:`from_lean_ticks`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import msgspec
import numpy as np

MAGIC = b"LEANDL2\x00"
RECORD = np.dtype([("time", "<i8"), ("seq", "<i8"), ("kind", "u1"), ("side", "i1"), ("price", "<f8"),
                   ("size", "<f8")])
DELTA, SNAP_START, SNAP_LEVEL, SNAP_END, TRADE = 0, 1, 2, 3, 4


class L2Header(msgspec.Struct):
    symbol: str
    tick_size: float = 0.01
    lot_size: float = 1.0
    source: str = ""


class L2FormatError(Exception):
    """A file that is not a valid .l2d recording; the message names the file and the problem."""


class L2Writer:
    """Append records to a new .l2d file."""

    def __init__(self, path: str | Path, header: L2Header) -> None:
        self.path = Path(path)
        self._f = open(self.path, "wb")  # noqa: SIM115 - closed by close()/__exit__
        h = msgspec.json.encode(header)
        self._f.write(MAGIC + struct.pack("<I", len(h)) + h)
        self.count = 0

    def write(self, records: np.ndarray) -> None:
        if records.dtype != RECORD:
            raise TypeError(f"records must have dtype leand.simulator.l2file.RECORD, got {records.dtype}")
        self._f.write(records.tobytes())
        self.count += len(records)

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> L2Writer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_header(path: str | Path) -> tuple[L2Header, int]:
    """The header and the byte offset where records start."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:8] != MAGIC:
            raise L2FormatError(f"{path}: not a leand .l2d recording (bad magic {head[:8]!r})")
        (n,) = struct.unpack("<I", head[8:12])
        raw = f.read(n)
    try:
        header = msgspec.json.decode(raw, type=L2Header)
    except msgspec.DecodeError as e:
        raise L2FormatError(f"{path}: bad header: {e}") from None
    size = path.stat().st_size - 12 - n
    if size % RECORD.itemsize:
        raise L2FormatError(f"{path}: truncated: {size} record bytes is not a multiple of {RECORD.itemsize}")
    return header, 12 + n


def iter_chunks(path: str | Path, chunk: int = 1 << 16) -> Iterator[np.ndarray]:
    """Stream the records in chunks of at most ``chunk`` (constant memory whatever the file's size), each
    checked (:func:`check_records`): a damaged record is an L2FormatError naming it, never a NaN in a book."""
    _, offset = read_header(path)
    first, last_time = 0, None
    with open(path, "rb") as f:
        f.seek(offset)
        while True:
            a = np.fromfile(f, dtype=RECORD, count=chunk)
            if not len(a):
                return
            check_records(a, path, first, last_time)
            first += len(a)
            last_time = int(a["time"][-1])
            yield a


def check_records(a: np.ndarray, path: str | Path, first: int = 0, last_time: int | None = None) -> None:
    """Kinds known, level sides +1/-1 (a trade's -1, 0 or +1), prices finite and positive, sizes finite and not negative, times in order
    (vectorized: a few passes per chunk)."""
    kind, side, price, size, t = a["kind"], a["side"], a["price"], a["size"], a["time"]
    level = (kind == DELTA) | (kind == SNAP_LEVEL)
    priced = level | (kind == TRADE)  # a trade's side may be 0: aggressor unknown
    bad = (kind > TRADE) | (level & (side != 1) & (side != -1)) | ((kind == TRADE) & (np.abs(side) > 1)) \
        | (priced & ~(np.isfinite(price) & (price > 0))) | (priced & ~(np.isfinite(size) & (size >= 0)))
    back = np.zeros(len(a), bool)
    back[1:] = t[1:] < t[:-1]
    if last_time is not None and len(t):
        back[0] = t[0] < last_time
    if bad.any() or back.any():
        i = int(np.flatnonzero(bad | back)[0])
        why = "time goes backwards" if back[i] and not bad[i] else \
            f"kind {int(kind[i])}, side {int(side[i])}, price {float(price[i])!r}, size {float(size[i])!r}"
        raise L2FormatError(f"{path}: record {first + i}: {why}")


def from_lean_ticks(quotes: list, trades: list | None = None) -> np.ndarray:
    """Records from LEAN tick data (``QuoteTick``/``TradeTick`` lists, or anything with the same fields):
    each quote becomes deltas for the levels it changes at the top of the book (a price that moves deletes
    the old level), each trade a trade record; merged in time order, trades after quotes at equal times."""
    out = []
    seq = 0
    bid = ask = 0.0
    for q in quotes:
        if q.bid_price > 0:
            if bid and q.bid_price != bid:
                seq += 1
                out.append((q.time, seq, DELTA, 1, bid, 0.0))
            seq += 1
            out.append((q.time, seq, DELTA, 1, q.bid_price, q.bid_size))
            bid = q.bid_price
        if q.ask_price > 0:
            if ask and q.ask_price != ask:
                seq += 1
                out.append((q.time, seq, DELTA, -1, ask, 0.0))
            seq += 1
            out.append((q.time, seq, DELTA, -1, q.ask_price, q.ask_size))
            ask = q.ask_price
    a = np.array(out, dtype=RECORD)
    if trades:
        t = np.array([(x.time, 0, TRADE, 0, x.price, x.quantity) for x in trades], dtype=RECORD)
        a = np.concatenate([a, t])
        a = a[np.lexsort((a["kind"] == TRADE, a["time"]))]
    return a
