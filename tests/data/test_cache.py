"""The decoded-data cache: a second read of a file skips unzip and parse and gives the same columns; a changed
file is decoded again; concurrent writers of one entry are safe; the cache can be switched off."""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA

import leand.data.lean as lean
from leand.data import cache
from leand.data.lean import LeanDataSource
from leand.data.market_hours import MarketHoursDatabase
from leand.model import Resolution as R
from leand.model import Symbol
from leand.model import TickType as T

SPY = Symbol.equity("SPY")
BAC = Symbol.equity("BAC")
DAY = date(2013, 10, 7)


@pytest.fixture
def data(tmp_path: Path, monkeypatch) -> Path:
    """A copy of the sample data (so mtimes can change) and a private cache folder."""
    root = tmp_path / "lean"
    shutil.copytree(DATA / "market-hours", root / "market-hours")
    for sub in ("equity/usa/minute/spy", "equity/usa/tick/bac", "equity/usa/daily"):
        shutil.copytree(DATA / sub, root / sub)
    monkeypatch.setenv("LEAND_CACHE_DIR", str(tmp_path / "cache"))
    return root


def _read_all(root: Path) -> list:
    hours = MarketHoursDatabase.load(root / "market-hours" / "market-hours-database.json")
    src = LeanDataSource(root)
    out = []
    for sym, res, tt in ((SPY, R.MINUTE, T.TRADE), (SPY, R.MINUTE, T.QUOTE), (BAC, R.TICK, T.QUOTE),
                         (BAC, R.TICK, T.TRADE)):
        out.append(src.read_day(sym, res, tt, DAY, hours.get("equity", "usa", sym.value)))
    out.append(src.read_range(SPY, R.DAILY, T.TRADE, date(2013, 1, 1), date(2013, 12, 31),
                              hours.get("equity", "usa", "SPY")))
    return out


def _same(a, b) -> None:
    assert a.kind == b.kind
    np.testing.assert_array_equal(a.time, b.time)
    np.testing.assert_array_equal(a.end_time, b.end_time)
    assert list(a.cols) == list(b.cols)
    for k in a.cols:
        np.testing.assert_array_equal(a.cols[k], b.cols[k])
        assert a.cols[k].dtype == b.cols[k].dtype


def test_second_read_skips_decoding_and_is_identical(data: Path, monkeypatch) -> None:
    first = _read_all(data)
    assert any((data.parent / "cache").rglob("columns"))

    def no_unzip(*a, **k):
        raise AssertionError("decoded again instead of read from the cache")

    monkeypatch.setattr(lean, "_read_entry", no_unzip)
    monkeypatch.setattr(lean, "_iter_blocks", no_unzip)
    second = _read_all(data)
    for a, b in zip(first, second, strict=True):
        _same(a, b)


def test_a_changed_file_is_decoded_again(data: Path, monkeypatch) -> None:
    _read_all(data)
    f = data / "equity/usa/minute/spy/20131007_trade.zip"
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    calls = []
    real = lean._read_entry
    monkeypatch.setattr(lean, "_read_entry", lambda p: calls.append(p) or real(p))
    _read_all(data)
    assert calls == [f]


def test_concurrent_writers_of_one_entry(tmp_path: Path) -> None:
    folder = tmp_path / "ab" / "abcd"
    cols = {"rows": np.arange(12.0).reshape(4, 3), "flag": np.array([True, False, True, False])}
    cache.store(folder, cols)
    cache.store(folder, {"rows": np.zeros((1, 1))})  # a second writer loses the rename: the entry stays whole
    got = cache.load(folder)
    assert got is not None and list(got) == ["rows", "flag"]
    np.testing.assert_array_equal(got["rows"], cols["rows"])
    np.testing.assert_array_equal(got["flag"], cols["flag"])
    assert not got["rows"].flags.writeable  # memory-mapped, read-only
    assert [p.name for p in folder.parent.iterdir()] == ["abcd"]  # no temporary folders left behind


def test_cache_off(data: Path, monkeypatch) -> None:
    monkeypatch.setenv("LEAND_CACHE_DIR", "off")
    assert cache.cache_dir() is None
    _read_all(data)
    assert not (data.parent / "cache").exists()


@pytest.mark.parametrize("cache_on", [True, False])
def test_tick_windows_are_the_day_in_pieces(data: Path, monkeypatch, cache_on: bool) -> None:
    """read_tick_windows (what the feed streams a tick day with) gives exactly read_day's columns."""
    if not cache_on:
        monkeypatch.setenv("LEAND_CACHE_DIR", "off")
    hours = MarketHoursDatabase.load(data / "market-hours" / "market-hours-database.json").get("equity", "usa", "BAC")
    src = LeanDataSource(data)
    for tt in (T.QUOTE, T.TRADE):
        for _ in range(2):  # cold, then from the cache
            day = src.read_day(BAC, R.TICK, tt, DAY, hours)
            parts = list(src.read_tick_windows(BAC, tt, DAY, hours, rows=10_000))
            assert len(parts) == -(-len(day) // 10_000)
            whole = lean.Columns(day.kind, np.concatenate([p.time for p in parts]),
                                 np.concatenate([p.end_time for p in parts]),
                                 {k: np.concatenate([p.cols[k] for p in parts]) for k in day.cols})
            _same(day, whole)


@pytest.mark.parametrize("arr", [
    np.arange(12, dtype=np.int64).reshape(3, 4), np.arange(5, dtype=np.float64), np.zeros((0, 6), np.int64),
    np.array([True, False]), np.arange(6, dtype=">i4").reshape(2, 3), np.array(3.5),
    np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.array(["a", "bc"]), np.zeros((70_000, 6), np.int64)])
def test_read_npy_reads_what_np_load_reads(tmp_path: Path, arr: np.ndarray) -> None:
    from leand.data.cache import _read_npy

    np.save(tmp_path / "x.npy", arr)
    got, want = _read_npy(tmp_path / "x.npy"), np.load(tmp_path / "x.npy")
    assert got.dtype == want.dtype and got.shape == want.shape and got.flags.writeable
    assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("arr", [
    np.arange(12, dtype=np.int64).reshape(3, 4), np.arange(5, dtype=np.float64), np.zeros((0, 6), np.int64),
    np.array([True, False]), np.arange(6, dtype=">i4").reshape(2, 3), np.array(3.5),
    np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.array(["a", "bc"]), np.zeros((70_000, 6), np.int64)])
def test_map_npy_reads_what_np_load_reads(tmp_path: Path, arr: np.ndarray) -> None:
    from leand.data.cache import _map_npy

    np.save(tmp_path / "x.npy", arr)
    got, want = _map_npy(tmp_path / "x.npy"), np.load(tmp_path / "x.npy")
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()


def test_map_npy_holds_at_most_max_maps(tmp_path: Path, monkeypatch) -> None:
    """Each live map holds a file descriptor: past MAX_MAPS live ones a file is read into memory instead, and
    a map freed with its arrays makes room again; a truncated file is refused either way."""
    import gc
    import mmap

    from leand.data import cache

    monkeypatch.setattr(cache, "MAX_MAPS", 2)
    for k in range(3):
        np.save(tmp_path / f"{k}.npy", np.arange(1000, dtype=np.int64) * k)
    def mapped(a: np.ndarray) -> bool:
        while isinstance(a, np.ndarray):
            a = a.base
        return isinstance(a, memoryview) and isinstance(a.obj, mmap.mmap)

    held = [cache._map_npy(tmp_path / f"{k}.npy") for k in range(3)]
    assert [mapped(a) for a in held] == [True, True, False]
    assert [a.flags.writeable for a in held] == [False, False, True]
    assert all((a == np.arange(1000) * k).all() for k, a in enumerate(held))
    del held[0]
    gc.collect()
    again = cache._map_npy(tmp_path / "2.npy")
    assert mapped(again) and (again == np.arange(1000) * 2).all()
    raw = (tmp_path / "0.npy").read_bytes()
    (tmp_path / "0.npy").write_bytes(raw[:-8])
    del held, again
    with pytest.raises(ValueError):
        cache._map_npy(tmp_path / "0.npy")


def test_read_npy_refuses_a_truncated_file(tmp_path: Path) -> None:
    from leand.data.cache import _read_npy

    np.save(tmp_path / "x.npy", np.arange(100))
    raw = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "x.npy").write_bytes(raw[:-8])
    with pytest.raises(ValueError):
        _read_npy(tmp_path / "x.npy")


def test_entry_paths_resolve_as_path_resolve(tmp_path: Path) -> None:
    from leand.data.cache import _resolve

    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.zip").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "b.zip").symlink_to(tmp_path / "real" / "a.zip")
    for p in (tmp_path / "link" / "a.zip", tmp_path / "real" / "a.zip", tmp_path / "link" / "b.zip",
              tmp_path / "real" / "missing.zip"):
        assert _resolve(p) == str(p.resolve())


def _blocks() -> list[dict[str, np.ndarray]]:
    return [{"t": np.arange(5.0) + 5 * i, "flag": np.arange(5) % 2 == i % 2,
             "rows": np.arange(10, dtype=np.int64).reshape(5, 2) + i} for i in range(3)]


def test_store_blocks_writes_what_store_writes(tmp_path: Path) -> None:
    """An entry appended block by block is byte for byte the entry of the joined columns (so both read back
    the same, by np.load, _read_npy and ColumnFiles)."""
    whole = cache.concat_blocks(_blocks())
    assert whole is not None
    cache.store(tmp_path / "a" / "entry", whole)
    assert cache.store_blocks(tmp_path / "b" / "entry", iter(_blocks())) == 15
    for name in ("columns", "t.npy", "flag.npy", "rows.npy"):
        assert (tmp_path / "b/entry" / name).read_bytes() == (tmp_path / "a/entry" / name).read_bytes()
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["entry"]


def test_store_blocks_leaves_nothing_behind_a_failed_decode(tmp_path: Path) -> None:
    folder = tmp_path / "ab" / "abcd"

    def failing():
        yield from _blocks()[:2]
        raise lean.DataFormatError("x.zip: line 9: not a number")

    with pytest.raises(lean.DataFormatError):
        cache.store_blocks(folder, failing())
    assert cache.store_blocks(folder, iter([])) == 0  # nothing decoded: no entry
    assert list(folder.parent.iterdir()) == []


def test_a_cold_tick_day_is_never_held_whole(data: Path, monkeypatch) -> None:
    """Memory on ticks: a tick day missing from the cache is decoded a block at a time straight into its entry
    and read back a window at a time (with the cache off, the blocks are cut into windows), so what Python
    holds at once is a block and a window, not the day's columns (before, the blocks were concatenated:
    twice the day). A day read whole on a miss (read_day) comes back memory-mapped."""
    import tracemalloc

    monkeypatch.setattr(lean, "TICK_BLOCK", 1 << 16)
    hours = MarketHoursDatabase.load(data / "market-hours" / "market-hours-database.json").get("equity", "usa", "BAC")
    src = LeanDataSource(data)
    day_bytes = 476_855 * 6 * 8  # BAC's quote day: 476,855 rows of six 8-byte columns (and the time, twice)
    for cache_on in (True, False):
        if not cache_on:
            monkeypatch.setenv("LEAND_CACHE_DIR", "off")
        tracemalloc.start()
        try:
            rows = sum(len(w) for w in src.read_tick_windows(BAC, T.QUOTE, DAY, hours, rows=10_000))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert rows == 476_855
        assert peak < day_bytes / 8, (cache_on, peak)
    monkeypatch.setenv("LEAND_CACHE_DIR", str(data.parent / "cache2"))
    path = src.day_path(BAC, R.TICK, T.TRADE, DAY)
    got = cache.cached_blocks(path, "test", lambda: src._decode_tick_blocks(path, T.TRADE, BAC))
    assert got is not None and len(got["_ms"]) == 88_172
    assert all(isinstance(a.base, np.memmap) or not a.flags.writeable for a in got.values())


@pytest.mark.parametrize("tt", [T.TRADE, T.QUOTE])
def test_a_bar_day_is_stored_as_its_finished_columns(data: Path, monkeypatch, tt) -> None:
    """A bar day comes from the cache as the columns a backtest consumes (UTC times, dollar prices, an empty
    quote side NaN, float sizes), equal to the file's own rows, converted here independently."""
    import copy
    import io
    import zipfile
    from zoneinfo import ZoneInfo

    from leand.clock import datetime_to_ns

    path = data / f"equity/usa/minute/spy/20131007_{tt.value}.zip"
    with zipfile.ZipFile(path) as z:
        raw = np.loadtxt(io.BytesIO(z.read(z.namelist()[0])), delimiter=",", dtype=np.int64, ndmin=2)
    if tt is T.QUOTE:
        raw[3, 1:5] = 0  # an empty bid: the file is rewritten with it (a new mtime, a new entry)
        text = "\n".join(",".join(map(str, r)) for r in raw.tolist()) + "\n"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("20131007_spy_minute_quote.csv", text)
    ny = MarketHoursDatabase.load(data / "market-hours" / "market-hours-database.json").get("equity", "usa", "SPY")
    utc = copy.copy(ny)
    utc.data_time_zone = ZoneInfo("UTC")
    names = lean.TRADE_BAR if tt is T.TRADE else lean.QUOTE_BAR
    for hours, midnight in ((ny, ZoneInfo("America/New_York")), (utc, ZoneInfo("UTC"))):
        base = datetime_to_ns(datetime.combine(DAY, datetime.min.time(), midnight))
        want_t = raw[:, 0] * 1_000_000 + base
        for read in range(2):  # decoded and stored, then read back (the entry's key holds the day's offsets)
            got = LeanDataSource(data).read_day(SPY, R.MINUTE, tt, DAY, hours)
            assert got is not None and list(got.cols) == list(names)
            np.testing.assert_array_equal(got.time, want_t)
            np.testing.assert_array_equal(got.end_time, want_t + R.MINUTE.value)
            for i, name in enumerate(names, 1):
                col = got.cols[name]
                assert col.dtype == np.float64
                if "size" in name or name == "volume":
                    np.testing.assert_array_equal(col, raw[:, i].astype(np.float64))
                else:
                    want = raw[:, i] / 10_000
                    if tt is T.QUOTE:
                        want[raw[:, i] == 0] = np.nan
                    np.testing.assert_allclose(col, want, rtol=1e-15)
            if read == 0:
                monkeypatch.setattr(lean, "_read_entry", lambda p: pytest.fail("decoded again"))
        monkeypatch.undo()
        monkeypatch.setenv("LEAND_CACHE_DIR", str(data.parent / "cache"))
    if tt is T.QUOTE:
        assert np.isnan(got.cols["bid_close"][3]) and not np.isnan(got.cols["ask_close"][3])
