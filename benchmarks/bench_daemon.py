"""Daemon figures (issue 8): start to READY, `leand ctl status` round trip as a fresh process, and the
internal tick-to-order latency with the paper venue (quote received -> order journaled and at the venue).

    python benchmarks/bench_daemon.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "live"))

from daemon_util import write_config  # noqa: E402


def start_to_ready(tmp: Path, runs: int = 5) -> list[float]:
    out = []
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


def tick_to_order(tmp: Path, seconds: float = 5.0) -> list[float]:
    from leand.live import logs
    from leand.live.config import load_config
    from leand.live.daemon import Daemon

    cfg = load_config(write_config(tmp, rate_hz=200, every=1))
    logs.configure("error", "json")
    d = Daemon(cfg)
    lat: list[float] = []
    last_quote = {"t": 0}

    async def main() -> None:
        import uvloop  # noqa: F401

        task = asyncio.create_task(d.run())
        while not d.venues or d.state != "ready":
            await asyncio.sleep(0.01)
        venue = next(iter(d.venues.values())).execution.venue
        on_quote, submit = venue.on_quote, venue.submit

        def on_quote_timed(q):
            last_quote["t"] = q.time
            return on_quote(q)

        def submit_timed(*a, **k):
            lat.append((time.time_ns() - last_quote["t"]) / 1000)
            return submit(*a, **k)

        venue.on_quote, venue.submit = on_quote_timed, submit_timed
        await asyncio.sleep(seconds)
        d.stop_event.set()
        await task

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
    return lat


def main() -> None:
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        ready, ctl_times = start_to_ready(tmp)
        print(f"start to READY: median {statistics.median(ready) * 1000:.0f} ms (runs: "
              f"{', '.join(f'{x * 1000:.0f}' for x in ready)} ms)")
        print(f"leand ctl status round trip (fresh process): median {statistics.median(ctl_times) * 1000:.0f} ms, "
              f"max {max(ctl_times) * 1000:.0f} ms")
        (tmp / "lat").mkdir()
        lat = sorted(tick_to_order(tmp / "lat"))
        if lat:
            print(f"tick-to-order (quote received -> intent journaled -> order at the paper venue): "
                  f"{len(lat)} orders, p50 {lat[len(lat) // 2]:.0f} µs, p99 {lat[int(len(lat) * 0.99)]:.0f} µs")


if __name__ == "__main__":
    main()
