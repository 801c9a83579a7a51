"""L2 deltas in the catalogue: leand book recordings (``.l2d``) imported, validated and split by day.

A recording's records are fixed-size (see :mod:`leand.simulator.l2file`), so they are already what the
catalogue wants: the day files are ``YYYYMMDD.l2d`` files with the recording's header, read by the same
streaming reader a backtest uses. Checks on the way in (each with its policy, as for bars and ticks):

* ``malformed``: an unknown record kind, a level side not +1/-1, a price or size that is not finite;
* ``nonpositive``: a delta, snapshot level or trade at a price <= 0, or a negative size;
* ``out_of_order``: a record before an earlier one (``flag`` keeps it where it is: a book replays in order);
* ``duplicate``: a delta repeating the previous delta's sequence number and values;
* ``gap``: a delta whose sequence number jumps past the previous delta's + 1 (updates were lost; a snapshot
  resets the count). There is no row to drop for a gap, so ``drop`` reports it like ``flag``.

Crossed books are left to the replay, which rebuilds the book (a crossed touch in a recording is data).
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import struct
from collections.abc import Iterator, Sequence
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
import numpy as np

from leand.clock import datetime_to_ns, ns_to_datetime
from leand.data.catalog.index import Catalog, Dataset, DatasetKey
from leand.data.catalog.store import day_key, place
from leand.data.catalog.validate import Finding, Report, ValidationError
from leand.data.market_hours import ExchangeHours
from leand.simulator.l2file import DELTA, MAGIC, RECORD, SNAP_END, SNAP_START, L2Header, read_header

L2_KIND = "l2_delta"


def raw_chunks(path: Path, chunk: int = 1 << 16) -> Iterator[np.ndarray]:
    """The records as stored, unchecked (``l2file.iter_chunks`` refuses a bad record; the checks here report
    it under a policy instead)."""
    _, offset = read_header(path)
    with open(path, "rb") as f:
        f.seek(offset)
        while len(a := np.fromfile(f, dtype=RECORD, count=chunk)):
            yield a


def _header_bytes(h: L2Header) -> bytes:
    raw = msgspec.json.encode(h)
    return MAGIC + struct.pack("<I", len(raw)) + raw


class CheckState:
    """What the checks carry from one chunk to the next."""

    def __init__(self) -> None:
        self.max_time: int | None = None
        self.last_seq: int | None = None
        self.last_delta: tuple | None = None


def check_records(rec: np.ndarray, st: CheckState, policy: dict[str, str], report: Report, source: str, row0: int,
           quarantine: list[tuple[str, str, str, int, tuple]]) -> np.ndarray:
    """Run the checks on a chunk in file order; return the records to keep."""
    n = len(rec)
    keep = np.ones(n, bool)
    kind, side, price, size = rec["kind"], rec["side"], rec["price"], rec["size"]
    level = (kind == DELTA) | (kind == 2)
    priced = level | (kind == 4)
    findings: list[tuple[str, int, str]] = []
    broken = (kind > 4) | (level & (side != 1) & (side != -1)) | ((kind == 4) & (np.abs(side) > 1)) \
        | (priced & ~(np.isfinite(price) & np.isfinite(size)))
    for i in np.flatnonzero(broken).tolist():
        findings.append(("malformed", i, f"kind {int(kind[i])}, side {int(side[i])}, price {price[i]!r}, "
                                         f"size {size[i]!r}"))
    with np.errstate(invalid="ignore"):
        bad = ((priced & (price <= 0)) | (size < 0)) & ~broken
    for i in np.flatnonzero(bad).tolist():
        what = "price <= 0" if price[i] <= 0 else "size < 0"
        findings.append(("nonpositive", i, f"{what} (price={price[i]:g}, size={size[i]:g})"))
    times = rec["time"].tolist()
    seqs = rec["seq"].tolist()
    kinds = kind.tolist()
    for i in range(n):
        t, k = times[i], kinds[i]
        if st.max_time is not None and t < st.max_time:
            findings.append(("out_of_order", i, "time before an earlier record's"))
        else:
            st.max_time = t
        if k == SNAP_START or k == SNAP_END:
            st.last_seq = seqs[i] if k == SNAP_END else st.last_seq
            st.last_delta = None
            continue
        if k != DELTA:
            continue
        row = (seqs[i], int(rec["side"][i]), float(price[i]), float(size[i]))
        if st.last_delta is not None and row == st.last_delta:
            findings.append(("duplicate", i, f"repeats the previous delta (seq {seqs[i]})"))
            continue
        if st.last_seq is not None and seqs[i] > st.last_seq + 1:
            findings.append(("gap", i, f"gap: sequence jumps from {st.last_seq} to {seqs[i]} "
                                       f"({seqs[i] - st.last_seq - 1} updates missing)"))
        st.last_seq = max(seqs[i], st.last_seq or 0)
        st.last_delta = row
    for check, i, reason in sorted(findings, key=lambda f: f[1]):
        action = policy[check]
        if action == "fail":
            raise ValidationError(f"{check}: {source} record {row0 + i} "
                                  f"({ns_to_datetime(times[i]).isoformat()}): {reason} (policy fail)")
        drops = (action == "drop" and check != "gap") or check == "malformed"  # a broken record cannot be kept
        report.add(Finding(check, "dropped" if drops else "flagged", source, row0 + i, times[i], reason))
        if drops and keep[i]:
            keep[i] = False
            report.rows_dropped += 1
            quarantine.append((check, reason, source, row0 + i, tuple(rec[i].tolist())))
    return keep


def import_l2(catalog: Catalog, paths: Sequence[Path], key: DatasetKey, hours: ExchangeHours,
              policy: dict[str, str]) -> tuple[Dataset, Report]:
    """Stream ``.l2d`` recordings into per-day files of ``key``'s dataset (staged; nothing changes on fail)."""
    folder = catalog.folder_of(key)
    staging = folder.parent / f".staging-{L2_KIND}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    report = Report()
    quarantine: list[tuple[str, str, str, int, tuple]] = []
    tz = hours.data_time_zone
    header: L2Header | None = None
    files: dict[str, BinaryIO] = {}
    counts: dict[str, int] = {}
    hashes: dict[str, Any] = {}
    try:
        for path in paths:
            path = Path(path)
            h, _ = read_header(path)
            if header is None:
                header = L2Header(key.symbol, h.tick_size, h.lot_size, h.source or path.name)
            elif (h.tick_size, h.lot_size) != (header.tick_size, header.lot_size):
                raise ValueError(f"{path}: tick/lot size {h.tick_size}/{h.lot_size} differ from the first file's")
            st, row = CheckState(), 1
            for rec in raw_chunks(path):
                report.rows_in += len(rec)
                keep = check_records(rec, st, policy, report, path.name, row, quarantine)
                row += len(rec)
                rec = rec[keep]
                if not len(rec):
                    continue
                t = rec["time"]
                d0 = ns_to_datetime(int(t.min()), tz).date()
                d1 = ns_to_datetime(int(t.max()), tz).date()
                days = [d0 + timedelta(days=i) for i in range((d1 - d0).days + 2)]
                edges = np.array([datetime_to_ns(datetime.combine(d, time(0), tz)) for d in days], np.int64)
                which = np.searchsorted(edges, t, "right") - 1
                for w in np.unique(which).tolist():
                    part = rec[which == w]
                    day = day_key(days[w])
                    if day not in files:
                        f = (staging / f"{day}.l2d").open("wb")
                        files[day] = f
                        hb = _header_bytes(header)
                        f.write(hb)
                        hashes[day] = hashlib.sha256(hb)
                        counts[day] = 0
                    data = part.tobytes()
                    files[day].write(data)
                    hashes[day].update(data)
                    counts[day] += len(part)
                report.rows_kept += len(rec)
        for fh in files.values():
            fh.close()
        files.clear()
        dataset = catalog.ensure(key, ", ".join(str(p) for p in paths))
        stored = catalog.day_files(dataset)
        clash = sorted(set(stored) & set(counts))
        if clash:
            raise ValueError(f"{key.label()} already holds {', '.join(clash[:3])}: rm it first (book recordings are "
                             "not merged)")
        for day in counts:
            place(staging / f"{day}.l2d", folder / f"{day}.l2d")
        catalog.record_days(dataset, {d: (counts[d], hashes[d].hexdigest()) for d in counts})
        _write_quarantine(folder, quarantine)
        first, last = l2_range(catalog, dataset)
        dataset = catalog.refresh(dataset, first_ns=first, last_ns=last, verdict=report.verdict(),
                                  findings={"counts": dict(sorted(report.counts.items())),
                                            "last_ingest": report.summary()})
        return dataset, report
    finally:
        for fh in files.values():
            fh.close()
        shutil.rmtree(staging, ignore_errors=True)


def day_paths(catalog: Catalog, dataset: Dataset) -> list[Path]:
    folder = catalog.folder_of(dataset.key)
    return [folder / f"{d}.l2d" for d in sorted(catalog.day_files(dataset))]


def l2_range(catalog: Catalog, dataset: Dataset) -> tuple[int | None, int | None]:
    paths = day_paths(catalog, dataset)
    if not paths:
        return None, None
    first = next(raw_chunks(paths[0], 1))["time"][0]
    _, off = read_header(paths[-1])
    last = np.fromfile(paths[-1], RECORD, offset=off)["time"].max()
    return int(first), int(last)


def _write_quarantine(folder: Path, rows: list[tuple[str, str, str, int, tuple]]) -> None:
    if not rows:
        return
    path = folder / "quarantine.csv"
    new = not path.is_file()
    folder.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["check", "reason", "source", "row", "time", *(RECORD.names or ())[1:]])
        for check, reason, source, row, rec in rows:
            w.writerow([check, reason, source, row, ns_to_datetime(int(rec[0])).isoformat(), *rec[1:]])
