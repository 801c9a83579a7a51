"""Risk-gate decision cost with every check on (issue 5): median and p99 per decision.

    python benchmarks/bench_risk.py [--n 200000]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "risk"))

from fakes import IBM, SPY, World

from leand.model import OrderType
from leand.risk import RiskGate

ALL_ON = {
    "tradable": True, "max_order_quantity": 1_000, "max_order_notional": 1e6, "price_collar_pct": 0.05,
    "price_collar_ticks": 500, "check_tick_grid": True, "check_lot_size": True, "max_position_quantity": 1e6,
    "max_position_notional": 1e9, "max_gross_exposure": 1e9, "max_net_exposure": 1e9,
    "max_open_orders_per_instrument": 10_000, "max_open_orders": 100_000, "order_rate_per_second": 1e9,
    "order_burst": 10**9, "venue_order_rate_per_second": 1e9, "venue_order_burst": 10**9,
    "check_buying_power": True, "prevent_self_trade": True, "daily_loss_limit": 1e6, "max_drawdown_pct": 0.5,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    args = ap.parse_args()
    w = World()
    w.pos = {SPY: 100.0, IBM: -50.0}
    gate = RiskGate({"global": ALL_ON}, w)
    # a few resting orders on both sides so position, exposure and self-trade checks have work to do
    for qty, px in ((10, 99.0), (-10, 101.0), (5, 98.5), (-5, 101.5)):
        w.place(gate, w.order(qty=qty, limit=px))
    orders = [w.order(symbol=SPY if i % 2 else IBM, qty=(1 + i % 7) * (1 if i % 3 else -1),
                      limit=(100.0 if i % 2 else 50.0) + (i % 5 - 2) * 0.01, type_=OrderType.LIMIT)
              for i in range(args.n)]
    check = gate.check_new
    times = []
    approved = 0
    gc.disable()
    clock = time.perf_counter_ns
    for o in orders:
        w.now += 1000
        t0 = clock()
        d = check(o)
        times.append(clock() - t0)
        approved += d.approved
        if d.approved:
            d.revoke()  # nothing is sent here; do not let unspent approvals pile up
    gc.enable()
    times.sort()
    med = statistics.median(times) / 1000
    p99 = times[int(len(times) * 0.99)] / 1000
    print(f"risk gate, all checks on: {args.n:,} decisions, {approved:,} approved; "
          f"median {med:.2f} µs, p99 {p99:.2f} µs per decision")


if __name__ == "__main__":
    main()
