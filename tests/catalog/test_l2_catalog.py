"""L2 deltas in the catalogue: a .l2d recording imported with its faults reported (a negative size dropped, a
duplicate delta dropped, a sequence gap flagged), split by day, and a backtest with add_book_data reading the
catalogue fills exactly as on the recording itself."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from leand.backtest.book_brokerage import SimulatedBooks
from leand.bundled import SAMPLE_DATA
from leand.data.catalog import Catalog, DatasetKey
from leand.data.catalog.importer import reference_hours
from leand.data.catalog.l2 import day_paths, import_l2
from leand.data.catalog.revalidate import revalidate
from leand.data.catalog.validate import CHECKS, parse_policies
from leand.engine import Engine
from leand.model import Resolution, SecurityType
from leand.simulator.l2file import DELTA, RECORD, SNAP_END, SNAP_LEVEL, SNAP_START, TRADE, L2Header, L2Writer
from tests.exchange.test_engine_l2 import T0, Passive, S, write_book

DAY = 86_400 * S
KEY = DatasetKey(SecurityType.CRYPTO, "coinbase", "BTCUSD", "l2_delta", Resolution.TICK)


def faulty(path: Path) -> None:
    r = [(T0, 1, SNAP_START, 0, 0.0, 0.0), (T0, 1, SNAP_LEVEL, 1, 100.00, 5.0), (T0, 1, SNAP_LEVEL, -1, 100.01, 4.0),
         (T0, 1, SNAP_END, 0, 0.0, 0.0),
         (T0 + 1 * S, 2, DELTA, 1, 100.00, 2.0),
         (T0 + 1 * S, 2, DELTA, 1, 100.00, 2.0),    # record 6: a duplicate delta
         (T0 + 2 * S, 3, DELTA, 1, 99.99, -1.0),    # record 7: a negative size
         (T0 + 3 * S, 6, DELTA, -1, 100.02, 1.0),   # record 8: seq 3 -> 6, two updates lost
         (T0 + DAY, 0, TRADE, 1, 100.02, 0.5)]      # the next day
    with L2Writer(path, L2Header("BTCUSD", 0.01, 1e-8, "test")) as w:
        w.write(np.array(r, dtype=RECORD))


def test_l2_import_reports_faults_and_splits_days(tmp_path: Path) -> None:
    p = tmp_path / "rec.l2d"
    faulty(p)
    with Catalog(tmp_path / "cat", create=True) as cat:
        hours = reference_hours(SecurityType.CRYPTO, "coinbase", "BTCUSD")
        ds, report = import_l2(cat, [p], KEY, hours, parse_policies([]))
        got = sorted((f.check, f.row, f.action) for f in report.findings)
        assert got == [("duplicate", 6, "dropped"), ("gap", 8, "flagged"), ("nonpositive", 7, "dropped")]
        assert "2 updates missing" in next(f.reason for f in report.findings if f.check == "gap")
        assert ds.rows == 7 and ds.days == 2 and ds.first_ns == T0 and ds.last_ns == T0 + DAY
        q = list(csv.DictReader((cat.folder_of(KEY) / "quarantine.csv").open()))
        assert [(r["check"], r["row"], r["source"]) for r in q] == [("duplicate", "6", "rec.l2d"),
                                                                    ("nonpositive", "7", "rec.l2d")]
        again = revalidate(cat, ds, dict.fromkeys(CHECKS, "flag"))
        assert [f.check for f in again.findings] == ["gap"]


def test_backtest_on_catalogued_l2_equals_the_recording(tmp_path: Path) -> None:
    p = tmp_path / "btc.l2d"
    write_book(p)
    with Catalog(tmp_path / "cat", create=True) as cat:
        ds, report = import_l2(cat, [p], KEY, reference_hours(SecurityType.CRYPTO, "coinbase", "BTCUSD"),
                               parse_policies([]))
        assert report.clean and len(day_paths(cat, ds)) == 1

    def run(path: str | None, catalog: Path | None):
        Passive.path = path
        s = Passive()
        Engine(s, SAMPLE_DATA, catalog=catalog, order_books=SimulatedBooks()).run()
        return s.seen, s.fills

    assert run(None, tmp_path / "cat") == run(str(p), None)
    assert run(None, tmp_path / "cat")[1]


def test_l2_through_the_cli(tmp_path: Path, capsys) -> None:
    from leand.cli import main

    p = tmp_path / "rec.l2d"
    faulty(p)
    cat = str(tmp_path / "cat")
    code = main(["data", "import", str(p), "--catalog", cat, "--symbol", "BTCUSD", "--security-type", "crypto",
                 "--kind", "l2-delta", "--resolution", "tick"])
    out = capsys.readouterr().out
    assert code == 0 and "7 stored, 2 dropped" in out and "rec.l2d:8" in out
    assert main(["data", "validate", "BTCUSD", "--catalog", cat]) == 1  # the flagged sequence gap is still there
    assert "gap" in capsys.readouterr().out
