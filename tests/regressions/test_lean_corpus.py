"""The ports of LEAN's 35-algorithm regression corpus (tests/regressions/corpus/) against LEAN's statistics.

Total Orders must match exactly and End Equity within 0.01 %; every other statistic is compared side by side
in PARITY.md (``python tests/regressions/make_parity.py`` regenerates it). The ports are LEAN's Python files
with ``from AlgorithmImports import *`` replaced by ``from leand.algorithm_imports import *``; a port that
had to change more says why in a ``# leand:`` line at the place it changed. The algorithms' own checks run:
an assertion raised inside one fails its test.
"""

from __future__ import annotations

import pytest
from corpus_harness import CORPUS, data_dir_for, matches, run

#: algorithms leand does not reproduce yet, and why (each is a PARITY.md row too)
GAPS: dict[str, str] = {
    "FractionalQuantityRegressionAlgorithm": "orders (7) and every pre-quit step match (the day's Portfolio.Cash before "
                                             "the last set_holdings pair is LEAN's End Equity, 113775.23); LEAN's End "
                                             "Equity is that last equity sample, before the final orders' fills",
    "ScheduledUniverseSelectionModelRegressionAlgorithm": "runs (its own checks of each selection's changes "
                                                          "pass); 51 of LEAN's 59 orders and 65.6 % turnover "
                                                          "against 90.3 %: LEAN trades more",
    "CustomPartialFillModelAlgorithm": "orders (24) and fees match, with LEAN's two scans per time step (one scan "
                                       "gives 14 orders) and 16:00 orders as market-on-open; End Equity is 0.06 % "
                                       "below LEAN's, a fill-price difference not found yet",
    "CustomModelsAlgorithm": "orders (63) match, with .NET's Random ported; End Equity is 0.012 % off and fees "
                             "$62.25 vs $62.23: some order sizes or fill prices differ slightly",
    "CompositeAlphaModelFrameworkAlgorithm": "runs LEAN's own RsiAlphaModel and EmaCrossAlphaModel unchanged; 14 "
                                             "of LEAN's 16 orders: LEAN's fees ($2.06 more) and turnover say two "
                                             "more one-share rebalances, which the 0.1 % minimum order margin drops "
                                             "here (without it: 18)",
}


def _params() -> list:
    """One parameter per algorithm, in rank order (a list: pytest deprecates parametrizing with a generator)."""
    return [pytest.param(name, marks=[pytest.mark.xfail(reason=GAPS[name], strict=False)] if name in GAPS else [],
                         id=name)
            for name in sorted(CORPUS, key=lambda n: CORPUS[n]["rank"])]


@pytest.mark.parametrize("name", _params())
def test_corpus_algorithm(name: str) -> None:
    if data_dir_for(name) is None:
        pytest.skip(f"{name}: a LEAN data file it reads is neither in data/lean nor in the shared data folder")
    _, got = run(name)
    exp = CORPUS[name]["expected_statistics"]
    orders_ok, equity_ok = matches(name, got)
    assert orders_ok, f"Total Orders {got['Total Orders']} vs LEAN {exp['Total Orders']}"
    assert equity_ok, f"End Equity {got['End Equity']} vs LEAN {exp['End Equity']}"
