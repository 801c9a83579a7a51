"""Binance adapter figures over loopback: tick-to-order latency at 1k, 10k and 20k market-data messages/s, from
the market-data WebSocket frame received by the data client to the signed order request written to the
socket by the execution client (a WebSocket API ``order.place`` frame on the kept-alive connection; REST
``POST /api/v3/order`` with ``--order-entry rest``), with the venue (``leand sim serve``) in its own process
and the daemon (engine, risk gate, journal, recording) in this one. The floor, printed first in the same run:
a WebSocket round trip between two Python processes on loopback (target: p50 <= 2x the floor's p50).

    python benchmarks/bench_binance_adapter.py [--seconds 8] [--rates 1000,10000,20000] [--order-entry ws|rest]
                                               [--tape-interval-ms 1] [--stages]

The clock starts when the socket read that brought the frame returns (``data_received``: the event's time is
that receive time, and so is the order's ``created_time``) and stops when the request has been written to the
socket. That is the strict reading: a frame that came in one read with others waits for those before it to be
parsed and handled (their strategy calls included), as it would in production. The venue's rate is its crowd
(depth diffs, matched trades) plus tape prints to make up the target (trades subscribed); a market order goes
every N-th event so about 200 orders/s are timed at every rate. Per rate it also prints what the daemon took
per second, its strategy buffers and RSS.

The pacing of the prints (``--tape-interval-ms``, the sim's ``generator.tape_interval_ms``) decides how many
frames arrive together. A real venue sends each trade as it happens (TCP and the reader's wake-up still gather
what came meanwhile); the sim writes the prints due every 1 ms by default, the finest an event loop's timer
paces, so at 10k msg/s a burst holds ~10 frames. ``--tape-interval-ms 5`` is the pacing this benchmark had
before (every 5 ms in one go, ~50 frames a read at 10k msg/s): the same clock, a burstier venue. Either way the
clock is the strict one above, and the closing figures should give both.

``--stages`` adds perf_counter_ns stamps at each stage boundary (a wrapper per stage, on the timed path: the
figures of that run are a few µs higher) and prints, per rate, the p50/p90 of each stage of the timed orders:
the wait from the socket read to its frame's decode, decode (book, event), the daemon's feed (recording,
delivery), engine (strategy, order manager, risk gate), journal and recording, the order's render (its
template, quantity text and signature) and the write; the cost per market-data message; and the figure on
the clock this benchmark had before (from the order frame's own decode, not counting the frames ahead of it in
its read).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from hotpath_util import rss_mb, summary, ws_floor  # noqa: E402

ORDERS_PER_S = 200
CROWD_HZ = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sim(tmp: Path, rate: float = 0.0, crowd_hz: int = CROWD_HZ, tape_interval_ms: float = 1.0
              ) -> tuple[subprocess.Popen, int]:
    """``leand sim serve`` on a free port; ``rate``: market-data messages/s to make up with tape prints, written
    every ``tape_interval_ms``; ``crowd_hz``: the crowd's steps a second (0: a quiet book)."""
    cfg = tmp / "sim.toml"
    crowd = crowd_hz * 0.6 + 10  # depth diffs and matched trades of the crowd, per second (one symbol)
    cfg.write_text(f"[generator]\nrate_hz = {crowd_hz}\ntrade_prob = 0.5\nwarmup_steps = 20\n"
                   f"tape_rate_hz = {max(0.0, rate - crowd):.1f}\ntape_interval_ms = {tape_interval_ms}\n"
                   "[limits]\nweight_per_minute = 100000000\norders_per_10s = 100000\n")
    p = subprocess.Popen([sys.executable, "-m", "leand.cli", "sim", "serve", "--port", "0", "--seed", "7",
                          "--config", str(cfg)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         cwd=tmp, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = p.stdout.readline() if p.stdout else ""
    m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not m:
        p.kill()
        raise RuntimeError(f"leand sim serve did not start: {line!r}")
    return p, int(m.group(1))


def config(tmp: Path, port: int, order_entry: str = "ws", trades: bool = True,
           strategy: Path = ROOT / "benchmarks" / "strategies" / "taker.py",
           parameters: str = 'ticker = "BTCUSDT", market = "binance", every = 10') -> Path:
    cfg = tmp / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"
log_level = "error"
equity_interval_s = 0
snapshot_interval_s = 30
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
order_entry = "{order_entry}"
trades = {str(trades).lower()}
[[strategies]]
id = "bnx"
file = "{strategy}"
parameters = {{ {parameters} }}
isolation = "inline"  # measured inline even if a loaded machine stalls three handler calls in a row
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

    def on_ws_send(method: str, params: Any) -> None:
        on_send("POST", "/api/v3/order", params)
        if STAGES is not None:
            STAGES.sample()

    v.execution.rest.on_send = on_send
    v.execution.on_send = on_ws_send
    return lambda: {"data": dict(v.data.stats), "session": dict(v.execution.stats),
                    "rest": dict(v.execution.rest.stats), "backlog": d.backlog(), "rss_mb": round(rss_mb(), 1)}


class Stages:
    """perf_counter_ns stamps at the stage boundaries of the timed path (``--stages``): class-level wrappers
    installed before the daemon starts, read when an order's request has been written."""

    NAMES = (("read -> decode (parse, frames ahead in the read)", "read", "decode"),
             ("decode: book, event", "decode", "decoded"),
             ("feed: record, deliver", "decoded", "slice"),
             ("engine: strategy, orders, risk gate", "slice", "journal"),
             ("journal the intent, record", "journal", "venue"),
             ("render: template, text, signature", "venue", "rendered"),
             ("write", "rendered", "written"))

    def __init__(self) -> None:
        from leand import engine as engine_module
        from leand.adapters.binance import data, execution, stream_socket, wsapi
        from leand.live import execution as live_execution

        pc = time.perf_counter_ns
        st: dict[str, int] = {}
        self.st, self.rows, self.per_msg = st, [], []
        self.positions: list[int] = []
        per_msg, state = self.per_msg, {"reads": 0, "seen": -1, "pos": 0, "prev": 0}

        def wrap(cls: Any, name: str, key: str, after: bool = False) -> None:
            f = getattr(cls, name)

            def g(*a: Any, **k: Any) -> Any:
                if not after:
                    st[key] = pc()
                r = f(*a, **k)
                if after:
                    st[key] = pc()
                return r
            setattr(cls, name, g)

        dr = stream_socket._Protocol.data_received

        def data_received(proto: Any, data_: bytes) -> None:
            st["read"] = pc()
            state["reads"] += 1
            dr(proto, data_)
        stream_socket._Protocol.data_received = data_received  # type: ignore[method-assign]
        of = data.BinanceDataClient.on_frame

        def on_frame(client: Any, raw: Any, *a: Any) -> Any:
            t = st["decode"] = pc()
            if state["prev"]:
                per_msg.append((t - state["prev"]) / 1000)
            state["prev"] = t
            if state["seen"] != state["reads"]:
                state["seen"], state["pos"] = state["reads"], 0
            else:
                state["pos"] += 1
            r = of(client, raw, *a)
            st["decoded"] = pc()
            return r
        data.BinanceDataClient.on_frame = on_frame  # type: ignore[method-assign]
        self.state = state
        wrap(engine_module.Engine, "on_live_slice", "slice")
        wrap(live_execution.JournaledExecutionClient, "submit", "journal")
        wrap(execution.BinanceExecutionClient, "submit", "venue")
        wrap(wsapi.Template, "render", "rendered", after=True)
        wn = execution.write_now

        def write_now(ws: Any, frame: str) -> bool:
            r = wn(ws, frame)
            st["written"] = pc()
            return r
        execution.write_now = write_now

    def sample(self) -> None:
        self.rows.append(dict(self.st))
        self.positions.append(self.state["pos"])

    def report(self) -> list[str]:
        def p(xs: list[float], q: float) -> float:
            return sorted(xs)[int(len(xs) * q)] if xs else float("nan")
        out = []
        for name, a, b in self.NAMES:
            xs = [(r[b] - r[a]) / 1000 for r in self.rows if a in r and b in r and r[b] >= r[a]]
            out.append(f"      {name:<50} p50 {p(xs, 0.5):7.1f} µs  p90 {p(xs, 0.9):7.1f} µs")
        xs = [(r["written"] - r["decode"]) / 1000 for r in self.rows if "decode" in r and "written" in r]
        out.append(f"      {'from its frame decode to written (the old clock)':<50} p50 {p(xs, 0.5):7.1f} µs  "
                   f"p99 {p(xs, 0.99):7.1f} µs  p99.9 {p(xs, 0.999):7.1f} µs")
        per = self.per_msg
        out.append(f"      {'per market-data message (decode to next decode)':<50} p50 {p(per, 0.5):7.1f} µs  "
                   f"p90 {p(per, 0.9):7.1f} µs")
        pos = [float(x) for x in self.positions]
        out.append(f"      {'the order frame: frames ahead of it in its read':<50} p50 {p(pos, 0.5):7.0f}     "
                   f"p90 {p(pos, 0.9):7.0f}")
        self.rows.clear()
        self.per_msg.clear()
        self.positions.clear()
        return out


STAGES: Stages | None = None


def tick_to_order(cfg_path: Path, seconds: float, hook: Callable[[Any, list[float]], Callable[[], dict]] = binance_hook,
                  every: int | None = None) -> tuple[list[float], dict]:
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
        if every is not None:
            d.runners["bnx"].engine.strategy.every = every
        await asyncio.sleep(1.0)  # books synced, the rate settled
        read_stats = hook(d, lat)
        data = next(iter(d.venues.values())).data
        m0, t0 = data.stats["messages"], time.perf_counter()
        await asyncio.sleep(seconds)
        stats = read_stats()
        stats["msgs_per_s"] = round((data.stats["messages"] - m0) / (time.perf_counter() - t0))
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
    ap.add_argument("--seconds", type=float, default=8.0, help="timed seconds per rate")
    ap.add_argument("--rates", default="1000,10000,20000")
    ap.add_argument("--order-entry", choices=("ws", "rest"), default="ws")
    ap.add_argument("--tape-interval-ms", type=float, default=1.0,
                    help="the sim writes the tape prints due every this many ms (5: the pacing before)")
    ap.add_argument("--stages", action="store_true", help="print where the time goes, stage by stage")
    args = ap.parse_args()
    global STAGES
    from leand.simulator.binance import DEFAULT_API_KEY, DEFAULT_API_SECRET

    os.environ.setdefault("BENCH_BINANCE_KEY", DEFAULT_API_KEY)
    os.environ.setdefault("BENCH_BINANCE_SECRET", DEFAULT_API_SECRET)
    floor = ws_floor()
    print(f"floor: WebSocket round trip between two Python processes on loopback: {summary(floor)}")
    print(f"binance adapter tick-to-order over loopback (socket read of the frame -> order request written, "
          f"{args.order_entry}; intent journaled, recording on; tape prints written every "
          f"{args.tape_interval_ms:g} ms), target p50 <= 2x the floor's p50:")
    if args.stages:
        STAGES = Stages()
    for rate in (int(r) for r in args.rates.split(",")):
        with tempfile.TemporaryDirectory() as t:
            tmp = Path(t)
            sim, port = start_sim(tmp, rate, tape_interval_ms=args.tape_interval_ms)
            try:
                lat, stats = tick_to_order(config(tmp, port, args.order_entry), args.seconds,
                                           every=max(1, rate // ORDERS_PER_S))
            finally:
                sim.send_signal(signal.SIGTERM)
                sim.wait(20)
        ses = stats["session"]
        print(f"  {rate:>6,} msg/s target, {stats['msgs_per_s']:,} taken: tick-to-order {summary(lat)}; orders "
              f"ws {ses.get('ws_orders', 0)} rest {ses.get('rest_orders', 0)}; buffers {stats['backlog']}; "
              f"RSS {stats['rss_mb']} MB")
        if STAGES is not None:
            print("\n".join(STAGES.report()))


if __name__ == "__main__":
    main()
