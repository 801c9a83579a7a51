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
import os
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
KINDS = tuple(KIND_COLUMNS)
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
    """Write atomically (temp file, fsync, rename) and return the file's sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        np.save(f, np.ascontiguousarray(block), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return file_sha256(path)


def read_block(path: Path) -> np.ndarray:
    return np.load(path, mmap_mode="r", allow_pickle=False)


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
