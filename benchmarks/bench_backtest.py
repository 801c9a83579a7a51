"""Backtest throughput (issue 2): one-second SPY bars, empty strategy and SMA(10)/SMA(30) crossover.

Builds N one-second SPY trade bars by concatenating LEAN's second-resolution SPY days (regular hours,
real bars only: fill-forward off) into a temporary LEAN data folder of consecutive trading days, then runs
the full engine on it — file decoding, merging, slices, the strategy and the portfolio all included.

    python benchmarks/bench_backtest.py [--bars 1000000[,5000000]] [--which empty|sma|both] [--repeat 3]

Prints, in one run, the bare-loop floor on the same bars and, best of N, leand's bars/s for each strategy as a
share of it (targets: empty >= 50 %, SMA >= 25 %; by wall time, and by CPU time, which a loaded machine
disturbs less), peak RSS (<= 150 MB, flat from 1M to 5M bars), the orders' digest, and what the decoded-data
cache saves. Each run is a fresh subprocess, so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC_CANDIDATES = [ROOT / "data" / "lean", ROOT.parent / "shared" / "data" / "lean"]
DAYS = ["20131007", "20131008", "20131009", "20131010", "20131011"]

EMPTY = '''
from leand import Resolution, Strategy
class Empty(Strategy):
    def initialize(self):
        self.set_start_date({start})
        self.set_end_date({end})
        self.set_cash(100000)
        self.add_equity("SPY", Resolution.SECOND, fill_forward=False)
    def on_data(self, data):
        pass
'''

SMA = '''
from leand import Resolution, Strategy
from leand.orders.fees import PerShareFeeModel
class SmaCross(Strategy):
    def initialize(self):
        self.set_start_date({start})
        self.set_end_date({end})
        self.set_cash(10_000_000)  # enough that 5M bars of fees never exhaust it (then every bar is a rejected order)
        sec = self.add_equity("SPY", Resolution.SECOND, fill_forward=False)
        sec.fee_model = PerShareFeeModel(0.005)
        self.spy = sec.symbol
        self.fast = self.sma(self.spy, 10)
        self.slow = self.sma(self.spy, 30)
        self.holding = self.portfolio[self.spy]
    def on_data(self, data):
        slow = self.slow
        if not slow.is_ready:
            return
        if self.fast.value > slow.value:
            if self.holding.quantity == 0:
                self.market_order(self.spy, 100)
        elif self.holding.quantity > 0:
            self.market_order(self.spy, -100)
'''


def _regular_hours_lines(body: bytes) -> list[bytes]:
    out = []
    for line in body.split(b"\n"):
        if not line:
            continue
        ms = int(line.split(b",", 1)[0])
        if 34_200_000 <= ms < 57_600_000:
            out.append(line.rstrip(b"\r"))
    return out


def build(src: Path, dst: Path, bars: int) -> tuple[date, list[tuple[date, int]]]:
    """Write consecutive trading days of one-second SPY bars until ``bars``; returns the first day and, per
    day written, (day, bars so far)."""
    for sub in ("market-hours", "symbol-properties"):
        shutil.copytree(src / sub, dst / sub)
    (dst / "equity/usa/factor_files").mkdir(parents=True)
    (dst / "equity/usa/map_files").mkdir(parents=True)
    out = dst / "equity/usa/second/spy"
    out.mkdir(parents=True)
    bodies = []
    for d in DAYS:
        with zipfile.ZipFile(src / f"equity/usa/second/spy/{d}_trade.zip") as z:
            bodies.append(_regular_hours_lines(z.read(z.namelist()[0])))
    day = date(2014, 1, 2)
    first = day
    total = 0
    i = 0
    days = []
    from leand.data.market_hours import MarketHoursDatabase

    hours = MarketHoursDatabase.load(src / "market-hours/market-hours-database.json").get("equity", "usa")
    while total < bars:
        while not hours.is_date_open(day):
            day += timedelta(days=1)
        lines = bodies[i % len(bodies)][: bars - total]
        name = f"{day:%Y%m%d}"
        with zipfile.ZipFile(out / f"{name}_trade.zip", "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"{name}_spy_second_trade.csv", b"\n".join(lines) + b"\n")
        total += len(lines)
        days.append((day, total))
        day += timedelta(days=1)
        i += 1
    return first, days


def floor_loop(data: Path, start: date, end: date) -> tuple[int, float, float, float]:
    """The bare-loop floor on the same bars: decoded closes (not timed) walked by a plain loop that inlines
    the SMA(10)/SMA(30) running sums and a position flag. Returns (bars, seconds, seconds reading the files,
    CPU seconds)."""
    from leand.data.lean import LeanDataSource
    from leand.data.market_hours import MarketHoursDatabase
    from leand.model import Resolution, Symbol, TickType

    sym = Symbol.equity("SPY")
    hours = MarketHoursDatabase.load(data / "market-hours/market-hours-database.json").get("equity", "usa", "SPY")
    src = LeanDataSource(data)
    closes: list[float] = []
    t_read = time.perf_counter()
    d = start
    while d <= end:
        c = src.read_day(sym, Resolution.SECOND, TickType.TRADE, d, hours)
        if c is not None:
            closes += c.cols["close"].tolist()
        d += timedelta(days=1)
    t0 = time.perf_counter()
    c0 = time.process_time()
    t_read = t0 - t_read
    fast = [0.0] * 10
    slow = [0.0] * 30
    fs = ss = 0.0
    fi = si = n = 0
    long = False
    trades = 0
    for px in closes:
        fs += px - fast[fi]
        fast[fi] = px
        fi = fi + 1 if fi < 9 else 0
        ss += px - slow[si]
        slow[si] = px
        si = si + 1 if si < 29 else 0
        n += 1
        if n < 30:
            continue
        if fs * 3 > ss:  # fast mean above slow mean (sum/10 > sum/30)
            if not long:
                long = True
                trades += 1
        elif long:
            long = False
            trades += 1
    return len(closes), time.perf_counter() - t0, t_read, time.process_time() - c0


def run_one(which: str, data: Path, start: date, end: date) -> None:
    if which == "floor":
        bars, dt, read, cpu = floor_loop(data, start, end)
        print(f"RESULT floor {bars} {dt} {read} {cpu}")
        return
    from leand.backtest.runner import load_strategy_class
    from leand.engine import Engine

    sys.path.insert(0, str(Path(__file__).parent))
    from digest import engine_digest

    tmpl = EMPTY if which == "empty" else SMA
    code = tmpl.format(start=f"{start.year}, {start.month}, {start.day}", end=f"{end.year}, {end.month}, {end.day}")
    path = data / f"strategy_{which}.py"
    path.write_text(code)
    engine = Engine(load_strategy_class(path)(), data)
    t0 = time.perf_counter()
    c0 = time.process_time()
    engine.run()
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    bars = engine.data_points
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RESULT {which} {bars} {dt} {rss} {len(engine.orders)} {engine_digest(engine)} {cpu}")


def child(which: str, data: Path, start: date, end: date) -> list[str]:
    out = subprocess.run([sys.executable, __file__, "--data", str(data), "--child", which, start.isoformat(),
                          end.isoformat()], check=True, capture_output=True, text=True).stdout
    return next(line for line in out.splitlines() if line.startswith("RESULT")).split()[2:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bars", default="1000000", help="bar counts to run, comma-separated (1000000,5000000 shows "
                    "peak RSS is flat in the number of bars)")
    ap.add_argument("--which", default="both", choices=["empty", "sma", "both"])
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is printed")
    ap.add_argument("--child", nargs=3, metavar=("WHICH", "START", "END"))
    ap.add_argument("--data", type=Path)
    args = ap.parse_args()
    if args.child:
        which, s, e = args.child
        run_one(which, args.data, date.fromisoformat(s), date.fromisoformat(e))
        return
    src = next((p for p in SRC_CANDIDATES if (p / "equity/usa/second/spy/20131007_trade.zip").is_file()), None)
    if src is None:
        sys.exit("no LEAN second data for SPY found (data/lean or ../shared/data/lean)")
    counts = sorted(int(x) for x in args.bars.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        start, days = build(src, data, counts[-1])
        os.environ["LEAND_CACHE_DIR"] = str(data / "cache")  # a private decoded-data cache for this run
        modes = ["empty", "sma"] if args.which == "both" else [args.which]
        for n in counts:
            end = next(d for d, total in days if total >= n)
            total = next(t for d, t in days if d == end)
            print(f"{total:,} one-second SPY bars over {start} .. {end}")
            cold = float(child("floor", data, start, end)[2])  # the first read decodes and fills the cache
            warm = float(child("floor", data, start, end)[2])
            print(f"  decoded-data cache: reading the day files took {cold:.2f} s cold (unzip + parse), "
                  f"{warm:.3f} s from the cache")
            floors = [child("floor", data, start, end) for _ in range(args.repeat)]
            floor = min(float(f[1]) for f in floors)
            floor_cpu = min(float(f[3]) for f in floors)
            print(f"  floor (bare loop: two running sums and a position flag): {total / floor:,.0f} bars/s "
                  f"(CPU time: {total / floor_cpu:,.0f})")
            for which in modes:
                runs = [child(which, data, start, end) for _ in range(args.repeat)]
                bars, dt, rss, orders, digest, _ = min(runs, key=lambda r: float(r[1]))
                cpu = min(float(r[5]) for r in runs)
                dt_f = float(dt)
                share = floor / dt_f
                target = 0.5 if which == "empty" else 0.25
                print(f"  {which:5s}: {int(bars):,} bars, best of {args.repeat}: {dt_f:.2f} s = "
                      f"{int(bars) / dt_f:,.0f} bars/s = {share:.0%} of the floor (target >= {target:.0%}; by "
                      f"CPU time, best of each, {floor_cpu / cpu:.0%}); "
                      f"peak RSS {max(float(r[2]) for r in runs):.0f} MB (target <= 150); orders {orders}; "
                      f"digest {digest}")


if __name__ == "__main__":
    main()
