"""Fuzz targets: each is a hypothesis strategy of hostile inputs and a check that feeds one input to the real
parser and asserts the properties every input boundary of leand must keep:

* no unhandled exception: only the component's documented error type comes out;
* a clear error: that error has a one-line message naming what was wrong;
* a refused input changes no state (balances, open orders, faults, books, daemon state stay as they were).

``tests/fuzz/test_fuzz.py`` runs each target briefly in CI; ``tests/fuzz/run_long.py`` runs them for >= 1M
inputs in total. Targets that need a process or a socket (the sim server's HTTP surface, the ctl protocol)
are set up once per run by their ``open()``.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import os
import struct
import tempfile
import urllib.parse
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import orjson
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]

# ---- shared value strategies ----------------------------------------------------------------------------

NASTY_NUMBERS = ["nan", "NaN", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e-400", "9" * 400, "0x10", "1_0",
                 " 1", "1 ", "１２", "+1", "-0", "0.0000000000000000000001", "1.", ".5", "", "-", "1e", "٣",
                 "18446744073709551616", "-9223372036854775809", "9223372036854775807", "0", "5", "0.001"]
numberish = st.one_of(
    st.sampled_from(NASTY_NUMBERS),
    st.from_regex(r"\A-?[0-9]{0,25}(\.[0-9]{0,25})?([eE][+-]?[0-9]{1,4})?\Z"),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
                        st.floats(allow_nan=False, allow_infinity=False), numberish)
json_value = st.recursive(json_scalar, lambda c: st.one_of(st.lists(c, max_size=4),
                                                           st.dictionaries(st.text(max_size=8), c, max_size=4)),
                          max_leaves=8)


def one_line(msg: str) -> None:
    assert msg and "\n" not in msg.strip(), f"error message is not one clear line: {msg!r}"


@dataclass
class Target:
    name: str
    strategy: st.SearchStrategy
    check: Callable[[Any], None]
    #: inputs for the long run (the CI run takes a few seconds per target)
    long_examples: int = 100_000
    ci_examples: int = 200
    open: Callable[[], None] | None = None
    close: Callable[[], None] | None = None
    count: int = 0
    state: dict[str, Any] = field(default_factory=dict)


# ---- the simulator's request parsing (exchange, auth, WS control) ------------------------------------------

def _sim_exchange():
    from leand.simulator.binance import SimConfig, finalize
    from leand.simulator.binance.config import GeneratorConfig
    from leand.simulator.binance.exchange import Exchange
    from leand.simulator.binance.streams import StreamHub

    cfg = finalize(SimConfig(generator=GeneratorConfig(rate_hz=0, warmup_steps=20)))
    ex = Exchange(cfg, StreamHub())
    ex.warmup(20)
    return ex, cfg.accounts[0].api_key


def _account_state(ex, key: str) -> tuple:
    a = ex.accounts[key]
    opened = tuple((r.symbol, r.order_id, r.status) for rs in ex.account_orders[key].values() for r in rs)
    return tuple(sorted(a.free.items())), tuple(sorted(a.locked.items())), opened


ORDER_KEYS = ["symbol", "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price", "stopPrice",
              "icebergQty", "newClientOrderId", "newOrderRespType", "selfTradePreventionMode", "trailingDelta",
              "orderId", "origClientOrderId", "limit", "startTime", "endTime", "fromId", "interval", "symbols",
              "omitZeroBalances"]
order_value = st.one_of(numberish, st.sampled_from(["BTCUSDT", "ETHBTC", "BUY", "SELL", "LIMIT", "MARKET",
                                                    "LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT", "GTC", "IOC",
                                                    "FOK", "FULL", "ACK", "1m", '["BTCUSDT"]', '["X"]', "[1]",
                                                    "true", "0.001", "60000.00", "0.00001"]))
sim_call = st.tuples(st.sampled_from(["new_order", "new_order_test", "cancel_order", "query_order", "open_orders",
                                      "all_orders", "trades_of", "account_info", "depth", "recent_trades",
                                      "agg_trades", "klines", "ticker_24hr", "book_ticker", "ticker_price",
                                      "avg_price", "exchange_info", "cancel_all"]),
                     st.dictionaries(st.sampled_from(ORDER_KEYS), order_value, max_size=9))
PUBLIC = {"depth", "recent_trades", "agg_trades", "klines", "ticker_24hr", "book_ticker", "ticker_price",
          "avg_price", "exchange_info"}


def check_sim_rest(x: tuple[str, dict[str, str]]) -> None:
    from leand.simulator.binance import errors

    if "ex" not in T_SIM_REST.state:
        T_SIM_REST.state["ex"] = _sim_exchange()
    ex, key = T_SIM_REST.state["ex"]
    name, params = x
    params = {str(k): v if isinstance(v, str) else str(v) for k, v in params.items()}  # REST values are text
    before = _account_state(ex, key)
    try:
        if name == "new_order_test":
            out = ex.new_order(key, params, test=True)
        elif name in PUBLIC:
            out = getattr(ex, name)(params)
        else:
            out = getattr(ex, name)(key, params)
        orjson.dumps(out)  # whatever it answers goes on the wire
    except errors.ApiError as e:
        one_line(e.msg)
        assert e.status in (400, 401, 403, 404, 429), e.status
        assert _account_state(ex, key) == before, f"{name} was refused ({e.msg}) but changed the account"
        return
    # an accepted call must leave the account formattable (a 1e308 deposit used to break /account)
    orjson.dumps(ex.account_info(key, {}))


def check_sim_auth(x: tuple[str | None, str | None, bool]) -> None:
    from leand.simulator.binance import auth, errors

    ts, rw, micro = x
    params = {k: str(v) for k, v in (("timestamp", ts), ("recvWindow", rw)) if v is not None}
    ts, rw = params.get("timestamp"), params.get("recvWindow")
    now = 1_700_000_000_000
    try:
        auth.check_timestamp(params, now, micro)
    except errors.ApiError as e:
        one_line(e.msg)
        return
    t = int(ts)  # accepted: then it must be a real, in-window timestamp
    t_ms = t / 1000 if micro else t
    window = float(rw) if rw else 5000.0
    assert 0 <= now - t_ms <= window or (t_ms > now and t_ms < now + 1000), (ts, rw)


class _Conn:
    def __init__(self) -> None:
        self.subs: set[str] = set()
        self.sent: list[bytes] = []
        self.combined = False

    def send(self, data: bytes) -> None:
        self.sent.append(data)


def check_sim_ws_control(text: str) -> None:
    from leand.simulator.binance.streams import StreamHub, _control

    hub, conn = StreamHub(), _Conn()
    _control(hub, conn, text, {"btcusdt", "ethusdt"})  # type: ignore[arg-type]
    assert len(conn.sent) == 1, "every control frame gets exactly one answer"
    ans = orjson.loads(conn.sent[0])
    if "code" in ans:
        assert not conn.subs and not hub.subs, "a refused SUBSCRIBE subscribed something"
        one_line(ans["msg"])


ws_control_text = st.one_of(
    st.text(max_size=200),
    st.builds(lambda m, p, i: orjson.dumps({"method": m, "params": p, "id": i}).decode(),
              st.sampled_from(["SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY",
                               "X"]),
              st.one_of(json_value, st.lists(st.sampled_from(["btcusdt@trade", "btcusdt@depth@100ms", "x@trade",
                                                              "btcusdt@depth7", "combined"]), max_size=5)),
              json_scalar),
)


def check_sim_ws_api(x: tuple[str, dict]) -> None:
    from leand.simulator.binance import errors
    from leand.simulator.binance.streams import _ws_call

    srv = T_SIM_WS_API.state.get("srv")
    if srv is None:
        from leand.simulator.binance import SimConfig, SimServer, finalize
        from leand.simulator.binance.config import GeneratorConfig

        srv = T_SIM_WS_API.state["srv"] = SimServer(finalize(SimConfig(generator=GeneratorConfig(rate_hz=0,
                                                                                                   warmup_steps=5))))
    method, params = x
    params = {**params, "apiKey": srv.api_key} if method.startswith(("order", "account", "open")) else params
    key = srv.api_key
    before = _account_state(srv.exchange, key)
    try:
        out = _ws_call(srv, _Conn(), {}, {"next": 0}, method, params, srv.exchange.clock())  # type: ignore[arg-type]
        orjson.dumps(out)
    except errors.ApiError as e:
        one_line(e.msg)
        assert _account_state(srv.exchange, key) == before


ws_api_call = st.tuples(st.sampled_from(["ping", "time", "depth", "exchangeInfo", "order.place", "order.test",
                                         "order.cancel", "order.status", "account.status", "allOrders", "myTrades",
                                         "userDataStream.subscribe.signature", "userDataStream.unsubscribe",
                                         "session.subscriptions", "nope"]),
                        st.dictionaries(st.sampled_from([*ORDER_KEYS, "timestamp", "recvWindow", "signature",
                                                         "subscriptionId"]),
                                        st.one_of(json_scalar, order_value), max_size=8))


def check_sim_control(x: tuple[str, Any]) -> None:
    from leand.simulator.binance import errors

    srv = T_SIM_WS_API.state.get("ctl")
    if srv is None:
        from leand.simulator.binance import SimConfig, SimServer, finalize
        from leand.simulator.binance.config import GeneratorConfig

        srv = T_SIM_WS_API.state["ctl"] = SimServer(finalize(SimConfig(generator=GeneratorConfig(rate_hz=0,
                                                                                                   warmup_steps=5))))
    name, data = x
    if not isinstance(data, dict):
        return
    data = {**data, "_key": srv.api_key}
    n = data.get("n")
    if name == "step" and isinstance(n, int) and not isinstance(n, bool) and 50 < n <= 10_000:
        data["n"] = 50  # a valid large step is slow, not interesting: the unit test runs the 10,000 bound
    before = (_account_state(srv.exchange, srv.api_key), srv.faults.as_dict(), srv.weights.limit)
    fn = {"step": srv._step, "deposit": srv._deposit, "faults": srv._faults_set}[name]
    try:
        if name == "faults" and data.get("drop_ws"):
            data["drop_ws"] = False  # no loop running here: dropping sockets is the HTTP target's business
        fn(data)
    except errors.ApiError as e:
        one_line(e.msg)
        assert (_account_state(srv.exchange, srv.api_key), srv.faults.as_dict(), srv.weights.limit) == before
        return
    orjson.dumps(srv.exchange.account_info(srv.api_key, {}))


control_call = st.tuples(st.sampled_from(["step", "deposit", "faults"]),
                         st.dictionaries(st.sampled_from(["n", "flush", "asset", "amount", "http_status", "http_count",
                                                          "http_mode", "delay_ms", "delay_count", "skip_depth_ids",
                                                          "symbols", "reset_weights", "weight_per_minute", "x"]),
                                         st.one_of(json_value, st.sampled_from(["USDT", "BTC", 503, "before"]),
                                                   st.integers(-5, 20_000)),
                                         max_size=5))


# ---- the sim server's HTTP surface (a real server on loopback) ----------------------------------------------

def _http_open() -> None:
    import threading

    from leand.simulator.binance import SimConfig, ThreadedServer, finalize
    from leand.simulator.binance.config import GeneratorConfig, LimitsConfig

    ts = ThreadedServer(finalize(SimConfig(generator=GeneratorConfig(rate_hz=0, warmup_steps=5),
                                           limits=LimitsConfig(weight_per_minute=1_000_000_000))))
    T_SIM_HTTP.state.update(ts=ts, lock=threading.Lock())


def _http_close() -> None:
    ts = T_SIM_HTTP.state.pop("ts", None)
    if ts is not None:
        ts.stop()


def check_sim_http(x: tuple[str, str, str, bytes, bool]) -> None:
    if "ts" not in T_SIM_HTTP.state:
        _http_open()
    srv = T_SIM_HTTP.state["ts"].server
    method, path, query, body, with_key = x
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=10)
    headers = {"X-MBX-APIKEY": srv.api_key} if with_key else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded" if not path.startswith("/_sim") else \
            "application/json"
    try:
        try:
            conn.request(method, path + ("?" + query if query else ""), body=body or None, headers=headers)
        except (http.client.InvalidURL, UnicodeEncodeError, ValueError):
            return  # the client refuses to send it: nothing reaches the server
        except (BrokenPipeError, ConnectionResetError):
            return  # the server answered a malformed request line and closed before the body was sent
        r = conn.getresponse()
        raw = r.read()
    finally:
        conn.close()
    assert r.status != 500, (method, path, query, body, raw[:200])
    assert r.getheader("Content-Type", "").startswith("application/json"), (r.status, raw[:200])
    ans = orjson.loads(raw)
    if r.status >= 400:
        assert set(ans) == {"code", "msg"}, ans
        one_line(ans["msg"])


_PATHS = ["/api/v3/ping", "/api/v3/time", "/api/v3/depth", "/api/v3/order", "/api/v3/account", "/api/v3/klines",
          "/api/v3/openOrders", "/api/v3/ticker/24hr", "/api/v3/exchangeInfo", "/api/v3/userDataStream",
          "/_sim/step", "/_sim/deposit", "/_sim/faults", "/api/v3/nope", "/", "/api/v3/order/test", "/ws"]
_QUERY_KEYS = ["symbol", "limit", "timestamp", "recvWindow", "signature", "side", "type", "quantity", "price",
               "interval", "symbols", "orderId", "startTime"]
sim_http_request = st.tuples(
    st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH"]),
    st.one_of(st.sampled_from(_PATHS), st.from_regex(r"\A/[a-zA-Z0-9/_.%-]{0,40}\Z")),
    st.one_of(st.just(""), st.lists(st.tuples(st.sampled_from(_QUERY_KEYS), st.one_of(order_value, numberish)),
                                    max_size=6).map(lambda kv: "&".join(f"{k}={v}" for k, v in kv)).map(
        lambda q: urllib.parse.quote(q, safe="=&"))),
    st.one_of(st.just(b""), st.binary(max_size=200), json_value.map(orjson.dumps)),
    st.booleans(),
)


# ---- the Binance adapter's decoders (market-data frames, user-data frames, REST bodies) -----------------

def _adapter_md():
    from leand.adapters.binance.book import LocalBook  # noqa: F401
    from leand.adapters.binance.config import BinanceVenueConfig
    from leand.adapters.binance.data import BinanceDataClient
    from leand.adapters.binance.rest import BinanceError
    from leand.model import Instrument, SecurityType, Symbol

    class _NoVenue:
        """The REST side of a venue that is down: the snapshot request fails (as a real outage does)."""

        async def request(self, *a: Any, **k: Any) -> bytes:
            raise BinanceError(503, -1007, "venue down")

    sym = Symbol("BTCUSDT", SecurityType.CRYPTO, "binance")
    inst = Instrument(sym, tick_size=0.01, lot_size=0.00001)
    client = BinanceDataClient(BinanceVenueConfig(), {sym: inst}, _NoVenue())  # type: ignore[arg-type]
    return client, asyncio.new_event_loop()


def _book_state(client) -> tuple:
    return tuple((s, b.last_id, tuple(b.book.bids.items()), tuple(b.book.asks.items()), len(b.buffer))
                 for s, b in client.books.items())


def check_adapter_md(raw: bytes) -> None:
    if "client" not in T_ADAPTER_MD.state:
        T_ADAPTER_MD.state["client"], T_ADAPTER_MD.state["loop"] = _adapter_md()
        from leand.adapters.binance.schemas import DepthSnapshot

        T_ADAPTER_MD.state["client"].books["BTCUSDT"].on_snapshot(
            DepthSnapshot(lastUpdateId=100, bids=[("100.0", "1")], asks=[("101.0", "1")]))
    client, loop = T_ADAPTER_MD.state["client"], T_ADAPTER_MD.state["loop"]
    before = _book_state(client)
    errors_before = client.stats["decode_errors"]
    out = loop.run_until_complete(client._on_message(raw))
    for ev in out:
        for v in (getattr(ev, "price", 1.0), getattr(ev, "quantity", 1.0), getattr(ev, "bid_price", 1.0),
                  getattr(ev, "ask_price", 1.0)):
            assert np.isfinite(v) and v > 0, ev  # a zero or negative price or size is refused as malformed
    if client.stats["decode_errors"] > errors_before:
        assert _book_state(client) == before, "a refused frame changed the book"
    b = client.books["BTCUSDT"]
    if not b.synced:  # a gap: resync as the client would when the venue answers
        from leand.adapters.binance.schemas import DepthSnapshot

        b.on_snapshot(DepthSnapshot(lastUpdateId=10**6 if not b.buffer else b.buffer[0].U, bids=[("100.0", "1")],
                                    asks=[("101.0", "1")]))


def _md_frame(kind: str, sym: str, U: Any, u: Any, b: Any, a: Any, p: Any, q: Any) -> bytes:
    if kind == "depth":
        data = {"e": "depthUpdate", "E": 1, "s": sym, "U": U, "u": u, "b": b, "a": a}
    else:
        data = {"e": "trade", "E": 1, "s": sym, "t": 1, "p": p, "q": q, "T": 1, "m": True}
    return orjson.dumps({"stream": f"{sym.lower()}@x", "data": data})


level = st.tuples(numberish, numberish)
md_frame = st.one_of(
    st.binary(max_size=100),
    st.builds(_md_frame, st.sampled_from(["depth", "trade"]), st.sampled_from(["BTCUSDT", "ETHUSDT"]),
              st.one_of(st.integers(90, 200), json_scalar), st.one_of(st.integers(90, 200), json_scalar),
              st.lists(level, max_size=3), st.lists(level, max_size=3), numberish, numberish),
)


def check_adapter_user(raw: bytes) -> None:
    from leand.adapters.binance.config import BinanceVenueConfig
    from leand.adapters.binance.execution import BinanceExecutionClient
    from leand.live.journal import Journal
    from leand.model import Instrument, SecurityType, Symbol

    client = T_ADAPTER_USER.state.get("client")
    if client is None:
        d = Path(tempfile.mkdtemp(prefix="leand-fuzz-user-"))
        sym = Symbol("BTCUSDT", SecurityType.CRYPTO, "binance")
        client = T_ADAPTER_USER.state["client"] = BinanceExecutionClient(
            BinanceVenueConfig(), Journal(d / "journal.sqlite"),  # type: ignore[arg-type]
            {sym: Instrument(sym, tick_size=0.01, lot_size=0.00001)}, {})
    account = dict(client.account)
    client._on_user_frame(raw)
    while not client.reports.empty():
        rep = client.reports.get_nowait()
        for v in (rep.fill_quantity, rep.fill_price, rep.fee):
            assert np.isfinite(v), rep
    for a, v in client.account.items():
        assert np.isfinite(v) and v >= 0, (a, v)
    if client.account != account:
        assert b"outboundAccountPosition" in raw


def _user_frame(e: str, fields: dict) -> bytes:
    return orjson.dumps({"subscriptionId": 0, "event": {"e": e, **fields}})


user_frame = st.one_of(st.binary(max_size=80), st.builds(
    _user_frame, st.sampled_from(["executionReport", "outboundAccountPosition", "eventStreamTerminated", "x"]),
    st.dictionaries(st.sampled_from(["E", "s", "c", "C", "S", "o", "X", "x", "i", "l", "z", "L", "n", "N", "T", "t",
                                     "q", "p", "B", "u"]), json_value, max_size=10)))


def check_adapter_rest(x: tuple[str, bytes]) -> None:
    from leand.adapters.binance import schemas
    from leand.adapters.binance.rest import BinanceError, MalformedResponse, _error, decode

    name, body = x
    if name == "error":
        e = _error(400, body)
        assert isinstance(e, BinanceError)
        return
    typ = {"order": schemas.OrderResponse, "cancel": schemas.CancelResponse, "query": schemas.QueryOrder,
           "trades": list[schemas.MyTrade], "account": schemas.Account, "info": schemas.ExchangeInfo,
           "depth": schemas.DepthSnapshot, "time": schemas.ServerTime}[name]
    try:
        out = decode(body, typ)
    except MalformedResponse as e:
        one_line(str(e))
        return
    _finite_strings(msgspec.to_builtins(out))


def _finite_strings(obj: Any) -> None:
    """Every decimal string a decoded response holds converts to a finite float (what the clients do)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("price", "qty", "commission", "executedQty", "origQty", "free", "locked", "tickSize",
                     "stepSize") and isinstance(v, str):
                assert np.isfinite(float(v)), (k, v)
            _finite_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            _finite_strings(v)


rest_body = st.tuples(st.sampled_from(["error", "order", "cancel", "query", "trades", "account", "info", "depth",
                                       "time"]),
                      st.one_of(st.binary(max_size=100), json_value.map(orjson.dumps)))


# ---- the daemon's TOML config ------------------------------------------------------------------------------

BASE_TOML = {"state_dir": "state", "log_level": "info", "snapshot_interval_s": 1.0, "equity_interval_s": 60.0,
             "venue": {"kind": "paper", "rate_hz": 10.0, "seed": 1, "volatility": 0.0005},
             "strategies": [{"id": "s", "file": "strategies/paper_scalper.py", "parameters": {"every": 2}}],
             "risk": {"global": {"max_order_quantity": 1.0}},
             "journal": {"fsync": "interval", "fsync_interval_s": 0.2}}


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v == float("inf") else "-inf" if v == float("-inf") else repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return orjson.dumps(v).decode()
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(i) for i in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{orjson.dumps(str(k)).decode()} = {_toml_value(i)}" for k, i in v.items()) + "}"
    return '""'


def _toml(doc: dict) -> str:
    return "\n".join(f"{orjson.dumps(k).decode()} = {_toml_value(v)}" for k, v in doc.items()) + "\n"


toml_leaf = st.one_of(st.floats(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.booleans(),
                      st.text(max_size=10), st.lists(st.integers(), max_size=2), st.just({}))


def _mutate(doc: dict, path: list[str | int], value: Any) -> dict:
    import copy

    doc = copy.deepcopy(doc)
    node: Any = doc
    for p in path[:-1]:
        if isinstance(node, list):
            node = node[0]
        elif isinstance(node, dict):
            node = node.setdefault(p, {})
        if not isinstance(node, dict | list):
            return doc
    if isinstance(node, dict):
        node[path[-1]] = value
    return doc


_TOML_PATHS = [["state_dir"], ["log_level"], ["snapshot_interval_s"], ["equity_interval_s"], ["venue", "rate_hz"],
               ["venue", "seed"], ["venue", "volatility"], ["venue", "kind"], ["strategies", 0, "id"],
               ["strategies", 0, "parameters"], ["risk", "global", "max_order_quantity"], ["journal", "fsync"],
               ["journal", "fsync_interval_s"], ["risk", "global", "max_notional"], ["venue", "x"], ["nope"],
               ["risk", "global", "max_daily_loss"], ["watchdog", "interval_s"], ["record", "enabled"]]
toml_doc = st.one_of(
    st.text(max_size=200),
    st.builds(lambda muts: _toml(_apply_all(muts)),
              st.lists(st.tuples(st.sampled_from(_TOML_PATHS), toml_leaf), min_size=1, max_size=3)),
)


def _apply_all(muts: list) -> dict:
    doc = BASE_TOML
    for path, v in muts:
        doc = _mutate(doc, path, v)
    return doc


def _finite_everywhere(obj: Any, where: str = "") -> None:
    if isinstance(obj, float):
        assert obj == obj and obj not in (float("inf"), float("-inf")), f"{where} = {obj} accepted"
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _finite_everywhere(v, f"{where}.{k}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            _finite_everywhere(v, f"{where}[{i}]")


def check_toml_config(text: str) -> None:
    from leand.live.config import ConfigError, load_config

    d = T_TOML.state.setdefault("dir", Path(tempfile.mkdtemp(prefix="leand-fuzz-toml-")))
    p = d / "leand.toml"
    p.write_text(text)
    try:
        cfg = load_config(p)
    except ConfigError as e:
        one_line(str(e))
        return
    _finite_everywhere(msgspec.to_builtins(cfg))


# ---- the LEAN readers, .l2d and CSV ----------------------------------------------------------------------

def _lean_root() -> Path:
    import shutil

    from leand.bundled import SAMPLE_DATA

    d = Path(tempfile.mkdtemp(prefix="leand-fuzz-lean-"))
    for sub in ("market-hours", "symbol-properties"):
        shutil.copytree(SAMPLE_DATA / sub, d / sub)
    return d


def check_lean_reader(x: tuple[str, bytes]) -> None:
    from leand.data.lean import DataFormatError, LeanDataSource
    from leand.data.market_hours import MarketHoursDatabase
    from leand.model import Resolution, SecurityType, Symbol, TickType

    root = T_LEAN.state.get("root")
    if root is None:
        root = T_LEAN.state["root"] = _lean_root()
        T_LEAN.state["hours"] = MarketHoursDatabase.load(root / "market-hours" / "market-hours-database.json")
    kind, body = x
    st_, market, res, tt = {"equity_minute": (SecurityType.EQUITY, "usa", Resolution.MINUTE, TickType.TRADE),
                            "equity_tick": (SecurityType.EQUITY, "usa", Resolution.TICK, TickType.QUOTE),
                            "crypto_minute": (SecurityType.CRYPTO, "coinbase", Resolution.MINUTE, TickType.QUOTE),
                            "crypto_tick": (SecurityType.CRYPTO, "coinbase", Resolution.TICK, TickType.TRADE),
                            "forex_tick": (SecurityType.FOREX, "oanda", Resolution.TICK, TickType.QUOTE)}[kind]
    ticker = {"usa": "SPY", "coinbase": "BTCUSD", "oanda": "EURUSD"}[market]
    sym = Symbol(ticker, st_, market)
    src = LeanDataSource(root)
    d = date(2013, 10, 7)
    path = src.day_path(sym, res, tt, d)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    if body != b"<not a zip>":
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("x.csv", body)
        path.write_bytes(buf.getvalue())
    else:
        path.write_bytes(body)
    hours = T_LEAN.state["hours"].get(st_, market, ticker)
    cache_env = os.environ.get("LEAND_CACHE_DIR")
    os.environ["LEAND_CACHE_DIR"] = "off"  # the reader itself, not ~/.cache/leand filling with fuzz entries
    try:
        cols = src.read_day(sym, res, tt, d, hours)
    except DataFormatError as e:
        one_line(str(e))
        return
    finally:
        path.unlink()
        if cache_env is None:
            os.environ.pop("LEAND_CACHE_DIR", None)
        else:
            os.environ["LEAND_CACHE_DIR"] = cache_env
    if cols is not None:
        assert len(cols.time) == len(cols.end_time)
        assert np.isfinite(cols.time.astype(np.float64)).all()
        for name, col in cols.cols.items():
            if col.dtype.kind == "f":
                assert not np.isinf(col).any(), f"{name}: infinite value accepted"


def _lean_rows(kind: str, rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(r) for r in rows) + "\n").encode()


_NCOLS = {"equity_minute": 6, "equity_tick": 8, "crypto_minute": 11, "crypto_tick": 4, "forex_tick": 3}
lean_file = st.one_of(
    st.tuples(st.sampled_from(list(_NCOLS)), st.one_of(st.binary(max_size=120), st.just(b"<not a zip>"))),
    st.sampled_from(list(_NCOLS)).flatmap(lambda k: st.tuples(st.just(k), st.lists(
        st.lists(st.one_of(st.integers(0, 86_400_000).map(str), numberish), min_size=_NCOLS[k] - 1,
                 max_size=_NCOLS[k] + 1), max_size=6).map(lambda rows, k=k: _lean_rows(k, rows)))),
)


def check_l2d_reader(x: tuple[bytes, list[tuple]]) -> None:
    from leand.backtest.book_data import l2_stream
    from leand.model import SecurityType, Symbol
    from leand.simulator.l2file import MAGIC, RECORD, L2FormatError

    head, recs = x
    d = T_L2D.state.setdefault("dir", Path(tempfile.mkdtemp(prefix="leand-fuzz-l2d-")))
    p = d / "x.l2d"
    try:
        arr = np.array([tuple(r) for r in recs], dtype=RECORD) if recs else np.zeros(0, RECORD)
    except (ValueError, TypeError, OverflowError):
        return  # not representable as records: the file format itself cannot carry it
    if head == b"<valid>":
        h = orjson.dumps({"symbol": "BAC", "tick_size": 0.01, "lot_size": 1.0, "source": "fuzz"})
        head = MAGIC + struct.pack("<I", len(h)) + h
    p.write_bytes(head + arr.tobytes())
    try:
        stream = l2_stream(Symbol("BAC", SecurityType.EQUITY, "usa"), p)
        n = 0
        for _, events in stream(-(2**62), 2**62):
            n += len(events)
            for ev in events:
                for v in (getattr(ev, "price", 1.0), getattr(ev, "size", 0.0), getattr(ev, "quantity", 1.0)):
                    assert np.isfinite(v) and v >= 0, ev
    except L2FormatError as e:
        one_line(str(e))
        return


l2_record = st.tuples(st.integers(-(2**63), 2**63 - 1), st.integers(-(2**63), 2**63 - 1), st.integers(0, 255),
                      st.integers(-128, 127), st.floats(), st.floats())
l2_ok_record = st.tuples(st.integers(1, 10**12), st.integers(1, 1000), st.integers(0, 4), st.sampled_from([1, -1]),
                         st.floats(0.01, 1000), st.floats(0, 1000))
l2d_file = st.tuples(st.one_of(st.just(b"<valid>"), st.binary(max_size=40)),
                     st.one_of(st.lists(l2_record, max_size=6), st.lists(l2_ok_record, max_size=6)))


def check_csv_bars(text: str) -> None:
    from zoneinfo import ZoneInfo

    from leand.data.csv_bars import read_csv_bars
    from leand.data.lean import DataFormatError

    d = T_CSV.state.setdefault("dir", Path(tempfile.mkdtemp(prefix="leand-fuzz-csv-")))
    p = d / "x.csv"
    p.write_bytes(text.encode("utf-8", "replace"))
    try:
        for cols in read_csv_bars(p, ZoneInfo("America/New_York"), period_ns=60_000_000_000):
            for name, col in cols.cols.items():
                if col.dtype.kind == "f":
                    assert not np.isinf(col).any() and not np.isnan(col).any(), f"{name}: non-finite accepted"
    except DataFormatError as e:
        one_line(str(e))


csv_cell = st.one_of(numberish, st.sampled_from(["2013-10-07", "2013-10-07T09:30:00", "20131007 09:30",
                                                 "1381152600", "1381152600000", "2013-10-07T09:31:00Z", "x"]))
csv_text = st.one_of(
    st.text(max_size=120),
    st.lists(st.lists(csv_cell, min_size=4, max_size=7), max_size=6).map(
        lambda rows: "time,open,high,low,close,volume\n" + "\n".join(",".join(r) for r in rows) + "\n"),
    st.lists(st.tuples(st.integers(0, 50), st.floats(0.5, 200), st.floats(0, 5)), max_size=6).map(
        lambda rows: "time,open,high,low,close,volume\n" + "\n".join(
            f"2013-10-07T09:{30 + m:02d}:00,{p},{p + w},{p},{p},{w}" for m, p, w in rows) + "\n"),
)


def _tree_state(root: Path) -> dict[str, int]:
    """Every file under ``root`` with its size (the catalogue's state, as far as a refusal must not change it)."""
    return {str(p.relative_to(root)): p.stat().st_size for p in sorted(root.rglob("*")) if p.is_file()}


def check_data_import(x: tuple[str, str]) -> None:
    """``leand data import`` of a CSV into a catalogue: exit 0, 1 (refused by validation) or 2 (bad input), one
    line on stderr when refused, and a refused import leaves the catalogue's files as they were."""
    import contextlib

    from leand.cli import main

    kind, text = x
    d = T_DATA_IMPORT.state.setdefault("dir", Path(tempfile.mkdtemp(prefix="leand-fuzz-import-")))
    cat = d / "catalog"
    f = d / "in.csv"
    f.write_bytes(text.encode("utf-8", "replace"))
    before = _tree_state(cat) if cat.exists() else {}
    err = io.StringIO()
    argv = ["data", "import", str(f), "--symbol", "SPY", "--security-type", "equity", "--kind", kind,
            "--resolution", "minute" if kind.endswith("bar") else "tick", "--catalog", str(cat), "--tz", "UTC"]
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
    except SystemExit as e:
        code = e.code
    assert code in (0, 1, 2), (code, err.getvalue()[-500:])
    assert "Traceback" not in err.getvalue(), err.getvalue()[-800:]
    if code != 0:
        lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
        assert lines, "refused without saying why"
        one_line(lines[-1])
        if cat.exists() and before:
            after = _tree_state(cat)
            assert {k: v for k, v in after.items() if not k.endswith((".sqlite-wal", ".sqlite-shm", ".sqlite"))} \
                == {k: v for k, v in before.items() if not k.endswith((".sqlite-wal", ".sqlite-shm", ".sqlite"))}, \
                "a refused import changed the catalogue's files"


data_import = st.tuples(st.sampled_from(["trade_bar", "quote_tick", "trade_tick"]), st.one_of(csv_text, st.lists(
    st.lists(csv_cell, min_size=2, max_size=6), max_size=6).map(
        lambda rows: "time,bid,ask,bid_size,ask_size,price,size\n" + "\n".join(",".join(r) for r in rows))))


# ---- the ctl protocol (a real daemon over its Unix socket) and the ctl command line ---------------------------

def _ctl_open() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "live"))
    from daemon_util import Daemon, write_config

    d = Path(tempfile.mkdtemp(prefix="leand-fuzz-ctl-"))
    daemon = Daemon(write_config(d, rate_hz=20.0, every=50), per_test=False)  # shared by the module's tests
    daemon.wait_ready(60)
    T_CTL.state.update(daemon=daemon, dir=d)


def _ctl_close() -> None:
    daemon = T_CTL.state.pop("daemon", None)
    if daemon is not None:
        daemon.stop()


def _ctl_raw(method: str, path: str, body: bytes | None) -> tuple[int, Any]:
    from leand.ctl import _UnixConnection

    conn = _UnixConnection(str(T_CTL.state["daemon"].sock), timeout=10)
    try:
        try:
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        except (http.client.InvalidURL, UnicodeEncodeError, ValueError):
            return 0, None  # the client refuses to send it
        except (BrokenPipeError, ConnectionResetError):
            return 0, None  # the server answered a malformed request line and closed before the body was sent
        r = conn.getresponse()
        raw = r.read()
    finally:
        conn.close()
    return r.status, orjson.loads(raw) if raw else None


def _ctl_state() -> Any:
    """What a refused command must not change: strategy and trading states, the risk config, the daemon state."""
    _, strategies = _ctl_raw("GET", "/strategies", None)
    _, risk = _ctl_raw("GET", "/risk", None)
    _, status = _ctl_raw("GET", "/status", None)
    return ([(s["id"], s["state"], s["trading_state"]) for s in strategies], risk, status["state"],
            status["trading_state"])


_CTL_PATHS = ["/status", "/health", "/strategies", "/strategies/scalper/pause", "/strategies/scalper/x",
              "/strategies/nope/stop", "/orders", "/orders/x/cancel", "/positions", "/balances", "/fills",
              "/equity", "/risk", "/log-level", "/flatten", "/nope", "/fills?limit=abc", "/equity?limit=-1",
              "/fills?limit=99999999999999999999", "/equity?strategy=nope"]
ctl_request = st.tuples(
    st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    st.one_of(st.sampled_from(_CTL_PATHS), st.from_regex(r"\A/[a-z/?=&0-9_-]{0,30}\Z")),
    st.one_of(st.none(), st.binary(max_size=60), json_value.map(orjson.dumps),
              st.builds(lambda k, v: orjson.dumps({k: v}),
                        st.sampled_from(["config", "level", "symbol", "reason", "cancel_all"]), json_value)),
)


def check_ctl_protocol(x: tuple[str, str, bytes | None]) -> None:
    if "daemon" not in T_CTL.state:
        _ctl_open()
    method, path, body = x
    body = body if isinstance(body, bytes) else None
    if path.startswith(("/halt", "/resume", "/reload", "/orders/cancel-all")):
        return  # accepted state changes are the e2e tests' business; refused ones are checked below
    if path.startswith("/strategies/scalper/") and method == "POST":
        return
    before = _ctl_state()
    status, ans = _ctl_raw(method, path, body)
    if status == 0:
        return
    assert status != 500, (method, path, body, ans)
    if status >= 400:
        assert isinstance(ans, dict) and "error" in ans, ans
        one_line(ans["error"])
        assert _ctl_state() == before, f"refused {method} {path} changed the daemon"


def check_ctl_cli(argv: list[str]) -> None:
    from leand.ctl import main

    argv = [str(a) for a in argv]
    env = os.environ.get("LEAND_SOCKET")
    os.environ["LEAND_SOCKET"] = "/nonexistent/leand-fuzz.sock"
    err = io.StringIO()
    import contextlib

    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
    except SystemExit as e:
        code = e.code
    finally:
        if env is None:
            os.environ.pop("LEAND_SOCKET", None)
        else:
            os.environ["LEAND_SOCKET"] = env
    assert code in (0, 1, 2, 3), code
    assert "Traceback" not in err.getvalue()


ctl_argv = st.lists(st.one_of(st.sampled_from(["status", "health", "strategies", "orders", "cancel", "cancel-all",
                                               "positions", "balances", "halt", "--reason", "--cancel-all", "resume",
                                               "flatten", "risk", "show", "set", "reload", "log-level", "--json",
                                               "fills", "equity", "--strategy", "--limit", "{", '{"global": {}}',
                                               "start", "stop", "pause", "x", "-h"]),
                              st.text(max_size=8)), max_size=5)


# ---- the registry ---------------------------------------------------------------------------------------------

T_SIM_REST = Target("sim_rest_params", sim_call, check_sim_rest, 350_000)
T_SIM_AUTH = Target("sim_auth_timestamp", st.tuples(st.one_of(st.none(), numberish),
                                                    st.one_of(st.none(), numberish), st.booleans()),
                    check_sim_auth, 250_000, 300)
T_SIM_WS_CONTROL = Target("sim_ws_control", ws_control_text, check_sim_ws_control, 150_000)
T_SIM_WS_API = Target("sim_ws_api", ws_api_call, check_sim_ws_api, 100_000)
T_SIM_CONTROL = Target("sim_control", control_call, check_sim_control, 30_000)
T_SIM_HTTP = Target("sim_http", sim_http_request, check_sim_http, 8_000, 60, _http_open, _http_close)
T_ADAPTER_MD = Target("adapter_md_frames", md_frame, check_adapter_md, 120_000, 120)
T_ADAPTER_USER = Target("adapter_user_frames", user_frame, check_adapter_user, 30_000, 120)
T_ADAPTER_REST = Target("adapter_rest_bodies", rest_body, check_adapter_rest, 80_000)
T_TOML = Target("toml_config", toml_doc, check_toml_config, 20_000, 120)
T_LEAN = Target("lean_reader", lean_file, check_lean_reader, 20_000, 120)
T_L2D = Target("l2d_reader", l2d_file, check_l2d_reader, 20_000, 120)
T_CSV = Target("csv_bars", csv_text, check_csv_bars, 20_000, 120)
T_DATA_IMPORT = Target("data_import", data_import, check_data_import, 8_000, 40)
T_CTL = Target("ctl_protocol", ctl_request, check_ctl_protocol, 3_000, 40, _ctl_open, _ctl_close)
T_CTL_CLI = Target("ctl_cli", ctl_argv, check_ctl_cli, 10_000, 100)

TARGETS = [T_SIM_REST, T_SIM_AUTH, T_SIM_WS_CONTROL, T_SIM_WS_API, T_SIM_CONTROL, T_SIM_HTTP, T_ADAPTER_MD,
           T_ADAPTER_USER, T_ADAPTER_REST, T_TOML, T_LEAN, T_L2D, T_CSV, T_DATA_IMPORT, T_CTL, T_CTL_CLI]
