"""A strategy that raises is one message naming its file and line (the traceback with --verbose), exit 1, and
a result folder of what ran until then, marked incomplete; bad command-line values are one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from leand.backtest.runner import BacktestError, StrategyError, run_backtest, typed_parameter
from leand.cli import main

RAISES_IN_ON_DATA = '''from leand import Resolution, Strategy


class Boom(Strategy):
    parameters = {"fast": 10, "ratio": 0.5, "flag": True, "name": "x"}

    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
        self.n = 0

    def on_data(self, data):
        self.n += 1
        if not self.portfolio.invested:
            self.set_holdings(self.spy, 1.0)
        if self.n == 3:
            {}["missing"]
'''

RAISES_IN_INITIALIZE = '''from leand import Strategy


class Boom(Strategy):
    def initialize(self):
        self.set_cash(1000)
        raise RuntimeError("no setup today")
'''


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leand.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_exception_in_on_data(tmp_path):
    (tmp_path / "boom.py").write_text(RAISES_IN_ON_DATA)
    r = _cli("backtest", "boom.py", cwd=tmp_path)
    assert r.returncode == 1
    err = r.stderr.strip().splitlines()
    assert len(err) == 1, r.stderr
    assert "boom.py:18 in on_data: KeyError: 'missing'" in err[0] and "--verbose" in err[0]
    out = tmp_path / "results" / "boom"
    meta = orjson.loads((out / "meta.json").read_bytes())
    assert meta["incomplete"] is True and "boom.py:18" in meta["error"]
    assert meta["failed_at"].startswith("2013-10-09")
    orders = (out / "orders.csv").read_text().splitlines()
    assert len(orders) == 2 and ",SPY," in orders[1]  # the order placed before the failure is kept
    assert "Traceback" in (out / "error.txt").read_text()

    v = _cli("backtest", "boom.py", "--verbose", cwd=tmp_path)
    assert v.returncode == 1 and "Traceback (most recent call last)" in v.stderr and 'File "' in v.stderr


def test_exception_in_initialize(tmp_path):
    (tmp_path / "boom.py").write_text(RAISES_IN_INITIALIZE)
    r = _cli("backtest", "boom.py", "--out", "res", cwd=tmp_path)
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1
    assert "boom.py:7 in initialize: RuntimeError: no setup today" in r.stderr
    meta = orjson.loads((tmp_path / "res" / "meta.json").read_bytes())
    assert meta["incomplete"] is True


def test_strategy_error_carries_the_partial_result(tmp_path):
    p = tmp_path / "boom.py"
    p.write_text(RAISES_IN_ON_DATA)
    with pytest.raises(StrategyError) as ei:
        run_backtest(p)
    assert ei.value.result.meta["incomplete"] and ei.value.result.orders


@pytest.mark.parametrize("param,message", [("fast=abc", "expected an integer like the default 10"),
                                           ("fast=1.5", "expected an integer"),
                                           ("ratio=nan", "expected a finite number"),
                                           ("flag=maybe", "expected true or false")])
def test_param_values_are_checked_against_the_default(tmp_path, param, message):
    (tmp_path / "boom.py").write_text(RAISES_IN_ON_DATA)
    r = _cli("backtest", "boom.py", "--param", param, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_typed_parameter():
    assert typed_parameter("a", "7", 1) == 7
    assert typed_parameter("a", "7", 1.0) == 7.0
    assert typed_parameter("a", "off", True) is False
    assert typed_parameter("a", "7", "s") == "7"
    assert typed_parameter("a", "7", None) == 7
    with pytest.raises(BacktestError):
        typed_parameter("a", "x", 1)


@pytest.mark.parametrize("args", [["backtest", "x.py", "--cash", "-5"], ["backtest", "x.py", "--cash", "nan"],
                                  ["backtest", "x.py", "--start", "yesterday"], ["run", "--for", "-1"],
                                  ["run", "--for", "inf"], ["sim", "serve", "--port", "99999"],
                                  ["backtest"], ["nonsense"], ["backtest", "x.py", "--param", "novalue"],
                                  ["ctl", "strategies", "bogus"], ["ctl"], ["data", "import", "x.csv"]])
def test_bad_cli_values_are_one_line(capsys, args):
    try:
        code = main(args)
    except SystemExit as e:
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "error:" in err, err


def test_sessions_into_a_closed_pipe(tmp_path):
    """``leand sessions | head``: the reader has gone when the listing is written; no BrokenPipe traceback."""
    from leand.replay.recorder import Catalog

    Catalog(tmp_path)  # an empty catalog: the listing is just its header line
    p = subprocess.Popen([sys.executable, "-m", "leand.cli", "sessions", "--recordings", str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.close()  # long before the child has imported anything
    err = p.stderr.read()
    p.wait(60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
