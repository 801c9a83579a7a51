"""Recording overhead per market-data message and replay speed (issue 6).

    python benchmarks/bench_replay.py [--messages 200000]

Overhead: what the daemon adds per quote on the tick-to-order path — encoding and appending the MarketData frame
and the strategy's Slice frame (fsync policy "interval"). Replay: a synthetic session of N quotes replayed
through the example scalper (the paper venue simulated in memory), in inputs per second (also by the process's CPU
time, which a machine shared with other work disturbs less than the wall clock), after a short warm-up replay that
takes what a process does once (imports, the databases' first read), printed on its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from leand import __version__
from leand.live.config import default_config
from leand.model import QuoteTick, Symbol
from leand.replay.recorder import Recorder
from leand.replay.records import Header, MarketData, Slice, StrategySource

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from digest import engine_digest, events_digest  # noqa: E402

BTC = Symbol.crypto("BTCUSD")


def quotes(n: int) -> list[QuoteTick]:
    rng = np.random.default_rng(1)
    mids = 20_000 * np.exp(np.cumsum(rng.standard_normal(n) * 0.0003))
    t0 = 1_700_000_000_000_000_000
    return [QuoteTick(BTC, t0 + i * 5_000_000, round(m - 0.5, 2), 5.0, round(m + 0.5, 2), 5.0)
            for i, m in enumerate(mids.tolist())]


def bare_loop(recording) -> tuple[float, float]:
    """The floor: each recorded input's quote read, the scalper's mid average updated and its decision rule
    evaluated, with no engine, venue or orders. Returns seconds, by the wall clock and by CPU time."""
    from collections import deque

    md = recording.md
    inputs = recording.inputs["scalper"]
    mids: deque[float] = deque(maxlen=20)
    count = signals = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    for f in inputs:
        q = md[f.md_seq].event
        mid = (q.bid_price + q.ask_price) / 2
        mids.append(mid)
        count += 1
        if count % 5 or len(mids) < 20:
            continue
        avg = sum(mids) / 20
        if mid < avg or mid > avg:
            signals += 1
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    args = ap.parse_args()
    qs = quotes(args.messages)
    with tempfile.TemporaryDirectory() as tmp:
        rec = Recorder(Path(tmp), "bench", fsync="interval")
        import msgspec

        cfg = msgspec.to_builtins(default_config())
        rec.write(Header(session="bench", started_ns=qs[0].time, leand_version=__version__, config=cfg,
                         venues=["paper"], symbols=[BTC.id]))
        src = (ROOT / "strategies" / "paper_scalper.py").read_text()
        rec.write(StrategySource(strategy="scalper", class_name="PaperScalper", sha256="", source=src,
                                 parameters={"every": 5}, client_id_prefix="scalper-1-",
                                 starting_balances={"USD": 100_000.0}, start_ns=qs[0].time))
        per = []
        for i in range(0, len(qs), 1000):
            chunk = qs[i:i + 1000]
            t0 = time.perf_counter_ns()
            for q in chunk:
                seq = rec.market(MarketData(q.time, q))
                rec.write(Slice(q.time, "scalper", seq))
            per.append((time.perf_counter_ns() - t0) / len(chunk) / 1000)
        rec.close()
        size = rec.bytes
        print(f"recording overhead: median {statistics.median(per):.2f} µs per quote (MarketData + Slice frames), "
              f"p99 of 1000-quote batches {sorted(per)[int(len(per) * 0.99)]:.2f} µs; {size / len(qs):.0f} bytes/quote")
        from leand.replay.replayer import load, replay_strategy

        t0 = time.perf_counter()
        recording = load(Path(tmp) / "bench")
        tl = time.perf_counter()
        # a warm-up replay of the first inputs: what the first replay in a process does once (the venue's and
        # the emulation's modules imported, the symbol and market-hours databases read, the venue registry
        # discovered) is not a cost per event; timed and printed on its own
        w0 = time.perf_counter()
        warm = replay_strategy(dataclasses.replace(recording, inputs={"scalper": recording.inputs["scalper"][:2000]},
                                                   decisions={}, decision_at={}), "scalper")
        w1 = time.perf_counter()
        t1 = time.perf_counter()
        c1 = time.process_time()
        r = replay_strategy(recording, "scalper")
        t2 = time.perf_counter()
        c2 = time.process_time()
        floor, floor_cpu = bare_loop(recording)
        # the same inputs with the scalper never reaching its decision rule: the replay's per-event path alone,
        # without the per-order cost (risk gate, order manager, the simulated venue's store)
        t3 = time.perf_counter()
        c3 = time.process_time()
        quiet = replay_strategy(recording, "scalper", parameters={"every": 10**9})
        t4 = time.perf_counter()
        c4 = time.process_time()
        print(f"warm-up: the first {warm.inputs:,} inputs replayed in {w1 - w0:.2f} s (once per process: imports, "
              f"databases)")
        print(f"replay: read {len(qs):,} frames in {tl - t0:.2f} s; replayed {r.inputs:,} inputs "
              f"({len(r.replayed):,} decisions) in {t2 - t1:.2f} s = {r.inputs / (t2 - t1):,.0f} events/s "
              f"({r.inputs / (c2 - c1):,.0f} by CPU time) "
              f"(end to end, the read included {r.inputs / (t2 - t1 + tl - t0):,.0f} events/s; target >= 500,000); floor (a bare loop over the same "
              f"inputs with the scalper's arithmetic, no orders) {r.inputs / floor:,.0f} events/s "
              f"({r.inputs / floor_cpu:,.0f} by CPU time); digest {engine_digest(r.engine)} "
              f"decisions {events_digest(r.replayed)}")
        print(f"replay without orders (the scalper's rule never reached): {quiet.inputs / (t4 - t3):,.0f} events/s "
              f"({quiet.inputs / (c4 - c3):,.0f} by CPU time); "
              f"{len(r.replayed):,} decisions cost {((t2 - t1) - (t4 - t3)) / max(len(r.replayed), 1) * 1e6:,.1f} µs "
              f"each on top ({((c2 - c1) - (c4 - c3)) / max(len(r.replayed), 1) * 1e6:,.1f} µs by CPU time)")


if __name__ == "__main__":
    main()
