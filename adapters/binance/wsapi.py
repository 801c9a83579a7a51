"""Order entry over the Binance WebSocket API: pre-signed request templates and a synchronous write on the
kept-alive connection the user-data stream already holds.

Why: a REST order is a new aiohttp request (a task, headers, a pooled connection's turn) per order; the WS API
connection is open anyway (``userDataStream.subscribe.signature``), so ``order.place`` goes out as one text
frame written to the socket in the callback that decided it, and its answer comes back on the same connection
as the execution reports.

A request's signature covers every parameter, the timestamp included, so nothing can be signed ahead of time
except the HMAC key schedule: the SHA-256 states after the key's inner and outer pads are kept, and each
signature copies them (:class:`HmacSha256`, about half the cost of ``hmac.copy()`` and of a one-shot
``hmac.digest``). What is prepared once per request *shape* (method, symbol, side, type, time in force: the
parameters that do not change from order to order) is the sorted ``k=v&...`` payload and the JSON frame, each
a format string with positional holes for the client order id, quantity, prices and timestamp
(:class:`Template`). Per order: one ``str.format`` for the payload, one HMAC of it, one ``str.format`` for the
frame, and the frame's WebSocket header and mask written straight to the transport (:func:`write_now`).

Why per order so few calls: the path runs once per order between two market-data frames, so its code and
data are cold in the CPU's caches every time (a few µs in a loop are tens of µs there); what counts is how
much Python runs, not how fast it runs when warm.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from websockets.protocol import State


def _py_mask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    k = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ k).to_bytes(n, "big")


_apply_mask: Callable[[bytes, bytes], bytes] = _py_mask
# websockets' C helper where its build has it (the wheels do); the pure-Python one does the same
with contextlib.suppress(ImportError):
    from websockets.speedups import apply_mask as _apply_mask

#: parameters that change from order to order (holes in a template); every other one is part of its shape
DYNAMIC = ("newClientOrderId", "origClientOrderId", "quantity", "price", "stopPrice", "timestamp")
_DYN = frozenset(DYNAMIC)
#: a template's positional holes: DYNAMIC's, then the request id and the signature
_HOLE = {k: i for i, k in enumerate((*DYNAMIC, "id", "signature"))}


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _esc(s: str) -> str:
    return s.replace("{", "{{").replace("}", "}}")


def _json_str(s: str) -> str:
    return msgspec.json.encode(s).decode()


class HmacSha256:
    """HMAC-SHA256 with the key schedule done once: the hash states after the inner and outer padded keys are
    kept, and each signature continues copies of them (RFC 2104; the same bytes as ``hmac.new``)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def hexdigest(self, data: bytes) -> str:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


class Template:
    """One request shape: ``payload`` (what is signed) and ``frame`` (the JSON text), format strings whose
    positional holes are :data:`DYNAMIC`'s values in that order, then the request id and the signature."""

    __slots__ = ("frame", "mac", "payload")

    def __init__(self, payload: str, frame: str, mac: HmacSha256) -> None:
        self.payload = payload
        self.frame = frame
        self.mac = mac

    def render(self, rid: str, cid: str, quantity: str, price: str, stop_price: str, timestamp_ms: int,
               orig_cid: str = "") -> str:
        """The signed frame of one request of this shape (a hole the shape lacks ignores its value)."""
        payload = self.payload.format(cid, orig_cid, quantity, price, stop_price, timestamp_ms)
        return self.frame.format(cid, orig_cid, quantity, price, stop_price, timestamp_ms, rid,
                                 self.mac.hexdigest(payload.encode()))


class RequestTemplates:
    """Signed WS API request frames from per-shape templates (see the module docstring)."""

    def __init__(self, api_key: str, secret: str, recv_window_ms: int) -> None:
        self._mac = HmacSha256(secret.encode())
        self._common = {"apiKey": api_key, "recvWindow": recv_window_ms}
        #: (method, shape items, dynamic keys) -> its template
        self._shapes: dict[tuple, Template] = {}

    def __len__(self) -> int:
        return len(self._shapes)

    def template(self, method: str, params: Mapping[str, Any]) -> Template:
        """The template of ``params``' shape (its dynamic values are not looked at, only which are there)."""
        static = tuple((k, v) for k, v in params.items() if k not in _DYN)
        dyn = (*(k for k in params if k in _DYN), "timestamp")
        key = (method, static, dyn)
        t = self._shapes.get(key)
        if t is None:
            t = self._shapes[key] = self._build(method, list(static), list(dyn))
        return t

    def frame(self, rid: str, method: str, params: Mapping[str, Any], timestamp_ms: int) -> str:
        """The signed request frame: ``params`` as the REST call would send them, less the timestamp."""
        g = params.get
        return self.template(method, params).render(
            rid, _text(g("newClientOrderId", "")), _text(g("quantity", "")), _text(g("price", "")),
            _text(g("stopPrice", "")), timestamp_ms, _text(g("origClientOrderId", "")))

    def _build(self, method: str, static: list[tuple[str, Any]], dyn: list[str]) -> Template:
        fields: dict[str, tuple[bool, Any]] = {k: (False, v) for k, v in static}
        fields.update((k, (False, v)) for k, v in self._common.items())
        fields.update((k, (True, None)) for k in dyn)
        payload, params = [], []
        for k in sorted(fields):
            is_dyn, v = fields[k]
            if is_dyn:
                h = _HOLE[k]
                payload.append(f"{k}={{{h}}}")
                # every hole is a number or a client order id (Binance's alphabet: nothing to escape in JSON)
                params.append(f'"{k}":{{{h}}}' if k == "timestamp" else f'"{k}":"{{{h}}}"')
            else:
                payload.append(_esc(f"{k}={_text(v)}"))
                params.append(_esc(f"{_json_str(k)}:{_json_str(_text(v)) if not isinstance(v, int | bool) else _text(v)}"))
        rid, sig = _HOLE["id"], _HOLE["signature"]
        frame = ('{{"id":"{' + str(rid) + '}","method":' + _esc(_json_str(method)) + ',"params":{{' +
                 ",".join(params) + ',"signature":"{' + str(sig) + '}"}}}}')
        return Template("&".join(payload), frame, self._mac)


_U16 = struct.Struct("!BBH")
_U64 = struct.Struct("!BBQ")
#: masking keys, 4 bytes each, drawn from the OS in bulk (RFC 6455 5.3: a fresh unpredictable key per frame)
_keys = b""
_key_at = 0


def _mask_key() -> bytes:
    global _keys, _key_at
    if _key_at >= len(_keys):
        _keys, _key_at = os.urandom(4096), 0
    k = _keys[_key_at:_key_at + 4]
    _key_at += 4
    return k


def text_frame(payload: bytes) -> bytes:
    """One final, masked client text frame (RFC 6455 5.2) holding ``payload``."""
    n = len(payload)
    if n < 126:
        head = bytes((0x81, 0x80 | n))
    elif n < 65536:
        head = _U16.pack(0x81, 0xFE, n)
    else:
        head = _U64.pack(0x81, 0xFF, n)
    key = _mask_key()
    return head + key + _apply_mask(payload, key)


def write_now(ws: Any, frame: str) -> bool:
    """Write a text frame to a ``websockets`` asyncio connection's socket now, in this callback (its ``send()``
    is a coroutine: a task and a loop iteration later). False when the connection cannot take it (closing, a
    fragmented send in progress, or its write buffer already past the high-water mark): the caller falls back.

    With no extension negotiated (the connection is opened with ``compression=None``) a data frame is only a
    header, a mask and the masked payload, so it is framed here and written straight to the transport; the
    protocol object keeps no per-frame state on the sending side. With an extension it goes through the
    protocol's own ``send_text``."""
    if ws is None:
        return False
    protocol = ws.protocol
    if protocol.state is not State.OPEN or ws.send_in_progress is not None or protocol.expect_continuation_frame:
        return False
    transport = ws.transport
    if transport is None or transport.is_closing() or transport.get_write_buffer_size() > (1 << 20):
        return False
    if protocol.extensions or protocol.writes:
        protocol.send_text(frame.encode())
        for data in protocol.data_to_send():
            if data:
                transport.write(data)
        return True
    transport.write(text_frame(frame.encode()))
    return True
