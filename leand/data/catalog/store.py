"""Columnar storage of one dataset: per-day memory-mapped numpy arrays the engine reads without parsing.

Layout under the catalogue root (a dataset is one symbol, kind and resolution)::

    <security_type>/<market>/<resolution>/<ticker>/<kind>/YYYYMMDD.npy   tick, second and minute data
    <security_type>/<market>/<resolution>/<ticker>/<kind>/all.npy        hour and daily bars (one file)
    <security_type>/<market>/<resolution>/<ticker>/<kind>/quarantine.csv rows dropped by validation, with why

A day file is a standard ``.npy`` of shape ``(2 + ncols, n)``, float64, C order, so each column is one
contiguous run of bytes: row 0 holds the UTC start times and row 1 the UTC end times as int64 bit patterns
(``a[0].view(np.int64)``; a float64 cannot hold an epoch in ns exactly, its bits can), rows 2.. the value
columns of the kind in :data:`KIND_COLUMNS` order. The day is the local date of the row's start time in the
data time zone, as in LEAN's folders, so ``read_day`` returns exactly what a LEAN day file holds. Reading is
``np.load(mmap_mode="r")``: the OS pages columns in on first touch, nothing is decoded.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
from datetime import date
from pathlib import Path

import numpy as np

from leand.data.lean import QUOTE_BAR, TRADE_BAR, Columns
from leand.model import Resolution

KIND_COLUMNS: dict[str, tuple[str, ...]] = {
    "trade_bar": TRADE_BAR,
    "quote_bar": QUOTE_BAR,
    "trade_tick": ("price", "quantity", "suspicious"),
    "quote_tick": ("bid_price", "bid_size", "ask_price", "ask_size", "suspicious"),
}
#: every kind a dataset can be: the columnar ones above, and L2 deltas (leand's .l2d records, see ``l2``)
KINDS = (*KIND_COLUMNS, "l2_delta")
#: the price columns of each kind (checked for non-positive values, spikes, staleness)
PRICE_COLUMNS: dict[str, tuple[str, ...]] = {
    "trade_bar": ("open", "high", "low", "close"),
    "quote_bar": ("bid_open", "bid_high", "bid_low", "bid_close", "ask_open", "ask_high", "ask_low", "ask_close"),
    "trade_tick": ("price",),
    "quote_tick": ("bid_price", "ask_price"),
}
SIZE_COLUMNS: dict[str, tuple[str, ...]] = {
    "trade_bar": ("volume",),
    "quote_bar": ("last_bid_size", "last_ask_size"),
    "trade_tick": ("quantity",),
    "quote_tick": ("bid_size", "ask_size"),
}
ALL_DAYS = "all"


def whole_file(resolution: Resolution) -> bool:
    """Hour and daily bars are few: one file per dataset instead of one per day (as LEAN does)."""
    return resolution >= Resolution.HOUR


def day_key(d: date) -> str:
    return f"{d:%Y%m%d}"


def key_date(key: str) -> date:
    return date(int(key[:4]), int(key[4:6]), int(key[6:8]))


def pack(c: Columns) -> np.ndarray:
    """Columns -> the on-disk ``(2 + ncols, n)`` float64 block."""
    names = KIND_COLUMNS[c.kind]
    out = np.empty((2 + len(names), len(c)), np.float64)
    out[0] = np.asarray(c.time, np.int64).view(np.float64)
    out[1] = np.asarray(c.end_time, np.int64).view(np.float64)
    for i, name in enumerate(names, 2):
        out[i] = c.cols[name]
    return out


def unpack(kind: str, block: np.ndarray) -> Columns:
    """The on-disk block -> Columns whose arrays are views into it (no copy for memory-mapped files)."""
    names = KIND_COLUMNS[kind]
    if block.ndim != 2 or block.shape[0] != 2 + len(names):
        raise ValueError(f"{kind} block wants {2 + len(names)} rows, has shape {block.shape}")
    block = np.asarray(block)  # a plain ndarray view of the memmap: arithmetic on it stays cheap
    cols = {name: block[i] for i, name in enumerate(names, 2)}
    if "suspicious" in cols:
        cols["suspicious"] = cols["suspicious"] != 0
    return Columns(kind, block[0].view(np.int64), block[1].view(np.int64), cols)


def write_block(path: Path, block: np.ndarray) -> str:
    """Write atomically (temp file, rename) and return the file's sha256. No fsync per file (it costs ~10 ms
    a day file on this class of disk): the index holds each file's sha256, so ``leand data validate`` finds a
    file a crash left torn."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        np.save(f, np.ascontiguousarray(block), allow_pickle=False)
    place(tmp, path)
    return file_sha256(path)


def place(tmp: Path, path: Path) -> None:
    """Move a finished file into place (same filesystem: an atomic rename)."""
    try:
        os.replace(tmp, path)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, path)


#: files at least this big are memory-mapped; smaller ones (a day of minute bars is ~25 kB) are read whole,
#: which costs less than setting up a mapping
MMAP_MIN = 1 << 20
_HEADER = re.compile(rb"'descr':\s*'<f8',\s*'fortran_order':\s*False,\s*'shape':\s*\((\d+),\s*(\d+)\)")


_shapes: dict[bytes, tuple[int, int] | None] = {}


def read_block(path: Path | str) -> np.ndarray:
    """A day file as a read-only ``(2 + ncols, n)`` array without ``np.load``'s per-call overhead (its header
    goes through ``ast.literal_eval`` and the mapping through ``np.memmap``: ~10x the cost of a minute-bar day).
    Large files are memory-mapped (pages come in when a column is touched); small ones are read in one call."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        data: bytes | mmap.mmap = os.read(fd, size) if size < MMAP_MIN else mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not a .npy file")
    if data[6] == 1:
        hlen, off = data[8] | data[9] << 8, 10
    else:
        hlen, off = int.from_bytes(data[8:12], "little"), 12
    header = data[off:off + hlen]
    if header in _shapes:
        shape = _shapes[header]
    else:
        m = _HEADER.search(header)
        if len(_shapes) > 4096:
            _shapes.clear()
        shape = _shapes[header] = (int(m[1]), int(m[2])) if m else None
    if shape is None:  # written by something else: let numpy read it
        return np.load(path, mmap_mode="r", allow_pickle=False)
    rows, n = shape
    return np.frombuffer(data, np.float64, count=rows * n, offset=off + hlen).reshape(rows, n)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def combined_checksum(day_sums: list[tuple[str, str]]) -> str:
    """One digest of a dataset: sha256 over its (day, file digest) pairs in day order."""
    h = hashlib.sha256()
    for day, sha in sorted(day_sums):
        h.update(f"{day}:{sha}\n".encode())
    return h.hexdigest()
