"""Backtest throughput (issue 2): one-second SPY bars, empty strategy and SMA(10)/SMA(30) crossover.

Builds N one-second SPY trade bars by concatenating LEAN's second-resolution SPY days (regular hours,
real bars only: fill-forward off) into a temporary LEAN data folder of consecutive trading days, then runs
the full engine on it — file decoding, merging, slices, the strategy and the portfolio all included.

    python benchmarks/bench_backtest.py [--bars 1000000] [--which empty|sma|both]

Prints bars/s and peak RSS. Each mode runs in a fresh subprocess so peak RSS is its own.
"""

from __future__ import annotations

import argparse
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
        self.set_cash(100000)
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


def build(src: Path, dst: Path, bars: int) -> tuple[date, date, int]:
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
        last = day
        day += timedelta(days=1)
        i += 1
    return first, last, total


def run_one(which: str, data: Path, start: date, end: date) -> None:
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
    engine.run()
    dt = time.perf_counter() - t0
    bars = engine.data_points
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{which:5s}: {bars:,} bars in {dt:.2f} s = {bars / dt:,.0f} bars/s; orders {len(engine.orders)}; "
          f"peak RSS {rss:.0f} MB; digest {engine_digest(engine)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bars", type=int, default=1_000_000)
    ap.add_argument("--which", default="both", choices=["empty", "sma", "both"])
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
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        start, end, total = build(src, data, args.bars)
        print(f"built {total:,} one-second SPY bars over {start} .. {end}")
        for which in (["empty", "sma"] if args.which == "both" else [args.which]):
            subprocess.run([sys.executable, __file__, "--data", str(data), "--child", which, start.isoformat(),
                            end.isoformat()], check=True)


if __name__ == "__main__":
    main()
