"""Binance adapter figures over loopback: tick-to-order latency, from the market-data WebSocket message
received by the data client to the signed ``POST /api/v3/order`` leaving the execution client, with the venue
(``leand sim serve``) in its own process and the daemon (engine, risk gate, journal, example strategy) in this
one, as ``bench_daemon.py`` measures the paper venue.

    python benchmarks/bench_binance_adapter.py [--seconds 15]

The clock starts when the data client reads the frame (the QuoteTick's time is that receive time, and so is
the order's ``created_time``) and stops in the REST client's send hook, after the intent is journaled and the
request signed, just before aiohttp writes it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sim(tmp: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    p = subprocess.Popen([sys.executable, "-m", "leand.cli", "sim", "serve", "--port", str(port), "--seed", "7"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 20:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v3/ping", timeout=1) as r:
                json.loads(r.read())
            return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError("leand sim serve did not start")


def config(tmp: Path, port: int) -> Path:
    cfg = tmp / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"
log_level = "error"
[record]
enabled = true
[venue]
kind = "binance"
symbols = ["BTCUSDT"]
base_url = "http://127.0.0.1:{port}"
stream_url = "ws://127.0.0.1:{port}"
ws_api_url = "ws://127.0.0.1:{port}/ws-api/v3"
api_key_env = "BENCH_BINANCE_KEY"
api_secret_env = "BENCH_BINANCE_SECRET"
[[strategies]]
id = "bnx"
file = "{ROOT / 'strategies' / 'binance_example.py'}"
parameters = {{ every = 1, lookback = 3, clip = 0.001, max_position = 0.004 }}
[risk.global]
max_order_quantity = 0.01
""")
    return cfg


def binance_hook(d, lat: list[float]) -> Callable[[], dict]:
    """Time each signed POST /api/v3/order in the REST client's send hook; returns the stats reader."""
    v = next(iter(d.venues.values()))  # the one venue
    routes = v.session.routes

    def on_send(method: str, path: str, params: dict) -> None:
        if method == "POST" and path == "/api/v3/order":
            route = routes.get(params.get("newClientOrderId", ""))
            if route is not None:
                lat.append((time.time_ns() - route[1].created_time) / 1000)

    v.execution.rest.on_send = on_send
    return lambda: {"data": dict(v.data.stats), "session": dict(v.execution.stats),
                    "rest": dict(v.execution.rest.stats)}


def tick_to_order(cfg_path: Path, seconds: float, hook: Callable[[Any, list[float]], Callable[[], dict]] = binance_hook
                  ) -> tuple[list[float], dict]:
    """Run the daemon in this process for ``seconds``; ``hook(daemon, latencies)`` installs the timing probe
    once the daemon is ready and returns a reader of the stats to print."""
    from leand.live import logs
    from leand.live.config import load_config
    from leand.live.daemon import Daemon

    cfg = load_config(cfg_path)
    logs.configure("error", "json")
    d = Daemon(cfg)
    lat: list[float] = []

    async def main() -> dict:
        task = asyncio.create_task(d.run())
        while d.state != "ready":
            await asyncio.sleep(0.01)
        read_stats = hook(d, lat)
        await asyncio.sleep(seconds)
        stats = read_stats()
        d.stop_event.set()
        await task
        return stats

    try:
        import uvloop

        stats = uvloop.run(main())
    except ImportError:
        stats = asyncio.run(main())
    return lat, stats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()
    from leand.simulator.binance import DEFAULT_API_KEY, DEFAULT_API_SECRET

    os.environ.setdefault("BENCH_BINANCE_KEY", DEFAULT_API_KEY)
    os.environ.setdefault("BENCH_BINANCE_SECRET", DEFAULT_API_SECRET)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        sim, port = start_sim(tmp)
        try:
            lat, stats = tick_to_order(config(tmp, port), args.seconds)
        finally:
            sim.terminate()
            sim.wait(10)
    lat.sort()
    if not lat:
        print("no orders were sent", stats)
        return
    print(f"binance adapter tick-to-order over loopback (WS frame received -> signed POST /api/v3/order on the "
          f"wire; intent journaled, recording on): {len(lat)} orders, p50 {lat[len(lat) // 2]:.0f} µs, "
          f"p99 {lat[min(len(lat) - 1, int(len(lat) * 0.99))]:.0f} µs, mean {statistics.fmean(lat):.0f} µs, "
          f"max {lat[-1]:.0f} µs")
    print(f"market data: {stats['data']}")
    print(f"session: {stats['session']}; rest: {stats['rest']}")


if __name__ == "__main__":
    main()
