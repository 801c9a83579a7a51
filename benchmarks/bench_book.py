"""Simulated-exchange throughput (issue 4).

    python benchmarks/bench_book.py [--orders 1000000]

(a) replay of recorded L1/L2 updates into the book: the BAC 2013-10-07 tick quotes (shipped) converted to
    leand's .l2d delta records, streamed from a file in chunks into a ReplayVenue — with no order of ours
    resting (the batched path) and with a resting bid and ask re-checked after every update;
(b) a mixed stream into the L3 matching engine: 60% limit adds, 30% cancels, 10% marketable orders, from a
    seeded generator, with self-trade prevention on.
The market-making backtest over a full day of AIG ticks is ``benchmarks/bench_market_maker.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import tempfile
import time
from datetime import date
from pathlib import Path

import msgspec
import numpy as np

from leand.data.feed import _events
from leand.data.lean import LeanDataSource
from leand.data.market_hours import MarketHoursDatabase
from leand.model import OrderType, Resolution, Symbol, TickType, TimeInForce
from leand.simulator.book import STP, OrderBook, SimOrder
from leand.simulator.l2file import L2Header, L2Writer, from_lean_ticks, iter_chunks
from leand.simulator.replay import ReplayVenue, replay_records

DATA = Path(__file__).resolve().parents[1] / "data" / "lean"


def bench_replay(tmp: Path, check: bool = False) -> None:
    sym = Symbol.equity("BAC")
    hours = MarketHoursDatabase.load(DATA / "market-hours" / "market-hours-database.json").get(
        sym.security_type, sym.market, sym.value)
    cols = LeanDataSource(DATA).read_day(sym, Resolution.TICK, TickType.QUOTE, date(2013, 10, 7), hours)
    quotes = [q for q in _events(cols, sym) if not q.suspicious]
    recs = from_lean_ticks(quotes)
    path = tmp / "bac.l2d"
    with L2Writer(path, L2Header("BAC", 0.01, 1.0, "lean ticks 2013-10-07")) as w:
        w.write(recs)
    n = len(recs)
    for label, resting in (("no resting orders (batched)", False), ("bid+ask resting, checked per update", True)):
        target = " (target >= 1,000,000)" if resting else ""
        v = ReplayVenue("BAC", queue="prob_power2")
        digest = hashlib.sha256()
        enc = msgspec.msgpack.Encoder()
        t0 = time.perf_counter()
        for chunk in iter_chunks(path):
            if resting and not v.orders and v.book.best_bid and v.book.best_ask:
                v.submit(SimOrder(id=1, side=1, quantity=100, price=round(v.book.best_bid - 0.05, 2)), 0)
                v.submit(SimOrder(id=2, side=-1, quantity=100, price=round(v.book.best_ask + 0.05, 2)), 0)
            replay_records(v, chunk)
            ev = v.drain()
            if check:
                digest.update(enc.encode(ev))
        dt = time.perf_counter() - t0
        print(f"(a) L1/L2 replay, {label}: {n:,} updates in {dt:.2f} s = {n / dt:,.0f} updates/s "
              f"(gaps {len(v.book.gaps)}){target}" + (f"; digest of events {digest.hexdigest()[:16]}" if check else ""))


class FloorBook:
    """The floor for (b): what any book must do per request here (index the order, record one event), no
    matching. The harness (building SimOrders, picking cancels) runs the same as for the real book."""

    def __init__(self) -> None:
        self.orders: dict[int, SimOrder] = {}
        self.events: list = []

    def submit(self, o: SimOrder, now: int) -> bool:
        self.events.append(o.id)
        if o.type is OrderType.LIMIT:
            self.orders[o.id] = o
        return True

    def cancel(self, order_id: int, now: int) -> SimOrder:
        self.events.append(order_id)
        return self.orders.pop(order_id)


def mixed_stream(book, n: int, check: bool) -> tuple[float, tuple[int, int, int], str]:
    rng = np.random.default_rng(11)
    kinds = rng.random(n).tolist()  # Python floats: numpy scalars would bill the harness's indexing to the book
    sides = rng.choice([-1, 1], n).tolist()
    offs = rng.integers(1, 20, n).tolist()
    qtys = (rng.integers(1, 10, n) * 100).tolist()
    owners = [f"o{k}" for k in rng.integers(0, 50, n).tolist()]
    picks = rng.random(n).tolist()
    live: list[int] = []
    mid = 10_000  # in ticks
    adds = cancels = takes = 0
    digest = hashlib.sha256()
    enc = msgspec.msgpack.Encoder()
    t0 = time.perf_counter()
    for i in range(n):
        k = kinds[i]
        if k < 0.6 or not live:
            side = sides[i]
            px = (mid - offs[i] if side > 0 else mid + offs[i]) / 100
            book.submit(SimOrder(id=i + 1, owner=owners[i], side=side, quantity=qtys[i], price=px), i)
            live.append(i + 1)
            adds += 1
        elif k < 0.9:
            j = int(picks[i] * len(live))
            oid = live[j]
            live[j] = live[-1]
            live.pop()
            if oid in book.orders:
                book.cancel(oid, i)
            cancels += 1
        else:
            book.submit(SimOrder(id=i + 1, owner=owners[i], side=sides[i], quantity=qtys[i], type=OrderType.MARKET,
                                 time_in_force=TimeInForce.IOC), i)
            takes += 1
        if len(book.events) > 4096:
            if check:
                digest.update(enc.encode(book.events))
            book.events.clear()
    dt = time.perf_counter() - t0
    if check:
        digest.update(enc.encode(book.events))
    return dt, (adds, cancels, takes), digest.hexdigest()[:16]


def bench_mixed(n: int, check: bool = False, repeat: int = 3) -> None:
    floor = min(mixed_stream(FloorBook(), n, False)[0] for _ in range(repeat))
    best = math.inf
    for _ in range(repeat):
        book = OrderBook("X", tick_size=0.01, lot_size=1, maker_fee=-0.0001, taker_fee=0.0003,
                         stp=STP.CANCEL_RESTING)
        dt, (adds, cancels, takes), digest = mixed_stream(book, n, check)
        best = min(best, dt)
    print(f"(b) mixed stream: {n:,} orders ({adds:,} adds, {cancels:,} cancels, {takes:,} marketable), best of "
          f"{repeat}: {best:.2f} s = {n / best:,.0f} orders/s (target >= 500,000); {len(book.orders):,} resting at "
          f"the end; floor (same harness, a dict and one event per request) {n / floor:,.0f} orders/s")
    if check:
        print(f"    digest of the book's events (timing includes hashing): {digest}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--digest", action="store_true", help="hash the book's events (slower; for checking that "
                    "a change leaves results identical)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is printed")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        bench_replay(Path(d), args.digest)
    bench_mixed(args.orders, args.digest, args.repeat)


if __name__ == "__main__":
    main()
