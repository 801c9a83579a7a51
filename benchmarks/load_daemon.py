"""Load test: ``leand sim serve`` streams market data at a target rate to a ``leand run`` daemon trading three
strategies over the Binance adapter, on loopback, for a bounded time.

    python benchmarks/load_daemon.py                         # 50,000 msgs/s target, 600 s, 50 gaps + 50 drops
    python benchmarks/load_daemon.py --duration 120 --rate 20000

Every 10 s it prints the message rate the venue published, the daemon's backlog (strategy inboxes and venue
reports), its event-loop lag and RSS, and the deepest send queue at the venue. Evenly over the run, alternating,
it injects ``--gaps`` depth-sequence gaps and ``--drops`` WebSocket drops (``POST /_sim/faults``): 100 events
by default, and checks after every one that the daemon saw it (a gap on every book, or a reconnect) and had all
its books back in sync (fresh REST snapshots) before the next one came.
At the end it stops the venue (SIGSTOP) and measures how long after the staleness limit the daemon's
stale-feed halt fires (the target: within 1 s), then lets the venue go on (SIGCONT) and checks trading resumes.

The floor printed first: the rate the same venue process reaches to a bare aiohttp client that only counts
messages, measured in the same run (on a shared machine both figures are noisy; read them together).
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


async def floor(sim: Sim, seconds: float) -> float:
    """Messages/s the venue delivers to a client that only counts them (the same streams the daemon takes)."""
    streams = "/".join(f"{s.lower()}@{k}" for s in SYMBOLS for k in ("depth@100ms", "trade"))
    n = 0
    async with aiohttp.ClientSession() as s, s.ws_connect(f"ws://127.0.0.1:{sim.port}/stream?streams={streams}",
                                                          max_msg_size=0) as ws:
        await ws.receive(timeout=10)
        t0 = time.perf_counter()
        while (left := t0 + seconds - time.perf_counter()) > 0:
            try:
                msg = await ws.receive(timeout=left)
            except TimeoutError:
                break
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            n += 1
        return n / (time.perf_counter() - t0)


def daemon_config(tmp: Path, port: int) -> Path:
    strategies = "\n".join(f"""
[[strategies]]
id = "s{i}"
file = "{ROOT / 'strategies' / 'binance_example.py'}"
parameters = {{ ticker = "{sym}", market = "binance", clip = {clip}, every = 50, lookback = 10, max_position = {clip * 5} }}
""" for i, (sym, clip) in enumerate(zip(SYMBOLS, (0.001, 0.01, 0.01))))
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
{strategies}
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


def status(sock: Path) -> dict:
    code, body = ctl_request(str(sock), "GET", "/status")
    if code != 200 or not isinstance(body, dict):
        raise RuntimeError(f"ctl status: {code} {body}")
    return body


async def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="leand-load-"))
    sim = Sim(tmp, args.rate)
    daemon = None
    ok = True
    try:
        async with aiohttp.ClientSession() as s:
            await asyncio.sleep(1.0)
            fl = await floor(sim, args.floor_seconds)
            print(f"floor: the venue delivers {fl:,.0f} msgs/s to a bare counting client "
                  f"(target {args.rate:,.0f}; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})", flush=True)
            cfg = daemon_config(tmp, sim.port)
            env = {**os.environ, "BINANCE_API_KEY": DEFAULT_API_KEY, "BINANCE_API_SECRET": DEFAULT_API_SECRET}
            log = open(tmp / "daemon.log", "wb")  # noqa: SIM115 - closed below
            daemon = subprocess.Popen([sys.executable, "-m", "leand.cli", "run", "--config", str(cfg)],
                                      stdout=log, stderr=subprocess.STDOUT, cwd=tmp, env=env)
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
            plan = [(k, (j + 0.5) * args.duration / len(kinds)) for j, k in enumerate(kinds)]
            injected = {"gap": 0, "drop": 0}
            t0 = time.monotonic()
            last_sent, last_t = st0["sent"], t0
            next_print = t0 + 10
            lags, rss, backlogs, rates = [], [], [], []
            print(f"{'t (s)':>6} {'venue msgs/s':>13} {'backlog':>8} {'loop lag ms':>12} {'RSS MB':>8} "
                  f"{'venue buf KB':>12} {'gaps':>5} {'drops':>6} {'feed age s':>10}", flush=True)
            # after each injected event, every book must be back in sync (and data flowing) before the next one
            # (resynced: the daemon saw the event, as a gap or a reconnect, and all its books are in sync again)
            pending: tuple[str, str, dict] | None = None
            resynced_events, late_events = 0, []
            next_probe = t0

            def back_in_sync(p: tuple[str, str, dict], f: dict) -> bool:
                kind, _, base = p
                seen = f.get("connects", 0) > base.get("connects", 0) or (  # a gap hits every symbol's book
                    kind == "gap" and f.get("gaps", 0) - base.get("gaps", 0) >= f.get("books", 1))
                return seen and bool(f.get("books")) and f.get("books_in_sync") == f.get("books")

            while (now := time.monotonic()) < t0 + args.duration:
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
                    rate = (st["sent"] - last_sent) / (now - last_t)
                    last_sent, last_t = st["sent"], now
                    backlog = sum(d.get("backlog", {}).values())
                    r = rss_mb(daemon.pid)
                    lags.append(d["loop_lag_ms"])
                    rss.append(r)
                    backlogs.append(backlog)
                    rates.append(rate)
                    print(f"{now - t0:6.0f} {rate:13,.0f} {backlog:8d} {d['loop_lag_ms']:12.1f} {r:8.1f} "
                          f"{st['max_buffered'] // 1024:12d} {injected['gap']:5d} {injected['drop']:6d} "
                          f"{d['feed_age_s'] if d['feed_age_s'] is not None else float('nan'):10.3f}", flush=True)
                await asyncio.sleep(0.05)
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
            ok &= resynced
            print(f"gap storms: {injected['gap']} depth gaps and {injected['drop']} socket drops injected; the "
                  f"daemon saw {gaps} gaps, reconnected {reconnects} times ({conns} market-data connects at the "
                  f"venue), fetched {snaps} fresh snapshots (>= {want} = gaps + {len(SYMBOLS)} x reconnects; "
                  f"{depth} depth requests); all {len(SYMBOLS)} books seen back in sync between events after "
                  f"{resynced_events} of {total} (a book resyncs on its next diff: a quiet book waits for one); at "
                  f"the end {f_end.get('books_in_sync')}/{f_end.get('books')} in sync, feed age {d['feed_age_s']} s: "
                  f"{'resynced every time' if resynced else 'NOT resynced every time'}")
            if rss:
                half = len(rss) // 2
                print(f"over the run: venue rate mean {sum(rates) / len(rates):,.0f} msgs/s; backlog max "
                      f"{max(backlogs)}; loop lag max {max(lags):.1f} ms; RSS first half max "
                      f"{max(rss[:half] or rss):.1f} MB, second half max {max(rss[half:]):.1f} MB; daemon CPU "
                      f"{cpu_s(daemon.pid):.0f} s, venue CPU {cpu_s(sim.proc.pid):.0f} s in {args.duration:.0f} s")
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
    ap.add_argument("--duration", type=float, default=600.0, help="seconds of load (default 600)")
    ap.add_argument("--rate", type=float, default=50_000.0, help="target market-data messages/s")
    ap.add_argument("--gaps", type=int, default=50, help="depth gaps injected over the run (every symbol's book)")
    ap.add_argument("--drops", type=int, default=50, help="WebSocket drops injected over the run")
    ap.add_argument("--floor-seconds", type=float, default=5.0)
    args = ap.parse_args()
    if not 10 <= args.duration <= 3600 or not 0 < args.rate <= 1_000_000:
        ap.error("--duration must be 10..3600 s and --rate 1..1000000")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
