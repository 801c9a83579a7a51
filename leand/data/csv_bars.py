"""A plain OHLCV CSV reader: ``time,open,high,low,close[,volume]`` with a header row.

Times may be ISO-8601 (with a zone, or naive in the exchange time zone), ``YYYYMMDD HH:MM``, a date, or epoch
seconds/milliseconds. A row's time is the bar's start; its end is start + period. The file is read in chunks,
never whole; a bad row raises :class:`~leand.data.lean.DataFormatError` naming the file and line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime, tzinfo
from pathlib import Path

import numpy as np

from leand.clock import datetime_to_ns
from leand.data.lean import Columns, DataFormatError

CHUNK = 65_536
_COLUMNS = ("open", "high", "low", "close", "volume")


def _parse_time(text: str, tz: tzinfo) -> int:
    text = text.strip()
    if text.isdigit() and len(text) >= 9 and len(text) != 8:
        v = int(text)
        return v * 1_000_000 if v > 10**11 else v * 1_000_000_000  # epoch ms or s
    if len(text) >= 13 and text[8] == " " and text[:8].isdigit():  # LEAN style 'YYYYMMDD HH:MM'
        dt = datetime.strptime(text[:14], "%Y%m%d %H:%M")
    elif len(text) == 8 and text.isdigit():
        dt = datetime.combine(date(int(text[:4]), int(text[4:6]), int(text[6:])), datetime.min.time())
    else:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return datetime_to_ns(dt)


def read_csv_bars(path: Path, tz: tzinfo, period_ns: int | None = None, chunk: int = CHUNK) -> Iterator[Columns]:
    """Yield time-ordered ``trade_bar`` Columns of at most ``chunk`` rows."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CSV data file not found: {path}")
    with path.open(newline="") as f:
        reader = csv.reader(f)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise DataFormatError(f"{path}: empty file") from None
        tcol = next((i for i, h in enumerate(header) if h in ("time", "date", "datetime", "timestamp")), None)
        if tcol is None:
            raise DataFormatError(f"{path}: line 1: header needs a time/date column, got {header}")
        idx = {}
        for name in _COLUMNS:
            if name in header:
                idx[name] = header.index(name)
            elif name != "volume":
                raise DataFormatError(f"{path}: line 1: header has no {name!r} column")
        last_t = None
        rows_t: list[int] = []
        rows_v: list[list[float]] = []
        lineno = 1
        for lineno, row in enumerate(reader, 2):
            if not row or not "".join(row).strip():
                continue
            try:
                t = _parse_time(row[tcol], tz)
                vals = [float(row[idx[c]]) if c in idx else 0.0 for c in _COLUMNS]
            except (ValueError, IndexError) as e:
                raise DataFormatError(f"{path}: line {lineno}: bad row {','.join(row)[:80]!r}: {e}") from None
            if last_t is not None and t <= last_t:
                raise DataFormatError(f"{path}: line {lineno}: time goes backwards or repeats")
            o, h, lo, c, _ = vals
            if not (lo <= min(o, c) and h >= max(o, c)):
                raise DataFormatError(f"{path}: line {lineno}: high/low do not bracket open/close")
            last_t = t
            rows_t.append(t)
            rows_v.append(vals)
            if len(rows_t) >= chunk:
                yield _columns(rows_t, rows_v, period_ns, path)
                rows_t, rows_v = [], []
        if rows_t:
            yield _columns(rows_t, rows_v, period_ns, path)


def _columns(ts: list[int], vs: list[list[float]], period_ns: int | None, path: Path) -> Columns:
    t = np.array(ts, dtype=np.int64)
    if period_ns is None:
        if len(t) < 2:
            raise DataFormatError(f"{path}: cannot infer the bar period from one row: pass a resolution")
        period_ns = int(np.median(np.diff(t)))
    arr = np.array(vs, dtype=np.float64)
    return Columns("trade_bar", t, t + period_ns, {name: arr[:, i] for i, name in enumerate(_COLUMNS)})
