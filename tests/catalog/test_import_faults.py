"""Planted faults of every class, each reported with its row and reason and handled by the chosen policy;
clean data passes untouched."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from leand.data.catalog import Catalog
from leand.data.catalog.importer import dataset_key, import_files
from leand.data.catalog.ingest import quarantine_path
from leand.data.catalog.source import CatalogDataSource
from leand.data.catalog.store import read_block, unpack
from leand.data.catalog.validate import ValidationError, parse_policies
from leand.model import Resolution

T0 = 1_704_067_200  # 2024-01-01 00:00 UTC
N = 1440  # one day of minute bars


def bars(n: int = N, seed: int = 1) -> list[list]:
    rng = np.random.default_rng(seed)
    px = 100 + np.cumsum(rng.normal(0, 0.05, n))
    out = []
    for i in range(n):
        o = round(float(px[i - 1] if i else px[0]), 4)
        c = round(float(px[i]), 4)
        out.append([(T0 + 60 * i) * 1000, o, round(max(o, c) + 0.01, 4), round(min(o, c) - 0.01, 4), c,
                    int(rng.integers(1, 100))])
    return out


def quotes(n: int = 2000, seed: int = 2) -> list[list]:
    rng = np.random.default_rng(seed)
    mid = 50 + np.cumsum(rng.normal(0, 0.01, n))
    return [[(T0 * 1000 + 250 * i), round(float(m) - 0.01, 2), int(rng.integers(1, 9)), round(float(m) + 0.01, 2),
             int(rng.integers(1, 9))] for i, m in enumerate(mid)]


def write(path: Path, header: list[str] | None, rows: list[list]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        if header:
            w.writerow(header)
        w.writerows(rows)
    return path


def run(tmp_path: Path, path: Path, kind: str = "trade_bar", res: Resolution = Resolution.MINUTE,
        policies: list[str] = (), **kw):
    cat = Catalog(tmp_path / "cat", create=True)
    key = dataset_key("BTCUSDT", "crypto", "binance", kind, res)
    ds, report = import_files(cat, [path], key, policy=parse_policies(list(policies)), **kw)
    return cat, ds, report


def only(report, check: str):
    got = [f for f in report.findings if f.check == check]
    assert len(got) == 1, [f.line() for f in report.findings]
    return got[0]


def stored_close(cat: Catalog, ds) -> np.ndarray:
    return np.concatenate([unpack(ds.key.kind, read_block(cat.path_of(ds.key, d))).cols["close"]
                           for d in sorted(cat.day_files(ds))])


def test_clean_data_passes_untouched(tmp_path: Path) -> None:
    rows = bars()
    path = write(tmp_path / "clean.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    cat, ds, report = run(tmp_path, path)
    assert report.clean and ds.verdict == "clean" and ds.rows == N
    c = unpack("trade_bar", read_block(cat.path_of(ds.key, "20240101")))
    src = np.array(rows, dtype=np.float64)
    assert (c.time == src[:, 0].astype(np.int64) * 1_000_000).all()
    assert (c.end_time - c.time == 60_000_000_000).all()
    for i, name in enumerate(("open", "high", "low", "close", "volume"), 1):
        assert (c.cols[name] == src[:, i]).all()
    assert not quarantine_path(cat, ds.key).exists()


def test_one_spike_is_reported_with_row_and_reason_and_dropped(tmp_path: Path) -> None:
    rows = bars()
    rows[500][4] = rows[500][4] * 1000  # a close of ~100000 between closes of ~100
    rows[500][2] = rows[500][4]
    path = write(tmp_path / "spike.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    cat, ds, report = run(tmp_path, path)
    f = only(report, "spike")
    assert f.row == 502 and f.source == "spike.csv" and f.action == "dropped"  # line 502: header + 0-based 500
    assert "spike" in f.reason and "rolling median" in f.reason
    assert ds.rows == N - 1 and stored_close(cat, ds).max() < 200
    q = list(csv.DictReader(quarantine_path(cat, ds.key).open()))
    assert [(r["check"], r["row"]) for r in q] == [("spike", "502")]


def test_one_spike_flagged_is_kept(tmp_path: Path) -> None:
    rows = bars()
    rows[500][4] = rows[500][2] = rows[500][4] * 1000
    path = write(tmp_path / "spike.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    cat, ds, report = run(tmp_path, path, policies=["spike=flag"])
    assert only(report, "spike").action == "flagged" and ds.rows == N
    assert stored_close(cat, ds).max() > 1000


def test_one_spike_with_fail_refuses_and_leaves_the_catalogue_unchanged(tmp_path: Path) -> None:
    rows = bars()
    rows[500][4] = rows[500][2] = rows[500][4] * 1000
    path = write(tmp_path / "spike.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    with pytest.raises(ValidationError, match=r"spike: spike.csv row 502"):
        run(tmp_path, path, policies=["spike=fail"])
    cat = Catalog(tmp_path / "cat")
    ds = cat.datasets()[0]
    assert ds.rows == 0 and not cat.day_files(ds)


def test_one_duplicate_is_reported_and_the_first_kept(tmp_path: Path) -> None:
    rows = bars()
    dup = list(rows[300])
    dup[4] = dup[4] + 0.5  # same time, different close
    dup[2] = max(dup[2], dup[4])
    rows.insert(301, dup)
    path = write(tmp_path / "dup.csv", None, rows)  # no header: the kind's column order
    cat, ds, report = run(tmp_path, path)
    f = only(report, "duplicate")
    assert f.row == 302 and "duplicate time of row 301" in f.reason and "different" in f.reason
    assert ds.rows == N
    assert stored_close(cat, ds)[300] == rows[300][4]


def test_out_of_order_is_flagged_and_sorted_into_place(tmp_path: Path) -> None:
    rows = bars()
    rows[700], rows[701] = rows[701], rows[700]
    path = write(tmp_path / "ooo.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    cat, ds, report = run(tmp_path, path)
    f = only(report, "out_of_order")
    assert f.row == 703 and f.action == "flagged"
    c = unpack("trade_bar", read_block(cat.path_of(ds.key, "20240101")))
    assert ds.rows == N and (np.diff(c.time) > 0).all()


def test_one_gap_in_a_day_is_measured_against_market_hours(tmp_path: Path) -> None:
    rows = bars()
    del rows[600:630]  # 30 minutes missing; crypto trades 24 h
    path = write(tmp_path / "gap.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    cat, ds, report = run(tmp_path, path)
    f = only(report, "gap")
    assert f.action == "flagged" and "30 missing bars" in f.reason and "10:00:00" in f.reason
    assert f.row == 601  # the last row before the hole
    with pytest.raises(ValidationError, match="gap"):
        run(tmp_path / "b", path, policies=["gap=fail"])


def test_gap_outside_market_hours_is_not_a_gap(tmp_path: Path) -> None:
    """US equity minute bars only during the regular session: the night is not a gap, a missing hour is."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    start = int(datetime(2024, 1, 2, 9, 30, tzinfo=ny).timestamp())
    rows = [[start + 60 * i, 10, 10.1, 9.9, 10 + (i % 7) * 0.01, 100] for i in range(390) if not 100 <= i < 160]
    path = write(tmp_path / "spy.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    cat = Catalog(tmp_path / "cat", create=True)
    key = dataset_key("SPY", "equity", None, "trade_bar", Resolution.MINUTE)
    _, report = import_files(cat, [path], key, policy=parse_policies([]))
    assert [f.check for f in report.findings] == ["gap"]
    assert "60 missing bars" in report.findings[0].reason


def test_ohlc_and_nonpositive_rows_are_dropped(tmp_path: Path) -> None:
    rows = bars()
    rows[10][2] = rows[10][3] - 1  # high below low
    rows[20][1] = 0.0  # open 0
    rows[30][5] = -3  # negative volume
    path = write(tmp_path / "x.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    cat, ds, report = run(tmp_path, path)
    assert sorted((f.check, f.row) for f in report.findings) == [("nonpositive", 22), ("nonpositive", 32),
                                                                  ("ohlc", 12)]
    assert "open <= 0" in next(f.reason for f in report.findings if f.row == 22)
    assert "volume < 0" in next(f.reason for f in report.findings if f.row == 32)
    assert ds.rows == N - 3


def test_stale_prices_are_flagged(tmp_path: Path) -> None:
    rows = bars()
    for i in range(900, 980):
        rows[i][1:5] = [100.0, 100.0, 100.0, 100.0]
    path = write(tmp_path / "stale.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    _, ds, report = run(tmp_path, path)
    stale = [f for f in report.findings if f.check == "stale"]
    assert stale and all(f.action == "flagged" for f in stale) and ds.rows == N
    assert stale[0].row == 900 + 60 + 1  # the row where the run reaches 60 unchanged bars (line = index + 2 - 1)


def test_one_crossed_quote_is_reported_and_dropped(tmp_path: Path) -> None:
    rows = quotes()
    rows[777][1], rows[777][3] = rows[777][3] + 0.05, rows[777][3]  # bid above ask
    path = write(tmp_path / "q.csv", ["timestamp", "bid", "bid_qty", "ask", "ask_qty"], rows)
    cat, ds, report = run(tmp_path, path, kind="quote_tick", res=Resolution.TICK, time_unit="ms")
    f = only(report, "crossed")
    assert f.row == 779 and f.action == "dropped" and "bid" in f.reason and ">" in f.reason
    assert ds.rows == len(rows) - 1
    c = unpack("quote_tick", read_block(cat.path_of(ds.key, "20240101")))
    assert (c.cols["bid_price"] <= c.cols["ask_price"]).all()


def test_malformed_rows_are_quarantined_not_fatal(tmp_path: Path) -> None:
    rows = bars(100)
    path = tmp_path / "m.csv"
    write(path, ["time", "open", "high", "low", "close", "volume"], rows)
    text = path.read_text().splitlines()
    text.insert(5, "1704067400000,abc,1,1,1,1")
    text.insert(9, "short,row")
    path.write_text("\n".join(text) + "\n")
    cat, ds, report = run(tmp_path, path)
    got = sorted((f.check, f.row) for f in report.findings)
    assert got == [("malformed", 6), ("malformed", 10)]
    assert ds.rows == 100
    assert sum(1 for _ in quarantine_path(cat, ds.key).open()) == 3


def test_reimport_and_overlap_store_no_duplicates(tmp_path: Path) -> None:
    rows = bars(2880)
    a = write(tmp_path / "a.csv", ["time", "open", "high", "low", "close", "volume"], rows[:2000])
    b = write(tmp_path / "b.csv", ["time", "open", "high", "low", "close", "volume"], rows[1500:])
    cat, ds, report = run(tmp_path, a)
    _, ds, report = run(tmp_path, b)
    assert report.clean and report.rows_skipped == 500
    assert ds.rows == 2880 and ds.days == 2


def test_layouts_iso_times_any_order_and_tz(tmp_path: Path) -> None:
    """ISO times with Z, another column order, named by --columns; naive times in --tz."""
    rows = bars(120)
    iso = tmp_path / "iso.csv"
    with iso.open("w") as f:
        f.write("Vol,C,L,H,O,Date\n")
        for r in rows:
            ts = np.datetime64(r[0], "ms").astype(str)
            f.write(f"{r[5]},{r[4]},{r[3]},{r[2]},{r[1]},{ts}Z\n")
    cols = {"time": "date", "open": "o", "high": "h", "low": "l", "close": "c", "volume": "vol"}
    cat, ds, report = run(tmp_path, iso, columns=cols)
    assert report.clean and ds.rows == 120 and ds.first_ns == T0 * 1_000_000_000
    naive = tmp_path / "naive.csv"
    with naive.open("w") as f:
        for r in rows:
            ts = str(np.datetime64(r[0], "ms").astype("datetime64[s]")).replace("T", " ")
            f.write(f"{ts},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]}\n")
    cat2 = Catalog(tmp_path / "cat2", create=True)
    key = dataset_key("BTCUSDT", "crypto", "binance", "trade_bar", Resolution.MINUTE)
    ds2, _ = import_files(cat2, [naive], key, policy=parse_policies([]), tz="Asia/Tokyo")
    assert ds2.first_ns == (T0 - 9 * 3600) * 1_000_000_000


def test_parquet_import(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = bars(3000)
    arr = np.array(rows, dtype=np.float64)
    table = pa.table({"open_time": pa.array(arr[:, 0].astype(np.int64) * 1_000_000, pa.timestamp("ns", "UTC")),
                      "open": arr[:, 1], "high": arr[:, 2], "low": arr[:, 3], "close": arr[:, 4], "volume": arr[:, 5]})
    path = tmp_path / "bars.parquet"
    pq.write_table(table, path, row_group_size=1000)
    cat, ds, report = run(tmp_path, path)
    assert report.clean and ds.rows == 3000
    assert (stored_close(cat, ds) == arr[:, 4]).all()


def test_catalogued_import_feeds_a_backtest_source(tmp_path: Path) -> None:
    rows = bars()
    path = write(tmp_path / "clean.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    cat, ds, _ = run(tmp_path, path)
    from datetime import date

    from leand.data.catalog.importer import reference_hours
    from leand.model import Symbol, TickType

    src = CatalogDataSource(cat)
    sym = Symbol.crypto("BTCUSDT", "binance")
    c = src.read_day(sym, Resolution.MINUTE, TickType.TRADE, date(2024, 1, 1),
                     reference_hours(sym.security_type, "binance", "BTCUSDT"))
    assert c is not None and len(c) == N and c.cols["close"][-1] == rows[-1][4]


def test_files_stream_in_blocks_with_the_same_result(tmp_path: Path, monkeypatch) -> None:
    """A file is read a block at a time (memory holds a block, not the file): cutting it into 4 kB blocks,
    lines split across block edges, gives exactly what one block gives."""
    from leand.data.catalog import readers

    rows = bars(2000)
    path = write(tmp_path / "big.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    cat, ds, _ = run(tmp_path / "one", path)
    whole = stored_close(cat, ds)
    calls = []
    orig = readers._blocks

    def small(p, size=4096):
        for blk in orig(p, 4096):
            calls.append(len(blk[1]))
            yield blk

    monkeypatch.setattr(readers, "_blocks", small)
    from leand.data.catalog import ingest

    monkeypatch.setattr(ingest, "SPILL_BUDGET", 10_000)  # and the rows go through per-day spill files
    cat2, ds2, report = run(tmp_path / "many", path)
    assert len(calls) > 20 and max(calls) < 200
    assert report.clean and np.array_equal(stored_close(cat2, ds2), whole)


def test_a_new_row_at_a_stored_time_with_other_values_is_a_duplicate(tmp_path: Path) -> None:
    rows = bars(200)
    a = write(tmp_path / "a.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    changed = [list(r) for r in rows[50:60]]
    changed[3][5] += 1  # volume differs at one stored time; the other nine rows are identical
    b = write(tmp_path / "b.csv", ["time", "open", "high", "low", "close", "volume"], changed)
    run(tmp_path, a)
    cat, ds, report = run(tmp_path, b)
    f = only(report, "duplicate")
    assert f.source == "b.csv" and f.row == 5 and "stored row" in f.reason and f.action == "dropped"
    assert report.rows_skipped == 9 and report.rows_kept == 0 and ds.rows == 200
    c = unpack("trade_bar", read_block(cat.path_of(ds.key, "20240101")))
    assert c.cols["volume"][53] == rows[53][5]


def test_reimported_ticks_sharing_a_millisecond_are_not_duplicated(tmp_path: Path) -> None:
    rows = quotes(300)
    for i in range(0, 300, 3):  # three different quotes a millisecond
        rows[i + 1][0] = rows[i + 2][0] = rows[i][0]
    for i, r in enumerate(rows):
        r[2] = i + 1
    path = write(tmp_path / "q.csv", ["timestamp", "bid", "bid_qty", "ask", "ask_qty"], rows)
    kw = {"kind": "quote_tick", "res": Resolution.TICK, "time_unit": "ms"}
    _, ds, first = run(tmp_path, path, **kw)
    assert first.clean and ds.rows == 300
    _, ds, again = run(tmp_path, path, **kw)
    assert again.clean and again.rows_skipped == 300 and ds.rows == 300
