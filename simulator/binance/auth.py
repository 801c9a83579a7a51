"""HMAC-SHA256 request signing and the timestamp/recvWindow rule, exactly as Binance applies them.

REST: the signed payload is the query string and the body as sent (percent-encoded), concatenated, without
the ``signature`` pair. WS API: all params but ``signature``, sorted by key, joined ``k=v&..`` unencoded.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from . import errors
from .params import long_value, recv_window

MAX_RECV_WINDOW = 60000
DEFAULT_RECV_WINDOW = 5000


def sign(secret: str, payload: str | bytes) -> str:
    """Hex HMAC-SHA256 of ``payload`` with ``secret``."""
    data = payload.encode() if isinstance(payload, str) else payload
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def strip_signature(raw: str) -> tuple[str, str | None]:
    """Remove the ``signature=..`` pair from a raw (still encoded) query or body; return (rest, signature)."""
    if "signature=" not in raw:
        return raw, None
    parts = raw.split("&")
    keep, sig = [], None
    for p in parts:
        if p.startswith("signature="):
            sig = p[len("signature="):]
        else:
            keep.append(p)
    return "&".join(keep), sig


def rest_payload(raw_query: str, raw_body: str) -> tuple[str, str | None]:
    """The string a REST client signed, and the signature it sent (query string wins if in both)."""
    q, sig_q = strip_signature(raw_query)
    b, sig_b = strip_signature(raw_body)
    return q + b, sig_q if sig_q is not None else sig_b


def ws_payload(params: Mapping[str, object]) -> str:
    """The string a WS API client signed: sorted ``k=v`` pairs without ``signature``."""
    return "&".join(f"{k}={_ws_value(v)}" for k, v in sorted(params.items()) if k != "signature")


def _ws_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def verify(secret: str, payload: str, signature: str | None) -> None:
    """Raise -1102 when no signature was sent, -1022 when it does not match (compared case-insensitively)."""
    if not signature:
        raise errors.mandatory("signature")
    good = sign(secret, payload)
    if not hmac.compare_digest(good, signature.lower()):
        raise errors.invalid_signature()


def check_timestamp(params: Mapping[str, str], now_ms: int, microseconds: bool = False) -> None:
    """Accept iff ``timestamp < now + 1000`` and ``now - timestamp <= recvWindow`` (the documented rule).

    Both values are matched against their patterns first: a 400-digit timestamp or ``recvWindow=nan`` is
    -1100, never an overflow or a window that compares false both ways."""
    ts_text = params.get("timestamp")
    if ts_text is None or ts_text == "":
        raise errors.mandatory("timestamp")
    ts = long_value(ts_text, "timestamp", 0)
    rw_text = params.get("recvWindow")
    if rw_text is None or rw_text == "":
        rw = float(DEFAULT_RECV_WINDOW)
    else:
        rw = recv_window(rw_text)
        if rw > MAX_RECV_WINDOW:
            raise errors.bad_recv_window()
    ts_ms = ts / 1000.0 if microseconds else float(ts)
    if ts_ms >= now_ms + 1000:
        raise errors.invalid_timestamp_ahead()
    if now_ms - ts_ms > rw:
        raise errors.invalid_timestamp_window()
