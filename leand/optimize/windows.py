"""Walk-forward windows: ``--walk-forward train=2y,test=6m[,step=6m]``.

Window k trains on ``[S + k·step, S + k·step + train)`` and tests on the ``test`` span right after it, with S
the backtest's first day. Spans count in days (``d``), weeks (``w``), months (``m``) or years (``y``); months and
years are calendar months counted from S (Jan 31 + 1m = Feb 28/29), every boundary from S itself, so windows
do not drift and, with step = test, each test window starts the day after the previous one ends. The last test
window is cut at the backtest's last day; a window whose test would start after it is not made. ``step``
defaults to ``test``, which makes the test windows tile the out-of-sample period without overlap.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

import msgspec


class WindowError(ValueError):
    """A walk-forward spec that does not parse or does not fit the backtest's dates."""


class Span(msgspec.Struct, frozen=True):
    count: int
    unit: str  # d, w, m, y

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    @property
    def months_days(self) -> tuple[int, int]:
        n = self.count
        return {"d": (0, n), "w": (0, 7 * n), "m": (n, 0), "y": (12 * n, 0)}[self.unit]


def offset(anchor: date, *spans: tuple[int, Span]) -> date:
    """``anchor`` plus the sum of ``times × span``: months first (clamped to the month's end), then days. Every
    window boundary is computed from the same anchor, so clamping (Jan 31 + 1m = Feb 29) never accumulates."""
    months = sum(t * s.months_days[0] for t, s in spans)
    days = sum(t * s.months_days[1] for t, s in spans)
    y, m = divmod(anchor.month - 1 + months, 12)
    y += anchor.year
    d = date(y, m + 1, min(anchor.day, calendar.monthrange(y, m + 1)[1]))
    return d + timedelta(days=days)


def parse_span(text: str, what: str) -> Span:
    m = re.fullmatch(r"\s*(\d+)\s*([dwmy])\s*", text.lower())
    if not m or int(m.group(1)) <= 0:
        raise WindowError(f"--walk-forward {what}={text!r}: expected a positive count and a unit d, w, m or y "
                          "(e.g. 2y, 6m, 90d)")
    return Span(int(m.group(1)), m.group(2))


class WalkForward(msgspec.Struct, frozen=True):
    train: Span
    test: Span
    step: Span

    @classmethod
    def parse(cls, text: str) -> WalkForward:
        parts: dict[str, str] = {}
        for item in text.split(","):
            if "=" not in item:
                raise WindowError(f"--walk-forward {text!r}: expected train=SPAN,test=SPAN[,step=SPAN]")
            k, v = (s.strip() for s in item.split("=", 1))
            if k not in ("train", "test", "step") or k in parts:
                raise WindowError(f"--walk-forward {text!r}: unknown or repeated key {k!r} "
                                  "(keys: train, test, step)")
            parts[k] = v
        if "train" not in parts or "test" not in parts:
            raise WindowError(f"--walk-forward {text!r}: train= and test= are required")
        test = parse_span(parts["test"], "test")
        return cls(parse_span(parts["train"], "train"), test,
                   parse_span(parts["step"], "step") if "step" in parts else test)

    def __str__(self) -> str:
        return f"train={self.train},test={self.test},step={self.step}"


class Window(msgspec.Struct, frozen=True):
    """Inclusive first and last days of a training and a test period."""
    index: int
    train_start: date
    train_end: date
    test_start: date
    test_end: date


def windows(wf: WalkForward, start: date, end: date) -> list[Window]:
    """The walk-forward windows over the backtest days ``start..end`` (inclusive)."""
    out: list[Window] = []
    k = 0
    while True:
        train_start = offset(start, (k, wf.step))
        test_start = offset(start, (k, wf.step), (1, wf.train))
        if test_start > end:
            break
        test_end = min(offset(start, (k, wf.step), (1, wf.train), (1, wf.test)) - timedelta(days=1), end)
        out.append(Window(k, train_start, test_start - timedelta(days=1), test_start, test_end))
        k += 1
    if not out:
        raise WindowError(f"--walk-forward {wf}: the backtest {start}..{end} is shorter than one training window "
                          f"plus one test day")
    return out
