"""Streaming ingest into one catalogue dataset: every importer (files, LEAN folders, downloads) ends here.

Rows arrive in chunks of any size and order. Each chunk is split by local day (the data time zone's date of the
row's start) and kept per day in memory up to ``SPILL_BUDGET`` bytes; beyond that every day's rows go to
per-day spill files in a staging folder, so memory stays bounded whatever the input's size. ``finish()`` then takes the days in order: validates the day's new rows (:mod:`validate`), merges them
with what the dataset already stores (a re-imported identical row is skipped silently), and writes the day's
columnar file into the staging folder. Only when every day has passed are the files moved into place and the
index updated, so a ``fail`` policy leaves the catalogue exactly as it was.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import orjson

from leand.clock import datetime_to_ns, ns_to_datetime
from leand.data.catalog.index import Catalog, Dataset, DatasetKey
from leand.data.catalog.store import (
    ALL_DAYS,
    KIND_COLUMNS,
    day_key,
    key_date,
    pack,
    read_block,
    place,
    unpack,
    whole_file,
)
from leand.data.catalog.validate import Batch, Finding, Params, Report, ValidationError, Validator
from leand.data.lean import Columns
from leand.data.market_hours import ExchangeHours

QUARANTINE = "quarantine.csv"
#: bytes of rows held in memory before they are spilled to per-day files (creating a file costs ~1-2 ms here,
#: so an ordinary import creates none)
SPILL_BUDGET = 64 << 20
REPORT = "report.json"


class Ingest:
    """``add()`` chunks, then ``finish()`` once (or ``abort()``). One ingest per dataset at a time."""

    def __init__(self, catalog: Catalog, key: DatasetKey, hours: ExchangeHours, policy: dict[str, str],
                 source: str, params: Params | None = None, validator: Validator | None = None) -> None:
        """``validator``: carry one across several ingests (a download committing as it goes), so the spike
        window and stale runs continue and one report covers them all."""
        self.catalog = catalog
        self.key = key
        self.hours = hours
        self.tz = hours.data_time_zone
        self.policy = policy
        self.source = source
        if validator is None:
            validator = Validator(key.kind, key.resolution, hours, policy, [], params)
        self.validator = validator
        self.sources = validator.sources
        self._counts_before = Counter(validator.report.counts)
        self.whole = whole_file(key.resolution)
        self.ncols = len(KIND_COLUMNS[key.kind])
        self.folder = catalog.folder_of(key)
        self.staging = self.folder.parent / f".staging-{key.kind}-{os.getpid()}"
        _remove_stale_staging(self.folder.parent, key.kind)
        shutil.rmtree(self.staging, ignore_errors=True)
        (self.staging / "spill").mkdir(parents=True)
        self.first_ns: int | None = None
        self.last_ns: int | None = None
        self.malformed: list[tuple[int, int, str, str]] = []  # (source, row, text, reason)
        self._midnights: dict[date, int] = {}
        self._stored_src = -1
        self._mem: dict[str, list[np.ndarray]] = {}
        self._mem_bytes = 0
        self._spilled: set[str] = set()

    @property
    def report(self) -> Report:
        return self.validator.report

    def add_source(self, name: str) -> int:
        self.sources.append(name)
        return len(self.sources) - 1

    # -- intake ------------------------------------------------------------------------------------------------
    def bad_row(self, source: int, row: int, text: str, reason: str) -> None:
        """A row that did not parse: the ``malformed`` policy decides (``flag`` cannot keep it: dropped)."""
        if self.policy["malformed"] == "fail":
            raise ValidationError(f"malformed: {self.sources[source]} row {row}: {reason} (policy fail)")
        self.report.rows_in += 1
        self.report.rows_dropped += 1
        self.report.add(Finding("malformed", "dropped", self.sources[source], row, 0, reason))
        self.malformed.append((source, row, text, reason))

    def _midnight(self, d: date) -> int:
        m = self._midnights.get(d)
        if m is None:
            m = self._midnights[d] = datetime_to_ns(datetime.combine(d, time(0), self.tz))
        return m

    def add(self, cols: Columns, source: int, rows: np.ndarray) -> None:
        """Spill a chunk (any order) into per-day files."""
        n = len(cols)
        if not n:
            return
        t = np.asarray(cols.time, np.int64)
        lo, hi = int(t.min()), int(t.max())
        self.first_ns = lo if self.first_ns is None else min(self.first_ns, lo)
        self.last_ns = hi if self.last_ns is None else max(self.last_ns, hi)
        block = np.empty((n, 4 + self.ncols), np.float64)
        block[:, 0] = t.view(np.float64)
        block[:, 1] = np.asarray(cols.end_time, np.int64).view(np.float64)
        block[:, 2] = source
        block[:, 3] = rows
        for i, name in enumerate(KIND_COLUMNS[self.key.kind], 4):
            block[:, i] = cols.cols[name]
        if self.whole:
            self._append(ALL_DAYS, block)
            return
        d0 = ns_to_datetime(lo, self.tz).date()
        d1 = ns_to_datetime(hi, self.tz).date()
        days = [d0 + timedelta(days=i) for i in range((d1 - d0).days + 2)]
        edges = np.array([self._midnight(d) for d in days], np.int64)
        which = np.searchsorted(edges, t, "right") - 1
        if which.min() == which.max():
            self._append(day_key(days[int(which[0])]), block)
            return
        order = np.argsort(which, kind="stable")
        ws = which[order]
        cuts = np.flatnonzero(ws[1:] != ws[:-1]) + 1
        for part in np.split(order, cuts):
            self._append(day_key(days[int(which[part[0]])]), block[part])

    def _append(self, day: str, block: np.ndarray) -> None:
        self._mem.setdefault(day, []).append(block)
        self._mem_bytes += block.nbytes
        if self._mem_bytes > SPILL_BUDGET:
            self._spill()

    def _spill(self) -> None:
        """Move every day held in memory to its spill file (appending: a day's rows stay in source order)."""
        for day, parts in self._mem.items():
            with (self.staging / "spill" / f"{day}.bin").open("ab") as f:
                for part in parts:
                    np.ascontiguousarray(part).tofile(f)
            self._spilled.add(day)
        self._mem.clear()
        self._mem_bytes = 0

    # -- commit ------------------------------------------------------------------------------------------------
    def _load_spill(self, day: str) -> Batch:
        parts = []
        if day in self._spilled:
            parts.append(np.fromfile(self.staging / "spill" / f"{day}.bin", np.float64).reshape(-1, 4 + self.ncols))
        parts += self._mem.pop(day, [])
        raw = parts[0] if len(parts) == 1 else np.concatenate(parts)
        names = KIND_COLUMNS[self.key.kind]
        cols = {name: raw[:, i].copy() for i, name in enumerate(names, 4)}
        if "suspicious" in cols:
            cols["suspicious"] = cols["suspicious"] != 0
        c = Columns(self.key.kind, raw[:, 0].copy().view(np.int64), raw[:, 1].copy().view(np.int64), cols)
        return Batch(c, raw[:, 2].astype(np.int64), raw[:, 3].astype(np.int64))

    def finish(self) -> tuple[Dataset, Report]:
        """Validate and store everything added; the catalogue is unchanged if a ``fail`` policy fires."""
        try:
            dataset = self.catalog.ensure(self.key, self.source)
            stored = self.catalog.day_files(dataset)
            days = sorted(self._spilled | set(self._mem))
            out_dir = self.staging / "final"
            out_dir.mkdir()
            span = (self.first_ns, self.last_ns) if self.first_ns is not None and self.last_ns is not None else None
            if not self.whole and days and span is not None:
                present = set(days)
                d, last = key_date(days[0]), key_date(days[-1])
                while d <= last:
                    if day_key(d) not in present:
                        self.validator.missing_day(d, span)
                    d += timedelta(days=1)
            written: dict[str, tuple[int, str]] = {}
            for day in days:
                new = self._load_spill(day)
                old = unpack(self.key.kind, read_block(self.catalog.path_of(self.key, day))) if day in stored else None
                if old is not None and len(old):
                    new = self._skip_identical(old, new)
                kept = self.validator.day(new, None, None)
                if old is not None and len(old):
                    kept = self._against_stored(old, kept)
                    if self._stored_src < 0:
                        self._stored_src = self.add_source("(stored)")
                    n_old = len(old)
                    both = Batch(_concat(old, kept.cols),
                                 np.concatenate([np.full(n_old, self._stored_src, np.int64), kept.source]),
                                 np.concatenate([np.arange(1, n_old + 1, dtype=np.int64), kept.row]))
                    both = both.take(np.argsort(both.cols.time, kind="stable"))
                else:
                    both = kept
                merged = both.cols
                if span is not None and not self.whole:
                    self.validator.gaps(both, key_date(day), span)
                if self.whole and span is not None:
                    self._missing_daily(both)
                if len(merged):
                    buf = io.BytesIO()
                    np.save(buf, pack(merged), allow_pickle=False)
                    data = buf.getvalue()
                    (out_dir / f"{day}.npy").write_bytes(data)
                    written[day] = (len(merged), hashlib.sha256(data).hexdigest())
            # every day passed: move into place, then index
            for day in written:
                place(out_dir / f"{day}.npy", self.catalog.path_of(self.key, day))
            shas = written
            self.catalog.record_days(dataset, shas)
            self._write_quarantine()
            report = self.report
            findings = Counter(dataset.findings.get("counts", {}))
            findings.update(report.counts - self._counts_before)
            summary = {"counts": dict(sorted(findings.items())), "last_ingest": report.summary()}
            verdict = "clean" if not findings else Report(counts=findings).verdict()
            lo_ns, hi_ns = stored_range(self.catalog, dataset)
            dataset = self.catalog.refresh(dataset, first_ns=lo_ns, last_ns=hi_ns, source=self.source,
                                           verdict=verdict, findings=summary)
            (self.folder / REPORT).parent.mkdir(parents=True, exist_ok=True)
            (self.folder / REPORT).write_bytes(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2))
            return dataset, report
        finally:
            self.abort()

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def _skip_identical(self, old: Columns, new: Batch) -> Batch:
        """New rows equal to a stored row (same times, same values) are not faults: a re-import or a resume."""
        same = np.isin(_row_keys(new.cols), _row_keys(old))
        if not same.any():
            return new
        self.report.rows_skipped += int(same.sum())
        return new.take(~same)

    def _against_stored(self, old: Columns, kept: Batch) -> Batch:
        """Bars: a new row at a time the dataset already holds, with other values, is a duplicate (``drop``
        keeps the stored row). Ticks may share a time."""
        from leand.model import Resolution

        if self.key.resolution is Resolution.TICK or not len(kept):
            return kept
        clash = np.isin(kept.cols.time, old.time)
        if not clash.any():
            return kept
        keep = self.validator.apply("duplicate", kept, clash,
                                     ["duplicate time of a stored row (different values)"] * int(clash.sum()))
        if keep.all():
            return kept
        self.report.rows_kept -= int((~keep).sum())
        return kept.take(keep)

    def _missing_daily(self, kept: Batch) -> None:
        from leand.model import Resolution

        if self.key.resolution is not Resolution.DAILY or not len(kept) or self.first_ns is None:
            return
        have = {ns_to_datetime(t, self.tz).date() for t in kept.cols.time.tolist()}
        d, last = min(have), max(have)
        while d <= last:
            if d not in have and self.hours.is_date_open(d):
                self.validator.missing_day(d, (self.first_ns, self.last_ns or self.first_ns))
            d += timedelta(days=1)

    def _write_quarantine(self) -> None:
        dropped = self.validator.dropped
        if not dropped and not self.malformed:
            return
        path = self.folder / QUARANTINE
        path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not path.is_file()
        names = [n for n in KIND_COLUMNS[self.key.kind]]
        with path.open("a", newline="") as f:
            w = csv.writer(f)
            if new_file:
                w.writerow(["check", "reason", "source", "row", "time", *names])
            for check, b, reasons in dropped:
                c = b.cols
                for i in range(len(b)):
                    w.writerow([check, reasons[i], self.sources[int(b.source[i])], int(b.row[i]),
                                ns_to_datetime(int(c.time[i])).isoformat(),
                                *[_fmt(c.cols[n][i]) for n in names]])
            for src, row, text, reason in self.malformed:
                w.writerow(["malformed", reason, self.sources[src], row, "", text])
        dropped.clear()
        self.malformed.clear()


def _remove_stale_staging(parent: Path, kind: str) -> None:
    """Staging folders left by an ingest whose process died (killed mid-download): their rows were never
    committed, so they are garbage."""
    if not parent.is_dir():
        return
    for d in parent.glob(f".staging-{kind}-*"):
        try:
            pid = int(d.name.rsplit("-", 1)[1])
        except ValueError:
            continue
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except PermissionError:
            pass


def _fmt(v: float | bool) -> str:
    return repr(float(v)) if not isinstance(v, (bool, np.bool_)) else str(int(v))


def _row_keys(c: Columns) -> np.ndarray:
    """One opaque value per row (its times and values as raw bytes), for set membership tests."""
    m = np.empty((len(c), 2 + len(c.cols)), np.float64)
    m[:, 0] = c.time.view(np.float64)
    m[:, 1] = c.end_time.view(np.float64)
    for i, v in enumerate(c.cols.values(), 2):
        m[:, i] = v
    return m.view(np.dtype((np.void, m.shape[1] * 8))).ravel()


def _concat(a: Columns, b: Columns) -> Columns:
    return Columns(a.kind, np.concatenate([a.time, b.time]), np.concatenate([a.end_time, b.end_time]),
                   {k: np.concatenate([a.cols[k], b.cols[k]]) for k in a.cols})


def stored_range(catalog: Catalog, dataset: Dataset) -> tuple[int | None, int | None]:
    files = catalog.day_files(dataset)
    if not files:
        return None, None
    days = sorted(files)
    first = unpack(dataset.key.kind, read_block(catalog.path_of(dataset.key, days[0])))
    last = unpack(dataset.key.kind, read_block(catalog.path_of(dataset.key, days[-1])))
    return int(first.time[0]), int(last.time[-1])


def quarantine_path(catalog: Catalog, key: DatasetKey) -> Path:
    return catalog.folder_of(key) / QUARANTINE
