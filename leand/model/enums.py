"""Enumerations shared by every layer. Plain IntEnum/StrEnum: cheap to compare, stable to encode."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class SecurityType(StrEnum):
    EQUITY = "equity"
    CRYPTO = "crypto"
    FOREX = "forex"


class Resolution(IntEnum):
    """Bar period; the value is the period in nanoseconds (0 for ticks)."""

    TICK = 0
    SECOND = 1_000_000_000
    MINUTE = 60_000_000_000
    HOUR = 3_600_000_000_000
    DAILY = 86_400_000_000_000

    @property
    def folder(self) -> str:
        return self.name.lower()


class TickType(StrEnum):
    TRADE = "trade"
    QUOTE = "quote"


class DataNormalizationMode(StrEnum):
    RAW = "raw"
    ADJUSTED = "adjusted"
    SPLIT_ADJUSTED = "split_adjusted"
    TOTAL_RETURN = "total_return"


class OrderSide(IntEnum):
    BUY = 1
    SELL = -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"
    #: a limit order sent once the price touches ``trigger_price`` (buys at or below it, sells at or above)
    LIMIT_IF_TOUCHED = "limit_if_touched"
    MARKET_ON_OPEN = "market_on_open"
    MARKET_ON_CLOSE = "market_on_close"


class TimeInForce(StrEnum):
    GTC = "gtc"
    DAY = "day"
    IOC = "ioc"
    FOK = "fok"
    GTD = "gtd"


class OrderStatus(StrEnum):
    NEW = "new"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_UPDATE = "pending_update"
    PENDING_CANCEL = "pending_cancel"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    #: LEAN's name for an order refused before or at submission: the same status as REJECTED
    INVALID = "rejected"

    # by name: a member's hash is Enum's Python-level hash(name), a call on every set lookup; its name is a str
    @property
    def is_open(self) -> bool:
        return self._name_ not in _TERMINAL_NAMES

    @property
    def is_terminal(self) -> bool:
        return self._name_ in _TERMINAL_NAMES


#: how far along an order is; a report never moves an order to a lower rank (pending states share the rank of
#: the open state they return to; every terminal state is final)
STATUS_RANK: dict[OrderStatus, int] = {
    OrderStatus.NEW: 0, OrderStatus.SUBMITTED: 1, OrderStatus.ACCEPTED: 2, OrderStatus.PENDING_UPDATE: 2,
    OrderStatus.PENDING_CANCEL: 2, OrderStatus.PARTIALLY_FILLED: 3, OrderStatus.FILLED: 4, OrderStatus.CANCELED: 4,
    OrderStatus.REJECTED: 4, OrderStatus.EXPIRED: 4}


class ReportKind(StrEnum):
    """What a venue report says. ``STATUS`` carries the order's status at the venue (and a fill when its fill
    quantity is set); the others answer a cancel or an update request and leave the order's own status alone."""

    STATUS = "status"
    CANCEL_REJECTED = "cancel_rejected"
    UPDATE_ACCEPTED = "update_accepted"
    UPDATE_REJECTED = "update_rejected"


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})
_TERMINAL_NAMES = frozenset(s._name_ for s in _TERMINAL)


class LiquiditySide(StrEnum):
    MAKER = "maker"
    TAKER = "taker"
    NONE = "none"


class AccountType(StrEnum):
    CASH = "cash"
    MARGIN = "margin"
