"""The `leand data` commands end to end: import, ls [--json], show, validate (with a tampered file), rm,
import-lean, a backtest with --data pointing at a catalogue, and one-line errors with exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from leand.bundled import STRATEGIES
from leand.cli import main
from tests.catalog.test_import_faults import bars, write


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_ls_show_validate_rm(tmp_path: Path, capsys) -> None:
    cat = str(tmp_path / "cat")
    rows = bars(2880)
    rows[100][4] = rows[100][2] = rows[100][4] * 50  # one spike
    path = write(tmp_path / "btc.csv", ["open_time", "open", "high", "low", "close", "volume"], rows)
    code, out, _ = cli(capsys, "data", "import", str(path), "--catalog", cat, "--symbol", "BTC/USDT",
                       "--security-type", "crypto", "--market", "binance", "--kind", "trade-bar", "--resolution", "1m")
    assert code == 0, _
    assert "2,879 stored, 1 dropped" in out and "spike" in out and "btc.csv:102" in out

    code, out, _ = cli(capsys, "data", "ls", "--catalog", cat)
    assert code == 0 and "BTCUSDT" in out and "crypto/binance" in out and "2,879" in out
    code, out, _ = cli(capsys, "data", "ls", "--catalog", cat, "--json")
    (d,) = json.loads(out)
    assert d["symbol"] == "BTCUSDT" and d["rows"] == 2879 and d["kind"] == "trade_bar" and d["resolution"] == "minute"
    assert d["findings"]["counts"] == {"spike:dropped": 1} and len(d["checksum"]) == 64

    code, out, _ = cli(capsys, "data", "show", "BTCUSDT", "--catalog", cat)
    assert code == 0 and "quarantined_rows 1" in out and "spike" in out

    code, out, _ = cli(capsys, "data", "validate", "BTCUSDT", "--catalog", cat)
    assert code == 0 and "verdict: clean" in out

    # a stored file changed behind the catalogue's back: its checksum and the spike it now holds are reported
    day = tmp_path / "cat" / "crypto" / "binance" / "minute" / "btcusdt" / "trade_bar" / "20240101.npy"
    a = np.load(day)
    a[5, 700] = a[5, 700] * 100  # close of row 700
    np.save(day, a)
    code, out, _ = cli(capsys, "data", "validate", "BTCUSDT", "--catalog", cat)
    assert code == 1 and "checksum" in out and "20240101.npy:701" in out and "spike" in out
    code, out, _ = cli(capsys, "data", "ls", "--catalog", cat, "--json")
    assert json.loads(out)[0]["verdict"].startswith("issues")

    code, out, _ = cli(capsys, "data", "rm", "BTCUSDT", "--catalog", cat)
    assert code == 0 and "removed BTCUSDT" in out
    assert not (tmp_path / "cat" / "crypto" / "binance" / "minute" / "btcusdt" / "trade_bar").exists()
    code, out, _ = cli(capsys, "data", "ls", "--catalog", cat)
    assert "no datasets" in out


def test_fail_policy_and_bad_input_are_one_line_errors(tmp_path: Path, capsys) -> None:
    cat = str(tmp_path / "cat")
    rows = bars(500)
    rows.insert(10, list(rows[10]))
    path = write(tmp_path / "dup.csv", ["time", "open", "high", "low", "close", "volume"], rows)
    common = ["--catalog", cat, "--symbol", "X", "--security-type", "crypto", "--kind", "trade_bar",
              "--resolution", "minute"]
    code, _, err = cli(capsys, "data", "import", str(path), *common, "--policy", "duplicate=fail")
    assert code == 1 and err.count("\n") == 1 and "duplicate: dup.csv row 13" in err and "of row 12" in err
    code, _, err = cli(capsys, "data", "import", str(tmp_path / "missing.csv"), *common)
    assert code == 2 and "missing.csv" in err and err.count("\n") == 1
    code, _, err = cli(capsys, "data", "import", str(path), *common, "--policy", "spikes=drop")
    assert code == 2 and "--policy" in err
    bad = write(tmp_path / "cols.csv", ["when", "a", "b"], [[1, 2, 3]])
    code, _, err = cli(capsys, "data", "import", str(bad), *common)
    assert code == 2 and "cannot find" in err and "--columns" in err
    code, _, err = cli(capsys, "data", "show", "NOPE", "--catalog", cat)
    assert code == 2


def test_import_lean_then_backtest_on_the_catalogue(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("LEAND_CATALOG", str(tmp_path / "no-default-catalogue"))
    cat = str(tmp_path / "cat")
    code, out, _ = cli(capsys, "data", "import-lean", "--catalog", cat, "--symbol", "SPY")
    assert code == 0 and "SPY equity/usa trade_bar minute" in out and "SPY equity/usa trade_bar daily" in out
    code, out, err = cli(capsys, "backtest", str(STRATEGIES / "buy_and_hold.py"), "--data", cat, "--json",
                         "--out", str(tmp_path / "res"))
    assert code == 0, err
    stats = json.loads(out)
    code, out2, _ = cli(capsys, "backtest", str(STRATEGIES / "buy_and_hold.py"), "--json", "--catalog",
                        str(tmp_path / "none"), "--out", str(tmp_path / "res2"))
    assert code == 2  # a named catalogue that does not exist
    code, out2, _ = cli(capsys, "backtest", str(STRATEGIES / "buy_and_hold.py"), "--json",
                        "--out", str(tmp_path / "res2"))
    assert code == 0 and json.loads(out2) == stats
