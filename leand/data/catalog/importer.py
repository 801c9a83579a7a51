"""``leand data import``: vendor CSV/Parquet files into one catalogue dataset, validated on the way in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from pathlib import Path

from leand.data.catalog.index import Catalog, Dataset, DatasetKey
from leand.data.catalog.ingest import Ingest
from leand.data.catalog.readers import Layout, read_csv, read_parquet
from leand.data.catalog.validate import Params, Report
from leand.data.market_hours import ExchangeHours, MarketHoursDatabase, parse_tz
from leand.model import Resolution, SecurityType

DEFAULT_MARKET = {SecurityType.EQUITY: "usa", SecurityType.CRYPTO: "coinbase", SecurityType.FOREX: "oanda"}


def reference_hours(security_type: SecurityType, market: str, symbol: str,
                    data_root: Path | None = None) -> ExchangeHours:
    """The market-hours entry for a dataset (from ``data_root``'s database, else the shipped one)."""
    from leand.bundled import SAMPLE_DATA

    p = (data_root or SAMPLE_DATA) / "market-hours" / "market-hours-database.json"
    if not p.is_file():
        p = SAMPLE_DATA / "market-hours" / "market-hours-database.json"
    return MarketHoursDatabase.load(p).get(security_type, market, symbol)


def import_files(catalog: Catalog, paths: Sequence[Path], key: DatasetKey, *, fmt: str | None = None,
                 columns: dict[str, str] | None = None, tz: str | None = None, time_unit: str | None = None,
                 policy: dict[str, str], params: Params | None = None, hours: ExchangeHours | None = None,
                 on_chunk: Callable[[int], None] | None = None) -> tuple[Dataset, Report]:
    """Stream every file into ``key``'s dataset; one report for the lot. Raises ValidationError (policy fail),
    DataFormatError or OSError with the file named, leaving the catalogue unchanged."""
    hours = hours or reference_hours(key.security_type, key.market, key.symbol)
    zone: tzinfo = parse_tz(tz) if tz else hours.data_time_zone
    layout = Layout(key.kind, key.resolution, zone, time_unit, columns)
    ing = Ingest(catalog, key, hours, policy, ", ".join(str(p) for p in paths), params)
    try:
        for path in paths:
            path = Path(path)
            f = fmt or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv")
            src = ing.add_source(path.name)
            reader = read_parquet(path, layout) if f == "parquet" else read_csv(path, layout)
            for chunk in reader:
                for line, text, reason in chunk.bad:
                    ing.bad_row(src, line, text, reason)
                ing.add(chunk.cols, src, chunk.rows)
                if on_chunk is not None:
                    on_chunk(len(chunk.rows) + len(chunk.bad))
        return ing.finish()
    except BaseException:
        ing.abort()
        raise


def dataset_key(symbol: str, security_type: str, market: str | None, kind: str, resolution: Resolution) -> DatasetKey:
    st = SecurityType(security_type)
    kind = kind.replace("-", "_").lower()
    if resolution is Resolution.TICK and kind in ("trade_bar", "quote_bar"):
        raise ValueError(f"kind {kind} needs a bar resolution (second, minute, hour or daily), not tick")
    if resolution is not Resolution.TICK and kind in ("trade_tick", "quote_tick", "l2_delta"):
        raise ValueError(f"kind {kind} needs --resolution tick")
    return DatasetKey(st, (market or DEFAULT_MARKET[st]).lower(), symbol.replace("/", "").upper(), kind, resolution)
