"""The portfolio's transaction record (time, P&L) per position-reducing fill, kept in two flat arrays.

A long backtest reduces a position on every other fill; as tuples of Python objects that record cost about 100
bytes an entry. Appends go to the list itself (the C ``list.append`` on the fill path); ``compact`` moves them into
an ``array('q')`` of times and an ``array('d')`` of P&L, 16 bytes an entry. Reading it sees both, in order.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Any


class PnlLog(list[tuple[int, float]]):
    """``[(time_ns, pnl), ...]`` whose older entries live in flat arrays (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._times = array("q")
        self._pnl = array("d")

    def compact(self) -> None:
        """Move the entries appended since the last call into the arrays (exact: times are ints, P&L floats)."""
        n = list.__len__(self)
        if not n:
            return
        times, pnl = zip(*list.__iter__(self), strict=True)
        if set(map(type, times)) == {int} and set(map(type, pnl)) == {float}:  # exact in the arrays
            self._times.extend(times)
            self._pnl.extend(pnl)
            list.__delitem__(self, slice(0, n))

    def __len__(self) -> int:
        return len(self._times) + list.__len__(self)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self) -> Iterator[tuple[int, float]]:
        yield from zip(self._times, self._pnl, strict=True)
        yield from list.__iter__(self)

    def __getitem__(self, i: Any) -> Any:
        k = len(self._times)
        if not k:
            return list.__getitem__(self, i)
        if isinstance(i, int):
            j = i + len(self) if i < 0 else i
            if 0 <= j < k:
                return self._times[j], self._pnl[j]
            return list.__getitem__(self, j - k)
        return list(self)[i]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, list) and list(self) == list(other)

    __hash__ = None

    def __repr__(self) -> str:
        return repr(list(self))

    def copy(self) -> list[tuple[int, float]]:
        return list(self)
