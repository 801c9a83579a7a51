"""leand optimize throughput (issue 17): a 200-trial grid over SMA crossover on SPY daily 2004-2014, on 1 and on
2 local workers; trials per minute, the speed-up, and each worker's peak RSS early and late in the sweep (it
must stay flat: each worker keeps one strategy class and one decoded copy of the data).

The floor is the same trials run back to back in this process with no pool, no SQLite and no IPC. The machine's
load average is printed before and after: on a shared machine the measured speed-up is only as good as the idle
cores, so the workers' CPU time per trial is printed too (from getrusage of the reaped pool processes): equal CPU
per trial on 1 and 2 workers means the pool adds no work and the speed-up on idle cores is the core count.

    python benchmarks/bench_optimize.py [--trials-fast 5:50:5 --trials-slow 20:210:10] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from leand.backtest.runner import run_backtest
from leand.optimize.run import optimize
from leand.optimize.space import Space
from leand.optimize.sweep import OptimizeConfig

ROOT = Path(__file__).resolve().parents[1]
STRATEGY = ROOT / "strategies" / "sma_crossover.py"


def load() -> str:
    a, b, c = os.getloadavg()
    return f"load average {a:.2f} {b:.2f} {c:.2f} on {os.cpu_count()} CPUs"


def floor(space: Space, n: int) -> tuple[float, float]:
    """Trials per minute of plain back-to-back run_backtest calls in this process (each reads its own data), and
    their CPU milliseconds a trial."""
    points = list(space.grid())[:n]
    t0, c0 = time.perf_counter(), time.process_time()
    for p in points:
        run_backtest(STRATEGY, parameters={k: str(v) for k, v in p.items()})
    return n / (time.perf_counter() - t0) * 60, (time.process_time() - c0) / n * 1000


def rss_profile(db: Path) -> list[tuple[int, int, float, float, float]]:
    """Per worker: trials run, RSS (MiB) after its 5th trial, after its middle trial and after its last."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT pid, rss_mb FROM trials ORDER BY rowid").fetchall()
    finally:
        con.close()
    by: dict[int, list[float]] = {}
    for pid, rss in rows:
        by.setdefault(pid, []).append(rss)
    return [(pid, len(v), v[min(4, len(v) - 1)], v[len(v) // 2], v[-1]) for pid, v in sorted(by.items())]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fast", default="5:50:5")
    ap.add_argument("--slow", default="20:210:10")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--floor-trials", type=int, default=10)
    args = ap.parse_args()
    params = [f"fast={args.fast}", f"slow={args.slow}"]
    space = Space.parse(params)
    print(f"grid: {len(space)} trials of {STRATEGY.name} (SPY daily 2004-2014)")
    print(f"before: {load()}")
    fl, fl_cpu = floor(space, args.floor_trials)
    print(f"floor: {fl:8.1f} trials/min  (run_backtest back to back in one process, {args.floor_trials} trials; "
          f"CPU {fl_cpu:.1f} ms a trial)")
    rates: dict[int, float] = {}
    cpu_rates: dict[int, float] = {}
    for w in (int(x) for x in args.workers.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = OptimizeConfig(strategy=str(STRATEGY), params=params, workers=w, out=tmp, report=False)
            ch0, p0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time()
            res = optimize(cfg, progress=False)
            ch1, p1 = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time()
            n = res.summary["trials"]
            rate = n / res.sweep_seconds * 60
            rates[w] = rate
            worker_cpu = (ch1.ru_utime + ch1.ru_stime) - (ch0.ru_utime + ch0.ru_stime)
            cpu_bound = n / (worker_cpu / w) * 60
            cpu_rates[w] = cpu_bound
            print(f"{w} worker{'s' if w > 1 else ' '}: {rate:8.1f} trials/min  ({n} trials in "
                  f"{res.sweep_seconds:.1f} s; {load()})")
            print(f"    CPU: workers {worker_cpu / n * 1000:.1f} ms a trial, parent {(p1 - p0) / n * 1000:.1f} ms a "
                  f"trial (incl. analysis and the best's re-run); with a whole core per worker: {cpu_bound:.1f} "
                  "trials/min")
            for pid, n, early, mid, last in rss_profile(Path(tmp) / "trials.sqlite"):
                print(f"    worker pid {pid}: {n:3d} trials, peak RSS {early:6.1f} MiB after 5, {mid:6.1f} after "
                      f"{n // 2 + 1}, {last:6.1f} after {n}")
    if 1 in rates and 2 in rates:
        print(f"speed-up 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x measured (target >= 1.8x on 2 idle "
              f"cores); {cpu_rates[2] / cpu_rates[1]:.2f}x in CPU time per trial (what idle cores would give)")
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
