"""The same backtest on a LEAN folder and on its catalogued import gives identical orders and statistics,
and add_equity/add_crypto read catalogued data first when a catalogue sits in front of the folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from leand.backtest.runner import run_backtest
from leand.bundled import SAMPLE_DATA
from leand.bundled import STRATEGIES as EXAMPLES
from leand.data.catalog import Catalog, DatasetKey
from leand.data.catalog.lean_import import import_lean
from leand.data.catalog.store import read_block, write_block
from leand.model import Resolution, SecurityType

HERE = Path(__file__).resolve().parent
STRATEGIES = ["strat_minute.py", "strat_crypto.py", str(EXAMPLES / "sma_crossover.py")]


@pytest.fixture(scope="module")
def catalogued(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    with Catalog(root, create=True) as cat:
        import_lean(cat, SAMPLE_DATA, symbols={"SPY", "IBM", "BTCUSD"})
    return root


def _digest(result) -> tuple:
    return result.orders, result.fills, result.statistics, result.equity


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_lean_folder_and_its_catalogue_give_identical_results(catalogued: Path, strategy: str) -> None:
    path = HERE / strategy
    _, lean = run_backtest(path, data_dir=SAMPLE_DATA)
    _, cat = run_backtest(path, data_dir=catalogued)
    assert lean.orders, "the strategy must trade for the comparison to mean something"
    assert _digest(cat) == _digest(lean)


def test_catalogue_in_front_of_the_folder_is_read_first(catalogued: Path, tmp_path: Path) -> None:
    """A catalogued SPY whose prices are doubled wins over the folder's SPY (its quotes too)."""
    root = tmp_path / "cat"
    shutil.copytree(catalogued, root)
    with Catalog(root) as cat:
        for kind in ("trade_bar", "quote_bar"):
            key = DatasetKey(SecurityType.EQUITY, "usa", "SPY", kind, Resolution.MINUTE)
            for day in cat.day_files(cat.get(key)):
                path = cat.path_of(key, day)
                block = np.array(read_block(path))
                block[2:] *= 2.0  # every price (and size) doubled
                write_block(path, block)
    strategy = EXAMPLES / "buy_and_hold.py"
    _, doubled = run_backtest(strategy, data_dir=SAMPLE_DATA, catalog=root)
    _, plain = run_backtest(strategy, data_dir=SAMPLE_DATA)
    assert doubled.orders and plain.orders
    assert doubled.orders[0].quantity == pytest.approx(plain.orders[0].quantity / 2, abs=1)
    assert doubled.fills[0].price == pytest.approx(plain.fills[0].price * 2)
