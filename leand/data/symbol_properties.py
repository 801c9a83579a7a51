"""LEAN's symbol-properties database: tick size, lot size, quote currency, multiplier per symbol."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from leand.model import Instrument, SecurityType, Symbol


class SymbolPropertiesDatabase:
    _cache: dict[Path, SymbolPropertiesDatabase] = {}

    def __init__(self, rows: dict[tuple[str, str, str], str]) -> None:
        #: each row's CSV text, parsed when asked for: a run uses a handful of the thousands of rows, and
        #: holding every row as a list of strings cost about 10 MB
        self._rows = rows

    @classmethod
    def load(cls, path: Path) -> SymbolPropertiesDatabase:
        path = Path(path).resolve()
        db = cls._cache.get(path)
        if db is not None:
            return db
        if not path.is_file():
            raise FileNotFoundError(f"symbol-properties database not found: {path}")
        rows: dict[tuple[str, str, str], str] = {}
        lines = path.read_text().splitlines()
        for lineno, (line, row) in enumerate(zip(lines, csv.reader(lines), strict=True), 1):
            if not row or row[0].startswith("#") or row[0] == "market":
                continue
            if len(row) < 8:
                raise ValueError(f"{path}:{lineno}: expected at least 8 columns, got {len(row)}")
            rows[(sys.intern(row[0].lower()), row[1].upper(), sys.intern(row[2].lower()))] = line
        db = cls(rows)
        cls._cache[path] = db
        return db

    def get(self, symbol: Symbol) -> Instrument:
        st = symbol.security_type.value
        line = self._rows.get((symbol.market.lower(), symbol.value.upper(), st))
        if line is None:
            line = self._rows.get((symbol.market.lower(), "[*]", st))
        row = next(csv.reader([line])) if line is not None else None
        if row is None:
            if symbol.security_type is SecurityType.EQUITY:
                return Instrument(symbol)
            raise KeyError(f"{symbol.id}: not in the symbol-properties database")
        quote = row[4] or "USD"
        base = None
        if symbol.security_type in (SecurityType.CRYPTO, SecurityType.FOREX):
            v = symbol.value.upper()
            base = v[: -len(quote)] if v.endswith(quote) else v[:3]
        min_size = float(row[9]) if len(row) > 9 and row[9] else 0.0
        return Instrument(symbol, quote_currency=quote, base_currency=base, tick_size=float(row[6]),
                          lot_size=float(row[7]), multiplier=float(row[5] or 1), min_order_size=min_size,
                          description=row[3])
