"""The catalogue's SQLite index (sqlite-utils): one row per dataset, one per stored day file.

A dataset is identified by (security type, market, symbol, kind, resolution). Its row says where the data
came from, its date range, row count, a checksum over its day files and the verdict of its last validation;
``days`` lists each stored file with its rows and sha256, so ``leand data validate`` can tell a file changed
on disk from a file that is merely old.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import sqlite_utils

from leand.data.catalog.store import KINDS, combined_checksum
from leand.model import Resolution, SecurityType, Symbol

INDEX_NAME = "catalog.sqlite"


def default_catalog_path() -> Path:
    """``$LEAND_CATALOG``, else ``$XDG_DATA_HOME/leand/catalog`` (``~/.local/share/leand/catalog``)."""
    env = os.environ.get("LEAND_CATALOG")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "leand" / "catalog"


def is_catalog(path: Path) -> bool:
    return (Path(path) / INDEX_NAME).is_file()


class CatalogError(ValueError):
    """A catalogue problem the user can act on; the message names the dataset or path."""


@dataclass(frozen=True, slots=True)
class DatasetKey:
    security_type: SecurityType
    market: str
    symbol: str  # the ticker as stored, upper case
    kind: str
    resolution: Resolution

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CatalogError(f"unknown kind {self.kind!r} (want one of {', '.join(KINDS)})")

    @property
    def folder(self) -> Path:
        """Relative folder of the dataset's files."""
        return (Path(self.security_type.value) / self.market.lower() / self.resolution.folder /
                self.symbol.lower() / self.kind)

    def lean_symbol(self) -> Symbol:
        return Symbol(self.symbol.upper(), self.security_type, self.market.lower())

    def label(self) -> str:
        return f"{self.symbol} {self.security_type.value}/{self.market} {self.kind} {self.resolution.name.lower()}"


@dataclass(slots=True)
class Dataset:
    id: int
    key: DatasetKey
    first_ns: int | None
    last_ns: int | None
    start: str
    end: str
    rows: int
    days: int
    source: str
    checksum: str
    verdict: str
    findings: dict
    updated: str

    def as_dict(self) -> dict:
        k = self.key
        return {"id": self.id, "symbol": k.symbol, "market": k.market, "security_type": k.security_type.value,
                "kind": k.kind, "resolution": k.resolution.name.lower(), "start": self.start, "end": self.end,
                "first_ns": self.first_ns, "last_ns": self.last_ns, "rows": self.rows, "days": self.days,
                "source": self.source, "checksum": self.checksum, "verdict": self.verdict,
                "findings": self.findings, "path": str(k.folder), "updated": self.updated}


def parse_resolution(text: str) -> Resolution:
    t = text.strip().lower()
    aliases = {"1s": "second", "1m": "minute", "1h": "hour", "1d": "daily", "day": "daily", "t": "tick",
               "sec": "second", "min": "minute"}
    t = aliases.get(t, t)
    try:
        return Resolution[t.upper()]
    except KeyError:
        raise CatalogError(f"unknown resolution {text!r} (want tick, second, minute, hour or daily)") from None


class Catalog:
    """A catalogue folder: the SQLite index plus the columnar files it lists."""

    def __init__(self, root: Path, create: bool = False) -> None:
        self.root = Path(root)
        path = self.root / INDEX_NAME
        if not path.is_file():
            if not create:
                raise CatalogError(f"no catalogue at {self.root} (no {INDEX_NAME}); import something first")
            self.root.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        self.db = sqlite_utils.Database(conn)
        self._schema()

    def _schema(self) -> None:
        if "datasets" not in self.db.table_names():
            self.db.table("datasets").create({
                "id": int, "security_type": str, "market": str, "symbol": str, "kind": str, "resolution": str,
                "first_ns": int, "last_ns": int, "start": str, "end": str, "rows": int, "days": int,
                "source": str, "checksum": str, "verdict": str, "findings": str, "updated": str,
            }, pk="id", not_null={"security_type", "market", "symbol", "kind", "resolution"})
            self.db.table("datasets").create_index(["security_type", "market", "symbol", "kind", "resolution"],
                                             unique=True)
        if "days" not in self.db.table_names():
            self.db.table("days").create({"dataset_id": int, "day": str, "rows": int, "sha256": str},
                                   pk=("dataset_id", "day"), foreign_keys=[("dataset_id", "datasets", "id")])

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lookups -------------------------------------------------------------------------------------------
    def _row_to_dataset(self, r: dict) -> Dataset:
        key = DatasetKey(SecurityType(r["security_type"]), r["market"], r["symbol"], r["kind"],
                         Resolution[r["resolution"].upper()])
        return Dataset(r["id"], key, r["first_ns"], r["last_ns"], r["start"] or "", r["end"] or "", r["rows"] or 0,
                       r["days"] or 0, r["source"] or "", r["checksum"] or "", r["verdict"] or "",
                       orjson.loads(r["findings"]) if r["findings"] else {}, r["updated"] or "")

    def datasets(self, symbol: str | None = None) -> list[Dataset]:
        where, args = (None, None)
        if symbol:
            where, args = "upper(symbol) = ?", [symbol.upper()]
        rows = self.db.table("datasets").rows_where(where, args, order_by="symbol, security_type, market, kind, resolution")
        return [self._row_to_dataset(r) for r in rows]

    def get(self, key: DatasetKey) -> Dataset | None:
        rows = list(self.db.table("datasets").rows_where(
            "security_type = ? and market = ? and symbol = ? and kind = ? and resolution = ?",
            [key.security_type.value, key.market.lower(), key.symbol.upper(), key.kind, key.resolution.name.lower()]))
        return self._row_to_dataset(rows[0]) if rows else None

    def day_files(self, dataset: Dataset) -> dict[str, tuple[int, str]]:
        """day key -> (rows, sha256)."""
        return {r["day"]: (r["rows"], r["sha256"])
                for r in self.db.table("days").rows_where("dataset_id = ?", [dataset.id], order_by="day")}

    def path_of(self, key: DatasetKey, day: str) -> Path:
        return self.root / key.folder / f"{day}.npy"

    def folder_of(self, key: DatasetKey) -> Path:
        return self.root / key.folder

    # -- writes --------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        """One real transaction (the connection autocommits otherwise)."""
        self.db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.conn.execute("ROLLBACK")
            raise
        self.db.conn.execute("COMMIT")

    def ensure(self, key: DatasetKey, source: str) -> Dataset:
        ds = self.get(key)
        if ds is not None:
            return ds
        self.db.table("datasets").insert({
            "security_type": key.security_type.value, "market": key.market.lower(), "symbol": key.symbol.upper(),
            "kind": key.kind, "resolution": key.resolution.name.lower(), "rows": 0, "days": 0, "source": source,
            "checksum": "", "verdict": "", "findings": "{}", "updated": _now()})
        got = self.get(key)
        assert got is not None
        return got

    def record_days(self, dataset: Dataset, days: dict[str, tuple[int, str]]) -> None:
        """Upsert day files (day -> rows, sha256); rows 0 removes the day."""
        with self._tx():
            for day, (rows, sha) in days.items():
                if rows == 0:
                    self.db.table("days").delete_where("dataset_id = ? and day = ?", [dataset.id, day])
                else:
                    self.db.table("days").upsert({"dataset_id": dataset.id, "day": day, "rows": rows, "sha256": sha},
                                           pk=("dataset_id", "day"))

    def refresh(self, dataset: Dataset, *, first_ns: int | None, last_ns: int | None, source: str | None = None,
                verdict: str | None = None, findings: dict | None = None) -> Dataset:
        """Recompute rows/days/checksum from the day table and store range, source and verdict."""
        from leand.clock import ns_to_datetime

        files = self.day_files(dataset)
        upd: dict = {"rows": sum(r for r, _ in files.values()), "days": len(files),
                     "checksum": combined_checksum([(d, s) for d, (_, s) in files.items()]), "updated": _now()}
        if first_ns is not None:
            upd["first_ns"] = first_ns
            upd["start"] = ns_to_datetime(first_ns).isoformat()
        if last_ns is not None:
            upd["last_ns"] = last_ns
            upd["end"] = ns_to_datetime(last_ns).isoformat()
        if source is not None:
            upd["source"] = source
        if verdict is not None:
            upd["verdict"] = verdict
        if findings is not None:
            upd["findings"] = orjson.dumps(findings).decode()
        self.db.table("datasets").update(dataset.id, upd)
        got = self.get(dataset.key)
        assert got is not None
        return got

    def remove(self, dataset: Dataset) -> None:
        """Delete the dataset's files and its index rows."""
        with self._tx():
            self.db.table("days").delete_where("dataset_id = ?", [dataset.id])
            self.db.table("datasets").delete(dataset.id)
        shutil.rmtree(self.folder_of(dataset.key), ignore_errors=True)


def _now() -> str:
    """Wall-clock time for the 'updated' column only (bookkeeping, never a backtest input)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
