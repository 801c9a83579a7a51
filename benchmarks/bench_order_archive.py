"""What packing closed orders costs and saves (issue 15: peak RSS flat in the number of orders).

The order manager packs closed orders into its archive (``leand.orders.archive``) once ``PACK_AT`` of them are live
objects. This runs the order manager's benchmark loop (one market order, submit to fill event) for N orders twice,
alternating, with packing as shipped and with packing off, and prints, CPU time per order (best of R) for each,
what packing itself costs per packed order, and the Python heap each run holds per order at the end (tracemalloc).

It does so for a strategy with an order-event handler (its orders are live Order objects until packed) and for one
without (bench_backtest's SMA strategy: its orders that fill at once are quiet rows, packed as columns).

    python benchmarks/bench_order_archive.py [--n 60000] [--repeat 3] [--strategy handler|quiet|both]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_order_manager as bom

import leand.orders.archive as archive_mod
import leand.orders.manager as manager_mod

SHIPPED = manager_mod._COMPACT_MASK
OFF = (1 << 62) - 1


def run(n: int, mask: int, trace: bool = False, cls: type = bom.Counter) -> tuple[float, float, int, float]:
    """(CPU µs per order, CPU seconds inside packing, orders packed, heap bytes per order at the end)."""
    manager_mod._COMPACT_MASK = mask
    e = bom.engine(cls)
    s = e.strategy
    sym = s.btc
    arch = e.order_manager.archive
    spent = [0.0]
    compact = arch.compact

    def timed(below: int | None = None) -> int:
        t = time.process_time()
        try:
            return compact(below)
        finally:
            spent[0] += time.process_time() - t

    arch.compact = timed  # type: ignore[method-assign]
    gc.collect()
    if trace:
        tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0] if trace else 0
    gc.disable()
    t0 = time.process_time()
    for i in range(n):
        s.market_order(sym, 0.01 if i & 1 == 0 else -0.01)
    dt = time.process_time() - t0
    gc.enable()
    heap = 0.0
    if trace:
        gc.collect()
        heap = (tracemalloc.get_traced_memory()[0] - base) / n
        tracemalloc.stop()
    assert len(e.fills) == n and len(e.orders) == n
    return dt / n * 1e6, spent[0], arch.count, heap


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--strategy", default="both", choices=["handler", "quiet", "both"])
    a = ap.parse_args()
    kinds = {"handler": [bom.Counter], "quiet": [bom.Quiet], "both": [bom.Counter, bom.Quiet]}[a.strategy]
    for cls in kinds:
        on: list[tuple[float, float, int, float]] = []
        off: list[tuple[float, float, int, float]] = []
        for _ in range(a.repeat):  # alternate, so a busy machine weighs on both alike
            on.append(run(a.n, SHIPPED, cls=cls))
            off.append(run(a.n, OFF, cls=cls))
        best_on = min(on)
        best_off = min(off)
        packed = best_on[2]
        per_packed = min(r[1] / r[2] for r in on if r[2]) * 1e6 if packed else 0.0
        heap_on = run(a.n, SHIPPED, trace=True, cls=cls)[3]
        heap_off = run(a.n, OFF, trace=True, cls=cls)[3]
        what = "with an order-event handler" if cls is bom.Counter else \
            "without a handler (quiet: kept as rows until packed)"
        form = "orders with their tickets one msgpack message per batch" if cls is bom.Counter else \
            "quiet rows as columns per batch"
        print(f"{a.n:,} market orders through the order manager, {what} (CPU time, best of {a.repeat}, "
              "alternating):")
        print(f"  packing off:          {best_off[0]:6.2f} µs/order; heap held at the end {heap_off:6.0f} B/order")
        print(f"  packing (as shipped): {best_on[0]:6.2f} µs/order; heap held at the end {heap_on:6.0f} B/order; "
              f"{packed:,} orders packed (PACK_AT {archive_mod.PACK_AT:,}, KEEP_RECENT {archive_mod.KEEP_RECENT:,})")
        print(f"  packing itself: {per_packed:.2f} µs CPU per packed order ({form}, fills another, as columns)")


if __name__ == "__main__":
    main()
