"""The market-making backtest over a full day of tick quotes and trades, matched in the replayed order book
(issue 4, benchmark c): events/s through the whole engine and peak RSS.

    python benchmarks/bench_market_maker.py                  # AIG 2013-10-07 from ../shared (about 1.08M quotes)
    python benchmarks/bench_market_maker.py --ticker BAC --data data/lean   # the shipped BAC day

Skips with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from leand.backtest.runner import run_backtest

sys.path.insert(0, str(Path(__file__).parent))
from digest import engine_digest

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    shared = next((p for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared") if p.is_dir()), ROOT.parent / "shared")
    ap.add_argument("--data", default=str(shared / "data" / "lean"))
    ap.add_argument("--ticker", default="AIG")
    ap.add_argument("--date", default="2013-10-07")
    ap.add_argument("--queue", default="prob_power2")
    args = ap.parse_args()
    data = Path(args.data)
    day = data / "equity" / "usa" / "tick" / args.ticker.lower() / f"{args.date.replace('-', '')}_quote.zip"
    if not day.is_file():
        print(f"skipped: {day} not found (pass --data and --ticker)")
        sys.exit(0)
    params = {"ticker": args.ticker, "date": args.date, "queue": args.queue}
    t0 = time.perf_counter()
    engine, result = run_backtest(ROOT / "strategies" / "market_maker.py", data_dir=data, parameters=params)
    dt = time.perf_counter() - t0
    n = engine.data_points
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"market maker on {args.ticker} {args.date} ticks ({args.queue} queue, seeded random latency): "
          f"{n:,} events in {dt:.2f} s = {n / dt:,.0f} events/s (target >= 1,000,000); peak RSS {rss:.0f} MB "
          f"(target <= 150); "
          f"{len(engine.fills):,} fills, {len(engine.orders):,} orders, book requests "
          f"{engine.brokerage.requests:,}; end equity {engine.portfolio.total_portfolio_value:,.2f}; "
          f"digest {engine_digest(engine)}")


if __name__ == "__main__":
    main()
