"""The backtest result folder: statistics, orders, fills, trades and curves, byte-for-byte deterministic."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import msgspec
import orjson

from leand.clock import ns_to_datetime
from leand.model import Fill, Order
from leand.stats.trades import Trade


class BacktestResult(msgspec.Struct, kw_only=True):
    meta: dict[str, Any]
    statistics: dict[str, str]
    statistic_values: dict[str, float]
    equity: list[tuple[int, float]]
    benchmark: list[tuple[int, float]]
    daily: list[tuple[int, float, float, float]]
    exposure: list[tuple[int, float, float]] = []
    orders: list[Order] = []
    fills: list[Fill] = []
    trades: list[Trade] = []
    logs: list[str] = []
    #: the strategy's own charts (``plot``): chart -> series -> [(time_ns, value)]
    charts: dict[str, dict[str, list[tuple[int, float]]]] = {}


def _iso(t: int) -> str:
    return ns_to_datetime(t).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_result(result: BacktestResult, out_dir: Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stats = {"statistics": result.statistics, "values": result.statistic_values}
    _write(out / "statistics.json", orjson.dumps(stats, option=orjson.OPT_INDENT_2) + b"\n")
    _write(out / "meta.json", orjson.dumps(result.meta, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    _write(out / "orders.csv", _csv(
        ["id", "time", "symbol", "type", "quantity", "limit_price", "stop_price", "time_in_force", "status",
         "filled_quantity", "average_fill_price", "tag"],
        [[o.id, _iso(o.created_time), o.symbol.value, o.type.value, o.quantity, o.limit_price or "",
          o.stop_price or "", o.time_in_force.value, o.status.value, o.filled_quantity, o.average_fill_price,
          o.tag] for o in result.orders]))
    _write(out / "fills.csv", _csv(
        ["trade_id", "order_id", "time", "symbol", "quantity", "price", "fee", "fee_currency", "liquidity"],
        [[f.trade_id, f.order_id, _iso(f.time), f.symbol.value, f.quantity, f.price, f.fee, f.fee_currency,
          f.liquidity.value] for f in result.fills]))
    _write(out / "trades.csv", _csv(
        ["symbol", "entry_time", "exit_time", "direction", "quantity", "entry_price", "exit_price", "pnl", "fees"],
        [[t.symbol.value, _iso(t.entry_time), _iso(t.exit_time), t.direction, t.quantity, t.entry_price,
          t.exit_price, t.pnl, t.fees] for t in result.trades]))
    bench = dict(result.benchmark)
    _write(out / "equity.csv", _csv(["time", "equity", "benchmark"],
                                    [[_iso(t), v, bench.get(t, "")] for t, v in result.equity]))
    _write(out / "daily.csv", _csv(["time", "equity", "benchmark", "sales_volume"],
                                   [[_iso(t), v, b, s] for t, v, b, s in result.daily]))
    _write(out / "log.txt", ("\n".join(result.logs) + ("\n" if result.logs else "")).encode())
    _write(out / "result.msgpack", msgspec.msgpack.encode(result))
    return out


def read_result(out_dir: Path) -> BacktestResult:
    path = Path(out_dir) / "result.msgpack"
    try:
        return msgspec.msgpack.decode(path.read_bytes(), type=BacktestResult)
    except FileNotFoundError:
        raise FileNotFoundError(f"{out_dir} is not a result folder (no result.msgpack)") from None
    except msgspec.DecodeError as e:
        raise ValueError(f"{path}: not a leand result ({e})") from None


def format_table(statistics: dict[str, str]) -> str:
    width = max((len(k) for k in statistics), default=0)
    return "\n".join(f"{k:<{width}}  {v:>16}" for k, v in statistics.items())
