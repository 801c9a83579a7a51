"""WebSocket endpoints: market streams (``/ws/<stream>``, ``/stream?streams=``, live SUBSCRIBE), the
WebSocket API (``/ws-api/v3``: user data by ``userDataStream.subscribe.signature``, and order methods) and
legacy listenKey streams.

Each payload is encoded once per stream (orjson) and framed once (a WebSocket text frame, header and all);
each subscriber collects the frames of one event-loop turn and writes them to its socket in one call, with
no coroutine or queue per message, so the fan-out costs a list append per message and subscriber. A slow
client delays only itself: its socket buffer grows, and past ``MAX_BUFFER`` bytes it is dropped, as Binance
drops slow consumers. Frames are not compressed (the sim declines permessage-deflate, as a server may).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson
from aiohttp import WSMsgType, web

from . import auth, errors
from .params import json_number_text

if TYPE_CHECKING:
    from .app import SimServer

#: bytes a client may leave unread in its socket's send buffer before it is dropped as a slow consumer
MAX_BUFFER = 16 * 1024 * 1024
#: largest text frame a client may send (a SUBSCRIBE of every stream fits many times over)
MAX_FRAME = 64 * 1024
#: Binance's limit of streams per connection
MAX_STREAMS = 1024
_STREAM_RE = re.compile(r"^([a-z0-9]+)@(trade|aggTrade|bookTicker|miniTicker|ticker|depth|depth@100ms|"
                        r"depth(?:5|10|20)|depth(?:5|10|20)@100ms|kline_(?:1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|"
                        r"12h|1d|3d|1w))$")
_LEN16 = struct.Struct("!BBH")
_LEN64 = struct.Struct("!BBQ")


def text_frame(payload: bytes) -> bytes:
    """One unmasked, final, uncompressed WebSocket text frame (RFC 6455 5.2) holding ``payload``."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return _LEN16.pack(0x81, 126, n) + payload
    return _LEN64.pack(0x81, 127, n) + payload


class Conn:
    """One WebSocket client: its subscriptions and the frames waiting for this event-loop turn's write."""

    __slots__ = ("closed", "combined", "pending", "request", "scheduled", "subs", "ws")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, combined: bool = False) -> None:
        self.ws = ws
        self.request = request
        self.combined = combined
        self.subs: set[str] = set()
        self.pending: list[bytes] = []
        self.scheduled = False
        self.closed = False

    def send(self, data: bytes) -> None:
        """Queue one message (a JSON document) for this turn's write."""
        self.send_frame(text_frame(data))

    def send_frame(self, frame: bytes) -> None:
        if self.closed:
            return
        self.pending.append(frame)
        if not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def send_frames(self, frames: list[bytes]) -> None:
        if self.closed:
            return
        self.pending.extend(frames)
        if not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Write every queued frame in one call. aiohttp's own frames (pong, close) are written whole and
        synchronously too, so the two never interleave inside a frame; nothing goes after its close frame."""
        self.scheduled = False
        frames, self.pending = self.pending, []
        tr = self.request.transport
        if self.closed or self.ws.closed or tr is None or tr.is_closing():
            return
        if tr.get_write_buffer_size() > MAX_BUFFER:  # a consumer this slow is dropped, like Binance does
            self.abort()
            return
        tr.write(b"".join(frames) if len(frames) > 1 else frames[0])

    def buffered(self) -> int:
        """Bytes written to this client that its socket has not taken yet."""
        tr = self.request.transport
        return tr.get_write_buffer_size() if tr is not None else 0

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (what a network failure looks like)."""
        self.closed = True
        self.pending = []
        tr = self.request.transport
        if tr is not None:
            tr.abort()


class StreamHub:
    """Fan-out of public streams and per-account user events to the connected clients."""

    def __init__(self) -> None:
        self.subs: dict[str, set[Conn]] = {}
        self.conns: set[Conn] = set()
        self.user_sinks: dict[str, set[Callable[[dict], None]]] = {}
        self.sent = 0

    def wants(self, stream: str) -> bool:
        return stream in self.subs

    def publish(self, stream: str, payload: dict) -> None:
        if stream in self.subs:
            self.publish_raw(stream, orjson.dumps(payload))

    def publish_raw(self, stream: str, raw: bytes) -> None:
        """Send one encoded payload to ``stream``'s subscribers: framed once for the combined form
        (``{"stream":..,"data":..}``) and once for the raw one, whichever is needed."""
        conns = self.subs.get(stream)
        if not conns:
            return
        plain = wrapped = None
        for c in conns:
            if c.combined:
                if wrapped is None:
                    wrapped = text_frame(b'{"stream":"' + stream.encode() + b'","data":' + raw + b"}")
                c.send_frame(wrapped)
            else:
                if plain is None:
                    plain = text_frame(raw)
                c.send_frame(plain)
        self.sent += len(conns)

    def publish_many(self, stream: str, raws: list[bytes]) -> None:
        """Send a batch of encoded payloads to ``stream``'s subscribers (the tape's prints): each framed once per
        form that a subscriber needs, and one list extend per subscriber."""
        conns = self.subs.get(stream)
        if not conns or not raws:
            return
        plain: list[bytes] | None = None
        wrapped: list[bytes] | None = None
        for c in conns:
            if c.combined:
                if wrapped is None:
                    head = b'{"stream":"' + stream.encode() + b'","data":'
                    wrapped = [text_frame(head + r + b"}") for r in raws]
                c.send_frames(wrapped)
            else:
                if plain is None:
                    plain = [text_frame(r) for r in raws]
                c.send_frames(plain)
        self.sent += len(conns) * len(raws)

    def user(self, api_key: str, event: dict) -> None:
        for sink in tuple(self.user_sinks.get(api_key, ())):
            sink(event)

    def add_sink(self, api_key: str, sink: Callable[[dict], None]) -> None:
        self.user_sinks.setdefault(api_key, set()).add(sink)

    def remove_sink(self, api_key: str, sink: Callable[[dict], None]) -> None:
        s = self.user_sinks.get(api_key)
        if s is not None:
            s.discard(sink)
            if not s:
                del self.user_sinks[api_key]

    def subscribe(self, conn: Conn, stream: str) -> None:
        conn.subs.add(stream)
        self.subs.setdefault(stream, set()).add(conn)

    def unsubscribe(self, conn: Conn, stream: str) -> None:
        conn.subs.discard(stream)
        s = self.subs.get(stream)
        if s is not None:
            s.discard(conn)
            if not s:
                del self.subs[stream]

    def forget(self, conn: Conn) -> None:
        for s in list(conn.subs):
            self.unsubscribe(conn, s)
        self.conns.discard(conn)
        conn.closed = True
        conn.pending = []

    def drop_all(self, abort: bool = True) -> int:
        """Fault injection: every WebSocket connection goes away at once."""
        conns = list(self.conns)
        for c in conns:
            if abort:
                c.abort()
            else:
                c.closed = True
                asyncio.get_running_loop().create_task(c.ws.close(code=1001, message=b"sim: dropped"))
        return len(conns)


def valid_stream(name: str, symbols: set[str]) -> bool:
    m = _STREAM_RE.match(name)
    return m is not None and m.group(1) in symbols


async def market_ws(server: SimServer, request: web.Request) -> web.StreamResponse:
    """``/ws``, ``/ws/<stream or index or listenKey>``, ``/stream?streams=a/b``."""
    hub = server.hub
    symbols = {s.lower() for s in server.exchange.markets}
    combined = request.path.startswith("/stream")
    ws = web.WebSocketResponse(heartbeat=20.0, autoping=True, max_msg_size=MAX_FRAME, compress=False)
    await ws.prepare(request)
    conn = Conn(ws, request, combined)
    hub.conns.add(conn)
    sinks: list[tuple[str, Callable[[dict], None]]] = []
    initial = request.query.get("streams", "").split("/") if combined else [request.match_info.get("name", "")]
    for name in list(filter(None, initial))[:MAX_STREAMS]:
        if name in server.listen_keys:
            key = server.listen_keys[name]

            def sink(ev: dict, conn: Conn = conn, name: str = name) -> None:
                conn.send(orjson.dumps({"stream": name, "data": ev}) if conn.combined else orjson.dumps(ev))

            hub.add_sink(key, sink)
            sinks.append((key, sink))
        elif valid_stream(name, symbols):
            hub.subscribe(conn, name)
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            _control(hub, conn, msg.data, symbols)
    finally:
        for key, fn in sinks:
            hub.remove_sink(key, fn)
        hub.forget(conn)
    return ws


def _control(hub: StreamHub, conn: Conn, text: str, symbols: set[str]) -> None:
    """SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY, answered in order."""
    try:
        req = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        conn.send(orjson.dumps({"code": 3, "msg": f"Invalid JSON: {e}"}))
        return
    if not isinstance(req, dict):
        conn.send(orjson.dumps({"code": 3, "msg": "Invalid JSON: expected an object"}))
        return
    rid = req.get("id")
    method = req.get("method")
    params = req.get("params", [])
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            conn.send(orjson.dumps({"code": 1, "msg": "Invalid value type: expected Array of String", "id": rid}))
            return
        bad = [p for p in params if not valid_stream(p, symbols)]
        if bad and method == "SUBSCRIBE":
            conn.send(orjson.dumps({"code": 2, "msg": f"Invalid request: unknown stream {bad[0][:64]!r}",
                                    "id": rid}))
            return
        if method == "SUBSCRIBE" and len(conn.subs | set(params)) > MAX_STREAMS:
            conn.send(orjson.dumps({"code": 2, "msg": f"Invalid request: more than {MAX_STREAMS} streams",
                                    "id": rid}))
            return
        conn.send(orjson.dumps({"result": None, "id": rid}))  # the ack goes out before any data
        for p in params:
            if method == "SUBSCRIBE":
                hub.subscribe(conn, p)
            else:
                hub.unsubscribe(conn, p)
    elif method == "LIST_SUBSCRIPTIONS":
        conn.send(orjson.dumps({"result": sorted(conn.subs), "id": rid}))
    elif method == "SET_PROPERTY":
        if isinstance(params, list) and len(params) == 2 and params[0] == "combined" and isinstance(params[1], bool):
            conn.combined = params[1]
            conn.send(orjson.dumps({"result": None, "id": rid}))
        else:
            conn.send(orjson.dumps({"code": 2, "msg": "Invalid request: unknown property", "id": rid}))
    elif method == "GET_PROPERTY":
        if isinstance(params, list) and params == ["combined"]:
            conn.send(orjson.dumps({"result": conn.combined, "id": rid}))
        else:
            conn.send(orjson.dumps({"code": 2, "msg": "Invalid request: unknown property", "id": rid}))
    else:
        conn.send(orjson.dumps({"code": 2, "msg": f"Invalid request: unknown method {method!r}", "id": rid}))


# ---- WebSocket API ------------------------------------------------------------------------------------------

_WS_WEIGHTS = {"ping": 1, "time": 1, "exchangeInfo": 20, "depth": 5, "order.place": 1, "order.test": 1,
               "order.cancel": 1, "order.status": 4, "openOrders.status": 6, "openOrders.cancelAll": 1,
               "allOrders": 20, "account.status": 20, "myTrades": 20, "userDataStream.subscribe.signature": 2,
               "userDataStream.unsubscribe": 2, "session.subscriptions": 2, "orderList.status": 4,
               "openOrderLists.status": 6, "allOrderLists": 20}


async def ws_api(server: SimServer, request: web.Request) -> web.StreamResponse:
    hub = server.hub
    ws = web.WebSocketResponse(heartbeat=20.0, autoping=True, max_msg_size=MAX_FRAME, compress=False)
    await ws.prepare(request)
    conn = Conn(ws, request)
    hub.conns.add(conn)
    subs: dict[int, tuple[str, Callable[[dict], None]]] = {}
    state = {"next": 0}
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                req = orjson.loads(msg.data)
                if not isinstance(req, dict):
                    raise ValueError
            except ValueError:
                conn.send(orjson.dumps({"id": None, "status": 400,
                                        "error": {"code": -1100, "msg": "Malformed request"}}))
                continue
            rid = req.get("id")
            method = req.get("method")
            params = req.get("params") or {}
            name = f"ws-api {method}"  # counted beside the REST paths in /_sim/stats
            server.counts[name] = server.counts.get(name, 0) + 1
            ip = request.remote or "?"
            now = server.exchange.clock()
            try:
                if not isinstance(params, dict):
                    raise errors.bad_param("params")
                used = server.weights.charge(ip, _WS_WEIGHTS.get(str(method), 1), now)
                result = _ws_call(server, conn, subs, state, str(method), params, now)
                body = {"id": rid, "status": 200, "result": result}
            except errors.ApiError as e:
                used = server.weights.used(ip, now)
                body = {"id": rid, "status": e.status, "error": e.body()}
            body["rateLimits"] = [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                                   "limit": server.weights.limit, "count": used}]
            conn.send(orjson.dumps(body))
    finally:
        for key, sink in subs.values():
            hub.remove_sink(key, sink)
        hub.forget(conn)
    return ws


def _str_params(params: dict) -> dict[str, str]:
    out = {}
    for k, v in params.items():
        if isinstance(v, list | dict):
            out[k] = orjson.dumps(v).decode()
        else:
            out[k] = json_number_text(v)
    return out


def _ws_auth(server: SimServer, params: dict, now: int) -> str:
    key = params.get("apiKey")
    if not key:
        raise errors.mandatory("apiKey")
    acct = server.exchange.accounts.get(str(key))
    if acct is None:
        raise errors.rejected_key()
    sp = _str_params(params)
    auth.check_timestamp(sp, now)
    auth.verify(acct.secret, auth.ws_payload(params), sp.get("signature"))
    return acct.api_key


def _ws_call(server: SimServer, conn: Conn, subs: dict, state: dict, method: str, params: dict,
             now: int) -> object:
    ex = server.exchange
    if method == "ping":
        return {}
    if method == "time":
        return {"serverTime": now}
    if method == "exchangeInfo":
        return ex.exchange_info(_str_params(params))
    if method == "depth":
        return ex.depth(_str_params(params))
    if method == "userDataStream.subscribe.signature":
        key = _ws_auth(server, params, now)
        for sid, (k, _) in subs.items():
            if k == key:
                return {"subscriptionId": sid}
        sid = state["next"]
        state["next"] = sid + 1

        def sink(ev: dict, sid: int = sid) -> None:
            conn.send(orjson.dumps({"subscriptionId": sid, "event": ev}))

        server.hub.add_sink(key, sink)
        subs[sid] = (key, sink)
        return {"subscriptionId": sid}
    if method == "userDataStream.unsubscribe":
        want = params.get("subscriptionId")
        for sid in [s for s in subs if want is None or s == want]:
            key, sink = subs.pop(sid)
            server.hub.remove_sink(key, sink)
            conn.send(orjson.dumps({"subscriptionId": sid, "event": {"e": "eventStreamTerminated", "E": now}}))
        return {}
    if method == "session.subscriptions":
        return [{"subscriptionId": sid} for sid in sorted(subs)]
    signed = {"order.place": lambda k, p: ex.new_order(k, p),
              "order.test": lambda k, p: ex.new_order(k, p, test=True),
              "order.cancel": ex.cancel_order, "order.status": ex.query_order,
              "openOrders.status": ex.open_orders, "openOrders.cancelAll": ex.cancel_all,
              "allOrders": ex.all_orders, "account.status": ex.account_info, "myTrades": ex.trades_of,
              "order.cancelReplace": ex.cancel_replace,
              "orderList.place": lambda k, p: ex.place_oco(k, p, legacy=True),
              "orderList.place.oco": ex.place_oco, "orderList.place.oto": ex.place_oto,
              "orderList.place.otoco": lambda k, p: ex.place_oto(k, p, otoco=True),
              "orderList.cancel": ex.cancel_list, "orderList.status": ex.query_list,
              "openOrderLists.status": ex.open_lists, "allOrderLists": ex.all_lists}
    fn = signed.get(method)
    if fn is None:
        raise errors.ApiError(-1100, f"Unknown method '{method}'.")
    key = _ws_auth(server, params, now)
    sp = {k: v for k, v in _str_params(params).items() if k not in ("apiKey", "signature")}
    result = fn(key, sp)
    return result


async def close_all(hub: StreamHub) -> None:
    for c in list(hub.conns):
        with contextlib.suppress(Exception):
            await c.ws.close(code=1001, message=b"server shutdown")
        hub.forget(c)
