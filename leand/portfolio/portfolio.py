"""Accounting: cash per currency, positions, realized/unrealized P&L, fees, buying power, LEAN's records.

Securities whose positions are currency swaps (crypto, forex) live in the cash book: a fill moves quote
cash and base cash, so total portfolio value is the cash book alone for them. Equities are valued from their
holdings (``quantity × price × multiplier`` in the quote currency).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from leand.model import AccountType, Fill, SecurityType, Symbol
from leand.portfolio.cash import CashBook
from leand.portfolio.holding import Holding
from leand.portfolio.pnl_log import PnlLog
from leand.portfolio.securities import SecurityManager

# members the per-order path compares with, as module constants (``Enum.MEMBER`` costs about 150 ns on CPython 3.11:
# EnumType's __getattr__ slot)
_EQUITY = SecurityType.EQUITY
_CASH = AccountType.CASH

if TYPE_CHECKING:
    from leand.security import Security


class Portfolio:
    def __init__(self, account_currency: str = "USD", account_type: AccountType = AccountType.MARGIN) -> None:
        self.cash_book = CashBook(account_currency)
        self.account_type = account_type
        self.securities: dict[Symbol, Security] = SecurityManager()
        self.total_fees = 0.0
        self.total_net_profit = 0.0
        #: (time_ns, pnl net of 2×fee) per position-reducing fill, LEAN's transaction record
        self.transactions: list[tuple[int, float]] = PnlLog()
        #: sales volume (account currency) since the last daily sample; the engine resets it
        self.sales_volume = 0.0
        self.total_sales_volume = 0.0

    def compact_history(self) -> None:
        """Pack the transaction record's recent entries (the order manager calls this as it packs orders)."""
        t = self.transactions
        if isinstance(t, PnlLog):
            t.compact()

    # --- LEAN-like access ------------------------------------------------------------------------
    @property
    def account_currency(self) -> str:
        return self.cash_book.account_currency

    def __getitem__(self, symbol: Symbol) -> Holding:
        return self.securities[symbol].holdings

    def __contains__(self, symbol: Symbol) -> bool:
        return symbol in self.securities

    def __iter__(self) -> Iterator[Symbol]:
        return iter(self.securities)

    def values(self) -> Iterator[Holding]:
        return (s.holdings for s in self.securities.values())

    def items(self) -> Iterator[tuple[Symbol, Holding]]:
        return ((k, s.holdings) for k, s in self.securities.items())

    @property
    def cash(self) -> float:
        """LEAN's ``Portfolio.Cash``: every currency in the cash book, valued in the account currency (in a cash
        account a bought crypto's base currency counts too)."""
        return self.cash_book.total_value

    @property
    def invested(self) -> bool:
        return any(s.holdings.quantity != 0 for s in self.securities.values())

    # --- valuation ---------------------------------------------------------------------------------
    def conversion(self, security: Security) -> float:
        """Quote-currency -> account-currency rate for a security."""
        return self.cash_book.ensure(security.quote_currency).conversion_rate

    def holdings_value(self, security: Security) -> float:
        h = security.holdings
        if h.quantity == 0:
            return 0.0
        return h.quantity * security.price * h.multiplier * self.conversion(security)

    @property
    def total_holdings_value(self) -> float:
        return sum(abs(self.holdings_value(s)) for s in self.securities.values())

    @property
    def total_portfolio_value(self) -> float:
        """The cash book's value and the equity holdings' (the statistics sample it every few minutes of data
        time): the same terms added in the same order as ``cash_book.total_value`` plus each ``holdings_value``,
        without a list, a comprehension's call and a call per security."""
        cb = self.cash_book
        total: float = 0  # cb.total_value (sum() of the products, started from int 0)
        for c in cb.values():
            total += c.amount * c.conversion_rate
        equity = _EQUITY
        for s in self.securities.values():
            h = s.holdings
            if h.quantity != 0 and s.security_type is equity:
                q = s.quote_currency
                total += h.quantity * s.price * h.multiplier * (cb.get(q) or cb.ensure(q)).conversion_rate
        return total

    def exposure(self) -> tuple[float, float]:
        """``(gross_exposure(), net_exposure())`` in one pass, without a call per security: the same additions
        in the same order (sum()'s: from int 0)."""
        cb = self.cash_book
        gross: float = 0
        net: float = 0
        for s in self.securities.values():
            h = s.holdings
            if h.quantity == 0:
                v = 0.0
            else:
                q = s.quote_currency
                v = h.quantity * s.price * h.multiplier * (cb.get(q) or cb.ensure(q)).conversion_rate
            gross += abs(v)
            net += v
        return gross, net

    def unrealized_profit(self, security: Security) -> float:
        h = security.holdings
        if h.quantity == 0:
            return 0.0
        return (security.price - h.average_price) * h.quantity * h.multiplier * self.conversion(security)

    @property
    def total_unrealized_profit(self) -> float:
        return sum(self.unrealized_profit(s) for s in self.securities.values())

    def gross_exposure(self) -> float:
        return sum(abs(self.holdings_value(s)) for s in self.securities.values())

    def net_exposure(self) -> float:
        return sum(self.holdings_value(s) for s in self.securities.values())

    # --- margin / buying power -----------------------------------------------------------------------
    def total_margin_used(self) -> float:
        used = 0.0
        for s in self.securities.values():
            if s.holdings.quantity != 0 and s.security_type is _EQUITY:
                used += abs(self.holdings_value(s)) / s.leverage
        return used

    def margin_remaining(self, tpv: float | None = None) -> float:
        if tpv is None:
            return self._margin_remaining()
        return tpv - self.total_margin_used()

    def _margin_remaining(self) -> float:
        """``total_portfolio_value - total_margin_used()`` in one pass over the securities (the same terms, added
        in the same order, so the same value): the buying-power check of every order asks it."""
        cb = self.cash_book
        total: float = 0  # cb.total_value (sum() of the products, started from int 0), without a list and a call
        for c in cb.values():
            total += c.amount * c.conversion_rate
        used = 0.0
        equity = _EQUITY
        for s in self.securities.values():
            h = s.holdings
            if h.quantity != 0.0 and s.security_type is equity:
                q = s.quote_currency
                v = h.quantity * s.price * h.multiplier * (cb.get(q) or cb.ensure(q)).conversion_rate
                total += v
                used += abs(v) / s.leverage
        return total - used

    def uses_cash_model(self, security: Security) -> bool:
        """A cash account's currency pair, unless the strategy gave it a margin model (LEAN lets it)."""
        return (self.account_type is _CASH and bool(security.base_currency)
                and getattr(security.buying_power_model, "leverage", None) is None)

    def has_sufficient_buying_power(self, security: Security, quantity: float, price: float,
                                    fee_account: float = 0.0, reserved_quote: float = 0.0,
                                    reserved_base: float = 0.0) -> tuple[bool, str]:
        """LEAN's check: margin model for margin accounts, cash model for cash accounts."""
        if quantity == 0.0:
            return True, ""
        h = security.holdings.quantity
        if self.account_type is _CASH and self.uses_cash_model(security):
            if quantity > 0:
                need = quantity * price
                have = self.cash_book.ensure(security.quote_currency).amount - reserved_quote
                ok = need <= have + 1e-9
                msg = "" if ok else (f"insufficient {security.quote_currency}: need {need:.2f}, have {have:.2f}")
                return ok, msg
            need = -quantity
            base = security.base_currency
            assert base  # the cash model is for currency pairs only (uses_cash_model)
            have = self.cash_book.ensure(base).amount - reserved_base
            ok = need <= have + 1e-12
            return ok, "" if ok else f"insufficient {security.base_currency}: need {need:.8g}, have {have:.8g}"
        # margin account: an order that only reduces the position is always allowed
        against = h != 0.0 and (quantity > 0.0) != (h > 0.0)  # (against the position)
        if against and abs(quantity) <= abs(h):
            return True, ""
        leverage = security.leverage or 1.0
        cb = self.cash_book
        ccy = security.quote_currency
        conv = (cb.get(ccy) or cb.ensure(ccy)).conversion_rate  # self.conversion(security), two calls less
        mult = security.holdings.multiplier
        remaining = self._margin_remaining()
        if against:
            remaining += 2 * abs(h * security.price * mult * conv) / leverage
        order_margin = abs(quantity * price * mult * conv) / leverage + fee_account
        if order_margin <= remaining + 1e-9:
            return True, ""
        return False, (f"insufficient buying power: initial margin {order_margin:.2f} > margin remaining "
                       f"{remaining:.2f}")

    # --- fills -------------------------------------------------------------------------------------
    def process_fill(self, security: Security, fill: Fill) -> float:
        """Apply a fill to cash and holdings. Returns the realized P&L (account currency, before fees)."""
        return self.apply_fill(security, fill.quantity, fill.price, fill.fee, fill.fee_currency, fill.time)

    def apply_fill(self, security: Security, qty: float, price: float, fee: float, fee_ccy: str, time_ns: int
                   ) -> float:
        """:meth:`process_fill` of a fill given by its numbers (the order manager's quiet orders make no Fill)."""
        cb = self.cash_book
        ccy = security.quote_currency
        quote = cb.get(ccy) or cb.ensure(ccy)  # the same Cash all along: the book adds entries, never replaces one
        conv = quote.conversion_rate
        holdings = security.holdings
        mult = holdings.multiplier
        if fee:
            fee_account = fee if fee_ccy == cb.account_currency else cb.convert(fee, fee_ccy)
            (quote if fee_ccy == ccy else cb.get(fee_ccy) or cb.ensure(fee_ccy)).amount += -fee
        else:
            fee_account = 0.0
        self.total_fees += fee_account
        quote.amount += -qty * price * mult
        base = security.base_currency
        if base and security.security_type is not _EQUITY:
            (cb.get(base) or cb.ensure(base)).amount += qty * mult
        # the position, in one pass with the portfolio's side: Holding.apply_fill's arithmetic, inline (the same
        # expressions in the same order, so the same values), and the traded value computed once for both records
        q0 = holdings.quantity
        volume = abs(qty) * price * mult * conv
        reduces = q0 != 0.0 and (q0 > 0.0) != (qty > 0.0)  # (the fill reduces the position)
        if not reduces:
            realized = 0.0
            new_q = q0 + qty
            holdings.average_price = (holdings.average_price * q0 + price * qty) / new_q
            holdings.quantity = new_q
        else:
            closed = -qty if abs(qty) <= abs(q0) else q0
            # closed has the sign of the position being closed
            realized = (price - holdings.average_price) * closed * mult * conv
            new_q = q0 + qty
            if abs(new_q) < 1e-12:
                holdings.quantity = 0.0
                holdings.average_price = 0.0
            elif (new_q > 0.0) == (q0 > 0.0):
                holdings.quantity = new_q
            else:  # flipped: the remainder opens at the fill price
                holdings.quantity = new_q
                holdings.average_price = price
        holdings.total_sale_volume += volume
        lot = security.instrument.lot_size
        if 0.0 < lot < 1.0 and holdings.quantity:  # the position is snapped to the lot's decimals
            d = _DECIMALS.get(lot)
            holdings.round_quantity(_decimals(lot) if d is None else d)
        holdings.total_fees += fee_account
        # equities: cash already moved by the whole notional; realized P&L is informational
        if reduces:
            self.transactions.append((time_ns, realized - 2 * fee_account))
        net = realized - fee_account
        holdings.net_profit += net
        self.total_net_profit += net
        self.sales_volume += volume
        self.total_sales_volume += volume
        return realized


_DECIMALS: dict[float, int] = {}


def _decimals(step: float) -> int:
    """Decimal places of a lot size (0.00000001 -> 8), plus two for lots like 0.025 (memoized: one per lot size,
    asked on every fill)."""
    d = _DECIMALS.get(step)
    if d is None:
        d = _DECIMALS[step] = max(0, -math.floor(math.log10(step))) + 2
    return d
