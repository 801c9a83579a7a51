"""Market data events. Times are integer nanoseconds since the Unix epoch, UTC.

Bars carry both ``time`` (period start) and ``end_time`` (when the bar is known, and when the engine
emits it). ``fill_forward`` marks a repeated bar the engine made up for a period with no data: it is
delivered to strategies but does not move prices or trigger fills, as in LEAN.
"""

from __future__ import annotations

import msgspec

from leand.model.instrument import Symbol


class TradeBar(msgspec.Struct, gc=False):
    symbol: Symbol
    time: int
    end_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0
    fill_forward: bool = False

    @property
    def price(self) -> float:
        return self.close

    @property
    def value(self) -> float:
        return self.close


class Bar(msgspec.Struct, gc=False):
    """One side of a quote bar."""

    open: float
    high: float
    low: float
    close: float


class QuoteBar(msgspec.Struct, gc=False):
    symbol: Symbol
    time: int
    end_time: int
    bid: Bar | None
    ask: Bar | None
    last_bid_size: float = 0.0
    last_ask_size: float = 0.0
    fill_forward: bool = False

    def _side(self, name: str) -> float:
        b, a = self.bid, self.ask
        if b is not None and a is not None:
            x, y = getattr(b, name), getattr(a, name)
            if x != 0 and y != 0:
                return (x + y) / 2
            return x or y
        side = b if b is not None else a
        return getattr(side, name) if side is not None else 0.0

    @property
    def open(self) -> float:
        return self._side("open")

    @property
    def high(self) -> float:
        return self._side("high")

    @property
    def low(self) -> float:
        return self._side("low")

    @property
    def close(self) -> float:
        return self._side("close")

    @property
    def price(self) -> float:
        return self.close

    @property
    def value(self) -> float:
        return self.close

    @property
    def volume(self) -> float:
        return 0.0


class TradeTick(msgspec.Struct, gc=False):
    symbol: Symbol
    time: int
    price: float
    quantity: float
    exchange: str = ""
    condition: str = ""
    suspicious: bool = False

    @property
    def end_time(self) -> int:
        return self.time

    @property
    def value(self) -> float:
        return self.price

    @property
    def close(self) -> float:
        return self.price


class QuoteTick(msgspec.Struct, gc=False):
    """A top-of-book update. A side that did not change in the source is 0 (LEAN's one-sided quote lines)."""

    symbol: Symbol
    time: int
    bid_price: float
    bid_size: float
    ask_price: float
    ask_size: float
    exchange: str = ""
    condition: str = ""
    suspicious: bool = False

    @property
    def end_time(self) -> int:
        return self.time

    @property
    def price(self) -> float:
        b, a = self.bid_price, self.ask_price
        if b and a:
            return (b + a) / 2
        return b or a

    value = price
    close = price


class Dividend(msgspec.Struct, gc=False):
    symbol: Symbol
    time: int
    distribution: float
    reference_price: float

    @property
    def end_time(self) -> int:
        return self.time


class Split(msgspec.Struct, gc=False):
    """A split warning (the day before) or occurrence (the ex-date). ``factor`` = new shares per old, inverted
    as in LEAN (0.25 for a 4:1 split... here ``split_factor`` is LEAN's ratio sf_row/sf_next)."""

    symbol: Symbol
    time: int
    split_factor: float
    reference_price: float
    warning: bool = False

    @property
    def end_time(self) -> int:
        return self.time


class SymbolChanged(msgspec.Struct, gc=False):
    symbol: Symbol
    time: int
    old_ticker: str
    new_ticker: str

    @property
    def end_time(self) -> int:
        return self.time


class Delisting(msgspec.Struct, gc=False):
    """A delisting from the map file: ``type`` 0 is the warning (the last trading day), 1 the delisting (the
    day after), as LEAN's ``Delisting`` with ``DelistingType.WARNING``/``DELISTED``."""

    symbol: Symbol
    time: int
    type: int
    price: float = 0.0

    @property
    def end_time(self) -> int:
        return self.time


class BookLevel(msgspec.Struct, gc=False, array_like=True):
    price: float
    size: float


class BookDelta(msgspec.Struct, gc=False, array_like=True):
    """One L2 change: set the displayed size at a price (0 deletes the level)."""

    symbol: Symbol
    time: int
    sequence: int
    is_bid: bool
    price: float
    size: float


class BookSnapshot(msgspec.Struct, gc=False):
    symbol: Symbol
    time: int
    sequence: int
    bids: list[BookLevel]
    asks: list[BookLevel]


MarketData = TradeBar | QuoteBar | TradeTick | QuoteTick
AuxData = Dividend | Split | SymbolChanged
