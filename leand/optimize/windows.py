"""Walk-forward windows: ``--walk-forward train=2y,test=6m[,step=6m]``.

Window k trains on ``[S + k·step, S + k·step + train)`` and tests on the ``test`` span right after it, with S
the backtest's first day. Spans count in days (``d``), weeks (``w``), months (``m``) or years (``y``); months and
years are calendar months anchored at S (Jan 31 + 1m = Feb 28/29), so windows do not drift. The last test
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

    def add_to(self, d: date, times: int = 1) -> date:
        n = self.count * times
        if self.unit == "d":
            return d + timedelta(days=n)
        if self.unit == "w":
            return d + timedelta(weeks=n)
        months = n if self.unit == "m" else 12 * n
        y, m = divmod(d.month - 1 + months, 12)
        y += d.year
        return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


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
        train_start = wf.step.add_to(start, k)
        test_start = wf.train.add_to(train_start)
        if test_start > end:
            break
        test_end = min(wf.test.add_to(test_start) - timedelta(days=1), end)
        out.append(Window(k, train_start, test_start - timedelta(days=1), test_start, test_end))
        k += 1
    if not out:
        raise WindowError(f"--walk-forward {wf}: the backtest {start}..{end} is shorter than one training window "
                          f"plus one test day")
    return out
