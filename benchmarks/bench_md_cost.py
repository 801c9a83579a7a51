"""CPU cost of one Binance market-data message that leads to no order, through the adapter into the daemon,
stage by stage: what every frame of a busy read costs before the frame that does lead to an order is reached
(the strict tick-to-order clock of ``bench_binance_adapter.py`` pays it for every frame ahead in the read).

    python benchmarks/bench_md_cost.py [--frames 50000] [--per-read 50] [--repeat 3]

The daemon (engine, the benchmark's taker strategy with no order due, recording on) runs in this process against
``leand sim serve`` with its generator off, so its own stream is quiet. Frames in the simulator's wire format
(the combined stream's trade prints and depth diffs continuing the local book's update ids) are handed to the
data client's real socket protocol (``data_received``) ``--per-read`` at a time, with a 0.3 ms pause between
reads (so the daemon's hot path sees separate reads, as from a socket, not one endless burst). Only the
thread's CPU time inside ``data_received`` and in the recorder's drain right after it (the encoding the feed
leaves until the read's callback has returned) is counted. Stages are cumulative configurations of the same path,
each the best of ``--repeat`` alternating rounds (a loaded machine only adds to CPU time):

* framing: the WebSocket frames split out of the read, each handed to a consumer that does nothing;
* + decode: msgspec decode into Structs, the book updated, the model event made (``on_frame``);
* + feed: the daemon's consumer without recording or delivery (feed stats, fan-out);
* + recording: the MarketData frame kept and encoded into the session's recording after the event;
* + strategy: delivered to the strategy (Slice recorded, the hot path's bookkeeping, the engine's slice, its
  ``on_data``), every event: the hot path's conflation of a strategy behind its feed is off here.

The floor, in the same run: ``orjson.loads`` of each frame (bare Python's cheapest look at the message).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import orjson  # noqa: E402
from bench_binance_adapter import config, start_sim  # noqa: E402

STAGES = ("framing", "+ decode (msgspec, book, event)", "+ feed (stats, fan-out)", "+ recording",
          "+ strategy (delivery, engine, on_data)")


def text_frame(payload: bytes) -> bytes:
    """An unmasked server text frame (RFC 6455)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload


def trade_frames(n: int, t0: int = 1_764_760_000_000) -> list[bytes]:
    """Trade prints exactly as the simulator's tape writes them on the combined stream."""
    out = []
    for i in range(n):
        seller = i % 3 == 0
        out.append(b'{"stream":"btcusdt@trade","data":{"e":"trade","E":%d,"s":"BTCUSDT","t":%d,"p":"%s",'
                   b'"q":"%s","T":%d,"m":%s,"M":true}}'
                   % (t0 + i // 10, 1_000_000 + i, b"43210.12" if seller else b"43210.13",
                      b"0.01230" if i % 2 else b"0.00410", t0 + i // 10, b"true" if seller else b"false"))
    return out


def depth_frames(n: int, last_id: int, bid: float, ask: float, t0: int = 1_764_760_000_000) -> list[bytes]:
    """Depth diffs continuing the book at ``last_id``: each moves the size at the touch (a new top each time)."""
    out = []
    for i in range(n):
        u = last_id + 1 + i
        out.append(b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":%d,"s":"BTCUSDT","U":%d,'
                   b'"u":%d,"b":[["%.2f","%.5f"],["%.2f","%.5f"]],"a":[["%.2f","%.5f"]]}}'
                   % (t0 + i, u, u, bid, 0.5 + (i % 97) / 1000, bid - 0.01, 1.0 + (i % 13) / 100, ask,
                      0.7 + (i % 89) / 1000))
    return out


def reads(frames: list[bytes], per_read: int) -> list[bytes]:
    return [b"".join(text_frame(f) for f in frames[i:i + per_read]) for i in range(0, len(frames), per_read)]


async def feed(proto: Any, bufs: list[bytes], rec: Any) -> float:
    """CPU µs inside ``data_received`` over ``bufs`` and the recorder's drain after each read (what the drain the
    feed scheduled would do once the read's callback returned), one read per loop pass with a pause between."""
    tt = time.thread_time_ns
    spent = 0
    for buf in bufs:
        c0 = tt()
        proto.data_received(buf)
        if rec is not None:
            rec.drain()
        spent += tt() - c0
        await asyncio.sleep(0.0003)
    return spent / 1000


async def measure(d: Any, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    v = next(iter(d.venues.values()))
    data = v.data
    proto = data._ws._p  # the live connection's protocol: its own stream is quiet (the generator is off)
    rec, deliver = d.recorder, d.hot.deliver
    runner = d.runners["bnx"]
    strategy = runner.engine.strategy
    strategy.every = 1 << 62  # no order
    d.hot.conflate_after_s = float("inf")  # every event reaches the strategy: its cost is what is measured
    book = data.books["BTCUSDT"]
    assert book.synced, "the book has no snapshot yet"

    def nothing(*_: Any) -> bool:
        return True

    def consumer(record: bool, strategy_on: bool) -> Any:
        d.recorder = rec if record else None
        d.hot.deliver = deliver if strategy_on else nothing
        try:
            return d._market_consumer(v)
        finally:
            d.recorder, d.hot.deliver = rec, deliver

    sinks = {STAGES[2]: consumer(False, False), STAGES[3]: consumer(True, False), STAGES[4]: consumer(True, True)}
    on_frame = data.on_frame
    trades = reads(trade_frames(args.frames), args.per_read)
    best: dict[str, dict[str, float]] = {"trade": {}, "depth": {}}
    floor = {"trade": float("inf"), "depth": float("inf")}
    handled: dict[str, tuple[int, int]] = {}
    for _ in range(args.repeat):
        for kind in ("trade", "depth"):
            for stage in (None, *STAGES):
                if kind == "depth":  # continue the book's ids afresh for every stage
                    bid, _, ask, _ = book.book.top()
                    raw = depth_frames(args.frames, book.last_id or 0, bid, ask)
                    bufs = reads(raw, args.per_read)
                else:
                    raw, bufs = [], trades
                if stage is None:  # the floor: orjson.loads of each frame
                    frames = raw or trade_frames(args.frames)
                    c0 = time.thread_time_ns()
                    for f in frames:
                        orjson.loads(f)
                    floor[kind] = min(floor[kind], (time.thread_time_ns() - c0) / 1000 / len(frames))
                    continue
                if stage == STAGES[0]:
                    proto.on_message = nothing
                elif stage == STAGES[1]:
                    proto.on_message = lambda now, raw_: on_frame(raw_, now)
                else:
                    data._sink = sinks[stage]
                    proto.on_message = data._on_stream_message
                n0, c0_ = strategy.n, runner.md_conflated
                try:
                    us = await feed(proto, bufs, rec)
                finally:
                    proto.on_message = data._on_stream_message
                    data._sink = sinks[STAGES[4]]
                if stage == STAGES[4]:
                    handled[kind] = (strategy.n - n0, runner.md_conflated - c0_)
                per = us / args.frames
                best[kind][stage] = min(best[kind].get(stage, float("inf")), per)
    data._sink = d._market_consumer(v)
    for kind in floor:
        best[kind]["floor"] = floor[kind]
        best[kind]["handled"], best[kind]["conflated"] = handled[kind]
    return best


def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    from leand.live import logs
    from leand.live.config import load_config
    from leand.live.daemon import Daemon
    from leand.simulator.binance import DEFAULT_API_KEY, DEFAULT_API_SECRET

    os.environ.setdefault("BENCH_BINANCE_KEY", DEFAULT_API_KEY)
    os.environ.setdefault("BENCH_BINANCE_SECRET", DEFAULT_API_SECRET)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        sim, port = start_sim(tmp, 0.0, crowd_hz=0)
        try:
            d = Daemon(load_config(config(tmp, port, "ws")))
            logs.configure("error", "json")

            async def main() -> dict[str, dict[str, float]]:
                task = asyncio.create_task(d.run())
                while d.state != "ready":
                    await asyncio.sleep(0.01)
                v = next(iter(d.venues.values()))
                while v.data._ws is None:
                    await asyncio.sleep(0.01)
                # a diff older than any snapshot: the book fetches its snapshot (the quiet venue sends none)
                v.data._ws._p.data_received(reads(depth_frames(1, 0, 1.0, 2.0), 1)[0])
                while not v.data.books["BTCUSDT"].synced:
                    await asyncio.sleep(0.01)
                try:
                    return await measure(d, args)
                finally:
                    d.stop_event.set()
                    await task

            try:
                import uvloop

                return uvloop.run(main())
            except ImportError:
                return asyncio.run(main())
        finally:
            sim.send_signal(signal.SIGTERM)
            sim.wait(20)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=50_000, help="frames per stage and round")
    ap.add_argument("--per-read", type=int, default=50, help="frames per socket read")
    ap.add_argument("--repeat", type=int, default=3, help="rounds (the best of them is printed)")
    args = ap.parse_args()
    best = run(args)
    print(f"market data into the daemon, CPU µs per message that leads to no order ({args.per_read} frames a "
          f"read, best of {args.repeat} x {args.frames:,}); recording on:")
    for kind in ("trade", "depth"):
        b = best[kind]
        print(f"  {kind} frames ({'tape prints' if kind == 'trade' else 'depth diffs, each a new top of book'}); "
              f"floor (orjson.loads of the frame): {b['floor']:.2f} µs")
        prev = 0.0
        for stage in STAGES:
            x = b[stage]
            print(f"    {stage:<42} {x:6.2f} µs  (this stage {x - prev:+.2f})")
            prev = x
        print(f"    (last round: the strategy's on_data ran {b['handled']:.0f} times, {b['conflated']:.0f} events "
              f"conflated)")


if __name__ == "__main__":
    main()
