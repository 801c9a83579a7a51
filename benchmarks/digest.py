"""A digest of what a benchmark run decided: orders, fills and the equity curve, so a speed change can show
the results did not move (issue 15: record it before, compare after)."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

_enc = msgspec.msgpack.Encoder()


def engine_digest(engine: Any) -> str:
    """sha256 (first 16 hex) of every order's final state, every fill and every equity sample."""
    h = hashlib.sha256()
    for o in engine.orders.values():
        h.update(_enc.encode((o.id, str(o.symbol), o.quantity, o.type.value, o.status.value, o.limit_price,
                              o.stop_price, o.filled_quantity, o.average_fill_price, o.created_time,
                              o.last_update_time)))
    for f in engine.fills:
        h.update(_enc.encode((f.order_id, f.time, f.quantity, f.price, f.fee, f.liquidity.value, f.trade_id)))
    h.update(_enc.encode(engine.equity_samples))
    h.update(_enc.encode(engine.daily_samples))
    return h.hexdigest()[:16]


def events_digest(items: Any) -> str:
    """sha256 (first 16 hex) of any msgspec-encodable sequence (book events, replayed decisions)."""
    h = hashlib.sha256()
    for x in items:
        h.update(_enc.encode(x))
    return h.hexdigest()[:16]
