"""What the hot-path benchmarks share: the floor (a WebSocket round trip between two Python processes on
loopback), percentiles, the process's RSS, and the paper-venue taker daemon's config."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

_ECHO = """
import asyncio, sys
from websockets.asyncio.server import serve

async def echo(ws):
    async for m in ws:
        await ws.send(m)

async def main():
    async with serve(echo, "127.0.0.1", 0, compression=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()

try:
    import uvloop
    uvloop.run(main())
except ImportError:
    asyncio.run(main())
"""


def ws_floor(n: int = 3000) -> list[float]:
    """Round trips (µs) of a small text frame to an echo server in another Python process, over loopback,
    with the same websockets library and event loop the daemon uses: the floor a tick-to-order figure is read
    against."""
    srv = subprocess.Popen([sys.executable, "-c", _ECHO], stdout=subprocess.PIPE, text=True)
    try:
        assert srv.stdout is not None
        port = int(srv.stdout.readline())

        async def run() -> list[float]:
            from websockets.asyncio.client import connect

            out = []
            async with connect(f"ws://127.0.0.1:{port}", compression=None) as ws:
                msg = '{"e":"depthUpdate","s":"BTCUSDT","b":[["100.00","1.0"]],"a":[["100.01","1.0"]]}'
                for i in range(n + 200):
                    t0 = time.perf_counter_ns()
                    await ws.send(msg)
                    await ws.recv()
                    if i >= 200:  # warmed up
                        out.append((time.perf_counter_ns() - t0) / 1000)
            return out

        try:
            import uvloop

            return uvloop.run(run())
        except ImportError:
            return asyncio.run(run())
    finally:
        srv.terminate()
        srv.wait(10)


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * q))] if s else float("nan")


def summary(xs: list[float]) -> str:
    return (f"p50 {pct(xs, 0.5):.0f} µs, p99 {pct(xs, 0.99):.0f} µs, p99.9 {pct(xs, 0.999):.0f} µs "
            f"({len(xs)} samples)")


def rss_mb(pid: int | None = None) -> float:
    try:
        for line in Path(f"/proc/{pid or os.getpid()}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def taker_config(tmp: Path, conflate_after_ms: float | None = None, fused_orders: bool = True) -> Path:
    """The config bench_daemon.py and bench_hotpath_stages.py run: the paper venue and the taker strategy,
    measured inline even if a loaded machine stalls three handler calls in a row; ``fused_orders=False``: the
    general order path (``[hot_path] fused_orders``)."""
    taker = Path(__file__).resolve().parent / "strategies" / "taker.py"
    path = tmp / "leand.toml"
    path.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"
log_level = "error"
snapshot_interval_s = 30
equity_interval_s = 0
[venue]
rate_hz = 1000
seed = 11
[[strategies]]
id = "taker"
file = "{taker}"
isolation = "inline"
[risk.global]
max_order_quantity = 1.0
[hot_path]
fused_orders = {str(fused_orders).lower()}
""" + ("" if conflate_after_ms is None else f"conflate_after_ms = {conflate_after_ms}\n"))
    return path
