"""What observability costs (issue 18).

1. Per market-data event on the daemon's hot path: the counters the feed and strategy tasks bump
   (``LiveStats.feed_message``, and the receive stamp set and cleared around the slice), beside a bare loop (the floor) and
   beside what prometheus-client's own Counter costs per increment (what the custom collector avoids).
2. Per order: the info-level ``order.submitted`` log line and counters (JSON rendered to /dev/null).
3. Per scrape: ``GET /metrics`` on a real daemon beside ``GET /healthz`` on the same server (the HTTP floor).

    python benchmarks/bench_metrics.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "live"))

from daemon_util import Daemon, write_config  # noqa: E402
from http_util import free_port  # noqa: E402

from leand.live.metrics import LiveStats  # noqa: E402
from leand.model import Symbol  # noqa: E402

N = 1_000_000


def per_event() -> None:
    sym = Symbol.crypto("BTCUSD", "coinbase")
    stats = LiveStats("paper")
    mono = time.monotonic

    def floor() -> float:
        t0 = time.perf_counter()
        for _ in range(N):
            now = mono()  # the daemon reads the clock here anyway (last_quote_wall)
            _ = now
        return time.perf_counter() - t0

    def hooks() -> float:
        feed_message = stats.feed_message
        t0 = time.perf_counter()
        for _ in range(N):
            now = mono()
            feed_message(sym, now)  # the feed task; `now` also rides to the strategy task as the receive stamp
            stats.tick_recv = now  # the strategy task, before the slice
            stats.tick_recv = 0.0  # and after it
        return time.perf_counter() - t0

    from prometheus_client import CollectorRegistry, Counter

    c = Counter("x", "x", ["venue", "symbol"], registry=CollectorRegistry())

    def prom_labels() -> float:
        t0 = time.perf_counter()
        for _ in range(N):
            now = mono()
            _ = now
            c.labels("paper", "BTCUSD").inc()
        return time.perf_counter() - t0

    child = c.labels("paper", "BTCUSD")

    def prom_child() -> float:
        t0 = time.perf_counter()
        for _ in range(N):
            now = mono()
            _ = now
            child.inc()
        return time.perf_counter() - t0

    best = {name: min(fn() for _ in range(3)) for name, fn in
            (("floor", floor), ("hooks", hooks), ("prom_labels", prom_labels), ("prom_child", prom_child))}
    f = best["floor"]
    print(f"per market-data event ({N:,} events, best of 3):")
    print(f"  floor (bare loop + clock read)           {f / N * 1e9:7.1f} ns")
    print(f"  leand hooks (counters, stamps)           {best['hooks'] / N * 1e9:7.1f} ns  "
          f"(+{(best['hooks'] - f) / N * 1e9:.1f} ns over the floor)")
    print(f"  prometheus Counter.labels().inc()        {best['prom_labels'] / N * 1e9:7.1f} ns  "
          f"(+{(best['prom_labels'] - f) / N * 1e9:.1f} ns)")
    print(f"  prometheus bound child .inc()            {best['prom_child'] / N * 1e9:7.1f} ns  "
          f"(+{(best['prom_child'] - f) / N * 1e9:.1f} ns)")


def per_order() -> None:
    import structlog

    from leand.live import logs

    devnull = open(os.devnull, "w")  # noqa: SIM115 - closed below
    old = sys.stdout
    sys.stdout = devnull
    try:
        logs.configure("info", "json")
        log = structlog.get_logger("leand.orders")
        stats = LiveStats("paper")
        n = 20_000
        t0 = time.perf_counter()
        for i in range(n):
            stats.bump(stats.risk, ("s", "APPROVED"))
            stats.bump(stats.orders, ("s", "submitted"))
            stats.approved(f"s-1-{i}")
            log.info("order.submitted", strategy="s", client_order_id=f"s-1-{i}", symbol="BTCUSD", side="buy",
                     quantity=0.01, type="limit", limit_price=20000.0)
        dt = time.perf_counter() - t0
    finally:
        sys.stdout = old
        devnull.close()
    print(f"per order: counters + info log line (JSON to /dev/null) {dt / n * 1e6:.1f} us")


def per_scrape() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        d = Daemon(write_config(Path(tmp), extra=f'[http]\nlisten = "127.0.0.1:{port}"\n'),
                   env={"LEAND_HTTP_TOKEN": "bench-token-0123456789"})
        try:
            d.wait_ready()
            time.sleep(2.0)  # some orders and fills, so the families have series

            def timed(path: str, n: int = 100) -> tuple[float, int]:
                out, size = [], 0
                for _ in range(n):
                    t0 = time.perf_counter()
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
                        size = len(r.read())
                    out.append(time.perf_counter() - t0)
                return statistics.median(out), size

            h, _ = timed("/healthz")
            m, size = timed("/metrics")
            print(f"per scrape (real daemon, loopback, median of 100): /metrics {m * 1e3:.2f} ms ({size:,} bytes); "
                  f"floor /healthz {h * 1e3:.2f} ms")
        finally:
            if d.proc.poll() is None:
                d.stop()


if __name__ == "__main__":
    load = os.getloadavg()[0]
    print(f"machine load average {load:.1f} on {os.cpu_count()} CPUs (figures are noisy when it is high)")
    per_event()
    per_order()
    per_scrape()
