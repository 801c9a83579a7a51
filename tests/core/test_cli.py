"""`leand backtest` as a real subprocess: the result folder, and one clear error per bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def leand(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leand.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_backtest_writes_result_folder(tmp_path: Path) -> None:
    out = tmp_path / "res"
    p = leand("backtest", str(ROOT / "strategies" / "buy_and_hold.py"), "--out", str(out), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "End Equity" in p.stdout and "101691.92" in p.stdout
    stats = json.loads((out / "statistics.json").read_text())
    assert stats["statistics"]["Total Orders"] == "1"
    for name in ("orders.csv", "fills.csv", "equity.csv", "daily.csv", "trades.csv", "meta.json", "result.msgpack"):
        assert (out / name).is_file(), name
    assert (out / "fills.csv").read_text().count("\n") == 2


def test_backtest_is_deterministic(tmp_path: Path) -> None:
    outs = []
    for i in range(2):
        out = tmp_path / f"r{i}"
        p = leand("backtest", str(ROOT / "strategies" / "buy_and_hold.py"), "--out", str(out), cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        outs.append(out)
    for name in ("statistics.json", "orders.csv", "fills.csv", "equity.csv", "daily.csv", "meta.json",
                 "result.msgpack"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_json_and_overrides(tmp_path: Path) -> None:
    p = leand("backtest", str(ROOT / "strategies" / "buy_and_hold.py"), "--json", "--cash", "50000",
              "--start", "2013-10-08", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    stats = json.loads(p.stdout)
    assert stats["Start Equity"] == "50000"


def test_strategy_that_does_not_load(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from leand import Strategy\nclass X(Strategy)\n    pass\n")
    p = leand("backtest", str(bad), cwd=tmp_path)
    assert p.returncode == 2
    assert "does not load" in p.stderr and "line 2" in p.stderr
    assert "Traceback" not in p.stderr


def test_missing_data_folder(tmp_path: Path) -> None:
    p = leand("backtest", str(ROOT / "strategies" / "buy_and_hold.py"), "--data", str(tmp_path / "nope"),
              cwd=tmp_path)
    assert p.returncode == 2 and "data folder not found" in p.stderr


def test_dates_with_no_data(tmp_path: Path) -> None:
    p = leand("backtest", str(ROOT / "strategies" / "buy_and_hold.py"), "--start", "1990-01-02", "--end",
              "1990-01-05", cwd=tmp_path)
    assert p.returncode == 2 and "no data between 1990-01-02 and 1990-01-05" in p.stderr


def test_file_with_no_strategy_class(tmp_path: Path) -> None:
    f = tmp_path / "empty.py"
    f.write_text("x = 1\n")
    p = leand("backtest", str(f), cwd=tmp_path)
    assert p.returncode == 2 and "exactly one Strategy subclass" in p.stderr
