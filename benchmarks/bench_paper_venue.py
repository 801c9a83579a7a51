"""Cost of one quote through the paper venue (the simulator's L3 book in real time), which the daemon's paper
data client calls for every quote before the strategy sees it: with no order of the account in the book (the
quote is only noted), and with resting orders (the market's two orders are replaced in the book, resting orders
checked, stops trailed on the touch). Also a limit order submitted and canceled. The floor printed beside them,
in the same run, is a bare Python loop building the same QuoteTick and storing its prices in two dicts (what the
old top-of-book venue did per quote with nothing open).

    python benchmarks/bench_paper_venue.py [--n 50000]
"""

from __future__ import annotations

import argparse
import time

from leand.model import Instrument, QuoteTick, Symbol
from leand.simulator.paper import PaperVenue

BTC = Symbol.crypto("BTCUSD")
INST = {BTC: Instrument(BTC, quote_currency="USD", base_currency="BTC", tick_size=0.01, lot_size=1e-8)}


def quotes(n: int) -> list[QuoteTick]:
    return [QuoteTick(BTC, i, 20_000 + (i % 50) * 0.01, 5.0, 20_000.5 + (i % 50) * 0.01, 5.0) for i in range(n)]


def per(dt: float, n: int) -> str:
    return f"{dt / n * 1e6:8.2f} us"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000)
    n = ap.parse_args().n
    qs = quotes(n)
    bid: dict[str, float] = {}
    ask: dict[str, float] = {}
    t = time.perf_counter()
    for q in qs:
        sid = q.symbol.id
        bid[sid] = q.bid_price
        ask[sid] = q.ask_price
    floor = time.perf_counter() - t

    v = PaperVenue(None, INST, starting_balances={"USD": 1e12, "BTC": 1e6})
    t = time.perf_counter()
    for q in qs:
        v.on_quote(q)
    idle = time.perf_counter() - t

    for i in range(10):  # ten resting orders and a trailing stop, all away from the market
        v.submit(f"b{i}", BTC, 0.001, "limit", 19_000.0 + i, 1)
    v.submit("trail", BTC, -0.001, "trailing_stop", None, 1, trailing_amount=500.0)
    t = time.perf_counter()
    for q in qs:
        v.on_quote(q)
    busy = time.perf_counter() - t

    m = max(n // 10, 1)
    t = time.perf_counter()
    for i in range(m):
        v.submit(f"x{i}", BTC, 0.001, "limit", 19_500.0, 2)
        v.cancel(f"x{i}", 3)
    sc = time.perf_counter() - t
    v.close()
    print(f"floor (bare loop, prices into dicts):     {per(floor, n)} per quote")
    print(f"paper venue, nothing open:                {per(idle, n)} per quote")
    print(f"paper venue, 10 resting + trailing stop:  {per(busy, n)} per quote")
    print(f"submit + cancel of a limit (in memory):   {per(sc, m)} per pair")


if __name__ == "__main__":
    main()
