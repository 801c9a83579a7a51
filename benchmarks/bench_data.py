"""Data catalogue (issue 16): reading bars from the catalogue vs. from LEAN zips, and import throughput.

Builds N seeded one-minute equity trade bars (390 a day over consecutive weekdays) as a LEAN folder of daily
zips, catalogues it with import-lean, and then, in one run:

* reads every day back through ``LeanDataSource.read_day`` (unzip + CSV decode) and through
  ``CatalogDataSource.read_day`` (memory-mapped columns), touching every value (a sum of each column) so
  lazily mapped pages are really read; the floor is the same sums over columns already in memory;
* import throughput: import-lean (LEAN zips -> catalogue, validated) and ``leand data import`` of the same bars
  as one CSV file, the latter in a subprocess with its peak RSS (the CSV streams: RSS stays flat in file size).

    python benchmarks/bench_data.py [--bars 1000000] [--repeat 3]

The machine is shared: figures are noisy; compare the ratios printed in the same run.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leand.data.catalog import Catalog, CatalogDataSource  # noqa: E402
from leand.data.catalog.lean_import import import_lean, load_hours  # noqa: E402
from leand.data.lean import LeanDataSource  # noqa: E402
from leand.model import DataNormalizationMode, Resolution, Symbol, TickType  # noqa: E402

PER_DAY = 390


def weekdays(n: int) -> list[date]:
    out, d = [], date(2005, 1, 3)
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def build_lean(root: Path, bars: int, seed: int = 7) -> tuple[list[date], Path]:
    """LEAN equity minute trade zips (prices in 1/10000 USD) plus a one-file CSV of the same bars."""
    rng = np.random.default_rng(seed)
    days = weekdays((bars + PER_DAY - 1) // PER_DAY)
    folder = root / "equity" / "usa" / "minute" / "bench"
    folder.mkdir(parents=True)
    csv_path = root.parent / "bench.csv"
    px = 1_000_000.0
    left = bars
    with csv_path.open("w") as out:
        out.write("time,open,high,low,close,volume\n")
        for d in days:
            n = min(PER_DAY, left)
            left -= n
            steps = np.round(rng.normal(0, 300, n)).astype(np.int64)
            close = np.maximum(int(px) + np.cumsum(steps), 100)
            opens = np.concatenate([[int(px)], close[:-1]])
            high = np.maximum(opens, close) + rng.integers(0, 200, n)
            low = np.minimum(opens, close) - rng.integers(0, 200, n)
            vol = rng.integers(100, 10_000, n)
            ms = (9 * 3600 + 30 * 60 + 60 * np.arange(n)) * 1000
            body = "".join(f"{a},{b},{c},{e},{f},{g}\n" for a, b, c, e, f, g in
                           zip(ms.tolist(), opens.tolist(), high.tolist(), low.tolist(), close.tolist(), vol.tolist()))
            with zipfile.ZipFile(folder / f"{d:%Y%m%d}_trade.zip", "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr(f"{d:%Y%m%d}_bench_minute_trade.csv", body)
            day = f"{d:%Y-%m-%d}"
            for i in range(n):
                hh, mm = divmod(570 + i, 60)
                out.write(f"{day}T{hh:02d}:{mm:02d}:00,{opens[i] / 1e4},{high[i] / 1e4},{low[i] / 1e4},"
                          f"{close[i] / 1e4},{vol[i]}\n")
            px = float(close[-1])
    return days, csv_path


def read_all(src, sym: Symbol, days: list[date], hours) -> tuple[int, float]:
    n, acc = 0, 0.0
    for d in days:
        c = src.read_day(sym, Resolution.MINUTE, TickType.TRADE, d, hours, DataNormalizationMode.RAW)
        if c is None:
            continue
        n += len(c)
        acc += float(c.time[-1]) + sum(float(v.sum()) for v in c.cols.values())
    return n, acc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bars", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="leand-bench-data-") as tmp:
        root = Path(tmp) / "lean"
        (root / "market-hours").mkdir(parents=True)
        from leand.bundled import SAMPLE_DATA

        (root / "market-hours" / "market-hours-database.json").write_bytes(
            (SAMPLE_DATA / "market-hours" / "market-hours-database.json").read_bytes())
        t = time.perf_counter()
        days, csv_path = build_lean(root, args.bars)
        print(f"built {args.bars:,} minute bars over {len(days):,} days in {time.perf_counter() - t:.1f} s")

        cat = Catalog(Path(tmp) / "catalog", create=True)
        t, c = time.perf_counter(), time.process_time()
        (ds, report), = import_lean(cat, root)
        dt, dc = time.perf_counter() - t, time.process_time() - c
        print(f"import-lean:        {ds.rows:>9,} rows in {dt:6.2f} s = {ds.rows / dt:>12,.0f} rows/s wall, "
              f"{ds.rows / dc:>10,.0f} rows/s CPU (unzip, decode, validate, write; verdict {report.verdict()})")

        sym = Symbol.equity("BENCH")
        hours = load_hours(root).get("equity", "usa", "BENCH")
        lean, catsrc = LeanDataSource(root), CatalogDataSource(cat)
        best_lean = best_cat = best_floor = float("inf")
        cpu_lean = cpu_cat = float("inf")
        in_memory = [catsrc.read_day(sym, Resolution.MINUTE, TickType.TRADE, d, hours) for d in days]
        in_memory = [(np.array(c.time), [np.array(v) for v in c.cols.values()]) for c in in_memory if c is not None]
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            n1, s1 = read_all(lean, sym, days, hours)
            best_lean = min(best_lean, time.perf_counter() - t)
            cpu_lean = min(cpu_lean, time.process_time() - c)
            t, c = time.perf_counter(), time.process_time()
            n2, s2 = read_all(catsrc, sym, days, hours)
            best_cat = min(best_cat, time.perf_counter() - t)
            cpu_cat = min(cpu_cat, time.process_time() - c)
            t = time.perf_counter()
            acc = 0.0
            for tt, cols in in_memory:
                acc += float(tt[-1]) + sum(float(v.sum()) for v in cols)
            best_floor = min(best_floor, time.perf_counter() - t)
            assert n1 == n2 == args.bars and abs(s1 - s2) <= 1e-9 * abs(s1), (n1, n2, s1, s2)
        print(f"read LEAN zips:     {n1 / best_lean:>12,.0f} bars/s  ({best_lean:.3f} s, best of {args.repeat})")
        print(f"read catalogue:     {n2 / best_cat:>12,.0f} bars/s  ({best_cat:.3f} s)  -> "
              f"{best_lean / best_cat:.1f}x faster (target >= 10x)")
        print(f"  by CPU time:      LEAN {n1 / cpu_lean:,.0f} bars/s, catalogue {n2 / cpu_cat:,.0f} bars/s -> "
              f"{cpu_lean / cpu_cat:.1f}x (a loaded machine inflates wall time, not CPU time)")
        print(f"floor (in memory):  {n2 / best_floor:>12,.0f} bars/s  ({best_floor:.3f} s: the same sums, no file)")
        cat.close()

        size = csv_path.stat().st_size
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        before = ru0.ru_maxrss
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "leand.cli", "data", "import", str(csv_path), "--catalog",
                            str(Path(tmp) / "csvcat"), "--symbol", "BENCH", "--security-type", "equity", "--kind",
                            "trade_bar", "--resolution", "minute"], capture_output=True, text=True,
                           env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        dt = time.perf_counter() - t
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        if r.returncode:
            sys.exit(f"csv import failed: {r.stderr}")
        print(f"import CSV:         {args.bars:>9,} rows in {dt:6.2f} s = {args.bars / dt:>12,.0f} rows/s wall, "
              f"{args.bars / cpu:>10,.0f} rows/s CPU (ISO times, {size / 1e6:.0f} MB file, process start "
              f"included); peak RSS {max(ru1.ru_maxrss, before) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
