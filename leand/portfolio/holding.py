"""A position in one security, with LEAN's average-price and realized-P&L arithmetic."""

from __future__ import annotations

#: decimals -> {quantity: round(quantity, decimals)} (see ``Holding.round_quantity``)
_ROUNDED: dict[int, dict[float, float]] = {}


class Holding:
    """Signed quantity, average price, realized P&L and fees for one security.

    Prices are in the security's quote currency; ``conversion`` turns them into the account currency.
    """

    __slots__ = ("average_price", "multiplier", "net_profit", "quantity", "total_fees", "total_sale_volume")

    def __init__(self, multiplier: float = 1.0) -> None:
        self.quantity = 0.0
        self.average_price = 0.0
        self.multiplier = multiplier
        self.net_profit = 0.0  # realized, account currency, net of fees
        self.total_fees = 0.0
        self.total_sale_volume = 0.0

    @property
    def invested(self) -> bool:
        return self.quantity != 0

    @property
    def is_long(self) -> bool:
        return self.quantity > 0

    @property
    def is_short(self) -> bool:
        return self.quantity < 0

    def apply_fill(self, quantity: float, price: float, conversion: float, decimals: int | None = None) -> float:
        """Update quantity/average price; return the realized P&L (account currency, before fees). With
        ``decimals``, the quantity is then snapped to that many places (:meth:`round_quantity`)."""
        q0 = self.quantity
        realized = 0.0
        if q0 == 0 or (q0 > 0) == (quantity > 0):
            new_q = q0 + quantity
            self.average_price = (self.average_price * q0 + price * quantity) / new_q
            self.quantity = new_q
        else:
            closed = -quantity if abs(quantity) <= abs(q0) else q0
            # closed has the sign of the position being closed
            realized = (price - self.average_price) * closed * self.multiplier * conversion
            new_q = q0 + quantity
            if abs(new_q) < 1e-12:
                self.quantity = 0.0
                self.average_price = 0.0
            elif (new_q > 0) == (q0 > 0):
                self.quantity = new_q
            else:  # flipped: the remainder opens at the fill price
                self.quantity = new_q
                self.average_price = price
        self.total_sale_volume += abs(quantity) * price * self.multiplier * conversion
        if decimals is not None:
            q = self.quantity
            if q:  # (round_quantity leaves a flat position as it is)
                cache = _ROUNDED.get(decimals)
                r = cache.get(q) if cache is not None and q.__class__ is float else None
                if r is None:
                    self.round_quantity(decimals)
                else:  # a position seen before: round_quantity's answer, remembered
                    self.quantity = r
        return realized

    def round_quantity(self, decimals: int) -> None:
        """Snap the quantity to ``decimals`` places: LEAN keeps quantities as exact decimals (lot multiples), so a
        sum of fractional fills (296 + 0.1 + 0.01 - 0.02) equals the literal 296.09, as a strategy compares it."""
        cache = _ROUNDED.get(decimals)
        if cache is None:
            cache = _ROUNDED[decimals] = {}
        q = self.quantity
        if q.__class__ is not float:  # an int keeps its type
            self.quantity = round(q, decimals)
            return
        if not q:  # round() gives 0.0 and -0.0 back as they are (and they would be one key below)
            return
        r = cache.get(q)
        if r is None:  # round() to many places is slow, and positions come back to the same values: remembered
            r = round(q, decimals)
            if len(cache) >= 4096:
                cache.clear()
            cache[q] = r
        self.quantity = r

    def __repr__(self) -> str:
        return f"Holding(qty={self.quantity:.8g}, avg={self.average_price:.8g})"
