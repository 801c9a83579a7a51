"""``leand data import-lean``: catalogue a LEAN ``Data/`` folder.

Every dataset found (``<type>/<market>/<resolution>/<ticker>/<date>_<trade|quote>.zip`` and the hour/daily
``<ticker>[_<trade|quote>].zip`` files) is read with the same reader the backtest uses, raw (unadjusted) as
LEAN stores it, validated, and written to the catalogue; factor and map files are copied beside it, so the
catalogued data adjusts exactly as the folder does. LEAN data is the reference, so the default policy here
is ``flag`` for every check: findings are reported, nothing is changed unless ``--policy`` says so.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from leand.data.catalog.index import Catalog, Dataset, DatasetKey
from leand.data.catalog.ingest import Ingest
from leand.data.catalog.source import kind_of
from leand.data.catalog.validate import CHECKS, Report
from leand.data.lean import LeanDataSource
from leand.data.market_hours import MarketHoursDatabase
from leand.model import DataNormalizationMode, Resolution, SecurityType, Symbol, TickType

LEAN_POLICY = dict.fromkeys(CHECKS, "flag")
_DAY_FILE = re.compile(r"^(\d{8})_(trade|quote)\.zip$")
_WHOLE_FILE = re.compile(r"^([a-z0-9]+?)(?:_(trade|quote))?\.zip$")


@dataclass(frozen=True, slots=True)
class LeanDataset:
    symbol: Symbol
    resolution: Resolution
    tick_type: TickType
    dates: tuple[date, ...]  # empty for hour/daily


def scan(root: Path, symbols: set[str] | None = None) -> Iterator[LeanDataset]:
    """The datasets a LEAN folder holds (equity, crypto, forex)."""
    for st in (SecurityType.EQUITY, SecurityType.CRYPTO, SecurityType.FOREX):
        for market_dir in sorted((root / st.value).glob("*")):
            if not market_dir.is_dir():
                continue
            for res in Resolution:
                rdir = market_dir / res.folder
                if not rdir.is_dir():
                    continue
                if res >= Resolution.HOUR:
                    for f in sorted(rdir.glob("*.zip")):
                        m = _WHOLE_FILE.match(f.name)
                        if not m:
                            continue
                        tt = TickType(m.group(2)) if m.group(2) else (
                            TickType.QUOTE if st is SecurityType.FOREX else TickType.TRADE)
                        sym = Symbol(m.group(1).upper(), st, market_dir.name)
                        if symbols is None or sym.value in symbols:
                            yield LeanDataset(sym, res, tt, ())
                    continue
                for tdir in sorted(p for p in rdir.iterdir() if p.is_dir()):
                    sym = Symbol(tdir.name.upper(), st, market_dir.name)
                    if symbols is not None and sym.value not in symbols:
                        continue
                    by_type: dict[TickType, list[date]] = {}
                    for f in tdir.glob("*.zip"):
                        m = _DAY_FILE.match(f.name)
                        if m:
                            s = m.group(1)
                            by_type.setdefault(TickType(m.group(2)), []).append(
                                date(int(s[:4]), int(s[4:6]), int(s[6:8])))
                    for tt, dates in sorted(by_type.items()):
                        yield LeanDataset(sym, res, tt, tuple(sorted(dates)))


def load_hours(root: Path) -> MarketHoursDatabase:
    from leand.bundled import SAMPLE_DATA

    p = root / "market-hours" / "market-hours-database.json"
    return MarketHoursDatabase.load(p if p.is_file() else SAMPLE_DATA / "market-hours" / "market-hours-database.json")


def import_lean(catalog: Catalog, root: Path, *, symbols: set[str] | None = None,
                policy: dict[str, str] | None = None,
                on_dataset: Callable[[Dataset, Report], None] | None = None) -> list[tuple[Dataset, Report]]:
    root = Path(root)
    src = LeanDataSource(root)
    mhdb = load_hours(root)
    out = []
    for ds in scan(root, symbols):
        sym = ds.symbol
        hours = mhdb.get(sym.security_type, sym.market, sym.value)
        key = DatasetKey(sym.security_type, sym.market, sym.value, kind_of(ds.resolution, ds.tick_type),
                         ds.resolution)
        ing = Ingest(catalog, key, hours, policy or LEAN_POLICY, f"lean:{root}")
        try:
            if ds.dates:
                for d in ds.dates:
                    path = src._folder(sym, ds.resolution) / sym.value.lower() / f"{d:%Y%m%d}_{ds.tick_type.value}.zip"
                    c = src.read_day(sym, ds.resolution, ds.tick_type, d, hours, DataNormalizationMode.RAW)
                    if c is None or not len(c):
                        continue
                    i = ing.add_source(str(path.relative_to(root)))
                    ing.add(c, i, np.arange(1, len(c) + 1))
            else:
                path = src.file_path(sym, ds.resolution, ds.tick_type)
                c = src.read_range(sym, ds.resolution, ds.tick_type, date(1900, 1, 1), date(2200, 1, 1), hours,
                                   DataNormalizationMode.RAW)
                if c is not None and len(c):
                    i = ing.add_source(str(path.relative_to(root)))
                    ing.add(c, i, np.arange(1, len(c) + 1))
            result = ing.finish()
        except BaseException:
            ing.abort()
            raise
        out.append(result)
        if on_dataset is not None:
            on_dataset(*result)
    _copy_aux(catalog, root, symbols)
    return out


def _copy_aux(catalog: Catalog, root: Path, symbols: set[str] | None) -> None:
    """Factor and map files, so catalogued equities adjust exactly as the folder's do; the market-hours and
    symbol-properties databases and the interest-rate curve, so the catalogue serves as a backtest's ``--data`` on its own."""
    for ref in ("market-hours/market-hours-database.json", "symbol-properties/symbol-properties-database.csv",
                "alternative/interest-rate/usa/interest-rate.csv"):
        if (root / ref).is_file():
            (catalog.root / ref).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / ref, catalog.root / ref)
    for market_dir in sorted((root / "equity").glob("*")):
        for folder in ("factor_files", "map_files"):
            d = market_dir / folder
            if not d.is_dir():
                continue
            for f in d.glob("*.csv"):
                if symbols is not None and f.stem.upper() not in symbols:
                    continue
                dst = catalog.root / "equity" / market_dir.name / folder / f.name
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, dst)
