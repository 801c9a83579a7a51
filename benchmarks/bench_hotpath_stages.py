"""Where the in-daemon tick-to-order time goes (issue 14): the path of bench_daemon.py (paper venue, the taker
strategy inline, recording on) cut into stages by stamps at each boundary, median per stage over the orders.

    python benchmarks/bench_hotpath_stages.py                 # ~20 s: 40,000 quotes, an order every 20th
    python benchmarks/bench_hotpath_stages.py --cpu           # stamps in thread CPU time (a loaded machine)
    python benchmarks/bench_hotpath_stages.py --general       # the general order path ([hot_path] fused_orders off)

A stamp is a wrapper around the function that starts the next stage (a Python call and a clock read, about
0.1-0.3 µs each, more with ``--cpu``): the stages add up to more than bench_daemon's figure, read them for their
shares. The quotes come unpaced in bursts of 16 (the loop gets a turn between bursts); conflation is off here so
every quote reaches the strategy. Printed with it: the total from the quote's stamp to the venue.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

sys.path.insert(0, str(ROOT / "benchmarks"))
from hotpath_util import taker_config  # noqa: E402

from leand.model import QuoteTick  # noqa: E402

marks: list[tuple[str, int]] = []


def stamp(label: str, fn: Callable[..., Any], clock: Callable[[], int]) -> Callable[..., Any]:
    def wrapped(*a: Any, **k: Any) -> Any:
        marks.append((label, clock()))
        return fn(*a, **k)

    return wrapped


class Bursts:
    """Quotes as fast as the daemon takes them, 16 per turn of the loop, each stamped as the feed takes it."""

    def __init__(self, src: Any, clock: Callable[[], int]) -> None:
        self.src = src
        self.clock = clock
        self.sent = 0

    def subscribe(self, instruments: Any) -> None:
        self.src.subscribe(instruments)

    def unsubscribe(self, symbols: Any) -> None:
        self.src.unsubscribe(symbols)

    async def stream(self):  # type: ignore[no-untyped-def]
        sym = next(iter(self.src.instruments))
        inst = self.src.instruments[sym]
        rng = np.random.default_rng(3)
        mids = 50_000 * np.exp(np.cumsum(rng.normal(0, 2e-5, 1 << 16)))
        bids = [inst.round_price(m - 0.5) for m in mids]
        i = 0
        while True:
            for _ in range(16):
                k = i & 0xFFFF
                i += 1
                self.sent += 1
                marks.clear()
                marks.append(("quote taken", self.clock()))
                yield QuoteTick(sym, time.time_ns(), bids[k], 1.0, bids[k] + 1.0, 1.0)
            await asyncio.sleep(0)


def run(n: int, every: int, cpu: bool, fused: bool = True) -> None:
    from leand.live import logs
    from leand.live.config import load_config
    from leand.live.daemon import Daemon

    clock = time.thread_time_ns if cpu else time.perf_counter_ns
    tmp = Path(tempfile.mkdtemp())
    cfg_path = taker_config(tmp, 1000000, fused)
    cfg = load_config(cfg_path)
    logs.configure("error", "json")

    class BenchDaemon(Daemon):
        def _open(self) -> None:
            super()._open()
            v = next(iter(self.venues.values()))
            v.data.source = self.bursts = Bursts(v.data.source, clock)

    d = BenchDaemon(cfg)
    rows: list[list[tuple[str, int]]] = []

    async def main() -> None:
        task = asyncio.create_task(d.run())
        while d.state != "ready":
            await asyncio.sleep(0.01)
        v = next(iter(d.venues.values()))
        ex = v.execution
        r = d.runners["taker"]
        e = r.engine
        om = e.order_manager
        d.hot.handle = stamp("feed: venue's book, recording, fan-out, hot path", d.hot.handle, clock)
        e.strategy.on_data = stamp("engine: slice to the strategy's on_data", e.strategy.on_data, clock)
        if om.fused_live:  # the fused path (leand.orders.live_submit): the same hooks, fewer calls between them;
            # a strategy without an order-event handler (the taker) records its decision and the gate's verdict after
            # the request left, so no stamp is put on the recording hooks
            om.submit_live = stamp("strategy: on_data to market_order", om.submit_live, clock)
            om._standard_buying_power_ok = stamp("order manager (fused): checks, Order, ticket",
                                                 om._standard_buying_power_ok, clock)
            e.risk_gate.check_new = stamp("buying power", e.risk_gate.check_new, clock)
            e.gate_hook = stamp("risk gate", e.gate_hook, clock)
            e.brokerage.send_plain = stamp("gate hook (metrics), order opened", e.brokerage.send_plain, clock)
            d.journal.intent = stamp("execution client (send_plain): approval, route", d.journal.intent, clock)
        else:
            om.submit = stamp("strategy: on_data to market_order", om.submit, clock)
            e.decision_hook = stamp("order manager: checks, Order, ticket", e.decision_hook, clock)
            e.risk_gate.check_new = stamp("recording the decision, buying power", e.risk_gate.check_new, clock)
            e.risk_hook = stamp("risk gate", e.risk_hook, clock)
            e.brokerage.submit = stamp("hooks (recording, metrics), order opened, order event",
                                       e.brokerage.submit, clock)
            d.journal.intent = stamp("execution client: approval, emulation, route", d.journal.intent, clock)
        d.journal.log.append = stamp("journal: id check, intent record", d.journal.log.append, clock)
        submit = ex.submit

        def timed(order: Any, now_ns: int) -> None:
            rows.append([*marks, ("intent log write, kill point -> venue", clock())])
            submit(order, now_ns)

        ex.submit = timed
        e.strategy.every = every
        await asyncio.sleep(0.5)
        rows.clear()
        s0 = d.bursts.sent
        while d.bursts.sent - s0 < n:
            await asyncio.sleep(0.01)
        d.stop_event.set()
        await task

    gc.collect()
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
    stages: dict[str, list[float]] = defaultdict(list)
    order: list[str] = []
    total = []
    for row in rows:
        for (_, t0), (label, t1) in zip(row, row[1:]):
            if label not in stages:
                order.append(label)
            stages[label].append((t1 - t0) / 1000)
        total.append((row[-1][1] - row[0][1]) / 1000)
    what = "thread CPU time" if cpu else "wall time"
    path = "fused order path" if fused else "general order path"
    print(f"{len(rows)} orders, {path}, {what}; quote taken -> order at the venue: median {statistics.median(total):.1f} µs "
          "(with the stamps)")
    for label in order:
        print(f"  {label:62s} {statistics.median(stages[label]):6.2f} µs")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quotes", type=int, default=40_000)
    ap.add_argument("--every", type=int, default=20, help="an order every N-th quote")
    ap.add_argument("--cpu", action="store_true", help="stamp in thread CPU time instead of wall time")
    ap.add_argument("--general", action="store_true", help="the general order path ([hot_path] fused_orders off)")
    args = ap.parse_args()
    run(args.quotes, args.every, args.cpu, not args.general)


if __name__ == "__main__":
    sys.exit(main())
