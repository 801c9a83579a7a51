"""Closed round-trip trades from fills (FIFO, flat-to-flat grouping), for reports."""

from __future__ import annotations

from collections import deque

import msgspec

from leand.model import Fill, Symbol


class Trade(msgspec.Struct, kw_only=True):
    symbol: Symbol
    entry_time: int
    exit_time: int
    direction: int  # 1 long, -1 short
    quantity: float
    entry_price: float
    exit_price: float
    pnl: float
    fees: float

    @property
    def duration_ns(self) -> int:
        return self.exit_time - self.entry_time


def build_trades(fills: list[Fill]) -> list[Trade]:
    """A trade opens when a symbol goes from flat to a position and closes when it is flat again.
    Entry and exit prices are quantity-weighted averages; P&L matches lots FIFO and is net of fees."""
    out: list[Trade] = []
    state: dict[Symbol, dict] = {}
    for f in fills:
        st = state.get(f.symbol)
        if st is None or st["pos"] == 0:
            st = {"pos": 0.0, "lots": deque(), "entry_t": f.time, "dir": 1 if f.quantity > 0 else -1,
                  "in_q": 0.0, "in_v": 0.0, "out_q": 0.0, "out_v": 0.0, "pnl": 0.0, "fees": 0.0}
            state[f.symbol] = st
        st["fees"] += f.fee
        qty = f.quantity
        if (qty > 0) == (st["dir"] > 0):
            st["lots"].append([qty, f.price])
            st["pos"] += qty
            st["in_q"] += abs(qty)
            st["in_v"] += abs(qty) * f.price
            continue
        remaining = qty
        while remaining and st["lots"]:
            lot = st["lots"][0]
            take = -remaining if abs(remaining) <= abs(lot[0]) else lot[0]
            st["pnl"] += (f.price - lot[1]) * take
            lot[0] -= take
            remaining += take
            st["out_q"] += abs(take)
            st["out_v"] += abs(take) * f.price
            if abs(lot[0]) < 1e-12:
                st["lots"].popleft()
        st["pos"] = sum(lot[0] for lot in st["lots"])
        if not st["lots"]:
            out.append(Trade(symbol=f.symbol, entry_time=st["entry_t"], exit_time=f.time, direction=st["dir"],
                             quantity=st["in_q"], entry_price=st["in_v"] / st["in_q"],
                             exit_price=st["out_v"] / st["out_q"] if st["out_q"] else 0.0,
                             pnl=st["pnl"] - st["fees"], fees=st["fees"]))
            st["pos"] = 0
            if remaining:  # flipped through flat: the rest opens a new trade
                state[f.symbol] = {"pos": remaining, "lots": deque([[remaining, f.price]]), "entry_t": f.time,
                                   "dir": 1 if remaining > 0 else -1, "in_q": abs(remaining),
                                   "in_v": abs(remaining) * f.price, "out_q": 0.0, "out_v": 0.0, "pnl": 0.0,
                                   "fees": 0.0}
    return out
