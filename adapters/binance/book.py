"""A local L2 book kept from a REST snapshot plus diff-depth events, with Binance's update-id chaining.

Pure logic, no I/O (the data client feeds it), so the procedure from the docs is unit-tested on its own:
buffer diffs until a snapshot arrives; a snapshot older than the first buffered diff is refetched; diffs with
``u <= lastUpdateId`` are dropped; after that each diff must start at or before ``local id + 1`` and end after
it, and a diff starting later means updates were lost, so the book is thrown away and resynced. The buffer is
bounded (``max_buffer`` diffs): when snapshots keep failing, the oldest diffs are dropped, counted as an
overflow, and the sequence starts again at the newest, which the next snapshot must reach.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Sequence
from enum import Enum

from leand.adapters.binance.schemas import DepthSnapshot, DepthUpdate

#: a level as a snapshot (decimal strings) or a diff (floats) carries it
AnyLevel = tuple[str | float, str | float]


class Sync(Enum):
    BUFFERED = "buffered"  # no snapshot yet: kept for when it comes
    APPLIED = "applied"
    STALE = "stale"  # already contained in the book
    GAP = "gap"  # updates were lost: the book is reset and a snapshot is needed
    OVERFLOW = "overflow"  # too many diffs waited for a snapshot: the older ones were dropped
    SNAPSHOT_TOO_OLD = "snapshot_too_old"  # fetch the snapshot again


class BookSide:
    """One side's levels: price -> size in a dict, and the prices in ascending order in a list kept with
    ``bisect`` (C). A diff that changes the size of a level already there (most of them) is one dict store; only
    a new or removed level moves the list. ``items()`` is in ascending price order."""

    __slots__ = ("levels", "prices")

    def __init__(self) -> None:
        self.levels: dict[float, float] = {}
        self.prices: list[float] = []

    def __contains__(self, px: object) -> bool:
        return px in self.levels

    def __len__(self) -> int:
        return len(self.levels)

    def __getitem__(self, px: float) -> float:
        return self.levels[px]

    def items(self) -> list[tuple[float, float]]:
        lv = self.levels
        return [(p, lv[p]) for p in self.prices]

    def clear(self) -> None:
        self.levels.clear()
        self.prices.clear()

    def set(self, levels: Sequence[AnyLevel]) -> None:
        lv, prices = self.levels, self.prices
        for p, q in levels:
            px, qty = float(p), float(q)
            if qty == 0.0:
                if lv.pop(px, None) is not None:
                    del prices[bisect_left(prices, px)]
            else:
                if px not in lv:
                    insort(prices, px)
                lv[px] = qty


class L2Book:
    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids = BookSide()
        self.asks = BookSide()

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()

    def apply(self, bids: Sequence[AnyLevel], asks: Sequence[AnyLevel]) -> None:
        if bids:
            self.bids.set(bids)
        if asks:
            self.asks.set(asks)

    def top(self) -> tuple[float, float, float, float]:
        """(bid, bid size, ask, ask size); a missing side is zeros."""
        bids, asks = self.bids, self.asks
        bp, ap = bids.prices, asks.prices
        b = bp[-1] if bp else 0.0
        a = ap[0] if ap else 0.0
        return b, bids.levels[b] if bp else 0.0, a, asks.levels[a] if ap else 0.0


class LocalBook:
    """One symbol's book and its place in the update-id sequence (``last_id`` None: not in sync)."""

    def __init__(self, symbol: str, max_buffer: int = 1000) -> None:
        self.symbol = symbol
        self.book = L2Book()
        self.last_id: int | None = None
        self.buffer: list[DepthUpdate] = []
        self.max_buffer = max(1, max_buffer)
        self.gaps = 0
        self.snapshots = 0
        self.overflows = 0

    @property
    def synced(self) -> bool:
        return self.last_id is not None

    def reset(self) -> None:
        self.book.clear()
        self.last_id = None
        self.buffer.clear()

    def on_diff(self, ev: DepthUpdate) -> Sync:
        if self.last_id is None:
            if len(self.buffer) >= self.max_buffer:  # no snapshot for this long: start the sequence again here
                self.overflows += 1
                self.buffer.clear()
                self.buffer.append(ev)
                return Sync.OVERFLOW
            self.buffer.append(ev)
            return Sync.BUFFERED
        return self._apply(ev)

    def _apply(self, ev: DepthUpdate) -> Sync:
        last = self.last_id
        assert last is not None  # only a synced book applies diffs
        if ev.u <= last:
            return Sync.STALE
        first = ev.U
        if first > last + 1:
            self.gaps += 1
            self.reset()
            self.buffer.append(ev)  # the new sequence starts here
            return Sync.GAP
        book, b, a = self.book, ev.b, ev.a
        if b:
            book.bids.set(b)
        if a:
            book.asks.set(a)
        self.last_id = ev.u
        return Sync.APPLIED

    def on_snapshot(self, snap: DepthSnapshot) -> Sync:
        """Install a snapshot and replay the buffered diffs over it."""
        if self.buffer and snap.lastUpdateId < self.buffer[0].U - 1:
            return Sync.SNAPSHOT_TOO_OLD
        self.snapshots += 1
        self.book.clear()
        self.book.apply(snap.bids, snap.asks)
        self.last_id = snap.lastUpdateId
        pending, self.buffer = self.buffer, []
        result = Sync.APPLIED
        for i, ev in enumerate(pending):
            r = self._apply(ev)
            if r is Sync.GAP:  # the buffer itself skipped ids: keep what followed the gap and resync
                self.buffer.extend(pending[i + 1:])
                return Sync.GAP
        return result
