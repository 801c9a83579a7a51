"""Cash per currency, converted to the account currency at the latest known rate."""

from __future__ import annotations

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "USDT": "₮", "ETH": "Ξ", "BTC": "₿",
                    "INR": "₹", "CNY": "¥", "AUD": "$", "CAD": "$", "NZD": "$", "HKD": "$", "CHF": "CHF "}


class Cash:
    """An amount of one currency and its conversion rate to the account currency."""

    __slots__ = ("amount", "conversion_rate", "currency")

    def __init__(self, currency: str, amount: float = 0.0, conversion_rate: float = 0.0) -> None:
        self.currency = currency
        self.amount = amount
        self.conversion_rate = conversion_rate

    @property
    def value_in_account_currency(self) -> float:
        return self.amount * self.conversion_rate

    def add_amount(self, amount: float) -> float:
        """LEAN's Cash.AddAmount: change the balance, return the new amount."""
        self.amount += amount
        return self.amount

    def __repr__(self) -> str:
        return f"Cash({self.currency} {self.amount:.8g} @ {self.conversion_rate:.8g})"


class CashBook(dict[str, Cash]):
    """``currency -> Cash``. The account currency always has rate 1."""

    def __init__(self, account_currency: str = "USD") -> None:
        super().__init__()
        self.account_currency = account_currency
        self[account_currency] = Cash(account_currency, 0.0, 1.0)

    def ensure(self, currency: str) -> Cash:
        cash = self.get(currency)
        if cash is None:
            cash = Cash(currency, 0.0, 1.0 if currency == self.account_currency else 0.0)
            self[currency] = cash
        return cash

    def add(self, currency: str, amount: float) -> None:
        self.ensure(currency).amount += amount

    def set_amount(self, currency: str, amount: float, conversion_rate: float | None = None) -> None:
        cash = self.ensure(currency)
        cash.amount = amount
        if conversion_rate is not None:
            cash.conversion_rate = conversion_rate

    def convert(self, amount: float, src: str, dst: str | None = None) -> float:
        dst = dst or self.account_currency
        if src == dst:
            return amount
        s = self.ensure(src).conversion_rate
        d = self.ensure(dst).conversion_rate
        if d == 0:
            return 0.0
        return amount * s / d

    @property
    def total_value(self) -> float:
        return sum([c.amount * c.conversion_rate for c in self.values()])
