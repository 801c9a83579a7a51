"""``leand sim serve`` refuses bad numbers before using them, and answers every request (unknown paths, wrong
methods, oversized bodies, URLs and headers, control endpoints) with Binance's ``{"code", "msg"}`` JSON."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from decimal import Decimal

import aiohttp
import orjson
import pytest

from leand.simulator.binance import SimConfig, finalize, start_server
from leand.simulator.binance.app import MAX_STEPS, is_loopback
from leand.simulator.binance.auth import sign, ws_payload
from leand.simulator.binance.config import GeneratorConfig

from .test_server_protocol import Client


@pytest.fixture
async def srv():
    s = await start_server(finalize(SimConfig(generator=GeneratorConfig(rate_hz=0, warmup_steps=5))))
    yield s
    await s.close()


@pytest.fixture
async def client(srv):
    async with aiohttp.ClientSession() as s:
        yield Client(srv, s)


async def _raw(srv, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as s, s.request(method, srv.url + path, data=body,
                                                       headers=headers or {}) as r:
        assert r.content_type == "application/json", (path, r.status, await r.text())
        return r.status, await r.json()


async def _control(srv, path: str, payload: object) -> tuple[int, dict]:
    return await _raw(srv, "POST", "/_sim/" + path, orjson.dumps(payload), {"X-MBX-APIKEY": srv.api_key})


@pytest.mark.parametrize("ts", ["9" * 400, "1e30", "nan", "-1", "１２３", "1_000", " 1", "12.5", ""])
async def test_bad_timestamps_are_refused_with_binance_errors(client, ts):
    st, body = await client.signed("GET", "account", ts=-1, timestamp=ts)
    assert st == 400 and body["code"] in (-1100, -1102), body


@pytest.mark.parametrize("rw", ["nan", "inf", "-1", "1e400", "60001", "abc", "1" * 50])
async def test_bad_recv_windows_never_switch_the_window_off(client, srv, rw):
    year_ago = int(time.time() * 1000) - 365 * 86_400_000
    before = await client.balances()
    st, body = await client.signed("POST", "order", ts=year_ago, recvWindow=rw, symbol="BTCUSDT", side="BUY",
                                   type="MARKET", quantity="0.001")
    assert st == 400 and body["code"] in (-1100, -1131), body
    assert await client.balances() == before  # nothing was filled


@pytest.mark.parametrize("name,value", [("quantity", "1e308"), ("quantity", "nan"), ("quantity", "1_0"),
                                        ("quantity", "9" * 25), ("price", "-5"), ("price", "Infinity"),
                                        ("newClientOrderId", "abc\n")])
async def test_bad_order_numbers(client, name, value):
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
              "price": "50000"}
    params[name] = value
    st, body = await client.signed("POST", "order", **params)
    assert st == 400 and body["code"] == -1100, body


@pytest.mark.parametrize("path", ["depth?symbol=BTCUSDT&limit=" + "9" * 400, "klines?symbol=BTCUSDT&interval=1m&limit=nan",
                                  "aggTrades?symbol=BTCUSDT&fromId=1e9", "trades?symbol=BTCUSDT&limit=-" + "9" * 30])
async def test_bad_public_numbers(srv, path):
    st, body = await _raw(srv, "GET", "/api/v3/" + path)
    assert st == 400 and body["code"] == -1100, body


async def test_deposit_bounds_keep_the_account_readable(client, srv):
    before = await client.balances()
    for amount in (1e308, "1e308", "nan", float("1e20"), "NaN", True, None, [1], "1" * 30):
        st, body = await _control(srv, "deposit", {"asset": "USDT", "amount": amount})
        assert st == 400 and body["code"] in (-1100, -1102), (amount, body)
    for asset in ("", "usdt", "X" * 50, 5):
        st, body = await _control(srv, "deposit", {"asset": asset, "amount": "1"})
        assert st == 400, body
    assert await client.balances() == before
    st, _ = await _control(srv, "deposit", {"asset": "USDT", "amount": 12.5})
    assert st == 200
    assert (await client.balances())["USDT"][0] == before["USDT"][0] + Decimal("12.5")


async def test_step_is_bounded_and_typed(srv):
    for n in ("abc", 100_000_000, MAX_STEPS + 1, -1, 1.5, None, [], True):
        st, body = await _control(srv, "step", {"n": n})
        assert st == 400 and body["code"] == -1100, (n, body)
    st, body = await _control(srv, "step", {"n": 3, "flush": "yes"})
    assert st == 400
    st, _ = await _control(srv, "step", {"n": MAX_STEPS // 10})
    assert st == 200


async def test_fault_values_checked_before_any_is_applied(srv):
    before = srv.faults.as_dict()
    for bad in ({"http_status": 503, "http_count": "x"}, {"http_status": 200}, {"delay_ms": 10**12},
                {"delay_ms": 5, "delay_count": -7}, {"http_status": 503, "symbols": ["NOPE"], "skip_depth_ids": 1},
                {"weight_per_minute": 0}, {"drop_ws": "sometimes"}, {"bogus": 1}, {"http_status": 503,
                                                                                   "http_mode": 5}):
        st, body = await _control(srv, "faults", bad)
        assert st == 400 and "code" in body, (bad, body)
        assert srv.faults.as_dict() == before
    st, body = await _control(srv, "faults", {"delay_ms": 1, "delay_count": 2})
    assert st == 200 and body["delay_ms"] == 1


@pytest.mark.parametrize("method,path", [("GET", "/nope"), ("GET", "/api/v3/nope"), ("PUT", "/api/v3/order"),
                                         ("GET", "/_sim/step"), ("DELETE", "/api/v3/ping"), ("POST", "/")])
async def test_unknown_paths_and_wrong_methods_answer_binance_json(srv, method, path):
    st, body = await _raw(srv, method, path)
    assert st in (404, 405) and set(body) == {"code", "msg"}, body


async def test_oversized_body_answers_binance_json(srv):
    st, body = await _raw(srv, "POST", "/api/v3/order", b"a=" + b"x" * (2 << 20),
                          {"X-MBX-APIKEY": srv.api_key, "Content-Type": "application/x-www-form-urlencoded"})
    assert st == 413 and body["code"] == -1000


async def _raw_socket(srv, request: bytes) -> tuple[int, dict]:
    reader, writer = await asyncio.open_connection(srv.host, srv.port)
    writer.write(request)
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"application/json" in head, head
    return int(head.split(b" ", 2)[1]), orjson.loads(body)


@pytest.mark.parametrize("size", [9_000, 100_000])
async def test_oversized_url_and_headers_answer_binance_json(srv, size):
    st, body = await _raw_socket(srv, b"GET /api/v3/ping?x=" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert st in (400, 414) and "code" in body
    st, body = await _raw_socket(srv, b"GET /api/v3/ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n")
    assert st in (400, 431) and "code" in body
    st, body = await _raw_socket(srv, b"\x16\x03\x01garbage\r\n\r\n")
    assert st == 400 and "code" in body


async def test_ws_api_refuses_bad_numbers(srv):
    async with aiohttp.ClientSession() as s, s.ws_connect(srv.ws_url + "/ws-api/v3") as ws:
        now = int(time.time() * 1000)
        cases = [{"timestamp": "9" * 400}, {"timestamp": 10**19}, {"timestamp": now, "recvWindow": 1e300}, {"timestamp": now - 10**9,
                                                                                   "recvWindow": "nan"},
                 {"timestamp": str(now), "recvWindow": -5}]
        for i, extra in enumerate(cases):
            params = {"apiKey": srv.api_key, **extra}
            params["signature"] = sign(srv.api_secret, ws_payload(params))
            await ws.send_str(orjson.dumps({"id": i, "method": "account.status", "params": params}).decode())
            msg = orjson.loads((await ws.receive()).data)
            assert msg["status"] == 400 and msg["error"]["code"] in (-1100, -1131), msg
        await ws.send_str(orjson.dumps({"id": "q", "method": "depth",
                                        "params": {"symbol": "BTCUSDT", "limit": 1e300}}).decode())
        msg = orjson.loads((await ws.receive()).data)
        assert msg["status"] == 400 and msg["error"]["code"] == -1100


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1") and not is_loopback("example.org")


def _cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leand.cli", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("args", [["--port", "99999"], ["--port", "-1"], ["--port", "http"], ["--seed", "-3"]])
def test_bad_cli_values_one_line(args):
    r = _cli("sim", "serve", *args)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "out of range" in r.stderr or "not an integer" in r.stderr


def test_non_loopback_host_warns_loudly():
    # 192.0.2.1 (TEST-NET-1) is no address of this machine: the warning comes first, then the bind fails,
    # so the test never listens beyond loopback
    r = _cli("sim", "serve", "--host", "192.0.2.1", "--port", "0")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert "WARNING" in lines[0] and "192.0.2.1" in lines[0] and "not loopback" in lines[0]
    assert "cannot listen" in lines[-1]
