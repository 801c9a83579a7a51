"""The documented Binance error codes, as one exception type the HTTP and WS layers turn into
``{"code": .., "msg": ..}`` with the documented HTTP status (a bare 400 would make ccxt think the venue is down)."""

from __future__ import annotations


class ApiError(Exception):
    """A request the venue refuses: ``code``/``msg`` go on the wire, ``status`` is the HTTP status."""

    def __init__(self, code: int, msg: str, status: int = 400, retry_after: int | None = None,
                 data: dict[str, object] | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.retry_after = retry_after
        #: what each half of a cancel-replace did (``-2021``/``-2022``)
        self.data = data

    def body(self) -> dict[str, object]:
        if self.data is not None:
            return {"code": self.code, "msg": self.msg, "data": self.data}
        return {"code": self.code, "msg": self.msg}


def too_many_requests(limit: int, retry_after: int) -> ApiError:
    return ApiError(-1003, f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
                           "Please use WebSocket Streams for live updates to avoid polling the API.", 429, retry_after)


def banned(until_ms: int, retry_after: int) -> ApiError:
    return ApiError(-1003, f"Way too much request weight used; IP banned until {until_ms}. "
                           "Please use WebSocket Streams for live updates to avoid bans.", 418, retry_after)


def internal(status: int = 503) -> ApiError:
    if status == 503:
        return ApiError(-1007, "Timeout waiting for response from backend server. Send status unknown; "
                               "execution status unknown.", 503)
    return ApiError(-1001, "Internal error; unable to process your request. Please try again.", status)


def bad_param(name: str, legal: str = "") -> ApiError:
    msg = f"Illegal characters found in parameter '{name}'"
    return ApiError(-1100, msg + (f"; legal range is '{legal}'." if legal else "."))


def mandatory(name: str) -> ApiError:
    return ApiError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def either(a: str, b: str) -> ApiError:
    return ApiError(-1102, f"Param '{a}' or '{b}' must be sent, but both were empty/null!")


def not_required(name: str) -> ApiError:
    return ApiError(-1106, f"Parameter '{name}' sent when not required.")


def invalid_timestamp_window() -> ApiError:
    return ApiError(-1021, "Timestamp for this request is outside of the recvWindow.")


def invalid_timestamp_ahead() -> ApiError:
    return ApiError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")


def invalid_signature() -> ApiError:
    return ApiError(-1022, "Signature for this request is not valid.")


def bad_recv_window() -> ApiError:
    return ApiError(-1131, "recvWindow must be less than 60000")


def bad_symbol() -> ApiError:
    return ApiError(-1121, "Invalid symbol.")


def bad_interval() -> ApiError:
    return ApiError(-1120, "Invalid interval.")


def filter_failure(name: str) -> ApiError:
    return ApiError(-1013, f"Filter failure: {name}")


def order_rejected(msg: str) -> ApiError:
    return ApiError(-2010, msg)


INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
WOULD_TAKE = "Order would immediately match and take."
WOULD_TRIGGER = "Order would trigger immediately."
DUPLICATE = "Duplicate order sent."
UNSUPPORTED = "Unsupported order combination"


def cancel_rejected() -> ApiError:
    return ApiError(-2011, "Unknown order sent.")


def no_such_order() -> ApiError:
    return ApiError(-2013, "Order does not exist.")


def bad_api_key_format() -> ApiError:
    return ApiError(-2014, "API-key format invalid.", 401)


def rejected_key() -> ApiError:
    return ApiError(-2015, "Invalid API-key, IP, or permissions for action.", 401)


def invalid_listen_key() -> ApiError:
    return ApiError(-1125, "This listenKey does not exist.")
