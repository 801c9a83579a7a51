"""Daemon figures: start to READY, `leand ctl status` round trip as a fresh process, and the in-daemon
tick-to-order latency with the paper venue at 1k, 10k and 20k market-data messages/s (issue 14), beside the
floor measured in the same run: a WebSocket round trip between two Python processes on loopback.

    python benchmarks/bench_daemon.py                    # ~2 min: 5 s per rate, then 60 s at 20k msg/s
    python benchmarks/bench_daemon.py --seconds 3 --soak-seconds 10 --no-start

Tick-to-order runs from the quote's receipt by the daemon's feed (the QuoteTick is stamped as the feed task
takes it, as a network data client stamps a frame it read) to the order reaching the paper venue: strategy
handler, risk gate, intent journaled (one write to the intent log), recording on. A market order goes every
N-th quote so about 500 orders/s are timed at every rate. The feed is paced to the target rate from the
loop (a burst of what is due each wake-up, as a socket read returns several frames; between wake-ups the loop
waits 1 ms, blocking as it does on an idle socket); "behind" is how many
due messages the daemon had not taken yet: the backlog of a hot path that handles everything inline. It must
not grow during the soak, and neither may RSS. A strategy slower than a burst is conflated (the latest quote,
``[hot_path] conflate_after_ms``): the count is printed; on a quiet machine it stays 0. The time a message waits
to be taken (the backlog) is not in the figure: "behind" says how much there was. ``--conflate-after-ms 1e6``
measures without conflation, ``--general`` the general order path instead of the fused one.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "live"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from daemon_util import write_config  # noqa: E402
from hotpath_util import rss_mb, summary, taker_config, ws_floor  # noqa: E402

from leand.model import QuoteTick  # noqa: E402

ORDERS_PER_S = 500


def start_to_ready(tmp: Path, runs: int = 3) -> tuple[list[float], list[float]]:
    out: list[float] = []
    ctl_times: list[float] = []
    for i in range(runs):
        d = tmp / f"s{i}"
        d.mkdir()
        cfg = write_config(d)
        ns = d / "notify.sock"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(str(ns))
        s.settimeout(30)
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "leand.cli", "run", "--config", str(cfg)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, "NOTIFY_SOCKET": str(ns)})
        while True:
            msg = s.recv(4096).decode()
            if "READY=1" in msg.split("\n"):
                out.append(time.perf_counter() - t0)
                break
        if i == runs - 1:
            ctl_times = ctl_round_trips(d / "state" / "leand.sock")
        p.terminate()
        p.wait(30)
        s.close()
    return out, ctl_times


def ctl_round_trips(sock: Path, runs: int = 10) -> list[float]:
    exe = shutil.which("leand") or sys.executable
    cmd = [exe, "ctl", "--socket", str(sock), "status"] if exe != sys.executable else \
        [sys.executable, "-m", "leand.cli", "ctl", "--socket", str(sock), "status"]
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        out.append(time.perf_counter() - t0)
    return out


class PacedQuotes:
    """The paper venue's quote source, paced to ``rate`` messages/s and stamped when the feed takes each one."""

    def __init__(self, src) -> None:
        self.src = src
        self.rate = 1000.0
        self.behind = 0
        self.behind_max = 0
        self.sent = 0

    def subscribe(self, instruments) -> None:
        self.src.subscribe(instruments)

    def unsubscribe(self, symbols) -> None:
        self.src.unsubscribe(symbols)

    def set_rate(self, rate: float) -> None:
        self.rate = rate
        self.behind_max = 0
        self._t0 = time.perf_counter()
        self._base = self.sent

    async def stream(self):
        sym = next(iter(self.src.instruments))
        inst = self.src.instruments[sym]
        rng = np.random.default_rng(3)
        mids = 50_000 * np.exp(np.cumsum(rng.normal(0, 2e-5, 1 << 16)))
        bids = [inst.round_price(m - 0.5) for m in mids]
        asks = [b + 1.0 for b in bids]
        self.set_rate(self.rate)
        i = 0
        sleep = asyncio.sleep
        while True:
            due = self._base + int((time.perf_counter() - self._t0) * self.rate)
            n = due - self.sent
            self.behind = max(0, n)
            if n > self.behind_max:
                self.behind_max = n
            if n <= 0:
                # nothing due: the loop waits, as it waits for a socket (uvloop's timers have 1 ms steps: a
                # shorter sleep never blocks, the loop would spin and the hot path would never see it idle)
                await sleep(0.001)
                continue
            for _ in range(min(n, 512)):
                k = i & 0xFFFF
                i += 1
                self.sent += 1
                yield QuoteTick(sym, time.time_ns(), bids[k], 1.0, asks[k], 1.0)
            await sleep(0)  # the loop's other callbacks get their turn, as between two socket reads


def tick_to_order(tmp: Path, rates: list[int], seconds: float, soak_rate: int, soak_seconds: float,
                  conflate_after_ms: float | None = None, fused: bool = True) -> None:
    from leand.live import logs
    from leand.live.config import load_config
    from leand.live.daemon import Daemon

    path = taker_config(tmp, conflate_after_ms, fused)
    cfg = load_config(path)
    logs.configure("error", "json")

    class BenchDaemon(Daemon):
        def _open(self) -> None:
            super()._open()
            v = next(iter(self.venues.values()))  # the one venue
            v.data.source = self.paced = PacedQuotes(v.data.source)

    d = BenchDaemon(cfg)
    lat: list[float] = []

    async def main() -> None:
        task = asyncio.create_task(d.run())
        while d.state != "ready":
            await asyncio.sleep(0.01)
        ex = next(iter(d.venues.values())).execution
        submit = ex.submit

        def timed(order, now_ns):
            lat.append((time.time_ns() - order.created_time) / 1000)
            return submit(order, now_ns)

        ex.submit = timed
        paced: PacedQuotes = d.paced
        runner = d.runners["taker"]
        strat = runner.engine.strategy
        for rate in rates:
            strat.every = max(1, rate // ORDERS_PER_S)
            paced.set_rate(rate)
            await asyncio.sleep(1.0)  # settle at the new rate
            lat.clear()
            c0, b0 = runner.conflated, runner.times_behind
            await asyncio.sleep(seconds)
            got = list(lat)
            print(f"  {rate:>6,} msg/s: tick-to-order {summary(got)}; behind at most {paced.behind_max} msgs "
                  f"({paced.behind_max / rate * 1000:.1f} ms of data, not in the figure); "
                  f"strategy conflated {runner.conflated - c0} quotes (fell behind {runner.times_behind - b0}x)")
        if soak_seconds > 0:
            strat.every = max(1, soak_rate // ORDERS_PER_S)
            paced.set_rate(soak_rate)
            sent0, t0 = paced.sent, time.perf_counter()
            eng = d.runners["taker"].engine
            n0 = len(eng.orders)
            rss0 = rss_mb()
            print(f"  soak at {soak_rate:,} msg/s for {soak_seconds:g} s (every 10 s: messages taken/s, behind now "
                  f"and max, strategy buffers, orders so far (as live objects), routes, RSS); RSS at the start "
                  f"{rss0:.0f} MB:")
            lat.clear()
            elapsed = 0.0
            while elapsed < soak_seconds:
                step = min(10.0, soak_seconds - elapsed)
                s0, t1 = paced.sent, time.perf_counter()
                paced.behind_max = 0
                await asyncio.sleep(step)
                elapsed += step
                rate = (paced.sent - s0) / (time.perf_counter() - t1)
                routes = sum(len(v.session.routes) for v in d.venues.values())
                print(f"    t={elapsed:>4.0f} s  {rate:>8,.0f} msg/s  behind {paced.behind:>5} (max "
                      f"{paced.behind_max:>5})  buffers {d.backlog()}  orders {len(eng.orders):,} "
                      f"({dict.__len__(eng.orders):,})  routes {routes:,}  RSS {rss_mb():.0f} MB")
            taken = (paced.sent - sent0) / (time.perf_counter() - t0)
            rss1 = rss_mb()
            print(f"  soak: {taken:,.0f} msg/s taken on average; tick-to-order {summary(lat)}; strategy conflated "
                  f"{runner.conflated} quotes in all")
            print(f"  soak: RSS {rss0:.0f} MB at the start, {rss1:.0f} MB at the end ({rss1 - rss0:+.0f} MB) over "
                  f"{len(eng.orders) - n0:,} orders")
        d.stop_event.set()
        await task

    gc.collect()
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0, help="timed seconds per rate")
    ap.add_argument("--rates", default="1000,10000,20000")
    ap.add_argument("--soak-seconds", type=float, default=60.0, help="seconds at --soak-rate (0: none)")
    ap.add_argument("--soak-rate", type=int, default=20000)
    ap.add_argument("--no-start", action="store_true", help="skip start-to-READY and ctl round trips")
    ap.add_argument("--general", action="store_true", help="the general order path ([hot_path] fused_orders off)")
    ap.add_argument("--conflate-after-ms", type=float, default=None,
                    help="[hot_path] conflate_after_ms (default: the daemon's); a large value measures every quote "
                         "inline however far behind a loaded machine puts the loop")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        floor = ws_floor()
        print(f"floor: WebSocket round trip between two Python processes on loopback: {summary(floor)}")
        if not args.no_start:
            ready, ctl_times = start_to_ready(tmp)
            print(f"start to READY: median {statistics.median(ready) * 1000:.0f} ms (runs: "
                  f"{', '.join(f'{x * 1000:.0f}' for x in ready)} ms)")
            print(f"leand ctl status round trip (fresh process): median {statistics.median(ctl_times) * 1000:.0f} "
                  f"ms, max {max(ctl_times) * 1000:.0f} ms")
        (tmp / "lat").mkdir()
        print("in-daemon tick-to-order (quote taken by the feed -> handler -> risk gate -> intent journaled -> "
              f"order at the paper venue; recording on; {'general' if args.general else 'fused'} order path, "
              f"conflate_after_ms {'default' if args.conflate_after_ms is None else f'{args.conflate_after_ms:g}'}"
              "), target p50 <= 50 µs, p99 <= 250 µs:")
        tick_to_order(tmp / "lat", [int(r) for r in args.rates.split(",")], args.seconds, args.soak_rate,
                      args.soak_seconds, args.conflate_after_ms, not args.general)


if __name__ == "__main__":
    main()
