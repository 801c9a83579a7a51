"""The engine's view for the risk gate (implements ``leand.risk.context.RiskContext``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

from leand.model import AccountType, DataNormalizationMode, Instrument, Order, SecurityType, Symbol

if TYPE_CHECKING:
    from leand.engine import Engine


_EQUITY, _ADJUSTED = SecurityType.EQUITY, DataNormalizationMode.ADJUSTED


class EngineRiskContext:
    __slots__ = ("_adjusted", "_engine", "_securities")

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        #: the engine's securities dict (the same object for the engine's life)
        self._securities = engine.securities
        self._adjusted: dict[Symbol, Instrument] = {}

    def now_ns(self) -> int:
        return self._engine.clock.now_ns()

    def instrument(self, symbol: Symbol) -> Instrument | None:
        sec = self._securities.get(symbol)
        if sec is None:
            return None
        inst = sec.instrument
        if sec.security_type is _EQUITY and sec.normalization is _ADJUSTED:
            # adjusted prices are off the exchange grid by design; LEAN does not round them either
            return self._adjusted.get(symbol) or self._adjusted.setdefault(
                symbol, msgspec.structs.replace(inst, tick_size=0.0))
        return inst

    def order_view(self, symbol: Symbol, mid: bool) -> tuple[Instrument | None, bool, float]:
        """What the risk gate asks of a market order's symbol, in one call: ``instrument``, ``tradable`` and the
        reference price (``mid_price`` if ``mid``, else ``last_price``)."""
        sec = self._securities.get(symbol)
        if sec is None:
            return None, False, 0.0
        inst: Instrument | None = sec.instrument
        if sec.security_type is _EQUITY and sec.normalization is _ADJUSTED:
            inst = self._adjusted.get(symbol) or self.instrument(symbol)  # (its grid-free copy, made once)
        if mid and sec.bid and sec.ask:
            return inst, sec.is_tradable, (sec.bid + sec.ask) / 2
        return inst, sec.is_tradable, sec.price

    def tradable(self, symbol: Symbol) -> bool:
        sec = self._securities.get(symbol)
        return sec is not None and sec.is_tradable

    def last_price(self, symbol: Symbol) -> float:
        sec = self._securities.get(symbol)
        return 0.0 if sec is None else sec.price

    def mid_price(self, symbol: Symbol) -> float:
        sec = self._securities.get(symbol)
        if sec is None:
            return 0.0
        if sec.bid and sec.ask:
            return (sec.bid + sec.ask) / 2
        return sec.price

    def position(self, symbol: Symbol) -> float:
        sec = self._securities.get(symbol)
        return 0.0 if sec is None else sec.holdings.quantity

    def positions(self) -> dict[Symbol, float]:
        return {s: sec.holdings.quantity for s, sec in self._engine.securities.items() if sec.holdings.quantity}

    def open_orders(self) -> Iterable[Order]:
        return self._engine.open_orders.values()

    def cash_available(self, currency: str) -> float:
        return self._engine.portfolio.cash_book.ensure(currency).amount

    def buying_power(self, symbol: Symbol, quantity: float, price: float) -> float:
        eng = self._engine
        sec = eng.securities.get(symbol)
        if sec is None:
            return 0.0
        pf = eng.portfolio
        if pf.account_type is AccountType.CASH and sec.base_currency:
            if quantity > 0:
                return pf.cash_book.ensure(sec.quote_currency).amount
            return pf.cash_book.ensure(sec.base_currency).amount * price
        return pf.margin_remaining() * sec.leverage

    def equity(self) -> float:
        return self._engine.portfolio.total_portfolio_value

    def start_of_day_equity(self) -> float:
        samples = self._engine.daily_samples
        return samples[-1][1] if samples else self._engine.portfolio.total_portfolio_value

    def peak_equity(self) -> float:
        return self._engine.peak_equity

    def venue_of(self, symbol: Symbol) -> str:
        return symbol.market
