"""Load test: ``leand sim serve`` streams market data at a target rate to a ``leand run`` daemon trading
``--strategies`` strategies over the Binance adapter, on loopback, for a bounded time.

    python benchmarks/load_daemon.py                          # 50,000 msgs/s, 10 min, 3 strategies, 50 gaps + 50 drops
    python benchmarks/load_daemon.py --minutes 1 --rate 20000 --gaps 5 --drops 5
    python benchmarks/load_daemon.py --minutes 3 --rate 5000 --tracemalloc   # where does the daemon's memory go

First the venue's ceiling: the rate the same ``leand sim serve`` process delivers at the target to a bare
WebSocket client that only counts messages (adapters/binance/stream_socket.py, no decoding), and the venue's
CPU per second while it does (its headroom on this machine). The venue's rate is tape prints (trades at the
touch, ``generator.tape_rate_hz``, simulator/binance/tape.py) on top of a crowd moving the book at a fixed pace.

Every 10 s it prints the messages per second the daemon took in (its data client's count) and the venue sent,
the daemon's backlog (isolated strategies' buffers, venue reports) and the market data those buffers
conflated, its event-loop lag and RSS, and the most bytes the venue
holds unread for a client. Evenly over the run, alternating, it injects ``--gaps`` depth-sequence gaps and
``--drops`` WebSocket drops (``POST /_sim/faults``) and checks after every one that the daemon saw it (a gap on
every book, or a reconnect) and had all its books back in sync (fresh REST snapshots) before the next one came.
The summary says whether RSS, backlog or loop lag grew (the last third of the run after a 30 s warm-up against
the first third). At the end it stops the venue (SIGSTOP) and measures how long after the staleness limit the
daemon's stale-feed halt fires (target: within 1 s), then lets the venue go on (SIGCONT) and checks trading
resumes. ``--tracemalloc`` runs the daemon with tracemalloc and prints the allocation sites that grew between
the end of the warm-up and the end of the run. On a shared machine the figures are noisy: read them together
with the ceiling printed in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leand.adapters.binance.stream_socket import StreamSocket  # noqa: E402
from leand.ctl import request as ctl_request  # noqa: E402
from leand.simulator.binance.config import DEFAULT_API_KEY, DEFAULT_API_SECRET  # noqa: E402

SYMBOLS = ["BTCUSDT", "ETHUSDT", "ETHBTC"]
STALE_LIMIT_S = 2.0
#: crowd steps per second per symbol, and about the messages per second they make (trades and depth diffs)
CROWD_HZ = 50
CROWD_MSGS = len(SYMBOLS) * (CROWD_HZ * 0.6 + 10)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_s(pid: int) -> float:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


class Sim:
    def __init__(self, tmp: Path, rate: float) -> None:
        cfg = tmp / "sim.toml"
        # the crowd moves the book (real depth diffs, matched trades) at a fixed pace; the tape prints make up
        # the rate (simulator/binance/tape.py)
        tape = max(0.0, rate - CROWD_MSGS) / len(SYMBOLS)
        cfg.write_text(f"[generator]\nrate_hz = {CROWD_HZ}\ntrade_prob = 0.5\nwarmup_steps = 20\n"
                       f"tape_rate_hz = {tape:.1f}\n"
                       "[limits]\nweight_per_minute = 100000000\norders_per_10s = 100000\n")
        self.proc = subprocess.Popen([sys.executable, "-m", "leand.cli", "sim", "serve", "--port", "0", "--config",
                                      str(cfg)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     cwd=tmp, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not m:
            raise SystemExit(f"leand sim serve did not start: {line!r}")
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    async def call(self, s: aiohttp.ClientSession, method: str, path: str, body: dict | None = None) -> dict:
        async with s.request(method, self.url + path, json=body, headers={"X-MBX-APIKEY": DEFAULT_API_KEY}) as r:
            return await r.json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def ceiling(sim: Sim, seconds: float) -> tuple[float, float]:
    """(messages/s, venue CPU s per s) the venue delivers to a client that only counts them (the streams the
    daemon takes)."""
    streams = "/".join(f"{s.lower()}@{k}" for s in SYMBOLS for k in ("depth@100ms", "trade"))
    n = 0
    async with await StreamSocket.connect(f"ws://127.0.0.1:{sim.port}/stream?streams={streams}") as ws:
        it = ws.batches()
        await anext(it)
        t0, c0 = time.perf_counter(), cpu_s(sim.proc.pid)
        async for batch in it:
            n += len(batch)
            if time.perf_counter() - t0 >= seconds:
                break
        dt = time.perf_counter() - t0
        return n / dt, (cpu_s(sim.proc.pid) - c0) / dt


TRACEMALLOC_BOOT = """
import runpy, signal, sys, tracemalloc
tracemalloc.start(int(sys.argv.pop(1)))
out = sys.argv.pop(1)
n = [0]
def dump(*_):
    n[0] += 1
    tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)]).dump(f"{out}.{n[0]}")
signal.signal(signal.SIGUSR2, dump)
sys.argv[0] = "leand"
runpy.run_module("leand.cli", run_name="__main__")
"""


def daemon_config(tmp: Path, port: int, strategies: int) -> Path:
    clips = {"BTCUSDT": 0.001, "ETHUSDT": 0.01, "ETHBTC": 0.01}
    table = "\n".join(f"""
[[strategies]]
id = "s{i}"
file = "{ROOT / 'strategies' / 'binance_example.py'}"
parameters = {{ ticker = "{sym}", market = "binance", clip = {clips[sym]}, every = 50, lookback = 10, max_position = {clips[sym] * 5} }}
""" for i, sym in ((i, SYMBOLS[i % len(SYMBOLS)]) for i in range(strategies)))
    cfg = tmp / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"
log_level = "warning"
snapshot_interval_s = 10
account_currency = "USD"

[venue]
kind = "binance"
name = "binance-sim"
market = "binance"
symbols = {json.dumps(SYMBOLS)}
base_url = "http://127.0.0.1:{port}"
stream_url = "ws://127.0.0.1:{port}"
ws_api_url = "ws://127.0.0.1:{port}/ws-api/v3"
api_key_env = "BINANCE_API_KEY"
api_secret_env = "BINANCE_API_SECRET"
depth_limit = 100
depth_speed = "100ms"
trades = true
{table}
[risk.global]
max_order_quantity = 1
max_order_notional = 5000
price_collar_pct = 0.05
max_open_orders = 10
order_rate_per_second = 10
order_burst = 20

[watchdog]
max_loop_lag_ms = 500
max_feed_staleness_s = {STALE_LIMIT_S}
halt_on_stale_feed = true
""")
    return cfg


def status(sock: Path, tries: int = 5) -> dict:
    """``leand ctl status`` (an overloaded daemon may answer late: asked again, up to ``tries`` times)."""
    for i in range(tries):
        try:
            code, body = ctl_request(str(sock), "GET", "/status")
        except TimeoutError:
            if i == tries - 1:
                raise
            continue
        if code != 200 or not isinstance(body, dict):
            raise RuntimeError(f"ctl status: {code} {body}")
        return body
    raise AssertionError("unreachable")


def grew(samples: list[float], warmup: int, rel: float, floor: float) -> tuple[bool, float, float]:
    """(grew, first third mean, last third mean) of the samples after the warm-up."""
    xs = samples[warmup:] if len(samples) - warmup >= 3 else samples
    k = max(1, len(xs) // 3)
    a, b = sum(xs[:k]) / k, sum(xs[-k:]) / k
    return b > a * (1 + rel) + floor, a, b


async def snapshot(daemon: subprocess.Popen, base: Path, n: int, sock: Path) -> None:
    """Have the daemon dump its ``n``-th tracemalloc snapshot; wait until the file is whole and the daemon
    answers again (it stops while it takes and writes the snapshot)."""
    daemon.send_signal(signal.SIGUSR2)
    path, size, stable, t_end = Path(f"{base}.{n}"), -1, 0, time.monotonic() + 300
    while time.monotonic() < t_end:
        await asyncio.sleep(0.5)
        now = path.stat().st_size if path.exists() else -1
        stable = stable + 1 if now > 0 and now == size else 0
        size = now
        if stable >= 4:
            try:
                status(sock)
                return
            except (TimeoutError, RuntimeError):
                pass
    raise SystemExit(f"the daemon wrote no tracemalloc snapshot {path} in 300 s")


def tracemalloc_report(base: Path, first: int, last: int, top: int = 15) -> None:
    import tracemalloc

    a = tracemalloc.Snapshot.load(f"{base}.{first}")
    b = tracemalloc.Snapshot.load(f"{base}.{last}")
    total_a = sum(t.size for t in a.traces) / 1e6
    total_b = sum(t.size for t in b.traces) / 1e6
    print(f"tracemalloc: traced Python memory {total_a:.1f} MB after the warm-up, {total_b:.1f} MB at the end "
          f"({total_b - total_a:+.2f} MB); the sites that grew most:")
    for st in b.compare_to(a, "lineno")[:top]:
        fr = st.traceback[0]
        print(f"  {st.size_diff / 1024:+9.1f} KiB {st.count_diff:+8d} blocks  {fr.filename}:{fr.lineno}")


async def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="leand-load-"))
    duration = args.minutes * 60
    sim = Sim(tmp, args.rate)
    daemon = None
    ok = True
    try:
        async with aiohttp.ClientSession() as s:
            await asyncio.sleep(1.0)
            fl, venue_cpu = await ceiling(sim, args.ceiling_seconds)
            print(f"venue ceiling: leand sim serve delivers {fl:,.0f} msgs/s to a bare counting WebSocket client "
                  f"(target {args.rate:,.0f}), using {venue_cpu:.2f} CPU s per s (so at most ~"
                  f"{fl / max(venue_cpu, 1e-3):,.0f} msgs/s on a free core); {os.cpu_count()} cores, load "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
            cfg = daemon_config(tmp, sim.port, args.strategies)
            env = {**os.environ, "BINANCE_API_KEY": DEFAULT_API_KEY, "BINANCE_API_SECRET": DEFAULT_API_SECRET}
            log = open(tmp / "daemon.log", "wb")  # noqa: SIM115 - closed below
            snap_base = tmp / "tracemalloc"
            cmd = ([sys.executable, "-c", TRACEMALLOC_BOOT, "1", str(snap_base)] if args.tracemalloc
                   else [sys.executable, "-m", "leand.cli"]) + ["run", "--config", str(cfg)]
            daemon = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=tmp, env=env)
            sock = tmp / "state" / "leand.sock"
            t_ready = time.monotonic() + 60
            while True:
                if daemon.poll() is not None:
                    raise SystemExit(f"daemon exited {daemon.returncode}: "
                                     f"{(tmp / 'daemon.log').read_text()[-2000:]}")
                try:
                    if sock.exists() and status(sock)["state"] == "ready":
                        break
                except (OSError, RuntimeError):
                    pass
                if time.monotonic() > t_ready:
                    raise SystemExit("daemon not ready in 60 s")
                await asyncio.sleep(0.2)
            st0 = await sim.call(s, "GET", "/_sim/stats")
            feed0 = status(sock).get("feed", {})
            depth0 = st0["requests"].get("/api/v3/depth", 0)
            ws0 = st0["requests"].get("market_ws", 0)
            kinds = [k for i in range(max(args.gaps, args.drops))
                     for k, n in (("gap", args.gaps), ("drop", args.drops)) if i < n]  # alternating
            plan = [(k, (j + 0.5) * duration / len(kinds)) for j, k in enumerate(kinds)]
            injected = {"gap": 0, "drop": 0}
            t0 = time.monotonic()
            last_sent, last_msgs, last_t = st0["sent"], feed0.get("messages", 0), t0
            next_print = t0 + 10
            warmup = 3  # samples (30 s) before growth is judged
            lags: list[float] = []
            rss: list[float] = []
            backlogs: list[float] = []
            rates: list[float] = []
            print(f"{'t (s)':>6} {'daemon msg/s':>12} {'venue msg/s':>11} {'backlog':>8} {'buf max':>9} "
                  f"{'conflated':>9} {'lag ms':>7} {'RSS MB':>7} {'venue KB':>8} {'gaps':>5} {'drops':>5} {'reconn':>6} "
                  f"{'feed age s':>10}", flush=True)
            # after each injected event, every book must be back in sync (and data flowing) before the next one
            pending: tuple[str, str, dict] | None = None
            resynced_events, late_events = 0, []
            next_probe = t0

            def back_in_sync(p: tuple[str, str, dict], f: dict) -> bool:
                kind, _, base = p
                seen = f.get("connects", 0) > base.get("connects", 0) or (  # a gap hits every symbol's book
                    kind == "gap" and f.get("gaps", 0) - base.get("gaps", 0) >= f.get("books", 1))
                return seen and bool(f.get("books")) and f.get("books_in_sync") == f.get("books")

            while (now := time.monotonic()) < t0 + duration:
                if pending is not None and now >= next_probe:
                    next_probe = now + 0.05
                    if back_in_sync(pending, status(sock).get("feed", {})):
                        resynced_events += 1
                        pending = None
                while plan and now - t0 >= plan[0][1]:
                    kind, _ = plan.pop(0)
                    if pending is not None:
                        late_events.append(pending[1])
                    base = status(sock).get("feed", {})
                    body = {"skip_depth_ids": 1} if kind == "gap" else {"drop_ws": True}
                    await sim.call(s, "POST", "/_sim/faults", body)
                    injected[kind] += 1
                    pending = (kind, f"{kind} #{injected[kind]} at {now - t0:.1f} s", base)
                    next_probe = now + 0.05
                if now >= next_print:
                    next_print += 10
                    st = await sim.call(s, "GET", "/_sim/stats")
                    d = status(sock)
                    f = d.get("feed", {})
                    sent_rate = (st["sent"] - last_sent) / (now - last_t)
                    rate = (f.get("messages", 0) - last_msgs) / (now - last_t)
                    last_sent, last_msgs, last_t = st["sent"], f.get("messages", 0), now
                    bl = d.get("backlog", {})
                    backlog = sum(bl.values())
                    inbox_max = max((v for k, v in bl.items() if not k.startswith("venue_reports")), default=0)
                    conflated = sum(d.get("conflated", {}).values())  # market data a slow strategy skipped
                    r = rss_mb(daemon.pid)
                    if args.tracemalloc and len(rss) + 1 == warmup:
                        await snapshot(daemon, snap_base, 1, sock)  # the warm-up's (the daemon stops while it is taken)
                        next_print = time.monotonic() + 10
                    lags.append(d["loop_lag_ms"])
                    rss.append(r)
                    backlogs.append(backlog)
                    rates.append(rate)
                    age = d["feed_age_s"] if d["feed_age_s"] is not None else float("nan")
                    print(f"{now - t0:6.0f} {rate:12,.0f} {sent_rate:11,.0f} {backlog:8d} {inbox_max:9d} "
                          f"{conflated:9d} {d['loop_lag_ms']:7.1f} {r:7.1f} {st['max_buffered'] // 1024:8d} {injected['gap']:5d} "
                          f"{injected['drop']:5d} {f.get('connects', 0) - feed0.get('connects', 0):6d} {age:10.3f}",
                          flush=True)
                await asyncio.sleep(0.05)
            if args.tracemalloc:
                await snapshot(daemon, snap_base, 2, sock)  # the end's
            for _ in range(200):  # the last injection resyncs
                if pending is None or back_in_sync(pending, status(sock).get("feed", {})):
                    resynced_events += pending is not None
                    pending = None
                    break
                await asyncio.sleep(0.05)
            if pending is not None:
                late_events.append(pending[1])
            st = await sim.call(s, "GET", "/_sim/stats")
            depth = st["requests"].get("/api/v3/depth", 0) - depth0
            conns = st["requests"].get("market_ws", 0) - ws0
            d = status(sock)
            feed = {k: v - feed0.get(k, 0) for k, v in d.get("feed", {}).items()}
            gaps, snaps = feed.get("gaps", 0), feed.get("snapshots", 0) - feed.get("stale_snapshots", 0)
            reconnects = feed.get("connects", 0)
            total = injected["gap"] + injected["drop"]
            # every gap the daemon detected got a fresh snapshot of that book, every reconnect one of each book
            # that saw a diff (at most all of them), and at the end every book is in sync with data flowing
            want = gaps + len(SYMBOLS) * reconnects
            f_end = d.get("feed", {})
            resynced = (snaps >= want and reconnects >= injected["drop"] and d["feed_age_s"] is not None
                        and d["feed_age_s"] < 1.0 and f_end.get("books_in_sync") == f_end.get("books"))
            ok &= resynced and not late_events
            print(f"gap storms: {injected['gap']} depth gaps and {injected['drop']} socket drops injected; the "
                  f"daemon saw {gaps} gaps, reconnected {reconnects} times ({reconnects - injected['drop']} not "
                  f"injected: the venue dropped a slow consumer; {conns} market-data connects at the venue), "
                  f"fetched {snaps} fresh snapshots (>= {want} = gaps + {len(SYMBOLS)} x reconnects; {depth} depth "
                  f"requests; {feed.get('buffer_overflows', 0)} diff-buffer overflows); all {len(SYMBOLS)} books "
                  f"seen back in sync between events after {resynced_events} of {total}"
                  f"{' (late: ' + ', '.join(late_events[:5]) + ')' if late_events else ''}; at the end "
                  f"{f_end.get('books_in_sync')}/{f_end.get('books')} in sync, feed age {d['feed_age_s']} s: "
                  f"{'resynced every time' if resynced else 'NOT resynced every time'}")
            if rss:
                g_rss = grew(rss, warmup, 0.02, 2.0)
                g_bl = grew(backlogs, warmup, 1.0, 100)
                g_lag = grew(lags, warmup, 1.0, 20)
                what = [name for name, g in (("RSS", g_rss), ("backlog", g_bl), ("loop lag", g_lag)) if g[0]]
                print(f"over the run: the daemon took in {sum(rates) / len(rates):,.0f} msgs/s on average "
                      f"(target {args.rate:,.0f}); backlog max {max(backlogs):,.0f}; loop lag max {max(lags):.1f} ms; "
                      f"daemon CPU {cpu_s(daemon.pid):.0f} s, venue CPU {cpu_s(sim.proc.pid):.0f} s in "
                      f"{duration:.0f} s; load {os.getloadavg()[0]:.1f}")
                print(f"growth (last third against first third, after {warmup * 10} s): RSS {g_rss[1]:.1f} -> "
                      f"{g_rss[2]:.1f} MB, backlog {g_bl[1]:,.0f} -> {g_bl[2]:,.0f}, loop lag {g_lag[1]:.1f} -> "
                      f"{g_lag[2]:.1f} ms: {'GREW: ' + ', '.join(what) if what else 'no growth'}")
                achieved = sum(rates) / len(rates)
                print(f"rate: the daemon took in {achieved / args.rate:.0%} of the target "
                      f"({'reached' if achieved >= 0.95 * args.rate else 'NOT reached'})")
                ok &= not what and achieved >= 0.95 * args.rate
            if args.tracemalloc:
                tracemalloc_report(snap_base, 1, 2)
            # stale-feed halt: stop the venue, wait for the daemon to halt, let it go on, wait for the resume
            assert d["trading_state"] in ("active", "halted"), d
            sim.proc.send_signal(signal.SIGSTOP)
            t_stop = time.monotonic()
            halted = None
            while time.monotonic() - t_stop < STALE_LIMIT_S + 5:
                d = status(sock)
                if d["trading_state"] == "halted":
                    halted = time.monotonic()
                    break
                await asyncio.sleep(0.02)
            sim.proc.send_signal(signal.SIGCONT)
            if halted is None:
                ok = False
                print(f"stale-feed halt: did NOT fire within {STALE_LIMIT_S + 5:.0f} s of the venue stopping")
            else:
                late = halted - t_stop - STALE_LIMIT_S
                ok &= late <= 1.0
                print(f"stale-feed halt: fired {halted - t_stop:.2f} s after the venue stopped, {late:+.2f} s after "
                      f"the {STALE_LIMIT_S:g} s staleness limit ({'within' if late <= 1.0 else 'NOT within'} 1 s)")
                t_cont = time.monotonic()
                while time.monotonic() - t_cont < 15:
                    if status(sock)["trading_state"] == "active":
                        print(f"resumed {time.monotonic() - t_cont:.2f} s after the venue went on")
                        break
                    await asyncio.sleep(0.05)
                else:
                    print("did NOT resume within 15 s of the venue going on")
                    ok = False
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.terminate()
            try:
                daemon.wait(60)
            except subprocess.TimeoutExpired:
                daemon.kill()
        sim.stop()
    print("OK" if ok else "FAILED", f"(state and daemon.log in {tmp})")
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=50_000.0, help="target market-data messages/s (default 50,000)")
    ap.add_argument("--minutes", type=float, default=10.0, help="minutes of load (default 10)")
    ap.add_argument("--strategies", type=int, default=3, help="strategies in the daemon, over the 3 symbols")
    ap.add_argument("--gaps", type=int, default=50, help="depth gaps injected over the run (every symbol's book)")
    ap.add_argument("--drops", type=int, default=50, help="WebSocket drops injected over the run")
    ap.add_argument("--ceiling-seconds", type=float, default=5.0, help="seconds of the venue ceiling measurement")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="trace the daemon's allocations and print the sites that grew (slows it several times)")
    args = ap.parse_args()
    if not 0.2 <= args.minutes <= 60 or not 0 < args.rate <= 1_000_000 or not 1 <= args.strategies <= 30 \
            or min(args.gaps, args.drops) < 0 or not 1 <= args.ceiling_seconds <= 60:
        ap.error("--minutes must be 0.2..60, --rate 1..1000000, --strategies 1..30, --gaps/--drops >= 0")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
