"""LEAN's market-hours database: exchange sessions, holidays, early closes and late opens.

Called per day and per order (not per event); per-date answers are cached.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from leand.clock import datetime_to_ns, ns_to_datetime
from leand.model import SecurityType

DAY_NS = 86_400_000_000_000
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_tz(name: str) -> tzinfo:
    """IANA names, or LEAN's fixed offsets like ``UTC-05``."""
    if name.upper().startswith("UTC") and len(name) > 3:
        sign = -1 if name[3] == "-" else 1
        hh, _, mm = name[4:].partition(":")
        return timezone(sign * timedelta(hours=int(hh), minutes=int(mm or 0)), name)
    return ZoneInfo(name)


def _span(text: str) -> int:
    """'HH:MM:SS' or 'D.HH:MM:SS' -> seconds."""
    days = 0
    if "." in text:
        d, text = text.split(".", 1)
        days = int(d)
    h, m, s = (int(x) for x in text.split(":"))
    return days * 86400 + h * 3600 + m * 60 + s


def _mdy(text: str) -> date:
    m, d, y = (int(x) for x in text.split("/"))
    return date(y, m, d)


class ExchangeHours:
    """Sessions of one exchange in its own time zone. Times in and out are UTC nanoseconds."""

    def __init__(self, entry: dict, key: str = "") -> None:
        self.key = key
        self.time_zone = parse_tz(entry["exchangeTimeZone"])
        self.data_time_zone = parse_tz(entry["dataTimeZone"])
        # per weekday: list of (start_s, end_s, is_market)
        self._week: list[list[tuple[int, int, bool]]] = []
        for day in _WEEKDAYS:
            segs = [(_span(s["start"]), _span(s["end"]), s["state"] == "market") for s in entry.get(day, [])]
            self._week.append(segs)
        self.holidays = frozenset(_mdy(h) for h in entry.get("holidays", []))
        self.early_closes = {_mdy(k): _span(v) for k, v in entry.get("earlyCloses", {}).items()}
        self.late_opens = {_mdy(k): _span(v) for k, v in entry.get("lateOpens", {}).items()}
        self.always_open = (not self.holidays and all(
            any(s == 0 and e >= 86400 and mk for s, e, mk in segs) for segs in self._week))
        self._segments = lru_cache(maxsize=4096)(self._segments_uncached)

    # -- per exchange date ------------------------------------------------------------------------
    def is_date_open(self, d: date) -> bool:
        return bool(self._segments(d, False))

    def _segments_uncached(self, d: date, extended: bool) -> tuple[tuple[int, int], ...]:
        """Open segments of exchange date ``d`` as (start_ns, end_ns) UTC."""
        if d in self.holidays:
            return ()
        segs = [(s, e) for s, e, mk in self._week[d.weekday()] if mk or extended]
        if not segs:
            return ()
        early = self.early_closes.get(d)
        late = self.late_opens.get(d)
        out = []
        midnight = datetime(d.year, d.month, d.day, tzinfo=self.time_zone)
        for s, e in segs:
            if early is not None:
                e = min(e, early) if not extended else e if s >= early else min(e, early)
            if late is not None:
                s = max(s, late)
            if e <= s:
                continue
            out.append((datetime_to_ns(midnight + timedelta(seconds=s)),
                        datetime_to_ns(midnight + timedelta(seconds=e)) if e < 86400 else
                        datetime_to_ns(datetime.combine(d + timedelta(days=1), datetime.min.time(),
                                                        self.time_zone))))
        # merge touching segments (premarket|market|postmarket with extended hours)
        merged: list[tuple[int, int]] = []
        for s, e in out:
            if merged and merged[-1][1] >= s:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        return tuple(merged)

    def session(self, d: date) -> tuple[int, int] | None:
        """Regular-market (open, close) of exchange date ``d``; None when closed all day."""
        segs = self._segments(d, False)
        if not segs:
            return None
        return segs[0][0], segs[-1][1]

    def local_date(self, t_ns: int) -> date:
        return ns_to_datetime(t_ns, self.time_zone).date()

    # -- per instant --------------------------------------------------------------------------------
    def is_open(self, t_ns: int, extended: bool = False) -> bool:
        d = self.local_date(t_ns)
        for s, e in self._segments(d, extended):
            if s <= t_ns < e:
                return True
        return False

    def next_open(self, t_ns: int, extended: bool = False) -> int:
        """The first segment start strictly after ``t_ns``."""
        d = self.local_date(t_ns)
        for _ in range(3660):
            for s, _e in self._segments(d, extended):
                if s > t_ns:
                    return s
            d += timedelta(days=1)
        raise ValueError(f"{self.key}: no market open within 10 years after {t_ns}")

    def next_close(self, t_ns: int, extended: bool = False) -> int:
        """The first segment end strictly after ``t_ns``."""
        d = self.local_date(t_ns)
        for _ in range(3660):
            for _s, e in self._segments(d, extended):
                if e > t_ns:
                    return e
            d += timedelta(days=1)
        raise ValueError(f"{self.key}: no market close within 10 years after {t_ns}")

    def segments(self, d: date, extended: bool = False) -> tuple[tuple[int, int], ...]:
        return self._segments(d, extended)


class MarketHoursDatabase:
    _cache: dict[Path, MarketHoursDatabase] = {}

    def __init__(self, entries: dict[str, dict]) -> None:
        self._entries = entries
        self._hours: dict[str, ExchangeHours] = {}

    @classmethod
    def load(cls, path: Path) -> MarketHoursDatabase:
        path = Path(path).resolve()
        db = cls._cache.get(path)
        if db is None:
            try:
                raw = json.loads(path.read_text())
            except FileNotFoundError:
                raise FileNotFoundError(f"market-hours database not found: {path}") from None
            except json.JSONDecodeError as e:
                raise ValueError(f"market-hours database {path} is not valid JSON: line {e.lineno}: {e.msg}") \
                    from None
            db = cls(raw["entries"])
            cls._cache[path] = db
        return db

    def get(self, security_type: SecurityType | str, market: str, ticker: str = "[*]") -> ExchangeHours:
        st = SecurityType(security_type).value.capitalize()
        for key in (f"{st}-{market}-{ticker.upper()}", f"{st}-{market}-[*]"):
            hours = self._hours.get(key)
            if hours is not None:
                return hours
            entry = self._entries.get(key)
            if entry is not None:
                hours = ExchangeHours(entry, key)
                self._hours[key] = hours
                return hours
        raise KeyError(f"no market hours for {st} {market} {ticker} in the market-hours database")
