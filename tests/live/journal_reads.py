"""A journal that counts the rows a venue adapter reads from it, and a long history of ended orders to put in
it: a snapshot (each reconnect, each REST poll) must read what is open, not the journal's whole history."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from leand.live.journal import Journal
from leand.model import OrderStatus, Symbol

#: ended orders in the journal before the adapter starts (far more than a snapshot may read)
HISTORY = 300


class CountingJournal(Journal):
    """Counts the rows each read of intents and fill ids returns."""

    rows = 0

    def intents(self) -> list[dict]:
        return self._count(super().intents())

    def open_intents(self) -> list[dict]:
        return self._count(super().open_intents())

    def fill_ids(self) -> set[int]:
        return self._count(super().fill_ids())

    def intents_of(self, cids: Iterable[str]) -> dict[str, dict]:
        return self._count(super().intents_of(cids))

    def journaled_fills(self, ids: Iterable[int]) -> set[int]:
        return self._count(super().journaled_fills(ids))

    def _count(self, rows: Any) -> Any:
        self.rows += len(rows)
        return rows


def add_history(j: Journal, traded: Symbol, fill_base: int) -> None:
    """``HISTORY`` canceled orders of ``traded`` and as many filled ones of another market, each with its fill
    (ids from ``fill_base``, clear of the venue's)."""
    other = Symbol.crypto("ETHUSDT", "binance")
    now = time.time_ns()
    for k in range(HISTORY):
        j.intent(f"old-c-{k}", "t", traded, 0.001, "limit", 1.0, None, "gtc", "", now, 1)
        j.set_status(f"old-c-{k}", OrderStatus.CANCELED, now)
        j.intent(f"old-f-{k}", "t", other, 0.001, "market", None, None, "gtc", "", now, 1)
        j.fill(fill_base + k, f"old-f-{k}", other.id, 0.001, 1.0, 0.0, "USDT", "taker", now, OrderStatus.FILLED)
    assert not j.open_intents()
