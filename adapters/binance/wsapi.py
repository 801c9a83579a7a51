"""Order entry over the Binance WebSocket API: pre-signed request templates and a synchronous write on the
kept-alive connection the user-data stream already holds.

Why: a REST order is a new aiohttp request (a task, headers, a pooled connection's turn) per order; the WS API
connection is open anyway (``userDataStream.subscribe.signature``), so ``order.place`` goes out as one text
frame written to the socket in the callback that decided it, and its answer comes back on the same connection
as the execution reports.

A request's signature covers every parameter, the timestamp included, so nothing can be signed ahead of time
except the HMAC key schedule (``hmac.copy()`` of a keyed object). What is prepared once per request *shape*
(method, symbol, side, type, time in force: the parameters that do not change from order to order) is the
sorted ``k=v&...`` payload and the JSON frame, each a format string with holes for the client order id,
quantity, prices and timestamp. Per order: one ``str.format`` for the payload, one HMAC of it, one
``str.format`` for the frame.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import msgspec
from websockets.protocol import State

#: parameters that change from order to order (holes in a template); every other one is part of its shape
DYNAMIC = ("newClientOrderId", "origClientOrderId", "quantity", "price", "stopPrice", "timestamp")
_DYN = frozenset(DYNAMIC)


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _esc(s: str) -> str:
    return s.replace("{", "{{").replace("}", "}}")


def _json_str(s: str) -> str:
    return msgspec.json.encode(s).decode()


class RequestTemplates:
    """Signed WS API request frames from per-shape templates (see the module docstring)."""

    def __init__(self, api_key: str, secret: str, recv_window_ms: int) -> None:
        self._mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
        self._common = {"apiKey": api_key, "recvWindow": recv_window_ms}
        #: (method, shape items, dynamic keys) -> (payload format, frame format)
        self._shapes: dict[tuple, tuple[str, str]] = {}

    def __len__(self) -> int:
        return len(self._shapes)

    def frame(self, rid: str, method: str, params: Mapping[str, Any], timestamp_ms: int) -> str:
        """The signed request frame: ``params`` as the REST call would send them, less the timestamp."""
        static: list[tuple[str, Any]] = []
        dyn: dict[str, str] = {"timestamp": str(timestamp_ms)}
        for k, v in params.items():
            if k in _DYN:
                dyn[k] = _text(v)
            else:
                static.append((k, v))
        key = (method, tuple(static), tuple(dyn))
        t = self._shapes.get(key)
        if t is None:
            t = self._shapes[key] = self._build(method, static, list(dyn))
        payload = t[0].format_map(dyn)
        mac = self._mac.copy()
        mac.update(payload.encode())
        return t[1].format_map({**dyn, "id": rid, "signature": mac.hexdigest()})

    def _build(self, method: str, static: list[tuple[str, Any]], dyn: list[str]) -> tuple[str, str]:
        fields: dict[str, tuple[bool, Any]] = {k: (False, v) for k, v in static}
        fields.update((k, (False, v)) for k, v in self._common.items())
        fields.update((k, (True, None)) for k in dyn)
        payload, params = [], []
        for k in sorted(fields):
            is_dyn, v = fields[k]
            if is_dyn:
                payload.append(f"{k}={{{k}}}")
                # every hole is a number or a client order id (Binance's alphabet: nothing to escape in JSON)
                params.append(f'"{k}":{{{k}}}' if k == "timestamp" else f'"{k}":"{{{k}}}"')
            else:
                payload.append(_esc(f"{k}={_text(v)}"))
                params.append(_esc(f"{_json_str(k)}:{_json_str(_text(v)) if not isinstance(v, int | bool) else _text(v)}"))
        frame = ('{{"id":"{id}","method":' + _esc(_json_str(method)) + ',"params":{{' + ",".join(params) +
                 ',"signature":"{signature}"}}}}')
        return "&".join(payload), frame


def write_now(ws: Any, frame: str) -> bool:
    """Write a text frame to a ``websockets`` asyncio connection's socket now, in this callback (its ``send()``
    is a coroutine: a task and a loop iteration later). False when the connection cannot take it (closing, a
    fragmented send in progress, or its write buffer already past the high-water mark): the caller falls back."""
    if ws is None or ws.protocol.state is not State.OPEN or ws.send_in_progress is not None:
        return False
    transport = ws.transport
    if transport is None or transport.is_closing() or transport.get_write_buffer_size() > (1 << 20):
        return False
    protocol = ws.protocol
    protocol.send_text(frame.encode())
    for data in protocol.data_to_send():
        if data:
            transport.write(data)
    return True
