"""Factor files (splits, dividends, price scale factors) and map files (ticker renames)."""

from __future__ import annotations

import bisect
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from leand.clock import datetime_to_ns
from leand.model import DataNormalizationMode, Delisting, Dividend, Split, Symbol, SymbolChanged


def _ymd(text: str) -> date:
    text = text.strip()
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


class FactorFile:
    """Rows ``(date, price_factor, split_factor, reference_price)``; a row applies to dates <= its date."""

    def __init__(self, rows: list[tuple[date, float, float, float]], path: str = "") -> None:
        self.rows = rows
        self.path = path
        self._dates = [r[0] for r in rows]

    @classmethod
    def load(cls, path: Path) -> FactorFile:
        rows = []
        for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
            line = line.strip()
            if not line or "inf" in line or "e+" in line:
                continue
            parts = line.split(",")
            try:
                rows.append((_ymd(parts[0]), float(parts[1]), float(parts[2]),
                             float(parts[3]) if len(parts) > 3 and parts[3] else 0.0))
            except (ValueError, IndexError) as e:
                raise ValueError(f"{path}:{lineno}: bad factor-file row {line!r}: {e}") from None
        rows.sort()
        return cls(rows, str(path))

    @classmethod
    def identity(cls) -> FactorFile:
        return cls([], "")

    def factors(self, d: date) -> tuple[float, float]:
        i = bisect.bisect_left(self._dates, d)
        if i >= len(self.rows):
            return 1.0, 1.0
        _, pf, sf, _ = self.rows[i]
        return pf, sf

    def scale(self, d: date, mode: DataNormalizationMode) -> float:
        if mode is DataNormalizationMode.RAW or not self.rows:
            return 1.0
        pf, sf = self.factors(d)
        if mode is DataNormalizationMode.ADJUSTED:
            return pf * sf
        if mode is DataNormalizationMode.SPLIT_ADJUSTED:
            return sf
        return sf

    def events(self, symbol: Symbol, tz: Any, start: date, end: date) -> list[Any]:
        """Dividend and split events in [start, end]: each ex-date is the trading day after a row's date;
        approximated as the next weekday (the feed places them at 00:00 exchange time)."""
        out: list[Any] = []
        for (d0, pf0, sf0, ref), (_, pf1, sf1, _) in zip(self.rows, self.rows[1:]):
            ex = d0 + timedelta(days=1)
            while ex.weekday() >= 5:
                ex += timedelta(days=1)
            t_ex = datetime_to_ns(datetime.combine(ex, time(0), tz))
            if pf0 != pf1 and start <= ex <= end:
                dist = round(ref - ref * (pf0 / pf1), 2)
                out.append(Dividend(symbol, t_ex, dist, ref))
            if sf0 != sf1:
                ratio = sf0 / sf1
                warn_day = d0
                if start <= warn_day <= end:
                    out.append(Split(symbol, datetime_to_ns(datetime.combine(warn_day, time(0), tz)), ratio, ref,
                                     True))
                if start <= ex <= end:
                    out.append(Split(symbol, t_ex, ratio, ref, False))
        out.sort(key=lambda e: (e.time, type(e).__name__))
        return out


class MapFile:
    """Rows ``(date, ticker)``: the ticker traded on all dates <= the row's date (after the previous row)."""

    def __init__(self, rows: list[tuple[date, str]], path: str = "") -> None:
        self.rows = rows
        self.path = path
        self._dates = [r[0] for r in rows]

    @classmethod
    def load(cls, path: Path) -> MapFile:
        rows = []
        for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            parts = line.split(",")
            try:
                rows.append((_ymd(parts[0]), parts[1].strip().lower()))
            except (ValueError, IndexError) as e:
                raise ValueError(f"{path}:{lineno}: bad map-file row {line!r}: {e}") from None
        rows.sort()
        return cls(rows, str(path))

    def ticker_on(self, d: date, default: str) -> str:
        i = bisect.bisect_left(self._dates, d)
        if i >= len(self.rows):
            return default
        return self.rows[i][1]

    @property
    def first_date(self) -> date | None:
        return self.rows[0][0] if self.rows else None

    def events(self, symbol: Symbol, tz: Any, start: date, end: date) -> list[SymbolChanged | Delisting]:
        out: list[SymbolChanged | Delisting] = []
        for (d0, t0), (_, t1) in zip(self.rows, self.rows[1:]):
            if t0 != t1:
                day = d0 + timedelta(days=1)
                if start <= day <= end:
                    out.append(SymbolChanged(symbol, datetime_to_ns(datetime.combine(day, time(0), tz)),
                                             t0.upper(), t1.upper()))
        if self.rows and self.rows[-1][0] < date(2049, 1, 1):  # the ticker stopped trading: LEAN delists it
            last = self.rows[-1][0]
            if start <= last <= end:
                out.append(Delisting(symbol, datetime_to_ns(datetime.combine(last, time(0), tz)), 0))
            nxt = last + timedelta(days=1)
            if start <= nxt <= end:
                out.append(Delisting(symbol, datetime_to_ns(datetime.combine(nxt, time(0), tz)), 1))
        return out
