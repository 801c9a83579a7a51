"""Conversion rates: for every currency in the cash book, a security that prices it in the account currency.

As LEAN does, a currency with no such subscription gets an internal forex feed (Oanda) whose data moves the rate
but never reaches the strategy; a stable coin with no pair is worth 1 USD; a currency may be priced through a
pair into another currency that has a rate (BTCUSDT, then USDT = 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leand.model import Resolution, SecurityType, Symbol, TickType
from leand.security import Security

if TYPE_CHECKING:
    from leand.engine import Engine

#: stable coins LEAN values at 1 USD when the algorithm has no pair pricing them
USD_STABLE_COINS = frozenset({"USDT", "USDC", "BUSD", "TUSD", "DAI", "USDP", "PAX", "GUSD", "SUSD", "UST", "FDUSD"})


class ConversionRates:
    """The engine's conversion-rate collaborator: ``setup`` once after the strategy's initialize, ``seed`` before
    trading, ``refresh`` whenever the portfolio is valued."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: ccy -> (the security pricing it, whether its price is inverted)
        self.sources: dict[str, tuple[Security, bool]] = {}
        #: currencies priced through a pair into another currency: ccy -> (pair, the pair's quote currency)
        self.chained: dict[str, tuple[Security, str]] = {}
        self.stable: set[str] = set()

    def setup(self) -> None:
        """Find a rate source for every currency in the cash book (adding internal feeds where needed)."""
        e = self.engine
        cash_book = e.portfolio.cash_book
        securities = e.securities
        acc = e.portfolio.account_currency
        unresolved: list[str] = []
        for ccy in list(cash_book):
            if ccy == acc or ccy in self.sources:
                continue
            for sec in list(securities.values()):
                base, quote = sec.base_currency, sec.quote_currency
                if base == ccy and quote == acc:
                    self.sources[ccy] = (sec, False)
                    break
                if base == acc and quote == ccy:
                    self.sources[ccy] = (sec, True)
                    break
            else:
                if acc == "USD" and ccy in USD_STABLE_COINS:  # LEAN: a stable coin with no pair is worth 1 USD
                    cash_book[ccy].conversion_rate = 1.0
                    self.stable.add(ccy)
                    continue
                unresolved.append(ccy)
        for ccy in unresolved:  # two legs: a pair into a currency that itself has a rate (BTCUSDT, USDT = 1)
            for sec in list(securities.values()):
                via = sec.quote_currency
                if sec.base_currency == ccy and (via in self.sources or via in self.stable):
                    self.chained[ccy] = (sec, via)
                    break
            else:
                self._add_internal_feed(ccy, acc)

    def _add_internal_feed(self, ccy: str, acc: str) -> None:
        e = self.engine
        sm = e.security_manager
        res = min((s.resolution for s in e.securities.values()), default=Resolution.MINUTE)
        res = max(res, Resolution.MINUTE)
        for pair, invert in ((f"{ccy}{acc}", False), (f"{acc}{ccy}", True)):
            sym = Symbol.forex(pair, "oanda")
            folder = sm.data_root / "forex" / "oanda" / res.folder / pair.lower()
            if not sm.has_data(sym, res, TickType.QUOTE, folder):  # a data catalogue may hold the pair instead
                continue
            try:
                sec = sm.add_internal(sym, res)
            except KeyError:
                continue
            self.sources[ccy] = (sec, invert)
            return
        e.log("ERROR", f"no conversion rate source for {ccy}: its cash counts as 0 {acc}")

    def refresh(self) -> None:
        """Set each currency's conversion rate from its source's last price."""
        sources, chained = self.sources, self.chained
        if not sources and not chained:  # every cash in the account currency (or a stable coin)
            return
        cb = self.engine.portfolio.cash_book
        for ccy, (sec, invert) in sources.items():
            p = sec.price
            if p:
                cb[ccy].conversion_rate = 1.0 / p if invert else p
        if chained:  # (asked on every order: an empty loop is not free)
            for ccy, (sec, via) in chained.items():
                p = sec.price
                if p:
                    cb[ccy].conversion_rate = p * cb[via].conversion_rate

    def seed(self) -> None:
        """Give conversion-rate securities a price from history before the first slice, as LEAN seeds its
        cash book, so the starting equity counts every currency."""
        e = self.engine
        for ccy, (sec, _) in self.sources.items():
            if sec.price:
                continue
            try:
                quotes = sec.subscribes_quotes and sec.security_type is not SecurityType.EQUITY
                bars = e.history(sec.symbol, 1, tick_type=TickType.QUOTE if quotes else None)
            except Exception as ex:
                e.log("ERROR", f"could not seed the {ccy} conversion rate from {sec.symbol}: {ex}")
                continue
            if bars:
                sec.price = bars[-1].close
