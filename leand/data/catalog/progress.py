"""A small progress bar on stderr, drawn only when stderr is a terminal (pipes and logs stay clean)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: float, label: str = "", unit: str = "rows", stream: TextIO | None = None,
                 enabled: bool | None = None) -> None:
        self.total = max(total, 1.0)
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done = 0.0
        self.count = 0
        self._t0 = time.monotonic()  # display only: wall-clock rate, never an input to the data
        self._last = 0.0

    def update(self, done: float, count: int) -> None:
        self.done, self.count = done, count
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < self.total:
            return
        self._last = now
        frac = min(max(done / self.total, 0.0), 1.0)
        width = 30
        fill = int(frac * width)
        rate = count / max(now - self._t0, 1e-9)
        self.stream.write(f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] {frac * 100:5.1f}% "
                          f"{count:,} {self.unit} {rate:,.0f}/s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.update(self.total, self.count)
            self.stream.write("\n")
            self.stream.flush()
