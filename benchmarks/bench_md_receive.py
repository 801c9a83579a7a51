"""Receive-side cost of one Binance market-data message in the daemon's process: the WebSocket client and the
decode, each beside the alternative it replaced, measured in CPU time (so a shared machine skews it less).

    python benchmarks/bench_md_receive.py [--rate 60000] [--seconds 4]

WebSocket: ``leand sim serve`` (a subprocess) streams trade prints at ``--rate`` on the combined stream; each
client counts messages for ``--seconds`` and reports its CPU microseconds per message: the adapter's
``StreamSocket`` (adapters/binance/stream_socket.py) with a consumer attached (each message from the read
callback, what the daemon does) and iterated (batches per socket read), ``websockets`` (what the
adapter used before) and aiohttp. A client slower than the rate is dropped by the venue when 16 MiB behind,
which ends its measurement early (it still reports what it took). Decode: one combined trade frame through
the adapter's lax float decoder and through a pattern-checked decimal-string schema plus ``float()`` (what the
adapter used before); the floor is ``orjson.loads`` of the same bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import msgspec
import orjson
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leand.adapters.binance.schemas import Num, market_data_decoder  # noqa: E402
from leand.adapters.binance.stream_socket import StreamSocket  # noqa: E402

SYMBOLS = ["btcusdt", "ethusdt", "ethbtc"]
TRADE = (b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1764760000000,"s":"BTCUSDT","t":123456,'
         b'"p":"43210.12000000","q":"0.01230000","T":1764760000000,"m":true,"M":true}}')


def cpu() -> float:
    t = os.times()
    return t.user + t.system


async def count_stream_socket(url: str, seconds: float) -> tuple[int, float, float]:
    n = 0
    async with await StreamSocket.connect(url) as ws:
        it = ws.batches()
        await anext(it)
        t0, c0 = time.perf_counter(), cpu()
        try:
            async for batch in it:
                n += len(batch)
                if time.perf_counter() - t0 >= seconds:
                    break
        except OSError:
            pass
        return n, time.perf_counter() - t0, cpu() - c0


async def count_stream_socket_attached(url: str, seconds: float) -> tuple[int, float, float]:
    """The daemon's way since issue 14: each message handed over from the read callback (StreamSocket.attach)."""
    n = 0
    async with await StreamSocket.connect(url) as ws:
        it = ws.batches()
        await anext(it)
        t0, c0 = time.perf_counter(), cpu()

        def on_message(recv_ns: int, raw: bytes) -> None:
            nonlocal n
            n += 1

        ws.attach(on_message)
        try:
            while time.perf_counter() - t0 < seconds and not ws.done:
                await asyncio.sleep(0.05)
        except OSError:
            pass
        ws.detach()
        return n, time.perf_counter() - t0, cpu() - c0


async def count_websockets(url: str, seconds: float) -> tuple[int, float, float]:
    n = 0
    async with websockets.connect(url, max_size=1 << 24) as ws:
        await ws.recv()
        t0, c0 = time.perf_counter(), cpu()
        try:
            async for _ in ws:
                n += 1
                if time.perf_counter() - t0 >= seconds:
                    break
        except websockets.ConnectionClosed:
            pass
        return n, time.perf_counter() - t0, cpu() - c0


async def count_aiohttp(url: str, seconds: float) -> tuple[int, float, float]:
    n = 0
    async with aiohttp.ClientSession() as s, s.ws_connect(url, max_msg_size=0) as ws:
        await ws.receive(timeout=10)
        t0, c0 = time.perf_counter(), cpu()
        while time.perf_counter() - t0 < seconds:
            msg = await ws.receive(timeout=5)
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            n += 1
        return n, time.perf_counter() - t0, cpu() - c0


def per_call_us(fn, x: bytes, n: int = 200_000) -> float:
    c0 = time.process_time()
    for _ in range(n):
        fn(x)
    return (time.process_time() - c0) / n * 1e6


class OldTrade(msgspec.Struct, tag_field="e", tag="trade"):
    """The trade schema before: pattern-checked decimal strings, converted by float() afterwards."""

    E: int
    s: str
    t: int
    p: Num
    q: Num
    T: int
    m: bool


class OldCombined(msgspec.Struct):
    stream: str
    data: OldTrade


def decode_figures() -> None:
    old = msgspec.json.Decoder(OldCombined)
    new = market_data_decoder()

    def old_path(raw: bytes) -> tuple[float, float]:
        d = old.decode(raw).data
        return float(d.p), float(d.q)

    def new_path(raw: bytes) -> tuple[float, float]:
        d = new.decode(raw).data
        return d.p, d.q  # type: ignore[union-attr]

    print(f"decode one trade frame (CPU us): lax float schema {per_call_us(new_path, TRADE):.2f}, "
          f"pattern-checked strings + float() {per_call_us(old_path, TRADE):.2f}; "
          f"floor orjson.loads {per_call_us(orjson.loads, TRADE):.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=60_000.0, help="messages/s the venue streams")
    ap.add_argument("--seconds", type=float, default=4.0)
    args = ap.parse_args()
    decode_figures()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "sim.toml"
        cfg.write_text(f"[generator]\nrate_hz = 10\nwarmup_steps = 10\ntape_rate_hz = {args.rate / 3:.1f}\n")
        proc = subprocess.Popen([sys.executable, "-m", "leand.cli", "sim", "serve", "--port", "0", "--config",
                                 str(cfg)], stdout=subprocess.PIPE, text=True, cwd=tmp,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if not m:
                raise SystemExit(f"leand sim serve did not start: {line!r}")
            url = f"ws://127.0.0.1:{m.group(1)}/stream?streams={'/'.join(s + '@trade' for s in SYMBOLS)}"
            for name, fn in (("StreamSocket (attached)", count_stream_socket_attached),
                             ("StreamSocket (batches)", count_stream_socket), ("websockets", count_websockets),
                             ("aiohttp", count_aiohttp)):
                n, dt, c = asyncio.run(fn(url, args.seconds))
                print(f"{name:>22}: {n / dt:9,.0f} msgs/s received, {c / max(n, 1) * 1e6:5.2f} CPU us a message "
                      f"(venue at {args.rate:,.0f} msgs/s; load {os.getloadavg()[0]:.1f})", flush=True)
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
