"""The aiohttp application: REST ``/api/v3/*`` with Binance's security, weights and error bodies; the
WebSocket endpoints; the loopback-only ``/_sim/*`` control endpoints; and ``serve()`` / ``start_server()``.

One ``SimServer`` = one exchange on one port. Background tasks step the crowd (``generator.rate_hz``) and
flush the 100 ms / 1 s streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
import re
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler

from . import auth, errors, streams
from .config import SimConfig, finalize
from .exchange import _ALNUM, Exchange
from .faults import Faults
from .params import decimal_value, json_number_text, long_value
from .streams import StreamHub
from .tape import Tape
from .weights import WEIGHTS, WeightTracker, depth_weight

NONE, SIGNED, USER_STREAM = 0, 1, 2
#: largest request body and URL the server reads; larger ones get -1000 with 413 / 414
MAX_BODY = 1 << 20
MAX_URL = 8 * 1024
#: crowd steps one ``POST /_sim/step`` may ask for (more would hold the loop: split into several calls)
MAX_STEPS = 10_000
#: bounds of the ``/_sim/faults`` counters and delays
MAX_FAULT_COUNT = 1_000_000
MAX_DELAY_MS = 60_000
#: (the account's API key, or None on a public endpoint; the request's parameters) -> the answer
Handler = Callable[[Any, dict[str, str]], Any]


def _n_symbols_weight(params: dict[str, str], one: int, many: int) -> int:
    return one if params.get("symbol") else many


def _ticker_weight(params: dict[str, str]) -> int:
    if params.get("symbol"):
        return 2
    raw = params.get("symbols")
    if raw:
        n = raw.count(",") + 1
        return 2 if n <= 20 else 40 if n <= 100 else 80
    return 80


class SimServer:
    """The simulated Binance venue: an Exchange behind HTTP and WebSockets."""

    def __init__(self, cfg: SimConfig | None = None) -> None:
        if cfg is None or not cfg.accounts:  # validate, add the default account
            cfg = finalize(cfg if cfg is not None else SimConfig(), "config")
        self.cfg = cfg
        self.hub = StreamHub()
        self.exchange = Exchange(self.cfg, self.hub)
        lim = self.cfg.limits
        self.weights = WeightTracker(lim.weight_per_minute, lim.ban_after_429s, lim.ban_seconds)
        self.faults = Faults.from_config(self.cfg.faults)
        self.listen_keys: dict[str, str] = {}
        self._lk_rng = random.Random(self.cfg.seed + 7)
        #: requests served per path (REST and WebSocket connects): what load tests read at /_sim/stats
        self.counts: dict[str, int] = {}
        self._order_times: dict[str, deque[int]] = {}
        self._order_day: dict[str, tuple[int, int]] = {}
        self._tasks: list[asyncio.Task] = []
        self._runner: web.AppRunner | None = None
        self.host = self.cfg.host
        self.port = 0
        if self.cfg.faults.skip_depth_ids:
            for m in self.exchange.markets.values():
                m.arm_skip(self.cfg.faults.skip_depth_ids)
        self.exchange.warmup(self.cfg.generator.warmup_steps)
        self.app = self._build_app()

    # ---- convenience for tests and callers ------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def api_key(self) -> str:
        return self.cfg.accounts[0].api_key

    @property
    def api_secret(self) -> str:
        return self.cfg.accounts[0].api_secret

    def step(self, n: int = 1) -> None:
        """Run ``n`` crowd steps now (deterministic tests use ``generator.rate_hz = 0`` and call this)."""
        for _ in range(n):
            self.exchange.step_all()

    def flush(self, second: bool = True) -> None:
        """Publish the timed streams now (depth diffs, tickers) instead of waiting for the 100 ms tick."""
        self.exchange.flush(self.exchange.clock(), second)

    # ---- lifecycle --------------------------------------------------------------------------------------
    async def start(self, host: str | None = None, port: int | None = None) -> SimServer:
        host = host or self.cfg.host
        port = self.cfg.port if port is None else port
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        # requests refused while parsing (request line or headers too long, garbage) answer Binance's JSON too
        self._runner.server.__class__ = _JsonErrorServer
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        self.host, self.port = host, sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._flush_loop())]
        if self.cfg.generator.rate_hz > 0:
            self._tasks.append(loop.create_task(self._crowd_loop(self.cfg.generator.rate_hz)))
        if self.cfg.generator.tape_rate_hz > 0:
            self._tasks.append(loop.create_task(self._tape_loop(self.cfg.generator.tape_rate_hz,
                                                                self.cfg.generator.tape_interval_ms / 1000)))
        return self

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks = []
        await streams.close_all(self.hub)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _crowd_loop(self, rate_hz: float) -> None:
        loop = asyncio.get_running_loop()
        interval = max(1.0 / rate_hz, 0.002)
        dt_ms = 1000.0 / rate_hz
        carry, last = 0.0, loop.time()
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            carry = min(carry + (now - last) * rate_hz, max(1.0, rate_hz * 0.1))  # behind: the crowd slows
            last = now
            n = int(carry)
            carry -= n
            for i in range(n):
                self.exchange.step_all(dt_ms)
                if i % 50 == 49:
                    await asyncio.sleep(0)  # let the writers send between bursts

    async def _tape_loop(self, rate_hz: float, interval_s: float) -> None:
        """Tape prints (``generator.tape_rate_hz`` per symbol): the prints due every ``interval_s``
        (``generator.tape_interval_ms``), one write per subscriber."""
        loop = asyncio.get_running_loop()
        hub, ex = self.hub, self.exchange
        tapes = [Tape(m, random.Random(self.cfg.seed * 7_919 + i)) for i, m in enumerate(ex.markets.values())]
        carry, last = 0.0, loop.time()
        while True:
            await asyncio.sleep(interval_s)
            now = loop.time()
            carry = min(carry + (now - last) * rate_hz, max(1.0, rate_hz * 0.05))  # behind: the tape slows
            last = now
            n = int(carry)
            carry -= n
            if n:
                t_ms = ex.clock()
                for tape in tapes:
                    raws = tape.prints(n, t_ms, hub.wants(tape.stream))
                    hub.publish_many(tape.stream, raws)

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        n = 0
        nxt = loop.time()
        while True:
            nxt += 0.1
            await asyncio.sleep(max(0.0, nxt - loop.time()))
            n += 1
            try:
                self.exchange.flush(self.exchange.clock(), n % 10 == 0)
            except Exception as e:  # a bug here must not silence every stream
                print(f"leand sim: flush error: {e!r}", file=sys.stderr)

    # ---- HTTP plumbing ---------------------------------------------------------------------------------
    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[_binance_errors])
        ex = self.exchange
        r = app.router
        api = "/api/v3/"

        def add(method: str, path: str, fn: Handler, security: int, weight: int | Callable[[dict], int]) -> None:
            r.add_route(method, api + path, self._endpoint(fn, security, weight))

        add("GET", "ping", lambda k, p: {}, NONE, WEIGHTS["ping"])
        add("GET", "time", lambda k, p: {"serverTime": ex.clock()}, NONE, WEIGHTS["time"])
        add("GET", "exchangeInfo", lambda k, p: ex.exchange_info(p), NONE, WEIGHTS["exchangeInfo"])
        add("GET", "depth", lambda k, p: ex.depth(p), NONE, lambda p: depth_weight(_limit(p, 100)))
        add("GET", "trades", lambda k, p: ex.recent_trades(p), NONE, WEIGHTS["trades"])
        add("GET", "aggTrades", lambda k, p: ex.agg_trades(p), NONE, WEIGHTS["aggTrades"])
        add("GET", "klines", lambda k, p: ex.klines(p), NONE, WEIGHTS["klines"])
        add("GET", "uiKlines", lambda k, p: ex.klines(p), NONE, WEIGHTS["uiKlines"])
        add("GET", "avgPrice", lambda k, p: ex.avg_price(p), NONE, WEIGHTS["avgPrice"])
        add("GET", "ticker/24hr", lambda k, p: ex.ticker_24hr(p), NONE, _ticker_weight)
        add("GET", "ticker/bookTicker", lambda k, p: ex.book_ticker(p), NONE,
            lambda p: _n_symbols_weight(p, 2, 4))
        add("GET", "ticker/price", lambda k, p: ex.ticker_price(p), NONE, lambda p: _n_symbols_weight(p, 2, 4))
        add("POST", "order", self._place, SIGNED, WEIGHTS["order.post"])
        add("POST", "order/cancelReplace", self._counted(1, ex.cancel_replace), SIGNED, 1)
        add("POST", "order/oco", self._counted(2, lambda k, p: ex.place_oco(k, p, legacy=True)), SIGNED, 1)
        add("POST", "orderList/oco", self._counted(2, ex.place_oco), SIGNED, 1)
        add("POST", "orderList/oto", self._counted(2, ex.place_oto), SIGNED, 1)
        add("POST", "orderList/otoco", self._counted(3, lambda k, p: ex.place_oto(k, p, otoco=True)), SIGNED, 1)
        add("DELETE", "orderList", ex.cancel_list, SIGNED, 1)
        add("GET", "orderList", ex.query_list, SIGNED, 4)
        add("GET", "openOrderList", ex.open_lists, SIGNED, 6)
        add("GET", "allOrderList", ex.all_lists, SIGNED, 20)
        add("POST", "order/test", lambda k, p: ex.new_order(k, p, test=True), SIGNED, WEIGHTS["order.test"])
        add("DELETE", "order", ex.cancel_order, SIGNED, WEIGHTS["order.delete"])
        add("GET", "order", ex.query_order, SIGNED, WEIGHTS["order.get"])
        add("GET", "openOrders", ex.open_orders, SIGNED, lambda p: _n_symbols_weight(p, 6, 80))
        add("DELETE", "openOrders", ex.cancel_all, SIGNED, WEIGHTS["openOrders.delete"])
        add("GET", "allOrders", ex.all_orders, SIGNED, WEIGHTS["allOrders"])
        add("GET", "account", ex.account_info, SIGNED, WEIGHTS["account"])
        add("GET", "myTrades", ex.trades_of, SIGNED, lambda p: 5 if p.get("orderId") else 20)
        add("POST", "userDataStream", self._listen_key_new, USER_STREAM, WEIGHTS["userDataStream"])
        add("PUT", "userDataStream", self._listen_key_keep, USER_STREAM, WEIGHTS["userDataStream"])
        add("DELETE", "userDataStream", self._listen_key_close, USER_STREAM, WEIGHTS["userDataStream"])
        r.add_get("/ws", self._market_ws)
        r.add_get("/ws/{name}", self._market_ws)
        r.add_get("/stream", self._market_ws)
        r.add_get("/ws-api/v3", self._ws_api)
        r.add_get("/_sim/stats", self._control(self._stats))
        r.add_get("/_sim/faults", self._control(self._faults_get))
        r.add_post("/_sim/faults", self._control(self._faults_set))
        r.add_post("/_sim/deposit", self._control(self._deposit))
        r.add_post("/_sim/step", self._control(self._step))
        return app

    async def _market_ws(self, request: web.Request) -> web.StreamResponse:
        self.counts["market_ws"] = self.counts.get("market_ws", 0) + 1
        return await streams.market_ws(self, request)

    async def _ws_api(self, request: web.Request) -> web.StreamResponse:
        return await streams.ws_api(self, request)

    def _endpoint(self, fn: Handler, security: int,
                  weight: int | Callable[[dict], int]) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            now = self.exchange.clock()
            ip = request.remote or "?"
            self.counts[request.path] = self.counts.get(request.path, 0) + 1
            headers: dict[str, str] = {}
            fault, mode = 0, ""
            if self.faults.take_drop():  # the network fails mid-request: no answer, the connection is gone
                if request.transport is not None:
                    request.transport.abort()
                raise ConnectionResetError("fault injection: connection dropped")
            try:
                raw_q = request.rel_url.raw_query_string
                raw_b = ""
                if request.method != "GET" and request.can_read_body:
                    raw_b = (await request.read()).decode("utf-8", "replace")
                params = dict(parse_qsl(raw_b, keep_blank_values=True))
                params.update(parse_qsl(raw_q, keep_blank_values=True))  # the query string wins
                w = weight(params) if callable(weight) else weight
                self.weights.charge(ip, w, now)
                fault, mode = self.faults.take_http()
                if fault and mode == "before":
                    raise _fault_error(fault)
                key = self._authenticate(request, params, raw_q, raw_b, security, now)
                result = fn(key, params)
                if fn == self._place or getattr(fn, "counts_orders", False):
                    headers.update(self._order_headers(key or "", now))
                if fault:
                    raise _fault_error(fault)
                status, body = 200, orjson.dumps(result)
            except errors.ApiError as e:
                status, body = e.status, orjson.dumps(e.body())
                if e.retry_after is not None:
                    headers["Retry-After"] = str(e.retry_after)
            delay = self.faults.take_delay()
            if delay:
                await asyncio.sleep(delay / 1000)
            headers["X-MBX-USED-WEIGHT-1M"] = str(self.weights.used(ip, now))
            return web.Response(body=body, status=status, headers=headers, content_type="application/json")

        return handler

    def _authenticate(self, request: web.Request, params: dict[str, str], raw_q: str, raw_b: str,
                      security: int, now: int) -> str | None:
        if security == NONE:
            return None
        key = request.headers.get("X-MBX-APIKEY")
        if not key:
            raise errors.bad_api_key_format()
        acct = self.exchange.accounts.get(key)
        if acct is None:
            raise errors.rejected_key()
        if security == SIGNED:
            micro = request.headers.get("X-MBX-TIME-UNIT", "").upper() == "MICROSECOND"
            auth.check_timestamp(params, now, micro)
            payload, sig = auth.rest_payload(raw_q, raw_b)
            auth.verify(acct.secret, payload, sig)
        return key

    def _place(self, key: str | None, params: dict[str, str]) -> dict:
        return self._count_orders(key, params, 1, self.exchange.new_order)

    def _counted(self, n: int, fn: Callable[[str, dict[str, str]], dict]) -> Handler:
        """A request that places ``n`` orders, under the account's order rate limits."""
        def handler(key: str | None, params: dict[str, str]) -> dict:
            return self._count_orders(key, params, n, fn)

        handler.counts_orders = True  # type: ignore[attr-defined]
        return handler

    def _count_orders(self, key: str | None, params: dict[str, str], n: int,
                      fn: Callable[[str, dict[str, str]], dict]) -> dict:
        assert key is not None
        now = self.exchange.clock()
        lim = self.cfg.limits
        times = self._order_times.setdefault(key, deque())
        while times and times[0] <= now - 10_000:
            times.popleft()
        day, count = self._order_day.get(key, (now // 86_400_000, 0))
        if day != now // 86_400_000:
            day, count = now // 86_400_000, 0
        if len(times) + n > lim.orders_per_10s:
            raise errors.ApiError(-1015, f"Too many new orders; current limit is {lim.orders_per_10s} orders per "
                                         "10 SECOND.", 429, 10)
        if count + n > lim.orders_per_day:
            raise errors.ApiError(-1015, f"Too many new orders; current limit is {lim.orders_per_day} orders per "
                                         "DAY.", 429, 3600)
        out = fn(key, params)
        times.extend([now] * n)
        self._order_day[key] = (day, count + n)
        return out

    def _order_headers(self, key: str, now: int) -> dict[str, str]:
        return {"X-MBX-ORDER-COUNT-10S": str(len(self._order_times.get(key, ()))),
                "X-MBX-ORDER-COUNT-1D": str(self._order_day.get(key, (0, 0))[1])}

    # ---- legacy listenKey ---------------------------------------------------------------------------------
    def _listen_key_new(self, key: str | None, params: dict[str, str]) -> dict:
        for lk, k in self.listen_keys.items():
            if k == key:
                return {"listenKey": lk}
        lk = "".join(self._lk_rng.choices(_ALNUM, k=64))
        self.listen_keys[lk] = key or ""
        return {"listenKey": lk}

    def _listen_key_keep(self, key: str | None, params: dict[str, str]) -> dict:
        lk = params.get("listenKey")
        if not lk:
            raise errors.mandatory("listenKey")
        if self.listen_keys.get(lk) != key:
            raise errors.invalid_listen_key()
        return {}

    def _listen_key_close(self, key: str | None, params: dict[str, str]) -> dict:
        self._listen_key_keep(key, params)
        self.listen_keys.pop(params["listenKey"], None)
        return {}

    # ---- /_sim control -------------------------------------------------------------------------------------
    def _control(self, fn: Callable[[dict], Any]) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            try:
                if not self.cfg.control:
                    raise errors.ApiError(-1000, "control endpoints are disabled", 404)
                try:
                    loopback = ipaddress.ip_address(request.remote or "").is_loopback
                except ValueError:
                    loopback = False
                if not loopback:
                    raise errors.ApiError(-1000, "control endpoints answer loopback callers only", 403)
                if request.headers.get("X-MBX-APIKEY") not in self.exchange.accounts:
                    raise errors.rejected_key()
                body = await request.read()
                try:
                    data = orjson.loads(body) if body.strip() else {}
                except orjson.JSONDecodeError:
                    raise errors.ApiError(-1100, "body must be a JSON object") from None
                if not isinstance(data, dict):
                    raise errors.ApiError(-1100, "body must be a JSON object")
                data["_key"] = request.headers["X-MBX-APIKEY"]
                return web.json_response(fn(data), dumps=lambda o: orjson.dumps(o).decode())
            except errors.ApiError as e:
                return web.json_response(e.body(), status=e.status)

        return handler

    def _stats(self, data: dict) -> dict:
        """Messages published to WebSocket clients, the most bytes a client has left unread in its socket's send
        buffer, requests served per path."""
        return {"sent": self.hub.sent, "connections": len(self.hub.conns),
                "max_buffered": max((c.buffered() for c in self.hub.conns), default=0),
                "requests": dict(self.counts)}

    def _faults_get(self, data: dict) -> dict:
        return self.faults.as_dict()

    def _faults_set(self, data: dict) -> dict:
        """Every value is checked before any is applied, so a refused request changes nothing."""
        f = self.faults
        out: dict[str, object] = {}
        known = {"http_status", "http_count", "http_mode", "delay_ms", "delay_count", "skip_depth_ids", "symbols",
                 "drop_ws", "drop_http", "reset_weights", "weight_per_minute", "_key"}
        unknown = sorted(k for k in data if k not in known)
        if unknown:
            shown = ", ".join(repr(k)[:40] for k in unknown[:5])
            raise errors.ApiError(-1104, f"Not all sent parameters were read; unknown: {shown}.")
        status = _ctl_int(data, "http_status", 0, 0, 504)
        if status not in (0, 418, 429, 500, 502, 503, 504):
            raise errors.ApiError(-1100, "http_status: want 0, 418, 429 or 5xx")
        http_count = _ctl_int(data, "http_count", 1, 0, MAX_FAULT_COUNT)
        http_mode = data.get("http_mode", "before")
        if http_mode not in ("before", "after"):
            raise errors.ApiError(-1100, "http_mode: want 'before' or 'after'")
        delay_ms = _ctl_int(data, "delay_ms", 0, 0, MAX_DELAY_MS)
        delay_count = _ctl_int(data, "delay_count", -1, -1, MAX_FAULT_COUNT)
        skip = _ctl_int(data, "skip_depth_ids", 0, 0, MAX_FAULT_COUNT)
        drop_http = _ctl_int(data, "drop_http", f.drop_http, 0, MAX_FAULT_COUNT)
        syms = data.get("symbols") or list(self.exchange.markets)
        if not isinstance(syms, list) or not all(isinstance(s, str) and s in self.exchange.markets for s in syms):
            raise errors.ApiError(-1121, "Invalid symbol.")
        drop = data.get("drop_ws", False)
        if drop not in (False, True, "close", "abort"):
            raise errors.ApiError(-1100, "drop_ws: want true, 'close' or 'abort'")
        reset = data.get("reset_weights", False)
        if not isinstance(reset, bool):
            raise errors.ApiError(-1100, "reset_weights: want true or false")
        wpm = _ctl_int(data, "weight_per_minute", self.weights.limit, 1, 1_000_000_000)
        if "http_status" in data:
            f.http_status, f.http_count, f.http_mode = status, http_count, http_mode
        if "delay_ms" in data:
            f.delay_ms, f.delay_count = delay_ms, delay_count
        f.drop_http = drop_http
        if skip:
            for s in syms:
                self.exchange.markets[s].arm_skip(skip)
        if drop:
            out["dropped"] = self.hub.drop_all(abort=drop != "close")
        if reset:
            self.weights.reset()
        self.weights.limit = wpm
        return {**f.as_dict(), **out}

    def _deposit(self, data: dict) -> dict:
        asset, raw = data.get("asset"), data.get("amount")
        if not isinstance(asset, str) or not _ASSET_RE.match(asset):
            raise errors.ApiError(-1100, "asset: want 1-20 uppercase letters or digits, e.g. \"USDT\"")
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise errors.mandatory("amount")
        amount = decimal_value(json_number_text(raw), "amount", signed=True)
        self.exchange.deposit(data["_key"], asset, amount)
        return {}

    def _step(self, data: dict) -> dict:
        n = _ctl_int(data, "n", 1, 0, MAX_STEPS)
        flush = data.get("flush", True)
        if not isinstance(flush, bool):
            raise errors.ApiError(-1100, "flush: want true or false")
        self.step(n)
        if flush:
            self.flush()
        return {}


_ASSET_RE = re.compile(r"^[A-Z0-9]{1,20}\Z")


def _ctl_int(data: dict, name: str, default: int, lo: int, hi: int) -> int:
    """An integer of a control request: a JSON integer (or its digits as a string) within ``[lo, hi]``."""
    v = data.get(name, default)
    if isinstance(v, bool) or not isinstance(v, int | str):
        raise errors.bad_param(name, f"an integer {lo}-{hi}")
    return long_value(str(v), name, lo, hi)


def _limit(params: dict[str, str], default: int) -> int:
    """The ``limit`` a weight depends on (a malformed one is refused by the endpoint itself, after charging)."""
    try:
        return long_value(params.get("limit") or str(default), "limit")
    except errors.ApiError:
        return default


def _json_error(e: errors.ApiError) -> web.Response:
    return web.Response(body=orjson.dumps(e.body()), status=e.status, content_type="application/json")


_HTTP_MESSAGES = {404: "Unknown endpoint.", 405: "Method not allowed for this endpoint.",
                  413: f"Request body larger than {MAX_BODY} bytes.", 414: f"Request URL longer than {MAX_URL} bytes.",
                  431: "Request headers too large."}


def _http_error(status: int, detail: str = "") -> errors.ApiError:
    msg = _HTTP_MESSAGES.get(status) or (detail or "Malformed request.")
    return errors.ApiError(-1000 if status != 400 else -1100, msg, status)


@web.middleware
async def _binance_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                          ) -> web.StreamResponse:
    """Every answer is Binance's ``{"code", "msg"}``: unknown paths, wrong methods, oversized requests and
    (logged, never a traceback page) a bug in a handler."""
    if len(request.raw_path) > MAX_URL:
        return _json_error(_http_error(414))
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return _json_error(_http_error(e.status, e.reason))
    except errors.ApiError as e:
        return _json_error(e)
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception as e:
        print(f"leand sim: error in {request.method} {request.path}: {e!r}", file=sys.stderr)
        return _json_error(errors.internal(500))


_REQUEST_LINE = re.compile(rb"^(?:[A-Z]{3,8} )?/")  # the parser hands over the URL or the whole line


class _JsonErrorHandler(RequestHandler):
    """aiohttp's protocol handler, answering requests it cannot parse in Binance's JSON format."""

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if isinstance(exc, LineTooLong):  # the request line (a long URL) or a header line
            line = exc.args[0] if exc.args else b""
            line = line.encode("latin-1", "replace") if isinstance(line, str) else bytes(line)
            status = 414 if _REQUEST_LINE.match(line) else 431
        if request.writer.output_size > 0:
            raise ConnectionError("response already started")
        resp = _json_error(_http_error(status) if status != 500 else errors.internal(500))
        resp.force_close()
        return resp


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


def _fault_error(status: int) -> errors.ApiError:
    if status == 429:
        return errors.too_many_requests(0, 1)
    if status == 418:
        return errors.banned(int(time.time() * 1000) + 60_000, 60)
    return errors.internal(status)


def is_loopback(host: str) -> bool:
    """True for a loopback address or ``localhost`` (a name or wildcard that may reach beyond is not)."""
    if host in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def start_server(cfg: SimConfig | None = None, *, host: str = "127.0.0.1", port: int = 0,
                       seed: int | None = None) -> SimServer:
    """Start a server on ``host:port`` (0: an ephemeral port) in the running loop; ``await srv.close()``."""
    cfg = cfg if cfg is not None else finalize(SimConfig(), "defaults")
    if seed is not None:
        cfg.seed = seed
    srv = SimServer(cfg)
    return await srv.start(host, port)


def serve(cfg: SimConfig, *, host: str | None = None, port: int | None = None) -> int:
    """Run until interrupted (the ``leand sim serve`` command). Prints where it listens, never the secret."""

    srv = SimServer(cfg)  # ConfigError (e.g. missing LEAN data) surfaces before anything listens
    bind = host or cfg.host
    if not is_loopback(bind):
        print(f"leand sim: WARNING: listening on {bind}, not loopback: anyone who can reach this address can use "
              "the default API key, read the account and (POST /_sim/*) mint balances. Use 127.0.0.1 unless this "
              "is an isolated test network.", file=sys.stderr, flush=True)

    async def main() -> None:
        import signal

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await srv.start(host, port)
        syms = ", ".join(srv.exchange.markets)
        print(f"leand sim: Binance Spot simulator on {srv.url} (ws {srv.ws_url}/ws, {srv.ws_url}/ws-api/v3); "
              f"symbols {syms}; {len(cfg.accounts)} account(s), API key {srv.api_key[:8]}...; seed {cfg.seed}",
              flush=True)
        try:
            await stop.wait()
        finally:
            await srv.close()

    try:
        import uvloop

        runner: Callable[[Any], Any] = uvloop.run
    except ImportError:
        runner = asyncio.run
    with contextlib.suppress(KeyboardInterrupt):
        runner(main())
    return 0


class ThreadedServer:
    """A server on its own loop in a daemon thread, for synchronous callers (ccxt sync, other loops)."""

    def __init__(self, cfg: SimConfig | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        import threading

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="leand-sim", daemon=True)
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(start_server(cfg, host=host, port=port), self._loop)
        self.server: SimServer = fut.result(30)

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the server's loop (the exchange is not thread-safe) and return its result."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
