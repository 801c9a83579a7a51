"""The risk-free rate LEAN uses for Sharpe and Sortino: the Fed primary credit rate, per calendar day."""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime
from pathlib import Path


class InterestRateProvider:
    def __init__(self, rows: list[tuple[date, float]]) -> None:
        if not rows:
            raise ValueError("interest-rate file has no rows")
        rows.sort()
        self._dates = [d for d, _ in rows]
        self._rates = [r for _, r in rows]

    @classmethod
    def load(cls, path: Path) -> InterestRateProvider:
        rows = []
        for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
            line = line.strip()
            if not line or line[0].isalpha():
                continue
            d, _, v = line.partition(",")
            try:
                rows.append((date.fromisoformat(d), float(v) / 100.0))
            except ValueError:
                raise ValueError(f"{path}:{lineno}: bad interest-rate row {line!r}") from None
        return cls(rows)

    def rate_on(self, d: date) -> float:
        """Forward-filled: the last published rate on or before ``d`` (the first rate before the file)."""
        i = bisect.bisect_right(self._dates, d) - 1
        return self._rates[max(i, 0)]

    def average_over(self, times_ns: list[int]) -> float:
        if not times_ns:
            return 0.0
        total = 0.0
        for t in times_ns:
            total += self.rate_on(datetime.fromtimestamp(t / 1e9, UTC).date())
        return total / len(times_ns)
