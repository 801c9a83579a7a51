"""Cost of one order through the order manager in a backtest, from ``market_order`` to its fill event in
``on_order_event`` (issue 12: about 52 µs an order end to end before the order manager; target <= 10 µs).

Each order goes the whole way a backtest order goes: validation and rounding, the order and its ticket, the
buying-power check, the risk gate's approval, the bar brokerage, the fee model, the fill, the portfolio and the
two order events (submitted, filled). The floor printed beside it, in the same run, is bare Python doing the
least an order needs: build an Order Struct, store it, build two OrderEvent Structs and call the handler. Both
are CPU time of this process (time.process_time), so other work on a shared machine does not count.

The second figure is the same order for a strategy without an ``on_order_event`` handler (the SMA strategy of
bench_backtest.py): no events are built, and the fused path need not enter the order as open only to close it
again (``OrderManager.submit_market``'s quiet case).

    python benchmarks/bench_order_manager.py [--n 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from leand import Strategy
from leand.clock import VirtualClock
from leand.engine import Engine
from leand.model import Order, OrderEvent, OrderStatus, OrderType, QuoteTick, Symbol

DATA = Path(__file__).resolve().parents[1] / "data" / "lean"
T0 = 1_700_000_000_000_000_000


class Counter(Strategy):
    def initialize(self) -> None:
        self.set_cash(10_000_000)
        self.btc = self.add_crypto("BTCUSD").symbol
        self.fills = 0

    def on_order_event(self, event: OrderEvent) -> None:
        if event.fill_quantity:
            self.fills += 1


class Quiet(Strategy):
    """Counter without a handler of order events."""

    def initialize(self) -> None:
        self.set_cash(10_000_000)
        self.btc = self.add_crypto("BTCUSD").symbol


def engine(cls: type[Strategy] = Counter) -> Engine:
    e = Engine(cls(), DATA, clock=VirtualClock(T0))
    e.start_live()  # initialize and begin trading on the virtual clock without a data file
    e.live_mode = False  # ... but fill as a backtest does: at once, by the bar brokerage
    sym = e.strategy.btc
    e.on_live_slice(T0 + 1, (QuoteTick(sym, T0 + 1, 100.0, 5.0, 100.1, 5.0),))
    return e


def run_orders(n: int, cls: type[Strategy] = Counter) -> float:
    e = engine(cls)
    s = e.strategy
    sym = s.btc
    gc.collect()
    gc.disable()
    t0 = time.process_time_ns()
    for i in range(n):
        s.market_order(sym, 0.01 if i & 1 == 0 else -0.01)
    dt = time.process_time_ns() - t0
    gc.enable()
    assert len(e.fills) == n, (len(e.fills), n)
    return dt / n / 1000


def run_floor(n: int) -> float:
    sym = Symbol.crypto("BTCUSD", "coinbase")
    orders: dict[int, Order] = {}
    seen: list[OrderEvent] = []
    handler = seen.append
    gc.collect()
    gc.disable()
    t0 = time.process_time_ns()
    for i in range(n):
        o = Order(id=i, symbol=sym, quantity=0.01, type=OrderType.MARKET)
        orders[i] = o
        handler(OrderEvent(order_id=i, symbol=sym, time=i, status=OrderStatus.SUBMITTED))
        handler(OrderEvent(order_id=i, symbol=sym, time=i, status=OrderStatus.FILLED, fill_price=100.0,
                           fill_quantity=0.01))
    dt = time.process_time_ns() - t0
    gc.enable()
    return dt / n / 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    runs: list[tuple[float, float, float]] = []
    for _ in range(a.repeat):  # alternating, so load on a shared machine falls on all three alike
        runs.append((run_orders(a.n), run_orders(a.n, Quiet), run_floor(a.n)))
    best, quiet, floor = (min(r[i] for r in runs) for i in range(3))
    print(f"one market order, submit to fill event, through the order manager: {best:6.2f} µs CPU (best of "
          f"{a.repeat} x {a.n:,}); target <= 10 µs")
    print(f"... for a strategy without an order-event handler:                 {quiet:6.2f} µs CPU")
    print(f"floor (bare Python: an Order, a dict insert, two OrderEvents to a handler):  {floor:6.2f} µs CPU")
    print(f"ratio to the floor: {best / floor:.1f}x")


if __name__ == "__main__":
    main()
