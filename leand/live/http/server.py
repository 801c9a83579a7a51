"""``[http]``: Prometheus metrics, a read-only JSON API, the live dashboard and its three buttons (aiohttp).

``/metrics`` and ``/healthz`` are open (a scraper and a load balancer carry no secrets); everything under
``/api/`` needs ``Authorization: Bearer <token>``. The dashboard page and its script are static files with no
state in them: the page asks for the token, keeps it in the tab's sessionStorage and sends it as that header,
so it never travels in a URL (a ``#token=`` fragment is read by the page and never reaches the server).

The JSON API answers with the control server's own handlers, so it shows exactly what ``leand ctl`` shows;
halt, resume and cancel-all go through them too and are journaled in ``ctl_audit`` with ``http <peer>`` as
who.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import sys
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from aiohttp import web
from prometheus_client.exposition import choose_encoder

from leand.live.config import ConfigError, HttpConfig, split_listen
from leand.live.ctl_server import CtlError
from leand.live.http.token import load_token
from leand.live.metrics import registry_for

if TYPE_CHECKING:
    from leand.live.daemon import Daemon

log = structlog.get_logger("leand.http")

PUBLIC = frozenset({"/metrics", "/healthz", "/", "/dashboard.js", "/dashboard.css"})
STATIC = {"/": ("dashboard.html", "text/html"), "/dashboard.js": ("dashboard.js", "application/javascript"),
          "/dashboard.css": ("dashboard.css", "text/css")}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ListenError(ConfigError):
    """The configured address cannot be listened on (in use, not ours): ``leand run`` exits 2 with this."""


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY),
                        status=status, content_type="application/json")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpServer:
    def __init__(self, daemon: Daemon) -> None:
        self.d = daemon
        cfg = daemon.cfg.http
        assert cfg is not None, "HttpServer needs [http]"
        self.cfg: HttpConfig = cfg
        self.registry = registry_for(daemon)
        self.token = ""
        self.closing = asyncio.Event()
        self.app = web.Application(middlewares=[self._guard])
        r = self.app.router
        r.add_get("/metrics", self.metrics)
        r.add_get("/healthz", self.healthz)
        for path in STATIC:
            r.add_get(path, self.static)
        ctl = daemon.ctl
        for name, handler in (("status", ctl.status), ("health", ctl.health), ("strategies", ctl.strategies),
                              ("orders", ctl.orders), ("positions", ctl.positions), ("balances", ctl.balances),
                              ("risk", ctl.risk_show)):
            r.add_get(f"/api/{name}", handler)
        r.add_get("/api/fills", ctl.fills)
        r.add_get("/api/equity", ctl.equity)
        r.add_get("/api/latency", self.latency_view)
        r.add_get("/api/stream", self.stream)
        r.add_post("/api/halt", ctl.halt)
        r.add_post("/api/resume", ctl.resume)
        r.add_post("/api/orders/cancel-all", ctl.cancel_all)
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        host, port = split_listen(self.cfg.listen)
        self.token, source, generated = load_token(self.cfg, self.d.cfg.state_path)
        self.runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port, reuse_address=True)
        try:
            await site.start()
        except OSError as e:
            await self.runner.cleanup()
            raise ListenError(f"http.listen = {self.cfg.listen!r}: cannot listen on {host}:{port}: "
                              f"{e.strerror or e}") from None
        bound = self.runner.addresses[0][1] if self.runner.addresses else port
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{bound}/"
        if not is_loopback(host):
            msg = (f"the HTTP API listens on {host}:{bound}, which is NOT loopback: anyone who can reach it can "
                   "scrape /metrics and, with the token, halt trading. Put it behind TLS and a firewall.")
            log.warning("http.not_loopback", listen=f"{host}:{bound}", warning=msg)
            print(f"leand: WARNING: {msg}", file=sys.stderr, flush=True)
        if generated:  # the one time it is shown: the file keeps it, mode 0600
            print(f"leand: generated the HTTP API token in {source} (mode 0600); it is shown only now:\n"
                  f"  {self.token}\n  dashboard: {self.url}#token={self.token}", file=sys.stderr, flush=True)
        log.info("http.listening", url=self.url, token_from=source)

    async def stop(self) -> None:
        self.closing.set()
        if self.runner is not None:
            await self.runner.cleanup()

    # -- plumbing --------------------------------------------------------------------------------------
    @web.middleware
    async def _guard(self, request: web.Request, handler):
        if request.path not in PUBLIC:
            auth = request.headers.get("Authorization", "")
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
                return web.json_response({"error": "missing or wrong bearer token (Authorization: Bearer <token>)"},
                                         status=401, headers={"WWW-Authenticate": 'Bearer realm="leand"'})
            if self.d.state == "starting":
                return web.json_response({"error": "the daemon is starting (reconciling with the venue)"},
                                         status=503, headers={"Retry-After": "1"})
            request["who"] = f"http {request.remote or '?'}"
        try:
            resp = await handler(request)
        except CtlError as e:
            resp = _json({"error": str(e)}, e.status)
        except web.HTTPException as e:
            if e.status in (404, 405):
                resp = _json({"error": f"{e.reason}: {request.method} {request.path}"}, e.status)
            else:
                raise
        except Exception as e:
            log.error("http.error", path=request.path, error=f"{type(e).__name__}: {e}")
            resp = _json({"error": f"{type(e).__name__}: {e}"}, 500)
        if not resp.prepared:
            resp.headers.update(SECURITY_HEADERS)
        return resp

    # -- open endpoints --------------------------------------------------------------------------------
    async def metrics(self, request: web.Request) -> web.Response:
        encode, ctype = choose_encoder(request.headers.get("Accept", ""))  # text 0.0.4 unless asked otherwise
        return web.Response(body=encode(self.registry), headers={"Content-Type": ctype})

    async def healthz(self, request: web.Request) -> web.Response:
        h = self.d.health()
        return _json({"ok": h["ok"], "state": self.d.state}, 200 if h["ok"] else 503)

    async def static(self, request: web.Request) -> web.Response:
        name, ctype = STATIC[request.path]
        body = resources.files("leand.live.http").joinpath("static", name).read_bytes()
        return web.Response(body=body, content_type=ctype, charset="utf-8")

    # -- the JSON API beyond ctl's ---------------------------------------------------------------------
    def latency(self) -> dict[str, Any]:
        s = self.d.stats
        out: dict[str, Any] = {}
        for name, h in (("tick_to_order", s.tick_to_order), ("venue_round_trip", s.venue_round_trip),
                        ("loop_lag", s.loop_lag), ("journal_intent_log", s.journal_write["intent_log"]),
                        ("journal_sqlite", s.journal_write["sqlite"])):
            h.settle()
            out[name] = {"count": h.count, "mean_ms": round(h.sum / h.count * 1e3, 3) if h.count else None,
                         "p50_ms": _ms(h.quantile(0.5)), "p99_ms": _ms(h.quantile(0.99))}
        out["feed_messages"] = sum(c[0] for c in s.feed.values())
        return out

    async def latency_view(self, request: web.Request) -> web.Response:
        return _json(self.latency())

    # -- live updates ----------------------------------------------------------------------------------
    async def snapshot(self, request: web.Request) -> dict[str, Any]:
        ctl = self.d.ctl
        out: dict[str, Any] = {}
        for key, handler in (("status", ctl.status), ("strategies", ctl.strategies), ("orders", ctl.orders),
                             ("positions", ctl.positions), ("balances", ctl.balances), ("risk", ctl.risk_show)):
            resp = await handler(request)
            body = resp.body
            assert isinstance(body, bytes), key  # the ctl handlers answer with orjson bytes
            out[key] = orjson.loads(body)
        equity: dict[str, float] = {}
        for r in self.d.runners.values():
            try:
                equity[r.id] = r.engine.portfolio.total_portfolio_value
            except Exception:
                continue
        out["equity_now"] = equity
        out["fills"] = self.d.journal.fill_rows(None, 20)[::-1]
        out["latency"] = self.latency()
        return out

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: a snapshot every push interval, with the journal's equity samples since this
        daemon started that the page does not have yet."""
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no",
                                           **SECURITY_HEADERS})
        await resp.prepare(request)
        since = int(self.d.started * 1e9)
        try:
            while not self.closing.is_set():
                try:
                    data = await self.snapshot(request)
                except Exception as e:  # the response is under way: end the stream, the page reconnects
                    log.warning("http.stream_failed", error=f"{type(e).__name__}: {e}")
                    break
                samples = self.d.journal.equity_history(since_ns=since)
                if samples:
                    since = samples[-1]["time_ns"] + 1
                data["equity"] = [{"t": r["time_ns"] / 1e9, "scope": r["scope"], "owner": r["owner"],
                                   "equity": r["equity"]} for r in samples]
                await resp.write(b"data: " + orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS) + b"\n\n")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.closing.wait(), self.cfg.push_interval_s)
        except ConnectionResetError:  # the page went away
            pass
        return resp


def _ms(v: float | None) -> float | None:
    if v is None:
        return None
    return round(v * 1e3, 3) if v != float("inf") else None
