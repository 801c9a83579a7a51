"""Tick backtest throughput and memory (issue 15): SMA(10)/SMA(30) of the mid on AIG quote ticks through the
indicator helpers, 100-share market orders on the cross, over two (or --days) days.

    python benchmarks/bench_ticks.py [--data ../shared/data/lean] [--days 2] [--repeat 3]

Prints events/s, peak RSS and the orders' digest for leand (best of N, each run a fresh subprocess so peak RSS
is its own) beside the floor in the same run: a bare loop over the same decoded quotes keeping the two running
sums of the mid and a position flag. Targets: >= 1,000,000 events/s, <= 150 MB. Skips cleanly when the AIG
tick data is absent.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST = date(2013, 10, 7)

STRATEGY = '''
from leand import DataNormalizationMode, Resolution, Strategy
class TickSma(Strategy):
    def initialize(self):
        self.set_start_date({start})
        self.set_end_date({end})
        self.set_cash(1_000_000)
        sec = self.add_equity("AIG", Resolution.TICK, data_normalization_mode=DataNormalizationMode.RAW)
        self.aig = sec.symbol
        self.fast = self.sma(self.aig, 10)   # a quote tick updates an indicator with its mid
        self.slow = self.sma(self.aig, 30)
        self.holding = self.portfolio[self.aig]
    def on_data(self, data):
        slow = self.slow
        if not slow.is_ready:
            return
        if self.fast.value > slow.value:
            if self.holding.quantity == 0:
                self.market_order(self.aig, 100)
        elif self.holding.quantity > 0:
            self.market_order(self.aig, -100)
'''


def _shared() -> Path:
    return next((p for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared") if p.is_dir()),
                ROOT.parent / "shared") / "data" / "lean"


def run_leand(data: Path, days: int, tmp: Path) -> None:
    from leand.backtest.runner import load_strategy_class
    from leand.engine import Engine

    sys.path.insert(0, str(Path(__file__).parent))
    from digest import engine_digest

    end = FIRST + timedelta(days=days - 1)
    path = tmp / "tick_sma.py"
    path.write_text(STRATEGY.format(start=f"{FIRST.year}, {FIRST.month}, {FIRST.day}",
                                    end=f"{end.year}, {end.month}, {end.day}"))
    engine = Engine(load_strategy_class(path)(), data)
    t0 = time.perf_counter()
    engine.run()
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RESULT {engine.data_points} {dt} {rss} {len(engine.orders)} {engine_digest(engine)}")


def run_floor(data: Path, days: int) -> None:
    from leand.data.lean import LeanDataSource
    from leand.data.market_hours import MarketHoursDatabase
    from leand.model import Resolution, Symbol, TickType

    sym = Symbol.equity("AIG")
    hours = MarketHoursDatabase.load(data / "market-hours/market-hours-database.json").get("equity", "usa", "AIG")
    src = LeanDataSource(data)
    bids: list[float] = []
    asks: list[float] = []
    for i in range(days):
        c = src.read_day(sym, Resolution.TICK, TickType.QUOTE, FIRST + timedelta(days=i), hours)
        if c is not None:
            bids += c.cols["bid_price"].tolist()
            asks += c.cols["ask_price"].tolist()
    t0 = time.perf_counter()
    fast = [0.0] * 10
    slow = [0.0] * 30
    fs = ss = 0.0
    fi = si = n = trades = 0
    long = False
    bid = ask = 0.0
    for b, a in zip(bids, asks):  # a LEAN quote tick may carry one side: the mid is of the latest of each
        if b:
            bid = b
        if a:
            ask = a
        if not (bid and ask):
            continue
        m = (bid + ask) / 2
        fs += m - fast[fi]
        fast[fi] = m
        fi = fi + 1 if fi < 9 else 0
        ss += m - slow[si]
        slow[si] = m
        si = si + 1 if si < 29 else 0
        n += 1
        if n < 30:
            continue
        if fs * 3 > ss:
            if not long:
                long = True
                trades += 1
        elif long:
            long = False
            trades += 1
    print(f"RESULT {len(bids)} {time.perf_counter() - t0}")


def child(*args: str) -> list[str]:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout
    return next(line for line in out.splitlines() if line.startswith("RESULT")).split()[1:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=_shared())
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is printed")
    ap.add_argument("--child", choices=["leand", "floor"])
    ap.add_argument("--tmp", type=Path)
    args = ap.parse_args()
    if args.child == "leand":
        run_leand(args.data, args.days, args.tmp)
        return
    if args.child == "floor":
        run_floor(args.data, args.days)
        return
    day = args.data / "equity/usa/tick/aig" / f"{FIRST:%Y%m%d}_quote.zip"
    if not day.is_file():
        print(f"skipped: {day} not found (pass --data)")
        return
    import tempfile

    base = ["--data", str(args.data), "--days", str(args.days)]
    floor_runs = [child("--child", "floor", *base) for _ in range(args.repeat)]
    n_quotes = int(floor_runs[0][0])
    floor = min(float(r[1]) for r in floor_runs)
    print(f"AIG {args.days} day(s) of tick quotes and trades from {FIRST}: floor (bare loop: running sums of the "
          f"mid and a position flag over {n_quotes:,} quotes) {n_quotes / floor:,.0f} quotes/s")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [child("--child", "leand", "--tmp", tmp, *base) for _ in range(args.repeat)]
    events, dt, rss, orders, digest = min(runs, key=lambda r: float(r[1]))
    each = ", ".join(f"{float(r[2]):.0f}" for r in runs)
    print(f"  leand: {int(events):,} events, best of {args.repeat}: {float(dt):.2f} s = "
          f"{int(events) / float(dt):,.0f} events/s (target >= 1,000,000); peak RSS "
          f"{max(float(r[2]) for r in runs):.0f} MB (target <= 150; runs in order: {each}: a run that finds a day "
          f"missing from the decoded-data cache decodes it and stores it); orders {orders}; digest {digest}")


if __name__ == "__main__":
    main()
