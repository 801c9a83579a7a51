"""Market-data throughput of the Binance Spot simulator server to one client over loopback.

    python benchmarks/bench_binance_server.py [--seconds 5] [--rate 5000]

The server runs as ``leand sim serve`` in a subprocess (its own CPU time, like a real venue) with the crowd
stepping at ``--rate`` steps/s per symbol and a taker on every step; one aiohttp client subscribes to a combined
stream of bookTicker + depth@100ms + trade + aggTrade for every symbol and counts the messages it receives.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]


async def consume(url: str, streams: list[str], seconds: float) -> tuple[int, int, float]:
    async with aiohttp.ClientSession() as s, s.ws_connect(f"{url}/stream?streams={'/'.join(streams)}",
                                                          max_msg_size=0) as ws:
        await ws.receive(timeout=10)  # first message: the stream is flowing
        n = nbytes = 0
        t0 = time.perf_counter()
        end = t0 + seconds
        while True:
            left = end - time.perf_counter()
            if left <= 0:
                break
            try:
                msg = await ws.receive(timeout=left)
            except TimeoutError:
                break
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            n += 1
            nbytes += len(msg.data)
        return n, nbytes, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rate", type=float, default=5000.0, help="crowd steps per second per symbol")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "sim.toml"
        cfg.write_text(f"[generator]\nrate_hz = {args.rate}\ntrade_prob = 1.0\nwarmup_steps = 10\n"
                       "[limits]\nweight_per_minute = 1000000\n")
        proc = subprocess.Popen([sys.executable, "-m", "leand.cli", "sim", "serve", "--port", "0", "--config",
                                 str(cfg)], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            url = line.split(" on ", 1)[1].split(" ", 1)[0]
            syms = ["btcusdt", "ethusdt", "ethbtc"]
            streams = [f"{s}@{k}" for s in syms for k in ("bookTicker", "depth@100ms", "trade", "aggTrade")]
            n, nbytes, dt = asyncio.run(consume(url, streams, args.seconds))
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"binance sim server -> 1 client over loopback: {n} messages in {dt:.2f} s = {n / dt:,.0f} msg/s "
          f"({nbytes / dt / 1e6:.1f} MB/s; {len(streams)} streams, crowd {args.rate:g} steps/s/symbol)")


if __name__ == "__main__":
    main()
