"""HMAC-SHA256 request signing, the two ways Binance asks for it.

REST signs the percent-encoded query string followed by the body exactly as sent; the WebSocket API signs its
params sorted by key and joined as ``k=v&...`` without percent-encoding. Getting either byte-for-byte wrong is
a ``-1022``, so both builders live here next to the one HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode


def hmac_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def encode_params(params: Mapping[str, Any]) -> str:
    """The query string as it goes on the wire (insertion order kept, values percent-encoded)."""
    return urlencode([(k, _text(v)) for k, v in params.items() if v is not None])


def signed_query(params: Mapping[str, Any], secret: str) -> str:
    """``params`` encoded with ``&signature=`` appended last (what both the docs and ccxt do)."""
    q = encode_params(params)
    return f"{q}&signature={hmac_hex(secret, q)}"


def ws_signature(params: Mapping[str, Any], secret: str) -> str:
    """WebSocket API signature: every param except ``signature``, sorted by key, ``k=v`` joined by ``&``."""
    payload = "&".join(f"{k}={_text(params[k])}" for k in sorted(params) if k != "signature")
    return hmac_hex(secret, payload)
