"""--param specs, grid order, seeded random draws, targets and constraints."""

from __future__ import annotations

import pytest

from leand.optimize.space import Space, SpaceError, parse_param
from leand.optimize.targets import Constraint, Target, TargetError


def test_ranges_choices_and_fixed_values() -> None:
    assert parse_param("fast=5:50:5").values == (5, 10, 15, 20, 25, 30, 35, 40, 45, 50)
    assert parse_param("slow=20:200:10").values[-1] == 200 and len(parse_param("slow=20:200:10").values) == 19
    assert parse_param("k=1:3").values == (1, 2, 3)
    assert parse_param("x=0.1:0.5:0.1").values == (0.1, 0.2, 0.3, 0.4, 0.5)
    assert parse_param("mode=a,b").values == ("a", "b")
    assert parse_param("n=3").values == (3,)


@pytest.mark.parametrize("spec", ["fast", "fast=", "fast=5:1", "fast=1:5:0", "fast=a:b", "m=a,a", "x=1:2:3:4"])
def test_bad_specs(spec: str) -> None:
    with pytest.raises(SpaceError, match="--param"):
        parse_param(spec)


def test_grid_is_last_parameter_fastest_and_random_is_seeded() -> None:
    s = Space.parse(["a=1:2", "b=x,y,z", "c=7"])
    assert len(s) == 6
    assert list(s.grid())[:4] == [{"a": 1, "b": "x", "c": 7}, {"a": 1, "b": "y", "c": 7},
                                  {"a": 1, "b": "z", "c": 7}, {"a": 2, "b": "x", "c": 7}]
    r1, r2 = s.random(4, seed=3), s.random(4, seed=3)
    assert r1 == r2 and len({tuple(p.values()) for p in r1}) == 4
    assert s.random(4, seed=4) != r1
    assert len(s.random(100, seed=1)) == 6
    with pytest.raises(SpaceError, match="twice"):
        Space.parse(["a=1:2", "a=3"])


def test_targets_and_constraints() -> None:
    assert Target.parse("sharpe") == Target("sharpe", "Sharpe Ratio", True)
    assert Target.parse("net_profit").statistic == "Net Profit"
    assert not Target.parse("drawdown").maximize
    assert Target.parse("Sortino Ratio").statistic == "Sortino Ratio"
    with pytest.raises(TargetError, match="unknown statistic"):
        Target.parse("luck")
    c = Constraint.parse("drawdown<0.2")
    assert c.holds({"Drawdown": 0.19}) and not c.holds({"Drawdown": 0.2})
    assert c.violation({"Drawdown": 0.19}) == 0.0 and c.violation({"Drawdown": 0.25}) > 0
    assert Constraint.parse("total_orders >= 10").holds({"Total Orders": 10})
    assert Constraint.parse("drawdown<20%").bound == pytest.approx(0.2)
    with pytest.raises(TargetError, match="--constraint"):
        Constraint.parse("drawdown is small")
