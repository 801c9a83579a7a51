"""Readers for LEAN's on-disk data (docs/lean-formats.md), producing columnar numpy batches.

One zip file is read at a time (a day for tick/second/minute data; hour/daily files hold one symbol's whole
history and are read once and sliced by date). Parsing is vectorized: the CSV text is normalized with a few
C-level byte replacements and decoded by ``np.fromstring``, so a million-line tick day decodes in well under
a second.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from leand.clock import datetime_to_ns
from leand.data.cache import ColumnFiles, cached, cached_blocks, columns
from leand.data.corporate import FactorFile, MapFile
from leand.data.market_hours import ExchangeHours, parse_tz
from leand.model import DataNormalizationMode, Resolution, SecurityType, Symbol, TickType

MS = 1_000_000
_ALPHA_FIELD = re.compile(rb",([A-Za-z][A-Za-z0-9 ]*)(?=,|$)", re.M)


def _zero_alpha_fields(body: bytes) -> bytes:
    """``_ALPHA_FIELD.sub(b",0", body)`` (a tick line's exchange field is a letter: parsed as 0), the same bytes.
    LEAN's equity tick files name the exchange by one letter; when every letter in the text is a field of its
    own (a comma before it, a comma, line end or the end after it), the substitution is that letter turned
    into a 0, done here with array passes (the regex was half of decoding a day of quotes). Anything else
    (longer names, a letter inside a number, at the start of a line) goes to the regex."""
    buf = np.frombuffer(body, np.uint8)
    at = np.flatnonzero((buf | 0x20) - 97 < 26)  # A-Z, a-z (uint8 arithmetic wraps below 'a')
    if not len(at):
        return body
    n = len(buf)
    if at[0] == 0:
        return _ALPHA_FIELD.sub(b",0", body)
    after = buf[np.minimum(at + 1, n - 1)]
    if not (buf[at - 1] == 44).all() or not ((after == 44) | (after == 10) | (at + 1 == n)).all():
        return _ALPHA_FIELD.sub(b",0", body)
    out = buf.copy()
    out[at] = 48
    return out.tobytes()


class DataFormatError(ValueError):
    """A data file that cannot be read: the message names the file and, where known, the line."""


@dataclass(slots=True)
class Columns:
    """A time-ordered batch of one kind of data for one symbol. Times are UTC ns; NaN marks a missing side."""

    kind: str  # "trade_bar" | "quote_bar" | "trade_tick" | "quote_tick"
    time: np.ndarray
    end_time: np.ndarray
    cols: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time)

    def take(self, mask_or_index: np.ndarray | slice) -> Columns:
        return Columns(self.kind, self.time[mask_or_index], self.end_time[mask_or_index],
                       {k: v[mask_or_index] for k, v in self.cols.items()})


TRADE_BAR = ("open", "high", "low", "close", "volume")
QUOTE_BAR = ("bid_open", "bid_high", "bid_low", "bid_close", "last_bid_size",
             "ask_open", "ask_high", "ask_low", "ask_close", "last_ask_size")


def _read_entry(path: Path) -> bytes:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if not names:
                raise DataFormatError(f"{path}: empty zip archive")
            return z.read(names[0])
    except zipfile.BadZipFile as e:
        raise DataFormatError(f"{path}: not a valid zip file ({e})") from None


#: rows of a tick day read at a time from the decoded-data cache
TICK_WINDOW = 65536

#: bytes of CSV text parsed at a time for tick files: bounds the temporary copies parsing makes (a 4 MB block
#: of AIG quotes peaked ~90 MB over the process's size, the regex substitution and the mask passes; 512 kB
#: ~10 MB, decoding no slower)
TICK_BLOCK = 1 << 19


def _rewindow(blocks: Iterable[dict[str, np.ndarray]], rows: int) -> Iterator[dict[str, np.ndarray]]:
    """Blocks of columns (any lengths) cut into windows of ``rows`` rows (the last one shorter), holding at
    most a block and a window."""
    held: list[dict[str, np.ndarray]] = []
    n = 0
    for block in blocks:
        size = len(next(iter(block.values()))) if block else 0
        if not size:
            continue
        held.append(block)
        n += size
        while n >= rows:
            joined = held[0] if len(held) == 1 else {k: np.concatenate([b[k] for b in held]) for k in held[0]}
            yield {k: v[:rows] for k, v in joined.items()}
            n -= rows
            held = [{k: v[rows:] for k, v in joined.items()}] if n else []
    if n:
        yield held[0] if len(held) == 1 else {k: np.concatenate([b[k] for b in held]) for k in held[0]}


def _iter_blocks(path: Path, size: int | None = None):
    """The zip entry's text in blocks of about ``size`` (default TICK_BLOCK) bytes, each ending at a line end:
    the day's text is never held whole (a liquid stock's day of quotes is tens of MB of CSV)."""
    size = size or TICK_BLOCK
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if not names:
                raise DataFormatError(f"{path}: empty zip archive")
            with z.open(names[0]) as f:
                carry = b""
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
                    yield chunk[:cut]
                if carry.strip():
                    yield carry
    except zipfile.BadZipFile as e:
        raise DataFormatError(f"{path}: not a valid zip file ({e})") from None


def _numeric(text: bytes, ncols: int, path: Path, integer: bool = False) -> np.ndarray:
    """Decode an all-numeric CSV body into an (n, ncols) array.

    ``integer`` parses int64 (4× faster than floats; LEAN's equity files are integers in 1/10000 USD) and
    reads an empty field as 0; otherwise float64 with empty fields as NaN.
    """
    if b"\r" in text:
        text = text.replace(b"\r", b"")
    if not text.endswith(b"\n"):
        text += b"\n"
    fast = _numeric_fast(text, ncols, integer)
    if fast is not None:
        return fast
    empty = b"0" if integer else b"nan"
    while b",," in text:
        text = text.replace(b",,", b"," + empty + b",")
    text = text.replace(b",\n", b"," + empty + b"\n").replace(b"\n,", b"\n" + empty + b",")
    nlines = text.count(b"\n")
    flat = _fromstring(text.replace(b"\n", b","), np.int64 if integer else np.float64)
    if integer and (flat is None or flat.size != nlines * ncols):  # e.g. fractional tick times
        flat = _fromstring(text.replace(b"\n", b","), np.float64)
    if flat is None:
        _locate_bad_line(text, ncols, path)
    if flat.size != nlines * ncols:
        _locate_bad_line(text, ncols, path)
    return flat.reshape(nlines, ncols)


def _numeric_fast(text: bytes, ncols: int, integer: bool) -> np.ndarray | None:
    """``_numeric`` for the usual file with no empty fields, done with numpy array passes instead of byte-string
    searches and replaces: about twice as fast, and numpy releases the GIL, so a background reader overlaps
    with the engine. Returns None when there are empty fields (or anything unusual): the general path decides.
    Parses exactly the same text (newlines as commas), so the result is identical."""
    buf = np.frombuffer(text, np.uint8)
    nl = buf == 10
    sep = nl | (buf == 44)
    if not len(buf) or sep[0] or (sep[1:] & sep[:-1]).any():  # an empty field (",,", ",\n", "\n,", ...)
        return None
    nlines = int(np.count_nonzero(nl))
    flat = _fromstring(np.where(nl, np.uint8(44), buf), np.int64 if integer else np.float64)
    if integer and (flat is None or flat.size != nlines * ncols):
        return None
    if flat is None or flat.size != nlines * ncols:
        return None
    return flat.reshape(nlines, ncols)


def _fromstring(text: str | bytes | np.ndarray, dtype: Any) -> np.ndarray | None:
    """``np.fromstring`` (the fastest CSV number parser numpy has); None when the text does not parse."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return np.fromstring(text, sep=",", dtype=dtype)  # type: ignore[arg-type]  # a uint8 array parses as its bytes
        except ValueError:
            return None


def _locate_bad_line(text: bytes, ncols: int, path: Path) -> NoReturn:
    for i, line in enumerate(text.split(b"\n"), 1):
        if not line:
            continue
        parts = line.split(b",")
        if len(parts) != ncols:
            raise DataFormatError(f"{path}: line {i}: expected {ncols} fields, got {len(parts)}: {line[:80]!r}")
        for p in parts:
            try:
                float(p)
            except ValueError:
                raise DataFormatError(f"{path}: line {i}: not a number: {p[:40]!r}") from None
    raise DataFormatError(f"{path}: could not decode the CSV body")


#: a row's time may run past its own day a little (LEAN's daily rows), never days beyond it or before it
_MAX_DAY_MS = 3 * 86_400_000


def _check_values(c: Columns, path: Path) -> None:
    """Refuse infinite prices or sizes (NaN stays: it marks an empty side): one vectorized pass per file."""
    for name, col in c.cols.items():
        if col.dtype.kind == "f" and np.isinf(col).any():
            i = int(np.flatnonzero(np.isinf(col))[0])
            raise DataFormatError(f"{path}: row {i + 1}: {name} is infinite")


def _local_ms_to_utc_ns(d: date, ms: np.ndarray, tz, path: Path | None = None) -> np.ndarray:
    """Milliseconds since local midnight of ``d`` in ``tz`` -> UTC ns, DST-aware within the day.

    Tick files carry fractional milliseconds, so ``ms`` may be float. A time that is not a number or lies
    outside the day is a DataFormatError naming the row."""
    return _shifted(d, ms, _day_shift(d, tz), path)


def _day_shift(d: date, tz) -> tuple[int, int, int]:
    """``d``'s UTC midnight in ns and ``tz``'s UTC offsets (ns) at local midnight and noon: what turns a time
    of that day into UTC (:func:`_shifted`)."""
    base = datetime_to_ns(datetime.combine(d, time(0), tz))
    naive_base = datetime_to_ns(datetime.combine(d, time(0), parse_tz("UTC")))
    noon = datetime.combine(d, time(12), tz)
    off1 = datetime_to_ns(noon) - datetime_to_ns(datetime.combine(d, time(12), parse_tz("UTC")))
    return naive_base, base - naive_base, off1


def _shifted(d: date, ms: np.ndarray, shift: tuple[int, int, int], path: Path | None) -> np.ndarray:
    bad = ~((ms >= 0) & (ms < _MAX_DAY_MS))  # also catches NaN
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFormatError(f"{path or d}: row {i + 1}: time {ms[i]!r} ms is not within the day")
    naive_base, off0, off1 = shift
    t = (ms * MS).astype(np.int64) + naive_base
    if off0 == off1:
        return t + off0
    return np.where(ms >= 3 * 3600 * 1000, t + off1, t + off0)


def _bar_rows(path: Path, names: tuple[str, ...], equity: bool, quote: bool, d: date,
              shift: tuple[int, int, int], period: int) -> np.ndarray:
    """A bar file decoded into the columns a backtest consumes, as one int64 array of ``2 + len(names)`` rows:
    the start times in UTC ns, the end times (``period`` later), then each column's float64 bits (prices
    scaled to dollars on equities, an empty equity quote side NaN, sizes as floats). Stored so in the
    decoded-data cache, a day costs a mapping and nothing is computed from it."""
    arr = _numeric(_read_entry(path), 1 + len(names), path, integer=equity)
    out = np.empty((2 + len(names), len(arr)), np.int64)
    out[0] = _shifted(d, arr[:, 0], shift, path)
    np.add(out[0], period, out=out[1])
    vals = out[2:].view(np.float64)
    for i, name in enumerate(names):
        col = arr[:, i + 1]
        if "size" not in name and name != "volume":
            vals[i] = col * 1e-4 if equity else col
            if equity and quote:
                vals[i][vals[i] == 0] = np.nan  # an empty side
        else:
            vals[i] = col
    if arr.dtype.kind == "f":  # (integers, scaled or not, are never infinite: nothing to look for)
        _check_values(Columns("", out[0], out[0], dict(zip(names, vals))), path)
    return out


class LeanDataSource:
    """Reads one symbol's data files from a LEAN ``Data/`` folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"data folder not found: {self.root}")
        self._day_folders: dict[tuple[Symbol, Resolution, TickType], tuple[str, str]] = {}

    # -- auxiliary files ------------------------------------------------------------------------------
    @lru_cache(maxsize=256)  # noqa: B019 - one source per run
    def factor_file(self, symbol: Symbol) -> FactorFile:
        p = self.root / "equity" / symbol.market / "factor_files" / f"{symbol.value.lower()}.csv"
        return FactorFile.load(p) if p.is_file() else FactorFile.identity()

    @lru_cache(maxsize=256)  # noqa: B019
    def map_file(self, symbol: Symbol) -> MapFile | None:
        p = self.root / "equity" / symbol.market / "map_files" / f"{symbol.value.lower()}.csv"
        return MapFile.load(p) if p.is_file() else None

    def ticker_on(self, symbol: Symbol, d: date) -> str:
        if symbol.security_type is not SecurityType.EQUITY:
            return symbol.value.lower()
        mf = self.map_file(symbol)
        return mf.ticker_on(d, symbol.value.lower()) if mf else symbol.value.lower()

    # -- paths --------------------------------------------------------------------------------------------
    def _folder(self, symbol: Symbol, resolution: Resolution) -> Path:
        return self.root / symbol.security_type.value / symbol.market / resolution.folder

    def day_path(self, symbol: Symbol, resolution: Resolution, tick_type: TickType, d: date) -> Path:
        tk = self.ticker_on(symbol, d)
        key = (symbol, resolution, tick_type)
        folder = self._day_folders.get(key)  # a backtest asks for every day: the folder and suffix once
        if folder is None:
            folder = self._day_folders[key] = (str(self._folder(symbol, resolution)), f"_{tick_type.value}.zip")
        return Path(f"{folder[0]}/{tk}/{d:%Y%m%d}{folder[1]}")

    def file_path(self, symbol: Symbol, resolution: Resolution, tick_type: TickType, on: date | None = None
                  ) -> Path:
        """The hour/daily file; an equity's is named by its map file's ticker on ``on`` (``VXX.1`` -> vxx)."""
        folder = self._folder(symbol, resolution)
        tk = symbol.value.lower() if on is None else self.ticker_on(symbol, on)
        if symbol.security_type is SecurityType.CRYPTO:
            return folder / f"{tk}_{tick_type.value}.zip"
        return folder / f"{tk}.zip"

    def available_dates(self, symbol: Symbol, resolution: Resolution, tick_type: TickType) -> list[date]:
        if resolution >= Resolution.HOUR:
            return []
        folder = self._folder(symbol, resolution) / symbol.value.lower()
        out = []
        if folder.is_dir():
            for p in folder.glob(f"*_{tick_type.value}.zip"):
                s = p.name[:8]
                out.append(date(int(s[:4]), int(s[4:6]), int(s[6:8])))
        return sorted(out)

    # -- readers ---------------------------------------------------------------------------------------------
    def read_day(self, symbol: Symbol, resolution: Resolution, tick_type: TickType, d: date,
                 hours: ExchangeHours, normalization: DataNormalizationMode = DataNormalizationMode.RAW
                 ) -> Columns | None:
        """One day file of tick/second/minute data, in exchange order, or None if there is no file."""
        path = self.day_path(symbol, resolution, tick_type, d)
        if not path.is_file():
            return None
        equity = symbol.security_type is SecurityType.EQUITY
        scale = 1e-4 if equity else 1.0
        tz = hours.data_time_zone
        if resolution is Resolution.TICK:
            cols = cached_blocks(path, self._tick_variant(symbol, tick_type),
                                 lambda: self._decode_tick_blocks(path, tick_type, symbol))
            if cols is None:
                return None  # an empty day file: no ticks
            out = self._tick_columns(cols, tick_type, scale, d, tz, path)
        else:
            names = TRADE_BAR if tick_type is TickType.TRADE else QUOTE_BAR
            quote = tick_type is TickType.QUOTE
            shift = _day_shift(d, tz)
            # a day of bars is stored as the finished columns: the start and end time rows in UTC ns, then
            # each value row's float64 bits (mapped, not copied: a backtest touches the times and closes).
            # The key holds the day's offsets and the bar period, all the times depend on.
            period = resolution.value
            rows = cached(path, f"barcols2|{len(names)}|{equity}|{quote}|{shift}|{period}",
                          lambda: {"rows": _bar_rows(path, names, equity, quote, d, shift, period)},
                          mmap=False)["rows"]
            kind = "quote_bar" if quote else "trade_bar"
            out = Columns(kind, rows[0], rows[1], dict(zip(names, rows[2:].view(np.float64))))
        if normalization is not DataNormalizationMode.RAW and equity:
            f = self.factor_file(symbol).scale(d, normalization)
            if f != 1.0:
                _apply_factor(out, f)
        return out

    def read_tick_windows(self, symbol: Symbol, tick_type: TickType, d: date, hours: ExchangeHours,
                          normalization: DataNormalizationMode = DataNormalizationMode.RAW,
                          rows: int = TICK_WINDOW) -> Iterator[Columns]:
        """One day of ticks as :meth:`read_day` gives it, ``rows`` file rows at a time: from the decoded-data
        cache the day is read a window at a time, so memory holds one window, not the day."""
        path = self.day_path(symbol, Resolution.TICK, tick_type, d)
        if not path.is_file():
            return
        src = columns(path, self._tick_variant(symbol, tick_type),
                      lambda: self._decode_tick_blocks(path, tick_type, symbol))
        if src is None:
            return
        equity = symbol.security_type is SecurityType.EQUITY
        scale = 1e-4 if equity else 1.0
        tz = hours.data_time_zone
        factor = 1.0
        if normalization is not DataNormalizationMode.RAW and equity:
            factor = self.factor_file(symbol).scale(d, normalization)
        if isinstance(src, ColumnFiles):
            windows: Iterable[dict[str, np.ndarray]] = (src.window(a, a + rows) for a in range(0, src.rows, rows))
        else:  # the cache is off: the file's blocks as they are decoded, cut into the same windows
            windows = _rewindow(src, rows)
        for cols in windows:
            out = self._tick_columns(cols, tick_type, scale, d, tz, path)
            if factor != 1.0:
                _apply_factor(out, factor)
            yield out

    @staticmethod
    def _tick_variant(symbol: Symbol, tick_type: TickType) -> str:
        return f"tick|{tick_type.value}|{symbol.security_type.value}"

    def _decode_tick_blocks(self, path: Path, tick_type: TickType, symbol: Symbol
                            ) -> Iterator[dict[str, np.ndarray]]:
        """A tick file's decoded columns a block of text at a time (see _iter_blocks): the cache stores them
        as they come, so decoding a day never holds the day's columns whole."""
        for block in _iter_blocks(path):
            yield self._ticks(block, tick_type, symbol, path)

    @staticmethod
    def _tick_columns(cols: dict[str, np.ndarray], tick_type: TickType, scale: float, d: date, tz,
                      path: Path | None = None) -> Columns:
        """Decoded tick columns (file units, local ms) -> Columns (prices scaled, UTC ns times)."""
        cols = dict(cols)
        t = _local_ms_to_utc_ns(d, cols.pop("_ms"), tz, path)
        kind = "trade_tick" if tick_type is TickType.TRADE else "quote_tick"
        for k in ("price", "bid_price", "ask_price"):
            if k in cols:
                cols[k] = cols[k] * scale
        out = Columns(kind, t, t, cols)
        _check_values(out, path or Path(str(d)))
        return out

    def _ticks(self, body: bytes, tick_type: TickType, symbol: Symbol, path: Path) -> dict[str, np.ndarray]:
        body = body.replace(b"\r", b"")
        equity = symbol.security_type is SecurityType.EQUITY
        if symbol.security_type is SecurityType.FOREX:
            arr = _numeric(body, 3, path)
            return {"_ms": arr[:, 0], "bid_price": arr[:, 1], "bid_size": np.zeros(len(arr)),
                    "ask_price": arr[:, 2], "ask_size": np.zeros(len(arr))}
        if equity:
            numeric = _zero_alpha_fields(body)
            if tick_type is TickType.TRADE:
                arr = _numeric(numeric, 6, path, integer=True).astype(np.float64)
                return {"_ms": arr[:, 0], "price": arr[:, 1], "quantity": arr[:, 2],
                        "suspicious": arr[:, 5] != 0}
            arr = _numeric(numeric, 8, path, integer=True).astype(np.float64)
            return {"_ms": arr[:, 0], "bid_price": arr[:, 1], "bid_size": arr[:, 2], "ask_price": arr[:, 3],
                    "ask_size": arr[:, 4], "suspicious": arr[:, 7] != 0}
        first = body.split(b"\n", 1)[0]
        n = first.count(b",") + 1
        need = 3 if tick_type is TickType.TRADE else 5
        if n < need:
            raise DataFormatError(f"{path}: line 1: a {tick_type.name.lower()} tick has at least {need} fields, "
                                  f"got {n}: {first[:80]!r}")
        arr = _numeric(body, n, path)
        if tick_type is TickType.TRADE:
            return {"_ms": arr[:, 0], "price": arr[:, 1], "quantity": arr[:, 2],
                    "suspicious": arr[:, 3] != 0 if n > 3 else np.zeros(len(arr), bool)}
        return {"_ms": arr[:, 0], "bid_price": arr[:, 1], "bid_size": arr[:, 2], "ask_price": arr[:, 3],
                "ask_size": arr[:, 4], "suspicious": arr[:, 5] != 0 if n > 5 else np.zeros(len(arr), bool)}

    @lru_cache(maxsize=64)  # noqa: B019
    def _whole_file(self, path: Path, tick_type: TickType, equity: bool) -> tuple[np.ndarray, np.ndarray] | None:
        if not path.is_file():
            return None
        ncols = 2 + (5 if tick_type is TickType.TRADE else 10)

        def decode() -> dict[str, np.ndarray]:
            body = _read_entry(path).replace(b"\r", b"")
            # "YYYYMMDD HH:mm,..." -> "YYYYMMDD,HHmm,..."
            body = re.sub(rb"^(\d{8}) (\d\d):(\d\d)", rb"\1,\2\3", body, flags=re.M)
            return {"rows": _numeric(body, ncols, path)}

        arr = cached(path, f"dated|{ncols}", decode)["rows"]
        return arr[:, 0].astype(np.int64), arr

    def read_range(self, symbol: Symbol, resolution: Resolution, tick_type: TickType, start: date, end: date,
                   hours: ExchangeHours, normalization: DataNormalizationMode = DataNormalizationMode.RAW
                   ) -> Columns | None:
        """Hour or daily bars with start dates in [start, end]."""
        equity = symbol.security_type is SecurityType.EQUITY
        got = self._whole_file(self.file_path(symbol, resolution, tick_type, start), tick_type, equity)
        if got is None:
            return None
        ymd, arr = got
        lo = np.searchsorted(ymd, int(start.strftime("%Y%m%d")), "left")
        hi = np.searchsorted(ymd, int(end.strftime("%Y%m%d")), "right")
        arr = arr[lo:hi]
        if not len(arr):
            return None
        names = TRADE_BAR if tick_type is TickType.TRADE else QUOTE_BAR
        scale = 1e-4 if equity else 1.0
        dates = [date(int(x) // 10000, int(x) // 100 % 100, int(x) % 100) for x in arr[:, 0]]
        hhmm = arr[:, 1].astype(np.int64)
        tz = hours.data_time_zone
        starts = np.empty(len(arr), np.int64)
        ends = np.empty(len(arr), np.int64)
        precise = resolution is Resolution.DAILY and not hours.always_open and \
            symbol.security_type is not SecurityType.FOREX
        for i, d in enumerate(dates):
            if precise:
                s = hours.session(d)
                if s is None:
                    s = (datetime_to_ns(datetime.combine(d, time(9, 30), hours.time_zone)),
                         datetime_to_ns(datetime.combine(d, time(16), hours.time_zone)))
                starts[i], ends[i] = s
            else:
                t0 = datetime_to_ns(datetime.combine(d, time(int(hhmm[i]) // 100, int(hhmm[i]) % 100), tz))
                starts[i] = t0
                ends[i] = t0 + resolution.value
        cols = {}
        for i, name in enumerate(names, 2):
            col = arr[:, i]
            if scale != 1.0 and "size" not in name and name != "volume":
                col = col * scale
            cols[name] = col
        out = Columns("trade_bar" if tick_type is TickType.TRADE else "quote_bar", starts, ends, cols)
        if normalization is not DataNormalizationMode.RAW and equity:
            ff = self.factor_file(symbol)
            factors = np.array([ff.scale(d, normalization) for d in dates])
            _apply_factor(out, factors)
        return out


def _apply_factor(c: Columns, f) -> None:
    for k, v in c.cols.items():
        if k in ("volume", "quantity", "bid_size", "ask_size", "last_bid_size", "last_ask_size"):
            c.cols[k] = np.round(v / f)
        elif k != "suspicious":
            c.cols[k] = v * f


def daterange(start: date, end: date):
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)
