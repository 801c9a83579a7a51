"""Symbols and instruments: what can be traded and on which grid."""

from __future__ import annotations

import msgspec

from leand.model.enums import SecurityType

#: Symbol -> its ``id`` text (a process has a few thousand symbols at most)
_IDS: dict[Symbol, str] = {}
#: (ticker, security type, market) -> the one shared Symbol of that identity (see ``Symbol.interned``)
_INTERNED: dict[tuple[str, SecurityType, str], Symbol] = {}


class Symbol(msgspec.Struct, frozen=True, gc=False, cache_hash=True):
    """A tradable identifier: ticker + security type + market. Hashable, cheap to compare.

    ``value`` is the permanent ticker (LEAN's map-file name), upper case.
    """

    value: str
    security_type: SecurityType = SecurityType.EQUITY
    market: str = "usa"

    def __str__(self) -> str:
        return self.value

    @property
    def id(self) -> str:
        """Stable text form used in files and journals: ``EQUITY:USA:SPY``. Made once per symbol (venues
        and journals ask for it on every quote and order)."""
        i = _IDS.get(self)
        if i is None:
            i = _IDS[self] = f"{self.security_type.value}:{self.market}:{self.value}"
        return i

    def interned(self) -> Symbol:
        """The process's one shared instance equal to this symbol. The named constructors and a recording's
        decode hand it out, so the per-event paths that check ``is`` first (the engine loop's security, the
        paper venue's last quote, a slice's ticks by symbol) find it without hashing or comparing fields: a
        Symbol decoded per message costs ~0.5 µs to hash and again to compare."""
        key = (self.value, self.security_type, self.market)
        s = _INTERNED.get(key)
        if s is None:
            s = _INTERNED[key] = self
        return s

    @classmethod
    def parse(cls, text: str) -> Symbol:
        sec, market, value = text.split(":", 2)
        return cls(value, SecurityType(sec), market).interned()

    @classmethod
    def create(cls, ticker: str, security_type: SecurityType | str = SecurityType.EQUITY, market: str = "usa"
               ) -> Symbol:
        """LEAN's ``Symbol.create(ticker, SecurityType.X, Market.Y)``."""
        return cls(ticker.upper(), SecurityType(security_type), market.lower()).interned()

    @classmethod
    def equity(cls, ticker: str, market: str = "usa") -> Symbol:
        return cls(ticker.upper(), SecurityType.EQUITY, market).interned()

    @classmethod
    def crypto(cls, ticker: str, market: str = "coinbase") -> Symbol:
        return cls(ticker.upper(), SecurityType.CRYPTO, market).interned()

    @classmethod
    def forex(cls, ticker: str, market: str = "oanda") -> Symbol:
        return cls(ticker.upper(), SecurityType.FOREX, market).interned()


#: lot size -> {quantity: quantity rounded to the lot}, for lots under 1 (see ``Instrument.round_lot``)
_ROUNDED_LOTS: dict[float, dict[float, float]] = {}
_CACHE_SIZE = 4096


class Instrument(msgspec.Struct, frozen=True, gc=False):
    """Trading properties of a symbol, as in LEAN's symbol-properties database."""

    symbol: Symbol
    quote_currency: str = "USD"
    base_currency: str | None = None
    tick_size: float = 0.01
    lot_size: float = 1.0
    multiplier: float = 1.0
    min_order_size: float = 0.0
    description: str = ""

    def round_lot(self, quantity: float) -> float:
        """Round a quantity toward zero to a multiple of the lot size (LEAN's rule)."""
        lot = self.lot_size
        if lot <= 0:
            return quantity
        if lot < 1:  # round() to 12 places is slow and strategies repeat their quantities: remembered per lot
            cache = _ROUNDED_LOTS.get(lot)
            if cache is None:
                cache = _ROUNDED_LOTS[lot] = {}
            r = cache.get(quantity)
            if r is None:
                q = round(int(abs(quantity) / lot + 1e-9) * lot, 12)
                r = q if quantity >= 0 else -q
                if len(cache) >= _CACHE_SIZE:
                    cache.clear()
                cache[quantity] = r
            return r
        n = int(abs(quantity) / lot + 1e-9)
        q = n * lot
        return q if quantity >= 0 else -q

    def round_price(self, price: float) -> float:
        """Round a price to the nearest tick (banker's rounding, like .NET's Math.Round)."""
        tick = self.tick_size
        if tick <= 0:
            return price
        return round(round(price / tick) * tick, 12)

    def on_tick_grid(self, price: float) -> bool:
        tick = self.tick_size
        if tick <= 0:
            return True
        steps = price / tick
        return abs(steps - round(steps)) < 1e-6
