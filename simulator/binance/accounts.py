"""Balances per API key, in exact decimals: free and locked per asset, funds locked for open orders, and
the fee rule (commission is taken from the asset received: base for a buyer, quote for a seller)."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from . import errors

ZERO = Decimal(0)
Q8 = Decimal("0.00000001")


def q8(x: Decimal) -> Decimal:
    """Round to Binance's 8 decimals (down: the venue never credits a fraction it does not have)."""
    return x.quantize(Q8, rounding=ROUND_DOWN)


def fmt(x: Decimal | float | int) -> str:
    """Binance's wire format for amounts: 8 decimals."""
    if isinstance(x, Decimal):
        return f"{x.quantize(Q8):f}"
    return f"{x:.8f}"


class Account:
    def __init__(self, api_key: str, secret: str, balances: dict[str, str], uid: int) -> None:
        self.api_key = api_key
        self.secret = secret
        self.uid = uid
        self.free: dict[str, Decimal] = {a: Decimal(v) for a, v in balances.items()}
        self.locked: dict[str, Decimal] = dict.fromkeys(self.free, ZERO)
        self.update_time = 0
        self._changed: set[str] = set()

    def __repr__(self) -> str:  # never the secret
        return f"Account(uid={self.uid})"

    def _touch(self, asset: str) -> None:
        if asset not in self.free:
            self.free[asset] = ZERO
            self.locked[asset] = ZERO
        self._changed.add(asset)

    def available(self, asset: str) -> Decimal:
        return self.free.get(asset, ZERO)

    def lock(self, asset: str, amount: Decimal) -> None:
        """Reserve ``amount`` for an open order; -2010 when there is not enough free."""
        self._touch(asset)
        if amount > self.free[asset]:
            raise errors.order_rejected(errors.INSUFFICIENT_BALANCE)
        self.free[asset] -= amount
        self.locked[asset] += amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        self._touch(asset)
        self.locked[asset] -= amount
        self.free[asset] += amount

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        self._touch(asset)
        self.locked[asset] -= amount

    def add(self, asset: str, amount: Decimal) -> None:
        """Credit (or, negative, debit) free balance."""
        self._touch(asset)
        self.free[asset] += amount

    def take_changed(self) -> list[str]:
        """The assets changed since the last call (for outboundAccountPosition), sorted."""
        ch = sorted(self._changed)
        self._changed.clear()
        return ch

    def balances_json(self, omit_zero: bool = False) -> list[dict[str, str]]:
        out = []
        for a in sorted(self.free):
            f, lk = self.free[a], self.locked[a]
            if omit_zero and f == 0 and lk == 0:
                continue
            out.append({"asset": a, "free": fmt(f), "locked": fmt(lk)})
        return out

    def position_json(self, assets: list[str]) -> list[dict[str, str]]:
        return [{"a": a, "f": fmt(self.free[a]), "l": fmt(self.locked[a])} for a in assets]
