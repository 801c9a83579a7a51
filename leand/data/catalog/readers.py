"""Vendor files -> Columns chunks: CSV (header or not, any column order) and Parquet, streamed.

Times may be epoch numbers (``--time-unit s|ms|us|ns``, else guessed from the magnitude), ISO-8601 (with a
zone or ``Z``, or naive in ``--tz``), LEAN's ``YYYYMMDD HH:MM`` or a bare ``YYYYMMDD`` date. A bar's time is its
start and its end is start + the resolution's period. Files are read a block of lines at a time and each block is
converted column-wise by numpy, so a file larger than memory streams through; a line that does not parse is
handed to the caller as malformed (with its line number and text) instead of failing the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import numpy as np

from leand.clock import datetime_to_ns
from leand.data.catalog.store import KIND_COLUMNS
from leand.data.lean import Columns, DataFormatError
from leand.model import Resolution

BLOCK_BYTES = 8 << 20
UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}

#: names vendors use for each field (lower case), tried when --columns does not name the field
ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "ts", "datetime", "date", "open_time", "opentime", "t", "time_exchange",
             "local_timestamp", "start", "begin"),
    "open": ("open", "o", "open_price"),
    "high": ("high", "h", "high_price"),
    "low": ("low", "l", "low_price"),
    "close": ("close", "c", "close_price", "last"),
    "volume": ("volume", "vol", "v", "base_volume", "qty", "quantity"),
    "price": ("price", "p", "last_price", "trade_price"),
    "quantity": ("quantity", "qty", "size", "amount", "volume", "q", "base_amount"),
    "bid_price": ("bid_price", "bid", "bidprice", "best_bid", "bid_px", "b"),
    "bid_size": ("bid_size", "bid_qty", "bidsize", "bid_amount", "best_bid_qty", "bid_sz", "bq"),
    "ask_price": ("ask_price", "ask", "askprice", "best_ask", "ask_px", "a"),
    "ask_size": ("ask_size", "ask_qty", "asksize", "ask_amount", "best_ask_qty", "ask_sz", "aq"),
    "suspicious": ("suspicious",),
}
#: fields a file may leave out (then 0: no volume, not suspicious; quote-bar sizes 0)
OPTIONAL = {"volume", "quantity", "bid_size", "ask_size", "suspicious", "last_bid_size", "last_ask_size"}

_OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)$")


@dataclass(slots=True)
class Chunk:
    cols: Columns
    rows: np.ndarray  # 1-based line numbers in the file
    bad: list[tuple[int, str, str]]  # (line, text, reason)


@dataclass(slots=True)
class Layout:
    kind: str
    resolution: Resolution
    tz: tzinfo
    time_unit: str | None = None
    columns: dict[str, str] | None = None  # field -> file column name or 0-based index


def fields_of(kind: str) -> tuple[str, ...]:
    return ("time", *KIND_COLUMNS[kind])


def parse_columns(text: str | None) -> dict[str, str]:
    """``time=ts,open=o`` -> {"time": "ts", "open": "o"}."""
    out: dict[str, str] = {}
    if not text:
        return out
    for part in text.split(","):
        k, sep, v = part.partition("=")
        if not sep or not k.strip() or not v.strip():
            raise ValueError(f"--columns wants FIELD=COLUMN pairs separated by commas, got {part!r}")
        out[k.strip().lower()] = v.strip()
    return out


def resolve_indices(kind: str, header: list[str] | None, mapping: dict[str, str], path: Path) -> dict[str, int]:
    """field -> column index from the header (names/aliases) or positions."""
    fields = fields_of(kind)
    for k in mapping:
        if k not in fields:
            raise DataFormatError(f"{path}: --columns names {k!r}, not a field of {kind} (fields: {', '.join(fields)})")
    idx: dict[str, int] = {}
    names = [h.strip().lower() for h in header] if header is not None else None
    for f in fields:
        if f in mapping:
            v = mapping[f]
            if v.isdigit():
                idx[f] = int(v)
            elif names is None:
                raise DataFormatError(f"{path}: the file has no header, so --columns {f}= wants a 0-based index")
            elif v.lower() in names:
                idx[f] = names.index(v.lower())
            else:
                raise DataFormatError(f"{path}: line 1: no column {v!r} in the header {header}")
            continue
        if names is None:
            continue
        for alias in ALIASES.get(f, (f,)):
            if alias in names and names.index(alias) not in idx.values():
                idx[f] = names.index(alias)
                break
    if names is None and not mapping:  # no header, no mapping: the kind's field order
        idx = {f: i for i, f in enumerate(fields) if f != "suspicious"}
    missing = [f for f in fields if f not in idx and f not in OPTIONAL]
    if missing:
        got = f"header {header}" if header is not None else "no header"
        raise DataFormatError(f"{path}: cannot find {', '.join(missing)} ({got}); name them with --columns, "
                              f"e.g. --columns time=ts,{missing[-1]}=...")
    return idx


def _looks_like_header(fields: list[str]) -> bool:
    numeric = 0
    for f in fields:
        try:
            float(f)
            numeric += 1
        except ValueError:
            pass
    return numeric < max(1, len(fields) // 2)


# -- times -------------------------------------------------------------------------------------------------------
def _epoch_unit(sample: float) -> str:
    a = abs(sample)
    return "s" if a < 1e11 else "ms" if a < 1e14 else "us" if a < 1e17 else "ns"


def parse_times(values: list[str], tz: tzinfo, unit: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Strings -> (UTC ns int64, ok mask). Bad values get ok False."""
    n = len(values)
    ok = np.ones(n, bool)
    if not n:
        return np.empty(0, np.int64), ok
    first = values[0].strip()
    if _is_number(first) and not (len(first) == 8 and first.isdigit() and unit is None):
        try:
            arr = np.array(values, dtype=np.float64)
        except ValueError:
            arr = np.array([_num(v) for v in values], dtype=np.float64)
            ok = ~np.isnan(arr)
        u = unit or _epoch_unit(float(arr[ok][0]) if ok.any() else 0.0)
        if u == "ns" or (u == "us" and np.abs(arr[ok]).max(initial=0) > 2**53 / 1000):
            # exact integer path: a float64 loses nanoseconds
            out = np.zeros(n, np.int64)
            for i in np.flatnonzero(ok).tolist():
                out[i] = int(values[i].strip().split(".")[0]) * UNITS[u]
            return out, ok
        whole = np.floor(np.where(ok, arr, 0.0))
        frac = np.where(ok, arr, 0.0) - whole
        out = whole.astype(np.int64) * UNITS[u] + np.round(frac * UNITS[u]).astype(np.int64)
        return out, ok
    # text times
    vals = [v.strip() for v in values]
    if len(first) >= 13 and first[8] == " " and first[:8].isdigit():  # LEAN 'YYYYMMDD HH:MM[:SS]'
        vals = [f"{v[:4]}-{v[4:6]}-{v[6:8]}T{v[9:]}" for v in vals]
    elif len(first) == 8 and first.isdigit():
        vals = [f"{v[:4]}-{v[4:6]}-{v[6:8]}" for v in vals]
    aware = any(v.endswith(("Z", "z")) or _OFFSET.search(v[10:]) for v in vals[:1]) or \
        any(v.endswith(("Z", "z")) or _OFFSET.search(v[10:]) for v in vals[-1:])
    if aware:
        out = np.zeros(n, np.int64)
        zulu = all(v.endswith(("Z", "z")) for v in vals)
        if zulu:
            try:
                t = np.array([v[:-1] for v in vals], dtype="datetime64[ns]").astype(np.int64)
                return t, ok
            except ValueError:
                pass
        for i, v in enumerate(vals):
            try:
                dt = datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00"))
                if dt.tzinfo is None:
                    dt = dt.replace(tzinfo=tz)
                out[i] = datetime_to_ns(dt)
            except ValueError:
                ok[i] = False
        return out, ok
    try:
        local = np.array(vals, dtype="datetime64[ns]").astype(np.int64)
    except ValueError:
        local = np.zeros(n, np.int64)
        for i, v in enumerate(vals):
            try:
                local[i] = np.datetime64(v, "ns").astype(np.int64)
            except ValueError:
                ok[i] = False
    return local_to_utc(local, tz), ok


def local_to_utc(local_ns: np.ndarray, tz: tzinfo) -> np.ndarray:
    """Naive local times (ns) in ``tz`` -> UTC ns, DST-aware: one offset lookup per distinct hour."""
    if getattr(tz, "key", None) in ("UTC", "Etc/UTC"):
        return local_ns
    hours, inv = np.unique(local_ns // 3_600_000_000_000, return_inverse=True)
    offs = np.empty(len(hours), np.int64)
    epoch = datetime(1970, 1, 1)
    for i, h in enumerate(hours.tolist()):
        off = (epoch + timedelta(hours=h)).replace(tzinfo=tz).utcoffset()
        offs[i] = int(off.total_seconds()) * 1_000_000_000 if off is not None else 0
    return local_ns - offs[inv]


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _num(s: str) -> float:
    try:
        return float(s) if s.strip() else np.nan
    except ValueError:
        return np.nan


# -- CSV ---------------------------------------------------------------------------------------------------------
def _blocks(path: Path, size: int = BLOCK_BYTES) -> Iterator[tuple[int, list[str]]]:
    """(first line number, lines) blocks of the file; never the whole file in memory."""
    lineno = 1
    carry = b""
    with path.open("rb") as f:
        while True:
            chunk = f.read(size)
            if not chunk:
                break
            chunk = carry + chunk
            cut = chunk.rfind(b"\n") + 1
            if cut == 0:
                carry = chunk
                continue
            carry = chunk[cut:]
            lines = chunk[:cut].decode("utf-8", "replace").split("\n")[:-1]
            yield lineno, lines
            lineno += len(lines)
        if carry.strip():
            yield lineno, [carry.decode("utf-8", "replace")]


def _split(line: str) -> list[str]:
    return line.split(",") if '"' not in line else next(csv.reader(io.StringIO(line)))


def read_csv(path: Path, layout: Layout) -> Iterator[Chunk]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    idx: dict[str, int] | None = None
    ncols = need = 0
    for start, lines in _blocks(path):
        first = 0
        if idx is None:  # the first non-empty line: a header, or already data
            for i, line in enumerate(lines):
                line = line.rstrip("\r")
                if not line.strip():
                    continue
                fields = _split(line)
                header = _looks_like_header(fields)
                idx = resolve_indices(layout.kind, fields if header else None, layout.columns or {}, path)
                ncols, first = len(fields), i + 1 if header else i
                need = max(idx.values()) + 1
                break
            else:
                continue
        body = lines[first:]
        if not body:
            continue
        base = start + first
        fast = _fast_numeric(body, base, ncols, idx, layout)
        if fast is not None:
            yield fast
            continue
        rows: list[list[str]] = []
        linenos: list[int] = []
        bad: list[tuple[int, str, str]] = []
        for i, line in enumerate(body):
            line = line.rstrip("\r")
            if not line.strip():
                continue
            fields = _split(line)
            if len(fields) < ncols or len(fields) < need:
                bad.append((base + i, line[:200], f"expected {ncols} fields, got {len(fields)}"))
                continue
            rows.append(fields)
            linenos.append(base + i)
        if not rows and not bad:
            continue
        yield _convert(rows, np.array(linenos, np.int64), bad, idx, layout)
    if idx is None:
        raise DataFormatError(f"{path}: no data rows")


def _fast_numeric(body: list[str], base: int, ncols: int, idx: dict[str, int], layout: Layout) -> Chunk | None:
    """The usual machine-written block (epoch times, every field a number, no blanks): one numpy parse of the
    whole block instead of a split per line. None when anything is unusual: the general path decides."""
    from leand.data.lean import _fromstring

    t0 = body[0].split(",", 1)[0] if idx["time"] == 0 else None
    if t0 is None or not _is_number(t0) or (len(t0.strip()) == 8 and layout.time_unit is None):
        return None
    if max(idx.values()) >= ncols:  # a field mapped past the row's end: the general path names the rows
        return None
    text = "\n".join(body)
    if "\r" in text:
        text = text.replace("\r", "")
    if '"' in text or "\n\n" in text or not text.strip() or "n" in text.replace("\n", ""):
        return None  # quotes, blank lines, or nan/inf/words somewhere
    arr = _fromstring(text.replace("\n", ","), np.float64)
    if arr is None or arr.size != len(body) * ncols:
        return None
    arr = arr.reshape(len(body), ncols)
    traw = arr[:, 0]
    unit = layout.time_unit or _epoch_unit(float(traw[0]))
    if np.abs(traw).max() * UNITS[unit] >= 2**62 or np.abs(traw).max() >= 2**53 or (traw != np.floor(traw)).any():
        return None  # fractions or ns epochs: the exact path
    times = traw.astype(np.int64) * UNITS[unit]
    cols: dict[str, np.ndarray] = {}
    n = len(body)
    for f in KIND_COLUMNS[layout.kind]:
        j = idx.get(f)
        cols[f] = np.zeros(n) if j is None else np.ascontiguousarray(arr[:, j])
    if "suspicious" in cols:
        cols["suspicious"] = cols["suspicious"] != 0
    rows = np.arange(base, base + n, dtype=np.int64)
    return Chunk(Columns(layout.kind, times, times + layout.resolution.value, cols), rows, [])


def _convert(rows: list[list[str]], linenos: np.ndarray, bad: list[tuple[int, str, str]], idx: dict[str, int],
             layout: Layout) -> Chunk:
    n = len(rows)
    ok = np.ones(n, bool)
    why = [""] * n
    times, tok = parse_times([r[idx["time"]] for r in rows], layout.tz, layout.time_unit)
    for i in np.flatnonzero(~tok).tolist():
        why[i] = f"bad time {rows[i][idx['time']]!r}"
    ok &= tok
    cols: dict[str, np.ndarray] = {}
    for f in KIND_COLUMNS[layout.kind]:
        j = idx.get(f)
        if j is None:
            cols[f] = np.zeros(n)
            continue
        strs = [r[j] for r in rows]
        try:
            col = np.array(strs, dtype=np.float64)
        except ValueError:
            col = np.array([_num(s) for s in strs], dtype=np.float64)
        nan = np.isnan(col)
        if nan.any() and layout.kind != "quote_bar":  # an empty quote-bar side is NaN by design
            for i in np.flatnonzero(nan & ok).tolist():
                why[i] = f"{f} is not a number: {strs[i][:40]!r}"
            ok &= ~nan
        cols[f] = col
    if "suspicious" in cols:
        cols["suspicious"] = cols["suspicious"] != 0
    for i in np.flatnonzero(~ok).tolist():
        bad.append((int(linenos[i]), ",".join(rows[i])[:200], why[i]))
    if not ok.all():
        times, linenos = times[ok], linenos[ok]
        cols = {k: v[ok] for k, v in cols.items()}
    period = layout.resolution.value
    return Chunk(Columns(layout.kind, times, times + period, cols), linenos, sorted(bad))


# -- Parquet -----------------------------------------------------------------------------------------------------
def read_parquet(path: Path, layout: Layout, batch_rows: int = 262_144) -> Iterator[Chunk]:
    """Parquet through pyarrow (the optional ``parquet`` extra), a row group batch at a time."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataFormatError(f"{path}: reading Parquet needs pyarrow: pip install 'leand[parquet]'") from None
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise DataFormatError(f"{path}: not a Parquet file ({e})") from None
    names = list(pf.schema_arrow.names)
    idx = resolve_indices(layout.kind, names, layout.columns or {}, path)
    wanted = sorted(set(idx.values()))
    row = 1
    for batch in pf.iter_batches(batch_size=batch_rows, columns=[names[i] for i in wanted]):
        n = batch.num_rows
        linenos = np.arange(row, row + n, dtype=np.int64)
        row += n
        tcol = batch.column(names[idx["time"]])
        bad: list[tuple[int, str, str]] = []
        ok = np.ones(n, bool)
        if pa.types.is_timestamp(tcol.type):
            t = tcol.cast(pa.timestamp("ns", tcol.type.tz)).to_numpy(zero_copy_only=False).astype("datetime64[ns]")
            times = t.astype(np.int64)
            if tcol.type.tz is None:
                times = local_to_utc(times, layout.tz)
            ok &= ~np.isnat(t)
        elif pa.types.is_integer(tcol.type) or pa.types.is_floating(tcol.type):
            times, tok = parse_times([str(v) for v in tcol.to_pylist()], layout.tz, layout.time_unit)
            ok &= tok
        else:
            times, tok = parse_times([str(v) for v in tcol.to_pylist()], layout.tz, layout.time_unit)
            ok &= tok
        cols: dict[str, np.ndarray] = {}
        for f in KIND_COLUMNS[layout.kind]:
            j = idx.get(f)
            if j is None:
                cols[f] = np.zeros(n)
                continue
            col = batch.column(names[j]).cast(pa.float64()).to_numpy(zero_copy_only=False)
            col = np.asarray(col, np.float64)
            if layout.kind != "quote_bar":
                ok &= ~np.isnan(col)
            cols[f] = col
        if "suspicious" in cols:
            cols["suspicious"] = cols["suspicious"] != 0
        for i in np.flatnonzero(~ok).tolist():
            bad.append((int(linenos[i]), "", "null or unparseable value"))
        if not ok.all():
            times, linenos = times[ok], linenos[ok]
            cols = {k: v[ok] for k, v in cols.items()}
        yield Chunk(Columns(layout.kind, times, times + layout.resolution.value, cols), linenos, bad)
