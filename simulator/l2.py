"""The market's displayed book, rebuilt from recorded data: aggregate size per price level (L2).

Fed by snapshots and incremental deltas (each with a sequence number, checked: a gap is recorded in
``gaps`` and the book is marked ``stale`` until the next snapshot, never silently absorbed) or by L1 quotes
(best bid/ask and sizes), which replace the top of the book and clear any level the new quote crosses.
"""

from __future__ import annotations

from sortedcontainers import SortedDict

_dset = dict.__setitem__


class SequenceGap(Exception):
    """A delta arrived out of sequence (only raised when the book is built with ``on_gap="raise"``)."""


class L2Book:
    """Aggregate displayed size by price. ``bids`` is keyed by negated price so index 0 is the best on
    both sides; values are sizes (always > 0: a zero-size delta deletes the level)."""

    __slots__ = ("asks", "bids", "gaps", "on_gap", "seq", "stale", "symbol", "updates")

    def __init__(self, symbol: str = "", *, on_gap: str = "mark") -> None:
        if on_gap not in ("mark", "raise"):
            raise ValueError(f"on_gap must be 'mark' or 'raise', got {on_gap!r}")
        self.symbol = symbol
        self.bids: SortedDict = SortedDict()
        self.asks: SortedDict = SortedDict()
        self.seq = 0  # last applied sequence number (0: none yet)
        self.gaps: list[tuple[int, int]] = []  # (expected, received)
        self.stale = False
        self.on_gap = on_gap
        self.updates = 0

    # ---- views ------------------------------------------------------------------------------------------
    @property
    def best_bid(self) -> float:
        return -self.bids.peekitem(0)[0] if self.bids else 0.0

    @property
    def best_ask(self) -> float:
        return self.asks.peekitem(0)[0] if self.asks else 0.0

    @property
    def bid_size(self) -> float:
        return self.bids.peekitem(0)[1] if self.bids else 0.0

    @property
    def ask_size(self) -> float:
        return self.asks.peekitem(0)[1] if self.asks else 0.0

    def depth(self, side: int, price: float) -> float:
        """Displayed size at ``price`` on ``side`` (+1 bids, -1 asks)."""
        return self.bids.get(-price, 0.0) if side > 0 else self.asks.get(price, 0.0)

    def top(self, n: int = 5) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        bids = [(-k, v) for k, v in self.bids.items()[:n]]
        asks = list(self.asks.items()[:n])
        return bids, asks

    @property
    def crossed(self) -> bool:
        return bool(self.bids) and bool(self.asks) and -self.bids.peekitem(0)[0] >= self.asks.peekitem(0)[0]

    # ---- updates ----------------------------------------------------------------------------------------
    def apply_snapshot(self, seq: int, bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> None:
        """Replace the whole book; clears a stale mark."""
        self.bids = SortedDict({-p: s for p, s in bids if s > 0})
        self.asks = SortedDict({p: s for p, s in asks if s > 0})
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
        book, key = (self.bids, -price) if side > 0 else (self.asks, price)
        if size > 0:
            if key in book:
                _dset(book, key, size)  # an existing level: a plain dict store, no sorted-list work
            else:
                book[key] = size
        elif key in book:
            del book[key]
        return True

    def set_quote(self, bid: float, bid_size: float, ask: float, ask_size: float) -> None:
        """An L1 update: the best bid and ask with their sizes. A zero price leaves that side as it was.
        Levels better than the new best (which the quote says are gone) are removed."""
        self.updates += 1
        if bid > 0:
            bids = self.bids
            key = -bid
            while bids and bids.peekitem(0)[0] < key:  # a higher bid than the new best is gone
                bids.popitem(0)
            if bid_size > 0:
                bids[key] = bid_size
            else:
                bids.pop(key, None)
        if ask > 0:
            asks = self.asks
            while asks and asks.peekitem(0)[0] < ask:
                asks.popitem(0)
            if ask_size > 0:
                asks[ask] = ask_size
            else:
                asks.pop(ask, None)
        # a quote also removes the other side's levels it crosses
        if bid > 0:
            asks = self.asks
            while asks and asks.peekitem(0)[0] <= bid:
                asks.popitem(0)
        if ask > 0:
            bids = self.bids
            while bids and -bids.peekitem(0)[0] >= ask:
                bids.popitem(0)

    def take(self, side: int, price: float, size: float) -> None:
        """Our own aggressive order consumed ``size`` at ``price`` on ``side``: the level shrinks until the
        recording next says otherwise."""
        book, key = (self.bids, -price) if side > 0 else (self.asks, price)
        left = book.get(key, 0.0) - size
        if left > 1e-12:
            book[key] = left
        else:
            book.pop(key, None)


def apply_deltas(book: L2Book, seq: list[int], side: list[int], price: list[float], size: list[float]) -> int:
    """Apply a run of deltas in one call (the replay fast path when no order of ours rests in the book):
    the same checks as :meth:`L2Book.apply_delta`, without a method call per update. Returns how many
    were applied."""
    bids, asks = book.bids, book.asks
    dset = dict.__setitem__
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
            k = -p
            if q > 0:
                if k in bids:
                    dset(bids, k, q)  # an existing level: a plain dict store, no sorted-list work
                else:
                    bids[k] = q
            elif k in bids:
                del bids[k]
        elif q > 0:
            if p in asks:
                dset(asks, p, q)
            else:
                asks[p] = q
        elif p in asks:
            del asks[p]
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
    if book.stale or not book.seq:
        return start
    dset = dict.__setitem__
    bb = -bids._list._lists[0][0] if bids else 0.0  # SortedDict's first key, without peekitem's overhead
    ba = asks._list._lists[0][0] if asks else 0.0
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
            k = -p
            if q > 0:
                if k in bids:
                    dset(bids, k, q)
                else:
                    bids[k] = q
            elif k in bids:
                del bids[k]
        else:
            if (q > 0 and (p < ba or not ba)) or (q <= 0 and p == ba) or (-1, p) in watch:
                break
            if q > 0:
                if p in asks:
                    dset(asks, p, q)
                else:
                    asks[p] = q
            elif p in asks:
                del asks[p]
        last = s
        i += 1
    book.updates += i - start
    book.seq = last
    return i
