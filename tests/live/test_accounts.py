"""Allocations of a venue account among strategies: fractions, fixed amounts, the remainder shared, and a clear
start-up error when they add up to more than the account."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leand.live.accounts import Allocation, AllocationError, allocate


def test_fractions_amounts_and_the_remainder() -> None:
    bal = {"USD": 100_000.0, "BTC": 2.0}
    out = allocate("paper", bal, {"a": Allocation.parse(0.5, "a"), "b": Allocation.parse({"usd": 20_000}, "b"),
                                  "c": None, "d": None})
    assert out["a"] == {"USD": 50_000.0, "BTC": 1.0}
    assert out["b"] == {"USD": 20_000.0}
    assert out["c"] == out["d"] == {"USD": 15_000.0, "BTC": 0.5}


def test_over_allocation_is_one_clear_error() -> None:
    with pytest.raises(AllocationError, match=r"account 'paper': allocations of USD add up to 110,000 "
                                              r"\(a 60,000, b 50,000\), more than the 100,000 it holds"):
        allocate("paper", {"USD": 100_000.0}, {"a": Allocation.parse(0.6, "a"),
                                               "b": Allocation.parse({"USD": 50_000}, "b")})


@pytest.mark.parametrize("raw", [0, 1.5, -0.1, True, "half", {}, {"USD": -1}, {"USD": "x"}, None])
def test_bad_allocations_are_refused_with_where(raw) -> None:
    with pytest.raises(AllocationError, match=r"^strategies\[0\]\.allocation"):
        Allocation.parse(raw, "strategies[0].allocation")


@given(st.dictionaries(st.sampled_from(["USD", "BTC", "ETH"]), st.floats(0, 1e9), min_size=1),
       st.lists(st.one_of(st.none(), st.floats(0.01, 1.0)), min_size=1, max_size=5))
def test_allocations_never_exceed_the_account(balances, fractions) -> None:
    wanted = {f"s{i}": None if f is None else Allocation(fraction=f) for i, f in enumerate(fractions)}
    try:
        out = allocate("x", balances, wanted)
    except AllocationError:
        assert sum(f for f in fractions if f is not None) > 1 - 1e-9
        return
    for ccy, held in balances.items():
        assert sum(cash.get(ccy, 0.0) for cash in out.values()) <= held * (1 + 1e-9) + 1e-9
        if any(f is None for f in fractions):  # nothing is left unallocated when some strategy takes the rest
            assert sum(cash.get(ccy, 0.0) for cash in out.values()) == pytest.approx(held, rel=1e-9, abs=1e-6)
