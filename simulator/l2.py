"""The market's displayed book, rebuilt from recorded data: aggregate size per price level (L2).

Fed by snapshots and incremental deltas (each with a sequence number, checked: a gap is recorded in
``gaps`` and the book is marked ``stale`` until the next snapshot, never silently absorbed) or by L1 quotes
(best bid/ask and sizes), which replace the top of the book and clear any level the new quote crosses.

A side is a plain dict of size by price plus a plain sorted list of its keys (``side * price``, so the last
key is the best on both sides), as in the L3 book (:mod:`leand.simulator.book`): a size update at an existing
level is one dict store, and the list changes only when a level appears (inserted by bisection in C) or
disappears.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from itertools import islice


class SequenceGap(Exception):
    """A delta arrived out of sequence (only raised when the book is built with ``on_gap="raise"``)."""


def _add_key(keys: list[float], k: float) -> None:
    """A level appeared: its key into the ascending list (appended when it is the new best)."""
    if keys and k < keys[-1]:
        insort(keys, k)
    else:
        keys.append(k)


def _drop_key(keys: list[float], k: float) -> None:
    """A level disappeared: its key out of the list (``pop()`` when it is the best)."""
    if keys[-1] == k:
        keys.pop()
    else:
        del keys[bisect_left(keys, k)]


class L2Book:
    """Aggregate displayed size by price: ``bids`` and ``asks`` map price to size (always > 0: a zero-size
    delta deletes the level). Their sorted keys (``side * price``, ascending: the last is the best) are
    private; :meth:`levels` and :meth:`top` read the sides in price order."""

    __slots__ = ("_ask_keys", "_bid_keys", "asks", "bids", "gaps", "on_gap", "seq", "stale", "symbol", "updates")

    def __init__(self, symbol: str = "", *, on_gap: str = "mark") -> None:
        if on_gap not in ("mark", "raise"):
            raise ValueError(f"on_gap must be 'mark' or 'raise', got {on_gap!r}")
        self.symbol = symbol
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self._bid_keys: list[float] = []  # bid prices, ascending
        self._ask_keys: list[float] = []  # negated ask prices, ascending
        self.seq = 0  # last applied sequence number (0: none yet)
        self.gaps: list[tuple[int, int]] = []  # (expected, received)
        self.stale = False
        self.on_gap = on_gap
        self.updates = 0

    # ---- views ------------------------------------------------------------------------------------------
    @property
    def best_bid(self) -> float:
        keys = self._bid_keys
        return keys[-1] if keys else 0.0

    @property
    def best_ask(self) -> float:
        keys = self._ask_keys
        return -keys[-1] if keys else 0.0  # negation is exact

    @property
    def bid_size(self) -> float:
        keys = self._bid_keys
        return self.bids[keys[-1]] if keys else 0.0

    @property
    def ask_size(self) -> float:
        keys = self._ask_keys
        return self.asks[-keys[-1]] if keys else 0.0

    def depth(self, side: int, price: float) -> float:
        """Displayed size at ``price`` on ``side`` (+1 bids, -1 asks)."""
        return self.bids.get(price, 0.0) if side > 0 else self.asks.get(price, 0.0)

    def levels(self, side: int) -> Iterator[tuple[float, float]]:
        """(price, size) of one side (+1 bids, -1 asks), best first. Do not change the book while iterating."""
        if side > 0:
            bids = self.bids
            return ((p, bids[p]) for p in reversed(self._bid_keys))
        asks = self.asks
        return ((-k, asks[-k]) for k in reversed(self._ask_keys))

    def top(self, n: int = 5) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        return list(islice(self.levels(1), n)), list(islice(self.levels(-1), n))

    @property
    def crossed(self) -> bool:
        return bool(self._bid_keys) and bool(self._ask_keys) and self._bid_keys[-1] >= -self._ask_keys[-1]

    # ---- updates ----------------------------------------------------------------------------------------
    def apply_snapshot(self, seq: int, bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> None:
        """Replace the whole book; clears a stale mark."""
        self.bids = {p: s for p, s in bids if s > 0}
        self.asks = {p: s for p, s in asks if s > 0}
        self._bid_keys = sorted(self.bids)
        self._ask_keys = sorted(-p for p in self.asks)
        self.seq = seq
        self.stale = False
        self.updates += 1

    def apply_delta(self, seq: int, side: int, price: float, size: float) -> bool:
        """Set the size at one level (0 deletes it). Returns False, and records the gap, when ``seq`` is not
        the next number; while stale, deltas are ignored until a snapshot arrives."""
        if seq != self.seq + 1 and self.seq:
            if seq <= self.seq:  # a duplicate or replayed delta: already applied
                return False
            self.gaps.append((self.seq + 1, seq))
            self.seq = seq
            self.stale = True
            if self.on_gap == "raise":
                raise SequenceGap(f"{self.symbol or 'book'}: expected sequence {self.gaps[-1][0]}, got {seq}")
            return False
        self.seq = seq
        if self.stale:
            return False
        self.updates += 1
        self._set(side, price, size)
        return True

    def _set(self, side: int, price: float, size: float) -> None:
        """The size at one level (0 or less deletes it)."""
        book, keys, k = (self.bids, self._bid_keys, price) if side > 0 else (self.asks, self._ask_keys, -price)
        if size > 0:
            if price not in book:
                _add_key(keys, k)
            book[price] = size
        elif price in book:
            del book[price]
            _drop_key(keys, k)

    def set_quote(self, bid: float, bid_size: float, ask: float, ask_size: float) -> None:
        """An L1 update: the best bid and ask with their sizes. A zero price leaves that side as it was.
        Levels better than the new best (which the quote says are gone) are removed."""
        self.updates += 1
        bids, asks, bk, ak = self.bids, self.asks, self._bid_keys, self._ask_keys
        if bid > 0:
            while bk and bk[-1] > bid:  # a higher bid than the new best is gone
                del bids[bk.pop()]
            self._set(1, bid, bid_size)
        if ask > 0:
            while ak and -ak[-1] < ask:
                del asks[-ak.pop()]
            self._set(-1, ask, ask_size)
        # a quote also removes the other side's levels it crosses
        if bid > 0:
            while ak and -ak[-1] <= bid:
                del asks[-ak.pop()]
        if ask > 0:
            while bk and bk[-1] >= ask:
                del bids[bk.pop()]

    def take(self, side: int, price: float, size: float) -> None:
        """Our own aggressive order consumed ``size`` at ``price`` on ``side``: the level shrinks until the
        recording next says otherwise."""
        left = (self.bids if side > 0 else self.asks).get(price, 0.0) - size
        self._set(side, price, left if left > 1e-12 else 0.0)


def apply_deltas(book: L2Book, seq: list[int], side: list[int], price: list[float], size: list[float]) -> int:
    """Apply a run of deltas in one call (the replay fast path when no order of ours rests in the book):
    the same checks as :meth:`L2Book.apply_delta`, without a method call per update. Returns how many
    were applied."""
    bids, asks = book.bids, book.asks
    bk, ak = book._bid_keys, book._ask_keys
    last = book.seq
    stale = book.stale
    applied = 0
    for s, sd, p, q in zip(seq, side, price, size):
        if s != last + 1 and last:
            if s <= last:
                continue
            book.gaps.append((last + 1, s))
            last = s
            stale = True
            if book.on_gap == "raise":
                book.seq, book.stale = last, stale
                raise SequenceGap(f"{book.symbol or 'book'}: expected sequence {book.gaps[-1][0]}, got {s}")
            continue
        last = s
        if stale:
            continue
        applied += 1
        if sd > 0:
            if q > 0:
                if p not in bids:
                    _add_key(bk, p)
                bids[p] = q
            elif p in bids:
                del bids[p]
                _drop_key(bk, p)
        elif q > 0:
            if p not in asks:
                _add_key(ak, -p)
            asks[p] = q
        elif p in asks:
            del asks[p]
            _drop_key(ak, -p)
    book.seq = last
    book.stale = stale
    book.updates += applied
    return applied


def apply_deltas_quiet(book: L2Book, seq: list[int], side: list[int], price: list[float], size: list[float],
                       start: int, watch: set[tuple[int, float]]) -> int:
    """Apply deltas from ``start`` on while they are *quiet*: in sequence, not moving either best price and
    not at a watched ``(side, price)``. Returns the index of the first delta that is not quiet (not applied;
    the caller applies it with its consequences) or ``len(seq)``. With orders of ours resting, this is the
    replay's fast path: a quiet delta changes nothing any of them can see."""
    bids, asks = book.bids, book.asks
    bk, ak = book._bid_keys, book._ask_keys
    if book.stale or not book.seq:
        return start
    bb = bk[-1] if bk else 0.0
    ba = -ak[-1] if ak else 0.0
    last = book.seq
    n = len(seq)
    i = start
    while i < n:
        s = seq[i]
        if s != last + 1:
            break
        p = price[i]
        q = size[i]
        if side[i] > 0:
            if (q > 0 and p > bb) or (q <= 0 and p == bb) or (1, p) in watch:
                break
            if q > 0:
                if p not in bids:
                    _add_key(bk, p)
                bids[p] = q
            elif p in bids:
                del bids[p]
                _drop_key(bk, p)
        else:
            if (q > 0 and (p < ba or not ba)) or (q <= 0 and p == ba) or (-1, p) in watch:
                break
            if q > 0:
                if p not in asks:
                    _add_key(ak, -p)
                asks[p] = q
            elif p in asks:
                del asks[p]
                _drop_key(ak, -p)
        last = s
        i += 1
    book.updates += i - start
    book.seq = last
    return i
