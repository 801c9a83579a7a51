"""A strategy's input buffer when it runs on its own worker thread: bounded for market data by conflation,
never lossy for anything else.

Why conflation and not a queue: a strategy slower than its feed can only ever act on the newest price, so
older quotes of a symbol it has not yet seen are dropped in favour of the latest one (counted in
``conflated``), and its backlog stays at one market-data item per (symbol, event type) however fast the
feed is. Order reports, ctl calls and timer wake-ups are never conflated: each is delivered once, in the
order it arrived, interleaved with market data as it came. A quote replaced by a newer one moves to the
newer one's place in that order (the strategy never sees a price before a report that arrived ahead of it).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

#: an item is a list (mutable, so a conflated one can be marked dead in place): [kind, *payload]
Item = list[Any]
_DEAD = "dead"


class ConflatingBuffer:
    """Thread-safe: the event loop's thread puts, the strategy's worker thread takes."""

    def __init__(self) -> None:
        self._items: deque[Item] = deque()
        #: (symbol, event type) -> its pending market-data item
        self._md: dict[tuple[Any, type], Item] = {}
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        #: market-data events replaced by a newer one before the strategy saw them
        self.conflated = 0
        #: the deepest the buffer has been (live items)
        self.high_water = 0
        self._live = 0

    def __len__(self) -> int:
        return self._live

    def put_market(self, key: tuple[Any, type], item: Item) -> None:
        """A market-data slice ``["slice", ...]`` for one (symbol, type): it replaces the pending one."""
        with self._cond:
            old = self._md.get(key)
            if old is not None:
                self.conflated += 1
                if self._items and self._items[-1] is old:  # nothing came since: replace in place
                    old[1:] = item[1:]
                    return
                old[0] = _DEAD
                self._live -= 1
            self._md[key] = item
            self._append(item)

    def put(self, item: Item) -> None:
        """Anything that is not market data: never conflated, never dropped."""
        with self._cond:
            self._append(item)

    def put_tick(self) -> None:
        """A timer wake-up: one pending is as good as several (the clock fires whatever is due)."""
        with self._cond:
            if self._items and self._items[-1][0] == "tick":
                return
            self._append(["tick"])

    def _append(self, item: Item) -> None:
        self._items.append(item)
        self._live += 1
        if self._live > self.high_water:
            self.high_water = self._live
        self._cond.notify()

    def get(self, timeout: float | None = None) -> Item | None:
        """The next live item; None once closed (or after ``timeout`` with nothing)."""
        with self._cond:
            while True:
                while self._items:
                    item = self._items.popleft()
                    if item[0] == _DEAD:
                        continue
                    self._live -= 1
                    if item[0] == "slice":
                        key = item[-1]
                        if self._md.get(key) is item:
                            del self._md[key]
                    return item
                if self._closed:
                    return None
                if not self._cond.wait(timeout):
                    return None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
