"""Allocations: how strategies share a venue account, the unit of money.

A strategy sees only its allocation of an account as cash and buying power: a fraction of every currency the
account held when the daemon first started (journaled then, so allocations do not drift with trading), or fixed
amounts per currency. Strategies that name no allocation share what the others leave, equally. The sum of the
allocations may not exceed the account: that is a start-up error naming the currency and the figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec


class AllocationError(ValueError):
    """Allocations that cannot be honoured (over the account, negative, malformed)."""


class Allocation(msgspec.Struct, frozen=True, kw_only=True):
    """A fraction of every currency of the account, or fixed amounts per currency (exactly one of the two)."""

    fraction: float | None = None
    amounts: dict[str, float] = {}

    @classmethod
    def parse(cls, raw: Any, where: str) -> Allocation:
        """``0.5`` (a fraction) or ``{ USD = 40000, BTC = 0.5 }`` (amounts), as written in the config."""
        if isinstance(raw, bool) or raw is None:
            raise AllocationError(f"{where} = {raw!r}: expected a fraction (0.5) or amounts ({{ USD = 40000 }})")
        if isinstance(raw, (int, float)):
            f = float(raw)
            if not 0 < f <= 1:
                raise AllocationError(f"{where} = {raw!r}: a fraction must be in (0, 1]")
            return cls(fraction=f)
        if isinstance(raw, Mapping):
            amounts = {}
            for ccy, v in raw.items():
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0 or v == float("inf"):
                    raise AllocationError(f"{where}.{ccy} = {v!r}: expected an amount >= 0")
                amounts[str(ccy).upper()] = float(v)
            if not amounts:
                raise AllocationError(f"{where}: an empty table allocates nothing")
            return cls(amounts=amounts)
        raise AllocationError(f"{where} = {raw!r}: expected a fraction (0.5) or amounts ({{ USD = 40000 }})")


def allocate(account: str, balances: Mapping[str, float], wanted: Mapping[str, Allocation | None]
             ) -> dict[str, dict[str, float]]:
    """Each strategy's cash per currency out of ``balances``; strategies given None share the remainder.

    Raises AllocationError when the allocations add up to more than the account holds in some currency.
    """
    out: dict[str, dict[str, float]] = {sid: {} for sid in wanted}
    explicit = {sid: a for sid, a in wanted.items() if a is not None}
    rest = [sid for sid, a in wanted.items() if a is None]
    currencies = set(balances) | {c for a in explicit.values() for c in a.amounts}
    for ccy in sorted(currencies):
        held = float(balances.get(ccy, 0.0))
        used = 0.0
        for sid, a in explicit.items():
            amt = held * a.fraction if a.fraction is not None else a.amounts.get(ccy, 0.0)
            out[sid][ccy] = amt
            used += amt
        if used > held * (1 + 1e-12) + 1e-12:
            parts = ", ".join(f"{sid} {out[sid][ccy]:,.8g}" for sid in explicit)
            raise AllocationError(f"account {account!r}: allocations of {ccy} add up to {used:,.8g} ({parts}), "
                                  f"more than the {held:,.8g} it holds")
        left = max(held - used, 0.0)
        for sid in rest:
            out[sid][ccy] = left / len(rest)
    return {sid: {c: v for c, v in cash.items() if v} for sid, cash in out.items()}
