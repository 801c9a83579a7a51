"""Tick-to-order over loopback through the ccxt venue, beside the native Binance adapter, in one run: the venue
(``leand sim serve``) in its own process, the daemon (engine, risk gate, journal, example strategy) in this one.

    python benchmarks/bench_ccxt_adapter.py [--seconds 15]

ccxt venue: the clock starts when ccxt.pro's ``watch_order_book`` hands the updated book to the data client
(the QuoteTick's time; ccxt's own frame parsing and book update come before it and are not counted) and stops
when ccxt's HTTP ``fetch`` is called for the signed ``POST /api/v3/order`` (after the intent is journaled).
Binance adapter: as ``bench_binance_adapter.py`` measures it (frame received -> signed POST on the wire).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from bench_binance_adapter import config as binance_config  # noqa: E402
from bench_binance_adapter import start_sim  # noqa: E402
from bench_binance_adapter import tick_to_order as binance_tick_to_order  # noqa: E402


def ccxt_config(tmp: Path, port: int) -> Path:
    cfg = tmp / "leand-ccxt.toml"
    url, ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    cfg.write_text(f"""
state_dir = "{tmp / 'state-ccxt'}"
log_format = "json"
log_level = "error"
[record]
enabled = true
[venue]
kind = "ccxt"
exchange = "binance"
market = "binance"
symbols = ["BTCUSDT"]
api_key_env = "BENCH_BINANCE_KEY"
api_secret_env = "BENCH_BINANCE_SECRET"
rate_limit = false
options = {{ fetchMarkets = {{ types = ["spot"] }}, fetchCurrencies = false, fetchMargins = false }}
[venue.urls.api]
public = "{url}/api/v3"
private = "{url}/api/v3"
ws = {{ spot = "{ws}/ws", margin = "{ws}/ws", ws-api = {{ spot = "{ws}/ws-api/v3" }} }}
[[strategies]]
id = "bnx"
file = "{ROOT / 'strategies' / 'binance_example.py'}"
parameters = {{ every = 1, lookback = 3, clip = 0.001, max_position = 0.004 }}
[risk.global]
max_order_quantity = 0.01
""")
    return cfg


def ccxt_hook(d, lat: list[float]):
    """Time each signed POST /api/v3/order when ccxt's HTTP ``fetch`` is called for it."""
    v = next(iter(d.venues.values()))  # the one venue
    ex = v.execution.exchange
    routes = v.session.routes
    fetch = ex.fetch

    async def timed_fetch(url, method="GET", headers=None, body=None):
        if method == "POST" and "/order" in url and body and "newClientOrderId=" in body:
            route = routes.get(body.split("newClientOrderId=", 1)[1].split("&", 1)[0])
            if route is not None:
                lat.append((time.time_ns() - route[1].created_time) / 1000)
        return await fetch(url, method, headers, body)

    ex.fetch = timed_fetch
    return lambda: {"data": dict(v.data.stats), "execution": dict(v.execution.stats)}


def loopback_floor(port: int, n: int = 500) -> list[float]:
    """The floor: a request/answer round trip to the same venue process over one kept-alive loopback connection
    (``GET /api/v3/ping``), in µs."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    out = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        conn.request("GET", "/api/v3/ping")
        conn.getresponse().read()
        out.append((time.perf_counter_ns() - t0) / 1000)
    conn.close()
    return out


def summary(name: str, lat: list[float]) -> str:
    if not lat:
        return f"{name}: no orders were sent"
    lat = sorted(lat)
    return (f"{name}: {len(lat)} orders, p50 {lat[len(lat) // 2]:.0f} µs, "
            f"p99 {lat[min(len(lat) - 1, int(len(lat) * 0.99))]:.0f} µs, mean {statistics.fmean(lat):.0f} µs")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()
    from leand.simulator.binance import DEFAULT_API_KEY, DEFAULT_API_SECRET

    os.environ.setdefault("BENCH_BINANCE_KEY", DEFAULT_API_KEY)
    os.environ.setdefault("BENCH_BINANCE_SECRET", DEFAULT_API_SECRET)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        sim, port = start_sim(tmp)
        try:
            floor = loopback_floor(port)
            b_lat, _ = binance_tick_to_order(binance_config(
                tmp, port, trades=False, strategy=ROOT / "strategies" / "binance_example.py",
                parameters="every = 1, lookback = 3, clip = 0.001, max_position = 0.004"), args.seconds)
            c_lat, c_stats = binance_tick_to_order(ccxt_config(tmp, port), args.seconds, ccxt_hook)
        finally:
            sim.terminate()
            sim.wait(10)
    print("tick-to-order over loopback against leand sim serve (intent journaled, recording on), same run:")
    print("  " + summary("floor: HTTP round trip to the same venue, kept-alive loopback connection", floor)
          .replace(" orders,", " requests,"))
    print("  " + summary("native Binance adapter (frame received -> signed POST on the wire)", b_lat))
    print("  " + summary("ccxt venue, ccxt.pro binance class (book handed over -> ccxt fetch() of the POST)", c_lat))
    print(f"  ccxt market data: {c_stats['data']}")


if __name__ == "__main__":
    main()
