"""Report generation time for a 10-year daily backtest (issue 7): SMA crossover on SPY 2004-2014.

    python benchmarks/bench_report.py [--screenshot PATH]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from leand.backtest.result import write_result
from leand.backtest.runner import run_backtest
from leand.report.html import write_report

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--screenshot", type=Path, help="also render the page with headless Chromium to this PNG")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _, result = run_backtest(ROOT / "strategies" / "sma_crossover.py")
        out = write_result(result, Path(tmp) / "r")
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            path = write_report(out)
            times.append(time.perf_counter() - t0)
        days = len(result.daily)
        print(f"report for {days} daily samples ({result.meta['start']} .. {result.meta['end']}), "
              f"{len(result.orders)} orders: best {min(times):.2f} s, worst {max(times):.2f} s; "
              f"{path.stat().st_size / 1024:.0f} KiB")
        if args.screenshot:
            chromium = shutil.which("chromium")
            if chromium is None:
                raise SystemExit("chromium is not installed")
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={Path(tmp) / 'p'}", f"--screenshot={args.screenshot}",
                            "--window-size=1280,2400", path.as_uri()], check=True, capture_output=True)
            print(f"screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
