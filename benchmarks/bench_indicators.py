"""Indicator update cost (issue 3): streaming updates/s on 1,000,000 values and vectorized points/s.

    python benchmarks/bench_indicators.py [--n 1000000]

Streaming: ``update(time, value)`` per value (``update_bar`` per bar for ATR), as the engine calls it.
Vectorized: the ``leand.indicators.vector`` twin over the whole array (best of 5 runs)."""

from __future__ import annotations

import argparse
import time

import msgspec
import numpy as np

from leand.indicators import ATR, EMA, MACD, RSI, SMA, BollingerBands
from leand.indicators import vector as vec


class _Bar(msgspec.Struct, gc=False):
    end_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


def _series(n: int):
    rng = np.random.default_rng(7)
    c = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    h = c * (1 + np.abs(rng.normal(0, 0.001, n)))
    lo = c * (1 - np.abs(rng.normal(0, 0.001, n)))
    return c, h, lo


def _stream(ind, values: list[float]) -> float:
    up = ind.update
    t0 = time.perf_counter()
    for i, v in enumerate(values):
        up(i, v)
    return len(values) / (time.perf_counter() - t0)


def _stream_bars(ind, bars) -> float:
    up = ind.update_bar
    t0 = time.perf_counter()
    for b in bars:
        up(b)
    return len(bars) / (time.perf_counter() - t0)


def _vector(fn, n: int) -> float:
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    n = ap.parse_args().n
    c, h, lo = _series(n)
    values = c.tolist()
    bars = [_Bar(i, float(c[i]), float(h[i]), float(lo[i]), float(c[i])) for i in range(n)]
    print(f"streaming, {n:,} updates each (target >= 3,000,000/s for the simple averages)")
    for name, make in (("SMA(20)", lambda: SMA(20)), ("EMA(20)", lambda: EMA(20)), ("RSI(14)", lambda: RSI(14)),
                       ("MACD(12,26,9)", lambda: MACD(12, 26, 9)), ("BB(20,2)", lambda: BollingerBands(20, 2.0))):
        print(f"  {name:<14} {_stream(make(), values):>14,.0f} updates/s")
    print(f"  {'ATR(14) bars':<14} {_stream_bars(ATR(14), bars):>14,.0f} updates/s")
    print(f"vectorized, {n:,} points (target >= 50,000,000/s for SMA/EMA)")
    for name, fn in (("SMA(20)", lambda: vec.sma(c, 20)), ("EMA(20)", lambda: vec.ema(c, 20)),
                     ("RSI(14)", lambda: vec.rsi(c, 14)), ("MACD(12,26,9)", lambda: vec.macd(c, 12, 26, 9)),
                     ("BB(20,2)", lambda: vec.bollinger(c, 20, 2.0)), ("ATR(14)", lambda: vec.atr(h, lo, c, 14))):
        print(f"  {name:<14} {_vector(fn, n):>14,.0f} points/s")


if __name__ == "__main__":
    main()
