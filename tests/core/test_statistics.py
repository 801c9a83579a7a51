"""Statistics formulas and LEAN's formatting on hand-made series."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest

from leand.stats import _format, _kurtosis, _skewness, compute, smart_round
from leand.stats.inputs import StatisticsInput

DAY = 86_400_000_000_000


def series(values: list[float], bench: list[float] | None = None, sales: float = 0.0) -> StatisticsInput:
    bench = bench or [100.0 + i for i in range(len(values))]
    daily = [(i * DAY, v, b, sales) for i, (v, b) in enumerate(zip(values, bench))]
    return StatisticsInput(start_equity=values[0], end_equity=values[-1], equity=[(t, v) for t, v, _, _ in daily],
                           daily=daily, transactions=[], total_fees=3.485, total_orders=2)


def test_sharpe_and_drawdown_by_hand() -> None:
    vals = [100.0, 100.0, 101.0, 99.0, 102.0, 103.0]
    s = compute(series(vals))
    r = [(b - a) / a for a, b in pairwise(vals[1:])]  # first two samples are dropped
    m = sum(r) / len(r)
    sd = math.sqrt(sum((x - m) ** 2 for x in r) / (len(r) - 1))
    ap = (1 + m) ** 252 - 1
    assert s.values["Sharpe Ratio"] == pytest.approx(ap / (sd * math.sqrt(252)))
    assert s.values["Drawdown"] == round(1 - 99 / 101, 3)
    assert s.formatted["Drawdown"] == "2.000%"
    assert s.formatted["Total Fees"] == "$3.49"  # half away from zero
    assert s.values["Drawdown Recovery"] == 2


def test_short_runs_leave_ratios_at_zero() -> None:
    s = compute(series([100.0, 100.0, 105.0]))
    assert s.formatted["Sharpe Ratio"] == "0" and s.formatted["Drawdown"] == "0%"
    assert s.formatted["Net Profit"] == "0%" and s.formatted["End Equity"] == "105"


def test_sortino_needs_two_negative_returns() -> None:
    assert compute(series([100.0, 100.0, 99.0, 101.0, 102.0])).values["Sortino Ratio"] == 0
    assert compute(series([100.0, 100.0, 99.0, 98.0, 102.0, 103.0])).values["Sortino Ratio"] != 0


def test_lean_number_formats() -> None:
    v = dict.fromkeys(["Total Orders", "Average Win", "Average Loss", "Compounding Annual Return", "Drawdown",
                       "Expectancy", "Start Equity", "End Equity", "Net Profit", "Sharpe Ratio", "Sortino Ratio",
                       "Probabilistic Sharpe Ratio", "Loss Rate", "Win Rate", "Profit-Loss Ratio", "Alpha", "Beta",
                       "Annual Standard Deviation", "Annual Variance", "Information Ratio", "Tracking Error",
                       "Treynor Ratio", "Total Fees", "Portfolio Turnover", "Drawdown Recovery"], 0.0)
    v.update({"Beta": 0.10004, "Expectancy": -0.2, "Profit-Loss Ratio": 0.6, "Information Ratio": -19.0001,
              "Compounding Annual Return": -0.0525, "Win Rate": 0.5, "Start Equity": 100000.0,
              "Probabilistic Sharpe Ratio": 1e-9, "Drawdown": 0.022})
    f = _format(v, "USD")
    assert (f["Beta"], f["Expectancy"], f["Profit-Loss Ratio"], f["Information Ratio"]) == ("0.1", "-0.200",
                                                                                           "0.60", "-19")
    assert (f["Compounding Annual Return"], f["Win Rate"], f["Start Equity"]) == ("-5.250%", "50%", "100000")
    assert (f["Probabilistic Sharpe Ratio"], f["Drawdown"], f["Sharpe Ratio"]) == ("0.000%", "2.200%", "0")


def test_smart_rounding_and_moments() -> None:
    assert smart_round(1234.567891) == 1234.5679
    assert smart_round(144.7817241) == 144.7817
    x = [0.01, -0.02, 0.03, 0.005, -0.01, 0.02]
    n = len(x)
    m = sum(x) / n
    s = math.sqrt(sum((v - m) ** 2 for v in x) / (n - 1))
    assert _skewness(x) == pytest.approx(n / ((n - 1) * (n - 2)) * sum(((v - m) / s) ** 3 for v in x))
    assert _kurtosis(x) == pytest.approx(
        n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * sum(((v - m) / s) ** 4 for v in x)
        - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
