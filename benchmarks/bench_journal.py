"""Cost of journaling one order intent before it is sent (issue 14): the intent log against the SQLite
transaction per intent it replaced, under each fsync policy, beside the floor (a bare ``os.write`` of the
same number of bytes to an ``O_APPEND`` file, what the log cost per record before it copied records into a
shared mapping of its file) measured in the same run.

    python benchmarks/bench_journal.py [--n 20000] [--n-always 2000]
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from pathlib import Path

from leand.live.journal import Journal, transaction
from leand.model import SecurityType, Symbol

BTC = Symbol("BTCUSD", SecurityType.CRYPTO, "coinbase")


def pct(times: list[int]) -> str:
    times = sorted(times)
    p = lambda q: times[min(len(times) - 1, int(len(times) * q))] / 1000  # noqa: E731
    return f"p50 {p(0.5):7.2f} µs   p99 {p(0.99):7.2f} µs   p99.9 {p(0.999):8.2f} µs"


def run_log(tmp: Path, n: int, fsync: str) -> list[int]:
    j = Journal(tmp / f"log-{fsync}.sqlite", fsync=fsync)  # type: ignore[arg-type]
    times = []
    clock = time.perf_counter_ns
    gc.disable()
    for i in range(n):
        t0 = clock()
        j.intent(f"s-1-{i}", "s", BTC, 0.01, "limit", 100.0 + i % 7, None, "gtc", "", i, 1)
        times.append(clock() - t0)
        if i % 256 == 255:  # the daemon absorbs in the background every 50 ms: off the timed path
            j.absorb()
    gc.enable()
    j.close()
    return times


def run_sqlite(tmp: Path, n: int) -> list[int]:
    """What ``Journal.intent`` did before the log: one BEGIN IMMEDIATE ... COMMIT per intent."""
    j = Journal(tmp / "sqlite.sqlite")
    conn = j.conn
    times = []
    clock = time.perf_counter_ns
    gc.disable()
    for i in range(n):
        t0 = clock()
        with transaction(conn):
            conn.execute("INSERT INTO intents (client_order_id, strategy, symbol, quantity, type, limit_price, "
                         "stop_price, time_in_force, tag, status, filled, created_ns, updated_ns, boot) "
                         "VALUES (?,?,?,?,?,?,?,?,?,'new',0,?,?,?)",
                         (f"s-1-{i}", "s", BTC.id, 0.01, "limit", 100.0 + i % 7, None, "gtc", "", i, i, 1))
        times.append(clock() - t0)
    gc.enable()
    j.close()
    return times


def run_floor(tmp: Path, n: int, size: int) -> list[int]:
    fd = os.open(tmp / "floor.bin", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    buf = b"x" * size
    times = []
    clock = time.perf_counter_ns
    w = os.write
    gc.disable()
    for _ in range(n):
        t0 = clock()
        w(fd, buf)
        times.append(clock() - t0)
    gc.enable()
    os.close(fd)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--n-always", type=int, default=2_000, help="intents under fsync=always (each a disk flush)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-journal-", dir=os.environ.get("BENCH_DIR")) as d:
        tmp = Path(d)
        j = Journal(tmp / "size.sqlite")
        j.intent("s-1-0", "s", BTC, 0.01, "limit", 100.0, None, "gtc", "", 0, 1)
        frame = j.log.size
        j.close()
        print(f"one order intent journaled before sending, {args.n:,} intents ({frame}-byte log records)")
        print(f"  {'floor: os.write of ' + str(frame) + ' bytes':<37}{pct(run_floor(tmp, args.n, frame))}")
        print(f"  intent log, fsync=never              {pct(run_log(tmp, args.n, 'never'))}")
        print(f"  intent log, fsync=interval           {pct(run_log(tmp, args.n, 'interval'))}   "
              "(the flush runs on the loop, off this path)")
        print(f"  SQLite transaction per intent (old)  {pct(run_sqlite(tmp, args.n))}")
        print(f"  intent log, fsync=always             {pct(run_log(tmp, args.n_always, 'always'))}   "
              f"({args.n_always:,} intents; one fdatasync each, on {tmp})")


if __name__ == "__main__":
    main()
