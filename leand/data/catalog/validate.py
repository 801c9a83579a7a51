"""Checks run on every ingest (and by ``leand data validate``), each with a policy: drop, flag or fail.

* ``malformed``: a row that does not parse (wrong field count, not a number, bad time).
* ``nonpositive``: a price <= 0, or a negative volume/size (a quote tick's side with price 0 and size 0 is
  an absent side, as in LEAN's one-sided quotes, not a fault).
* ``ohlc``: high below open/close/low, or low above open/close (each side of a quote bar on its own).
* ``crossed``: bid above a present ask (locked quotes, bid == ask, pass).
* ``duplicate``: bars: a second row with a time already seen (the first is kept); ticks: a second row equal
  in time and every value (several ticks in one millisecond are normal). A re-imported row equal to the
  stored one is not a fault and is skipped silently.
* ``out_of_order``: a row whose time is before an earlier row's in the source. ``flag`` keeps it, sorted into
  place; ``drop`` removes it.
* ``spike``: the robust rule below.
* ``stale``: a bar's prices repeating the previous bar's for ``stale_run`` rows or more (bars only).
* ``gap``: expected data missing, measured against the market-hours database: inside the open segments of a
  day (regular hours; 24 h for crypto), between the dataset's first and last row, missing bars covering at
  least ``gap_bar_s`` seconds (default 300) or ``gap_tick_s`` seconds without a tick (900), or an open day with no data
  at all. There is no row to drop for a gap, so ``drop`` reports it like ``flag``; ``fail`` refuses the ingest.

Spike rule (a Hampel filter): for each row i, take the centred window of ``spike_window`` rows (default 31)
of the reference series r (close; the mid for quotes; the price for trade ticks), padded at the ends with the
edge value and, across days, continued from the previous day's last rows. Let m_i be the window's median and
MAD_i the median over the same window of |r_j - m_j| (each row's deviation from its own window median: a
robust scale that one rolling median filter computes). A price column x_i is a spike when

    |x_i - m_i| > spike_k * max(1.4826 * MAD_i, spike_floor * |m_i|)      (defaults k = 10, floor = 0.002)

1.4826 * MAD estimates the standard deviation of normal noise; the floor keeps a flat stretch (MAD 0) from
turning every one-tick move into a spike: a spike must be at least 2% away from the local median and ten
robust deviations. A level shift is not a spike: once half the window is at the new level, the median is too.

Dropped rows are kept in ``quarantine.csv`` beside the dataset with the check and reason; every finding goes
into the report with its source, row (1-based line in the source file, or row in a day file) and reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
from scipy.ndimage import median_filter

from leand.clock import datetime_to_ns, ns_to_datetime
from leand.data.catalog.store import PRICE_COLUMNS, SIZE_COLUMNS
from leand.data.lean import Columns
from leand.data.market_hours import ExchangeHours
from leand.model import Resolution

CHECKS = ("malformed", "nonpositive", "ohlc", "crossed", "duplicate", "out_of_order", "spike", "stale", "gap")
POLICIES = ("drop", "flag", "fail")
DEFAULT_POLICY: dict[str, str] = {"malformed": "drop", "nonpositive": "drop", "ohlc": "drop", "crossed": "drop",
                                  "duplicate": "drop", "out_of_order": "flag", "spike": "drop", "stale": "flag",
                                  "gap": "flag"}
#: findings kept in full in a report; beyond this only the counts grow
MAX_FINDINGS = 10_000


class ValidationError(ValueError):
    """A check whose policy is ``fail`` found something: the message names the check, source, row and reason."""


def parse_policies(items: list[str], base: dict[str, str] | None = None) -> dict[str, str]:
    """``["spike=flag", "all=fail"]`` -> a full policy map (later items win; ``all`` sets every check)."""
    out = dict(base or DEFAULT_POLICY)
    for item in items:
        check, sep, action = item.partition("=")
        check, action = check.strip().lower().replace("-", "_"), action.strip().lower()
        if not sep or action not in POLICIES or (check not in CHECKS and check != "all"):
            raise ValueError(f"--policy wants CHECK=drop|flag|fail with CHECK one of all, {', '.join(CHECKS)}; "
                             f"got {item!r}")
        for c in (CHECKS if check == "all" else (check,)):
            out[c] = action
    return out


@dataclass(slots=True)
class Finding:
    check: str
    action: str  # "dropped" | "flagged"
    source: str
    row: int  # 1-based; 0 when there is no row (a gap, a whole missing day)
    time_ns: int
    reason: str

    def as_dict(self) -> dict:
        return {"check": self.check, "action": self.action, "source": self.source, "row": self.row,
                "time": ns_to_datetime(self.time_ns).isoformat() if self.time_ns else "", "reason": self.reason}

    def line(self) -> str:
        where = f"{self.source}:{self.row}" if self.row else self.source
        when = ns_to_datetime(self.time_ns).isoformat() if self.time_ns else "-"
        return f"{self.check:<12} {self.action:<8} {where}  {when}  {self.reason}"


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    rows_in: int = 0
    rows_kept: int = 0
    rows_dropped: int = 0
    rows_skipped: int = 0  # identical to rows already stored

    def add(self, f: Finding) -> None:
        self.counts[f"{f.check}:{f.action}"] += 1
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(f)

    @property
    def clean(self) -> bool:
        return not self.counts

    def verdict(self) -> str:
        if not self.counts:
            return "clean"
        dropped = sum(n for k, n in self.counts.items() if k.endswith(":dropped"))
        flagged = sum(n for k, n in self.counts.items() if k.endswith(":flagged"))
        return f"issues: {dropped} dropped, {flagged} flagged"

    def summary(self) -> dict:
        return {"rows_in": self.rows_in, "rows_kept": self.rows_kept, "rows_dropped": self.rows_dropped,
                "rows_skipped": self.rows_skipped, "counts": dict(sorted(self.counts.items()))}

    def as_dict(self) -> dict:
        return {**self.summary(), "verdict": self.verdict(), "findings": [f.as_dict() for f in self.findings]}


@dataclass(slots=True)
class Params:
    spike_window: int = 31
    spike_k: float = 10.0
    spike_floor: float = 0.002
    stale_run: int = 60
    gap_bar_s: float = 300.0
    gap_tick_s: float = 900.0


@dataclass(slots=True)
class Batch:
    """One day's rows on their way into the store: Columns plus where each row came from."""

    cols: Columns
    source: np.ndarray  # int index into the ingest's source names
    row: np.ndarray  # 1-based row in that source

    def __len__(self) -> int:
        return len(self.cols)

    def take(self, idx: np.ndarray | slice) -> Batch:
        return Batch(self.cols.take(idx), self.source[idx], self.row[idx])


class Validator:
    """Runs the checks on one day at a time, in day order, applying the policies."""

    def __init__(self, kind: str, resolution: Resolution, hours: ExchangeHours | None, policy: dict[str, str],
                 sources: list[str], params: Params | None = None, extended_hours: bool = False) -> None:
        self.kind = kind
        self.resolution = resolution
        self.hours = hours
        self.policy = policy
        self.sources = sources
        self.p = params or Params()
        self.extended = extended_hours
        self.report = Report()
        self._tail: np.ndarray = np.empty(0)  # the previous day's last reference values (spike context)
        self._prev_last: np.ndarray | None = None  # previous day's last row of prices (stale runs across days)
        self._stale_carry = 0
        self.dropped: list[tuple[str, Batch, np.ndarray]] = []  # (check, rows, reasons) for the quarantine

    # -- policy ---------------------------------------------------------------------------------------------
    def apply(self, check: str, b: Batch, mask: np.ndarray, reasons: list[str] | np.ndarray) -> np.ndarray:
        """Report the rows in ``mask``; return the keep-mask after the check's policy."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return np.ones(len(b), bool)
        action = self.policy[check]
        times = b.cols.time
        if action == "fail":
            i = int(idx[0])
            src = self.sources[int(b.source[i])]
            raise ValidationError(f"{check}: {src} row {int(b.row[i])} "
                                  f"({ns_to_datetime(int(times[i])).isoformat()}): {reasons[0]} (policy fail)")
        verb = "dropped" if action == "drop" else "flagged"
        for j, i in enumerate(idx.tolist()):
            self.report.add(Finding(check, verb, self.sources[int(b.source[i])], int(b.row[i]), int(times[i]),
                                    str(reasons[j])))
        keep = np.ones(len(b), bool)
        if action == "drop":
            keep[idx] = False
            self.dropped.append((check, b.take(idx), np.asarray(reasons, dtype=object)))
            self.report.rows_dropped += len(idx)
        return keep

    # -- the day ---------------------------------------------------------------------------------------------
    def day(self, b: Batch, d: date | None, span: tuple[int, int] | None) -> Batch:
        """Check one day's rows (in source order); returns the rows to store, sorted by time. With ``d`` and
        ``span``, also the day's gaps (else call :meth:`gaps` on the day as stored)."""
        self.report.rows_in += len(b)
        b = self._row_checks(b)
        b = self._order_checks(b)
        b = self._spike_check(b)
        b = self._stale_check(b)
        if d is not None and span is not None:
            self.gaps(b, d, span)
        self.report.rows_kept += len(b)
        return b

    def _row_checks(self, b: Batch) -> Batch:
        c, kind = b.cols, self.kind
        if not len(b):
            return b
        with np.errstate(invalid="ignore"):
            bad = np.zeros(len(b), bool)
            why = np.full(len(b), "", dtype=object)
            for name in PRICE_COLUMNS[kind]:
                m = c.cols[name] <= 0
                if kind == "quote_tick":  # LEAN's one-sided quotes: price 0 and size 0 is an absent side
                    m &= (c.cols[name] < 0) | (c.cols[name.replace("price", "size")] > 0)
                why[m & ~bad] = f"{name} <= 0"
                bad |= m
            for name in SIZE_COLUMNS[kind]:
                m = c.cols[name] < 0
                why[m & ~bad] = f"{name} < 0"
                bad |= m
            keep = self.apply("nonpositive", b, bad, [f"{why[i]} ({_row_text(c, i)})" for i in np.flatnonzero(bad)])
            b = b.take(keep) if not keep.all() else b
            c = b.cols
            if kind in ("trade_bar", "quote_bar"):
                bad = np.zeros(len(b), bool)
                for pre in (("",) if kind == "trade_bar" else ("bid_", "ask_")):
                    o, h, lo, cl = (c.cols[pre + x] for x in ("open", "high", "low", "close"))
                    bad |= (h < np.fmax(np.fmax(o, cl), lo)) | (lo > np.fmin(o, cl))
                keep = self.apply("ohlc", b, bad, [f"high/low do not bracket open/close ({_row_text(c, i)})"
                                                    for i in np.flatnonzero(bad)])
                b = b.take(keep) if not keep.all() else b
                c = b.cols
            pairs = {"quote_bar": [("bid_open", "ask_open"), ("bid_high", "ask_high"), ("bid_low", "ask_low"),
                                   ("bid_close", "ask_close")],
                     "quote_tick": [("bid_price", "ask_price")]}.get(kind, [])
            if pairs:
                bad = np.zeros(len(b), bool)
                for bn, an in pairs:
                    bad |= (c.cols[bn] > c.cols[an]) & (c.cols[an] > 0)
                bn, an = pairs[-1]
                keep = self.apply("crossed", b, bad, [f"crossed quote: bid {c.cols[bn][i]:g} > ask {c.cols[an][i]:g}"
                                                       for i in np.flatnonzero(bad)])
                b = b.take(keep) if not keep.all() else b
        return b

    def _order_checks(self, b: Batch) -> Batch:
        if len(b) < 2:
            return b
        t = b.cols.time
        ticks = self.resolution is Resolution.TICK
        # bars: one per time; ticks: many may share a time, a duplicate is the same time with the same values
        keys = [t] if not ticks else [t, *(np.nan_to_num(np.asarray(v, np.float64), nan=-1.0)
                                          for v in b.cols.cols.values())]
        order = np.lexsort(keys[::-1])
        same_prev = np.ones(len(t) - 1, bool)
        for k in keys:
            ks = k[order]
            same_prev &= ks[1:] == ks[:-1]
        dup_sorted = np.zeros(len(t), bool)
        dup_sorted[1:] = same_prev
        dup = np.zeros(len(t), bool)
        dup[order] = dup_sorted
        if dup.any():
            # the first row of each run of equal keys (lexsort is stable: earliest source row first)
            head = np.maximum.accumulate(np.where(~dup_sorted, np.arange(len(t)), 0))
            first_of = np.empty(len(t), np.int64)
            first_of[order] = order[head]
            reasons = []
            for i in np.flatnonzero(dup).tolist():
                f = int(first_of[i])
                same = all(_eq(b.cols.cols[k][i], b.cols.cols[k][f]) for k in b.cols.cols)
                reasons.append(f"duplicate time of row {int(b.row[f])}" + (" (identical)" if same else " (different values)"))
            keep = self.apply("duplicate", b, dup, reasons)
            if not keep.all():
                b = b.take(keep)
                t = b.cols.time
        if len(b) >= 2:
            prev_max = np.maximum.accumulate(t)[:-1]
            ooo = np.zeros(len(t), bool)
            ooo[1:] = t[1:] < prev_max
            keep = self.apply("out_of_order", b, ooo, [
                f"time before an earlier row's ({ns_to_datetime(int(prev_max[i - 1])).isoformat()})"
                for i in np.flatnonzero(ooo)])
            if not keep.all():
                b = b.take(keep)
        t = b.cols.time
        if len(t) > 1 and (t[1:] < t[:-1]).any():
            b = b.take(np.argsort(t, kind="stable"))
        return b

    def _reference(self, c: Columns) -> np.ndarray:
        k = c.cols
        if self.kind == "trade_bar":
            return np.asarray(k["close"], np.float64)
        if self.kind == "trade_tick":
            return np.asarray(k["price"], np.float64)
        bid, ask = (k["bid_close"], k["ask_close"]) if self.kind == "quote_bar" else (k["bid_price"], k["ask_price"])
        bid = np.where(bid > 0, bid, np.nan)
        ask = np.where(ask > 0, ask, np.nan)
        ref = np.where(np.isnan(bid), ask, np.where(np.isnan(ask), bid, (bid + ask) / 2))
        if np.isnan(ref).any():  # fill forward (then back) so the window medians are defined
            idx = np.where(~np.isnan(ref), np.arange(len(ref)), 0)
            np.maximum.accumulate(idx, out=idx)
            ref = ref[idx]
            if np.isnan(ref[0]):
                first = np.flatnonzero(~np.isnan(ref))
                ref[: first[0] if len(first) else len(ref)] = ref[first[0]] if len(first) else 0.0
        return ref

    def _spike_check(self, b: Batch) -> Batch:
        n = len(b)
        if not n:
            return b
        ref = self._reference(b.cols)
        h = self.p.spike_window // 2
        ctx = self._tail[-h:] if len(self._tail) else np.empty(0)
        m = len(ctx)
        series = np.concatenate([ctx, ref])
        padded = np.pad(series, (h - m if m < h else 0, h), mode="edge") if len(series) else series
        off = h - m if m < h else 0
        # rolling medians in C (scipy's median filter keeps a sorted window: O(n log W), not O(n W))
        w = 2 * h + 1
        med_all = median_filter(padded, size=w, mode="nearest")
        mad_all = median_filter(np.abs(padded - med_all), size=w, mode="nearest")
        s0 = off + m  # padded index of the day's first row
        med = med_all[s0:s0 + n]
        scale = np.maximum(1.4826 * mad_all[s0:s0 + n], self.p.spike_floor * np.abs(med))
        limit = self.p.spike_k * scale
        bad = np.zeros(n, bool)
        worst = np.full(n, "", dtype=object)
        with np.errstate(invalid="ignore"):
            for name in PRICE_COLUMNS[self.kind]:
                x = b.cols.cols[name]
                mk = np.abs(x - med) > limit
                if self.kind == "quote_tick":
                    mk &= x > 0
                worst[mk & ~bad] = name
                bad |= mk
        idx = np.flatnonzero(bad)
        reasons = [f"spike: {worst[i]} {b.cols.cols[worst[i]][i]:g} vs rolling median {med[i]:g} "
                   f"(limit ±{limit[i]:.6g}, MAD rule k={self.p.spike_k:g}, window {self.p.spike_window})"
                   for i in idx]
        keep = self.apply("spike", b, bad, reasons)
        if not keep.all():
            b = b.take(keep)
            ref = ref[keep]
        self._tail = np.concatenate([self._tail, ref])[-h:] if h else np.empty(0)
        return b

    def _stale_check(self, b: Batch) -> Batch:
        if self.kind not in ("trade_bar", "quote_bar") or not len(b):
            return b
        names = PRICE_COLUMNS[self.kind]
        px = np.column_stack([np.asarray(b.cols.cols[k], np.float64) for k in names])
        prev = np.vstack([self._prev_last[None, :] if self._prev_last is not None else px[:1] * np.nan, px[:-1]])
        same = np.all((px == prev) | (np.isnan(px) & np.isnan(prev)), axis=1)
        # run lengths of consecutive unchanged rows, continued from the previous day
        carry = self._stale_carry
        idx = np.arange(len(b))
        last_reset = np.maximum.accumulate(np.where(~same, idx, -1))
        run = idx - last_reset
        run[last_reset < 0] += carry
        run[~same] = 0
        self._stale_carry = int(run[-1]) if same[-1] else 0
        self._prev_last = px[-1].copy()
        bad = run + 1 >= self.p.stale_run
        if not bad.any():
            return b
        reasons = [f"stale: prices unchanged for {int(run[i]) + 1} bars" for i in np.flatnonzero(bad)]
        keep = self.apply("stale", b, bad, reasons)
        return b.take(keep) if not keep.all() else b

    # -- gaps -------------------------------------------------------------------------------------------------
    def _open_segments(self, d: date) -> list[tuple[int, int]]:
        hours = self.hours
        if hours is None:
            return []
        tz = hours.data_time_zone
        lo = datetime_to_ns(datetime.combine(d, time(0), tz))
        hi = datetime_to_ns(datetime.combine(d + timedelta(days=1), time(0), tz))
        if hours.always_open:
            return [(lo, hi)]
        out = []
        for dd in (d - timedelta(days=1), d, d + timedelta(days=1)):
            for s, e in hours.segments(dd, self.extended):
                s, e = max(s, lo), min(e, hi)
                if s < e:
                    out.append((s, e))
        return sorted(out)

    def gaps(self, b: Batch, d: date, span: tuple[int, int]) -> None:
        """Report the day's missing data inside market hours and ``span`` (rows sorted by time)."""
        res = self.resolution
        if res >= Resolution.HOUR:
            return
        segs = [(max(s, span[0]), min(e, span[1] + max(res.value, 1))) for s, e in self._open_segments(d)]
        segs = [(s, e) for s, e in segs if s < e]
        t = b.cols.time
        findings: list[tuple[int, int, int, int]] = []  # (start, end, row before, source)
        if res is Resolution.TICK:
            min_gap = int(self.p.gap_tick_s * 1e9)
            for s, e in segs:
                inside = t[(t >= s) & (t < e)]
                edges = np.concatenate([[s], inside, [e]])
                holes = np.flatnonzero(np.diff(edges) > min_gap)
                for h in holes.tolist():
                    findings.append((int(edges[h]), int(edges[h + 1]), h, 0))
        else:
            step = res.value
            for s, e in segs:
                grid = np.arange(s, e - step + 1, step, dtype=np.int64)
                if not len(grid):
                    continue
                have = np.isin(grid, t)
                if have.all():
                    continue
                miss = ~have
                starts = np.flatnonzero(miss & ~np.concatenate([[False], miss[:-1]]))
                ends = np.flatnonzero(miss & ~np.concatenate([miss[1:], [False]]))
                for a, z in zip(starts.tolist(), ends.tolist()):
                    if (z - a + 1) * step >= self.p.gap_bar_s * 1e9:
                        findings.append((int(grid[a]), int(grid[z]) + step, z - a + 1, 1))
        if not findings:
            return
        action = self.policy["gap"]
        for start, end, n, is_bars in findings:
            i = int(np.searchsorted(t, start)) - 1
            row = int(b.row[i]) if i >= 0 else 0
            src = self.sources[int(b.source[i])] if i >= 0 else (self.sources[0] if self.sources else "")
            what = f"{n} missing bars" if is_bars else f"no ticks for {(end - start) / 1e9:.0f} s"
            reason = (f"gap: {what} from {ns_to_datetime(start).isoformat()} to {ns_to_datetime(end).isoformat()}"
                      f" inside market hours" + (f" (after row {row})" if row else ""))
            if action == "fail":
                raise ValidationError(f"gap: {src}: {reason} (policy fail)")
            self.report.add(Finding("gap", "flagged", src, row, start, reason))

    def missing_day(self, d: date, span: tuple[int, int]) -> None:
        """Report an open day inside the dataset's range with no rows at all."""
        if self.resolution is Resolution.HOUR:
            return
        segs = [(max(s, span[0]), min(e, span[1])) for s, e in self._open_segments(d)]
        segs = [(s, e) for s, e in segs if s < e]
        if not segs:
            return
        reason = f"gap: no data on {d.isoformat()}, an open market day"
        if self.policy["gap"] == "fail":
            raise ValidationError(f"gap: {reason} (policy fail)")
        self.report.add(Finding("gap", "flagged", self.sources[0] if self.sources else "", 0, segs[0][0], reason))


def _eq(a: float, b: float) -> bool:
    return bool(a == b) or (a != a and b != b)


def _row_text(c: Columns, i: int | np.integer) -> str:
    return ", ".join(f"{k}={v[i]:g}" for k, v in c.cols.items() if k != "suspicious")
