"""The feed's data source over a catalogue, with a LEAN folder behind it.

``CatalogDataSource`` answers the same calls as :class:`~leand.data.lean.LeanDataSource` (``read_day``,
``read_range``, ``factor_file``, ``map_file``), so the feed and the engine use either unchanged. A catalogued
dataset takes over its (symbol, kind, resolution) wholly: when the catalogue has BTCUSDT minute trade bars,
every day of them comes from the catalogue, and what it does not hold (another symbol, another resolution,
the quotes) comes from the LEAN folder. Day files are memory-mapped: no zip, no CSV, no parse.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from leand.clock import datetime_to_ns, ns_to_datetime
from leand.data.catalog.index import Catalog, Dataset, DatasetKey
from leand.data.catalog.store import ALL_DAYS, day_key, key_date, read_block, unpack
from leand.data.corporate import FactorFile, MapFile
from leand.data.lean import Columns, LeanDataSource, _apply_factor
from leand.data.market_hours import ExchangeHours
from leand.model import DataNormalizationMode, Resolution, SecurityType, Symbol, TickType


def kind_of(resolution: Resolution, tick_type: TickType) -> str:
    if resolution is Resolution.TICK:
        return "trade_tick" if tick_type is TickType.TRADE else "quote_tick"
    return "trade_bar" if tick_type is TickType.TRADE else "quote_bar"


class CatalogDataSource:
    """Catalogued data first, then the LEAN folder ``fallback`` (None: the catalogue alone)."""

    def __init__(self, catalog: Catalog, fallback: LeanDataSource | None = None) -> None:
        self.catalog = catalog
        self.fallback = fallback
        self.root = fallback.root if fallback is not None else catalog.root
        self._datasets: dict[tuple, tuple[Dataset, frozenset[str]] | None] = {}
        self._folders: dict[int, str] = {}

    # -- which dataset -----------------------------------------------------------------------------------
    def dataset(self, symbol: Symbol, ticker: str, resolution: Resolution,
                tick_type: TickType) -> tuple[Dataset, frozenset[str]] | None:
        k = (symbol.security_type, symbol.market, ticker.upper(), resolution, tick_type)
        if k not in self._datasets:
            key = DatasetKey(symbol.security_type, symbol.market, ticker.upper(), kind_of(resolution, tick_type),
                             resolution)
            ds = self.catalog.get(key)
            self._datasets[k] = (ds, frozenset(self.catalog.day_files(ds))) if ds is not None and ds.rows else None
        return self._datasets[k]

    def has(self, symbol: Symbol, resolution: Resolution, tick_type: TickType) -> bool:
        return self.dataset(symbol, symbol.value, resolution, tick_type) is not None

    # -- auxiliary files (copied in by import-lean, else the LEAN folder's) ----------------------------------
    def _aux(self, symbol: Symbol, folder: str) -> Path:
        return self.catalog.root / "equity" / symbol.market / folder / f"{symbol.value.lower()}.csv"

    @lru_cache(maxsize=256)  # noqa: B019 - one source per run
    def factor_file(self, symbol: Symbol) -> FactorFile:
        p = self._aux(symbol, "factor_files")
        if p.is_file():
            return FactorFile.load(p)
        return self.fallback.factor_file(symbol) if self.fallback is not None else FactorFile.identity()

    @lru_cache(maxsize=256)  # noqa: B019
    def map_file(self, symbol: Symbol) -> MapFile | None:
        p = self._aux(symbol, "map_files")
        if p.is_file():
            return MapFile.load(p)
        return self.fallback.map_file(symbol) if self.fallback is not None else None

    def ticker_on(self, symbol: Symbol, d: date) -> str:
        if symbol.security_type is not SecurityType.EQUITY:
            return symbol.value.lower()
        mf = self.map_file(symbol)
        return mf.ticker_on(d, symbol.value.lower()) if mf else symbol.value.lower()

    # -- readers -------------------------------------------------------------------------------------------
    def available_dates(self, symbol: Symbol, resolution: Resolution, tick_type: TickType) -> list[date]:
        got = self.dataset(symbol, symbol.value, resolution, tick_type)
        if got is None:
            return self.fallback.available_dates(symbol, resolution, tick_type) if self.fallback else []
        return sorted(key_date(d) for d in got[1] if d != ALL_DAYS)

    def read_day(self, symbol: Symbol, resolution: Resolution, tick_type: TickType, d: date,
                 hours: ExchangeHours, normalization: DataNormalizationMode = DataNormalizationMode.RAW
                 ) -> Columns | None:
        got = self.dataset(symbol, self.ticker_on(symbol, d), resolution, tick_type)
        if got is None and self.dataset(symbol, symbol.value, resolution, tick_type) is None:
            if self.fallback is None:
                return None
            return self.fallback.read_day(symbol, resolution, tick_type, d, hours, normalization)
        if got is None:
            return None
        ds, days = got
        k = day_key(d)
        if k not in days:
            return None
        folder = self._folders.get(ds.id)
        if folder is None:
            folder = self._folders[ds.id] = str(self.catalog.folder_of(ds.key)) + "/"
        out = unpack(ds.key.kind, read_block(folder + k + ".npy"))
        if not len(out):
            return None
        if normalization is not DataNormalizationMode.RAW and symbol.security_type is SecurityType.EQUITY:
            f = self.factor_file(symbol).scale(d, normalization)
            if f != 1.0:
                _apply_factor(out, f)
        return out

    def read_range(self, symbol: Symbol, resolution: Resolution, tick_type: TickType, start: date, end: date,
                   hours: ExchangeHours, normalization: DataNormalizationMode = DataNormalizationMode.RAW
                   ) -> Columns | None:
        got = self.dataset(symbol, symbol.value, resolution, tick_type)
        if got is None:
            if self.fallback is None:
                return None
            return self.fallback.read_range(symbol, resolution, tick_type, start, end, hours, normalization)
        ds, days = got
        if ALL_DAYS not in days:
            return None
        c = unpack(ds.key.kind, read_block(self.catalog.path_of(ds.key, ALL_DAYS)))
        tz = hours.data_time_zone
        lo_ns = datetime_to_ns(datetime.combine(start, time(0), tz))
        hi_ns = datetime_to_ns(datetime.combine(end + timedelta(days=1), time(0), tz))
        lo, hi = np.searchsorted(c.time, [lo_ns, hi_ns], "left")
        if hi <= lo:
            return None
        out = c.take(slice(int(lo), int(hi)))
        if normalization is not DataNormalizationMode.RAW and symbol.security_type is SecurityType.EQUITY:
            ff = self.factor_file(symbol)
            factors = np.array([ff.scale(ns_to_datetime(t, tz).date(), normalization) for t in out.time.tolist()])
            _apply_factor(out, factors)
        return out
