"""LEAN's brokerage models as objects a strategy can subclass: ``set_brokerage_model(MyModel())`` where
``MyModel(DefaultBrokerageModel)`` overrides ``can_submit_order`` / ``can_update_order`` (each returning
``(ok, message)``) and ``default_markets``. A refused submission leaves an invalid order with LEAN's message;
a refused update leaves the order as it was and answers with an error response."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from leand.model import AccountType, SecurityType


class BrokerageMessageType(IntEnum):
    INFORMATION = 0
    WARNING = 1
    ERROR = 2
    RECONNECT = 3
    DISCONNECT = 4


class BrokerageMessageEvent:
    def __init__(self, type: BrokerageMessageType, code: Any, message: str) -> None:
        self.type, self.code, self.message = BrokerageMessageType(type), code, message

    def __str__(self) -> str:
        return f"{self.type.name.capitalize()} - Code: {self.code} - {self.message}"


class DefaultBrokerageModel:
    """Accepts every order and update; equities in ``usa``, crypto on Coinbase, forex at Oanda."""

    default_markets: dict[Any, str] = {SecurityType.EQUITY: "usa", SecurityType.CRYPTO: "coinbase",
                                       SecurityType.FOREX: "oanda"}

    def __init__(self, account_type: AccountType = AccountType.MARGIN) -> None:
        self.account_type = AccountType(account_type)

    def can_submit_order(self, security: Any, order: Any, message: Any = None) -> tuple[bool, Any]:
        return True, None

    def can_update_order(self, security: Any, order: Any, request: Any, message: Any = None) -> tuple[bool, Any]:
        return True, None


def _answer(result: Any) -> tuple[bool, str]:
    if isinstance(result, tuple):
        ok, msg = result[0], result[1] if len(result) > 1 else None
    else:
        ok, msg = bool(result), None
    return bool(ok), "" if msg is None else str(msg)


def check_submit(model: Any, security: Any, order: Any) -> tuple[bool, str]:
    ok, msg = _answer(model.can_submit_order(security, order, None))
    return ok, "" if ok else f"BrokerageModel declared unable to submit order: [{order.id}] {msg}"


def check_update(model: Any, security: Any, order: Any, request: Any) -> tuple[bool, str]:
    ok, msg = _answer(model.can_update_order(security, order, request, None))
    return ok, "" if ok else f"OrderID: {order.id} {msg}"
