"""The control server: HTTP+JSON (aiohttp) on a Unix socket readable only by its owner (mode 0600).

Every state-changing command is journaled with who (the peer's uid/pid from SO_PEERCRED) and when. A bad
request gets a 4xx with one clear message; nothing a client sends can stop the daemon.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from leand.model import OrderStatus

if TYPE_CHECKING:
    from leand.live.daemon import Daemon

log = structlog.get_logger("leand.ctl")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS), status=status,
                        content_type="application/json")


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


class CtlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _JsonErrorHandler(RequestHandler):
    """aiohttp's protocol handler, answering a request it cannot even parse with the ctl's JSON error."""

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("response already started")
        detail = str(exc or message or "").strip().splitlines()
        resp = _error(status, f"malformed request: {detail[0][:120] if detail else 'cannot be parsed'}")
        resp.force_close()
        return resp


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class CtlSocketInUse(Exception):
    """Another live daemon answers on the control socket we were told to use: we must not take it over."""


def _answers(path: Path) -> bool:
    """Whether some process accepts connections on the Unix socket at ``path`` right now."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


class CtlServer:
    def __init__(self, daemon: Daemon) -> None:
        self.d = daemon
        self.app = web.Application(middlewares=[self._errors])
        r = self.app.router
        r.add_get("/status", self.status)
        r.add_get("/health", self.health)
        r.add_get("/strategies", self.strategies)
        r.add_post("/strategies/{id}/{action}", self.strategy_action)
        r.add_get("/orders", self.orders)
        r.add_post("/orders/cancel-all", self.cancel_all)
        r.add_post("/orders/{cid}/cancel", self.cancel)
        r.add_get("/positions", self.positions)
        r.add_get("/balances", self.balances)
        r.add_get("/fills", self.fills)
        r.add_get("/equity", self.equity)
        r.add_post("/halt", self.halt)
        r.add_post("/resume", self.resume)
        r.add_post("/flatten", self.flatten)
        r.add_get("/risk", self.risk_show)
        r.add_post("/risk", self.risk_set)
        r.add_post("/reload", self.reload)
        r.add_post("/log-level", self.log_level)
        self.runner: web.AppRunner | None = None
        self.path: Path | None = None
        self._identity: tuple[int, int] = (0, 0)

    async def start(self, path: Path) -> None:
        if path.exists() or path.is_symlink():
            if _answers(path):
                raise CtlSocketInUse(f"control socket {path} is served by another running daemon")
            path.unlink()  # left behind by a daemon that died: nobody answers on it
        self.runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True)
        await self.runner.setup()
        self.runner.server.__class__ = _JsonErrorServer  # JSON even for garbage
        old = os.umask(0o177)  # the socket is born 0600: no window where others could connect
        try:
            await web.UnixSite(self.runner, str(path)).start()
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        st = path.stat()
        self.path, self._identity = path, (st.st_dev, st.st_ino)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        # remove the socket only if it is still the one this daemon made (not another daemon's, made since)
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                st = self.path.stat()
                if (st.st_dev, st.st_ino) == self._identity:
                    self.path.unlink()

    # -- plumbing ------------------------------------------------------------------------------------
    @web.middleware
    async def _errors(self, request: web.Request, handler):
        try:
            return await handler(request)
        except CtlError as e:
            return self._refuse(request, e.status, str(e))
        except web.HTTPException as e:
            if e.status == 404:
                return self._refuse(request, 404, f"unknown command: {request.method} {request.path}")
            if e.status == 405:
                return self._refuse(request, 405, f"{request.method} is not allowed for {request.path}")
            raise
        except Exception as e:
            log.error("ctl.error", path=request.path, error=f"{type(e).__name__}: {e}")
            return _error(500, f"{type(e).__name__}: {e}")

    def _refuse(self, request: web.Request, status: int, message: str) -> web.Response:
        """A bad request is the client's problem: one warning line in our log, one clear answer to it."""
        log.warning("ctl.refused", who=self.who(request), path=request.path, status=status, error=message)
        return _error(status, message)

    @staticmethod
    def who(request: web.Request) -> str:
        if "who" in request:  # the HTTP API (leand.live.http) has authenticated the caller: "http <peer>"
            return request["who"]
        sock = request.transport.get_extra_info("socket") if request.transport else None
        if sock is None:
            return "unknown"
        try:
            pid, uid, gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                                 struct.calcsize("3i")))
            return f"uid={uid} pid={pid}"
        except (OSError, AttributeError):
            return "unknown"

    async def body(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if not raw:
            return {}
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise CtlError(400, f"request body is not JSON: {e}") from None
        if not isinstance(data, dict):
            raise CtlError(400, "request body must be a JSON object")
        return data

    def audit(self, request: web.Request, command: str, args: dict[str, Any]) -> None:
        who = self.who(request)
        self.d.journal.audit(who, command, args)
        log.info("ctl.command", who=who, command=command, **{k: v for k, v in args.items() if k != "config"})

    def venue_for(self, account: str):
        v = self.d.venues.get(str(account))
        if v is None:
            raise CtlError(404, f"no account {account!r} (have: {', '.join(self.d.venues) or 'none'})")
        return v

    def runner_for(self, sid: str):
        r = self.d.runners.get(sid)
        if r is None:
            raise CtlError(404, f"no strategy {sid!r} (have: {', '.join(self.d.runners) or 'none'})")
        return r

    def in_strategies(self, command: str, args: dict[str, Any], runners=None) -> None:
        """Actions run inside each strategy's own task, in order with its data (and so they are recorded)."""
        for r in (runners if runners is not None else self.d.runners.values()):
            self.d.deliver(r, ("call", command, args))

    # -- read-only ---------------------------------------------------------------------------------------
    async def status(self, request: web.Request) -> web.Response:
        return _json(self.d.status())

    async def health(self, request: web.Request) -> web.Response:
        h = self.d.health()
        return _json(h, 200 if h["ok"] else 503)

    async def strategies(self, request: web.Request) -> web.Response:
        return _json([{"id": r.id, "state": r.state, "error": r.error, "slices": r.handled,
                       "open_orders": len(r.engine.open_orders),
                       "trading_state": r.engine.risk_gate.state.value} for r in self.d.runners.values()])

    async def orders(self, request: web.Request) -> web.Response:
        out = []
        for r in self.d.runners.values():
            for o in r.engine.open_orders.values():
                out.append({"client_order_id": o.client_order_id, "strategy": r.id, "symbol": o.symbol.value,
                            "type": o.type.value, "quantity": o.quantity, "filled": o.filled_quantity,
                            "limit_price": o.limit_price, "status": o.status.value})
        return _json(out)

    async def positions(self, request: web.Request) -> web.Response:
        """Each strategy's positions, with the venue account each one is held on."""
        out = []
        account_of = {s: vid for vid, v in self.d.venues.items() for s in v.instruments}
        for r in self.d.runners.values():
            for sym, sec in r.engine.securities.items():
                h = sec.holdings
                if h.quantity:
                    out.append({"strategy": r.id, "account": account_of.get(sym), "symbol": sym.value,
                                "quantity": h.quantity,
                                "average_price": h.average_price, "price": sec.price,
                                "unrealized": r.engine.portfolio.unrealized_profit(sec)})
        return _json(out)

    async def balances(self, request: web.Request) -> web.Response:
        """Each venue account and each strategy's share of it (its allocation and, after its own fills on the
        account, what it holds there now), and each strategy's cash book (its shares of every account)."""
        from leand.live.venues import account_shares

        strategies = {r.id: {c: cash.amount for c, cash in r.engine.portfolio.cash_book.items()}
                      for r in self.d.runners.values()}
        accounts: dict[str, dict[str, Any]] = {}
        for vid, v in self.d.venues.items():
            held = v.execution.balances()
            alloc = self.d.allocations.get(vid, {})
            single = len(self.d.venues) == 1
            accounts[vid] = {"balances": held, "state": v.account.level.state if v.account else "active",
                             "allocations": alloc,
                             # one account: the strategy's cash book is its share, as it always was
                             "strategies": {s: strategies.get(s, {}) for s in alloc} if single else
                             account_shares(self.d.journal, v, alloc)}
        first = next(iter(accounts.values()), {})
        return _json({"venue": first.get("balances", {}), "strategies": strategies, "accounts": accounts})

    @staticmethod
    def _int_query(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
        raw = request.query.get(name)
        if raw is None:
            return default
        try:
            v = int(raw)
        except ValueError:
            raise CtlError(400, f"{name} must be an integer, got {raw!r}") from None
        if not lo <= v <= hi:
            raise CtlError(400, f"{name} must be between {lo} and {hi}, got {v}")
        return v

    async def fills(self, request: web.Request) -> web.Response:
        sid = request.query.get("strategy")
        if sid is not None:
            self.runner_for(sid)
        limit = self._int_query(request, "limit", 100, 1, 100_000)
        return _json(self.d.journal.fill_rows(sid, limit))

    async def equity(self, request: web.Request) -> web.Response:
        sid, account = request.query.get("strategy"), request.query.get("account")
        if sid is not None and account is not None:
            raise CtlError(400, "equity takes --strategy or --account, not both")
        if sid is not None:
            self.runner_for(sid)
        if account is not None:
            self.venue_for(account)
        scope = "strategy" if sid is not None else "account" if account is not None else None
        limit = self._int_query(request, "limit", 1000, 1, 1_000_000)
        return _json(self.d.journal.equity_history(scope, sid or account, limit=limit))

    async def risk_show(self, request: web.Request) -> web.Response:
        import msgspec

        return _json({"config": msgspec.to_builtins(self.d.cfg.risk),
                      "states": {r.id: r.engine.risk_gate.state.value for r in self.d.runners.values()}})

    # -- state-changing ------------------------------------------------------------------------------------
    async def strategy_action(self, request: web.Request) -> web.Response:
        sid, action = request.match_info["id"], request.match_info["action"]
        r = self.runner_for(sid)
        moves = {"start": ("stopped", "paused", "failed"), "resume": ("paused",), "pause": ("running",),
                 "stop": ("running", "paused")}
        if action not in moves:
            raise CtlError(400, f"unknown strategy action {action!r}: use start, stop, pause or resume")
        if r.state not in moves[action]:
            raise CtlError(409, f"strategy {sid!r} is {r.state}: cannot {action}")
        self.audit(request, f"strategies {action}", {"strategy": sid})
        r.state = "running" if action in ("start", "resume") else "paused" if action == "pause" else "stopped"
        r.error = "" if r.state == "running" else r.error
        return _json({"strategy": sid, "state": r.state})

    async def cancel(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        for r in self.d.runners.values():
            for o in r.engine.open_orders.values():
                if o.client_order_id == cid:
                    if o.status is OrderStatus.PENDING_CANCEL:
                        raise CtlError(409, f"order {cid} is already being canceled")
                    self.audit(request, "orders cancel", {"client_order_id": cid})
                    self.in_strategies("cancel", {"client_order_id": cid}, [r])
                    return _json({"client_order_id": cid, "cancel": "requested"})
        raise CtlError(404, f"no open order with client order id {cid!r}")

    async def cancel_all(self, request: web.Request) -> web.Response:
        self.audit(request, "orders cancel-all", {})
        n = sum(len(r.engine.open_orders) for r in self.d.runners.values())
        self.in_strategies("cancel-all", {})
        return _json({"cancel_requested": n})

    def _scope(self, b: dict[str, Any]) -> tuple[str, str | None, list[Any]]:
        """Which level a halt or resume is for: one strategy, one account (its strategies), or everything."""
        sid, account = b.get("strategy"), b.get("account")
        if sid is not None and account is not None:
            raise CtlError(400, "halt/resume takes --strategy or --account, not both")
        if sid is not None:
            return "strategy", str(sid), [self.runner_for(str(sid))]
        if account is not None:
            v = self.venue_for(str(account))
            sids = v.account.strategies if v.account is not None else []
            return "account", v.id, [self.d.runners[s] for s in sids if s in self.d.runners]
        return "global", None, list(self.d.runners.values())

    async def halt(self, request: web.Request) -> web.Response:
        from leand.risk.account import GLOBAL

        b = await self.body(request)
        reason = str(b.get("reason") or "kill switch (leand ctl halt)")
        cancel_all = bool(b.get("cancel_all", False))
        level, name, runners = self._scope(b)
        self.audit(request, "halt", {"reason": reason, "cancel_all": cancel_all, "level": level, "name": name})
        if level == "account":
            v = self.venue_for(str(name))
            v.account.halt(reason)
            if cancel_all:  # the account's orders only: a strategy's orders on other venues stay
                self.in_strategies("cancel-all", {"reason": f"account halt: {reason}",
                                                  "symbols": sorted(s.id for s in v.instruments)}, runners)
        else:
            if level == "global":
                GLOBAL.set("halted", reason)
            self.in_strategies("halt", {"reason": reason, "cancel_all": cancel_all}, runners)
        return _json({"trading_state": "halted", "level": level, "name": name, "reason": reason})

    async def resume(self, request: web.Request) -> web.Response:
        from leand.risk.account import GLOBAL

        b = await self.body(request)
        who = self.who(request)
        level, name, runners = self._scope(b)
        self.audit(request, "resume", {"level": level, "name": name})
        if level == "account":
            self.venue_for(str(name)).account.resume(who)
        else:
            if level == "global":
                GLOBAL.set("active", f"resumed by {who}")
            self.in_strategies("resume", {"by": who}, runners)
        return _json({"trading_state": "active", "level": level, "name": name})

    async def flatten(self, request: web.Request) -> web.Response:
        b = await self.body(request)
        symbol = b.get("symbol")
        if symbol is not None:
            known = {str(s.value) for r in self.d.runners.values() for s in r.engine.securities}
            if not isinstance(symbol, str) or symbol.upper() not in {k.upper() for k in known}:
                raise CtlError(404, f"unknown symbol {symbol!r} (trading: {', '.join(sorted(known)) or 'none'})")
        self.audit(request, "flatten", {"symbol": symbol})
        self.in_strategies("flatten", {"symbol": symbol})
        return _json({"flatten": symbol or "all"})

    async def risk_set(self, request: web.Request) -> web.Response:
        import msgspec

        from leand.risk.limits import RiskConfigError, load_config

        b = await self.body(request)
        if "config" not in b:
            raise CtlError(400, "risk set needs {\"config\": {...}} with the new limits")
        try:
            cfg = load_config(b["config"])
        except RiskConfigError as e:
            raise CtlError(400, str(e)) from None
        self.audit(request, "risk set", {"config": b["config"]})
        self.in_strategies("risk-set", {"config": msgspec.to_builtins(cfg)})
        self.d.cfg.risk = cfg
        return _json({"risk": "updated"})

    async def reload(self, request: web.Request) -> web.Response:
        self.audit(request, "reload", {})
        try:
            return _json(self.d.reload())
        except ValueError as e:
            raise CtlError(400, f"reload failed, nothing changed: {e}") from None

    async def log_level(self, request: web.Request) -> web.Response:
        from leand.live.logs import set_level

        b = await self.body(request)
        level = str(b.get("level", "")).lower()
        try:
            set_level(level)
        except ValueError as e:
            raise CtlError(400, str(e)) from None
        self.audit(request, "log-level", {"level": level})
        return _json({"log_level": level})
