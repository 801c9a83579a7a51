"""The sim server's market-data fan-out under load, over real loopback sockets: frames built by hand (every
length form), tape prints (``generator.tape_rate_hz``) numbered with the matched trades and served by REST too,
and a client that stops reading dropped as a slow consumer."""

from __future__ import annotations

import asyncio
import socket
import time

import aiohttp
import orjson
import pytest

from leand.simulator.binance import SimServer, finalize, start_server, streams
from leand.simulator.binance.config import ConfigError, GeneratorConfig, SimConfig
from leand.simulator.binance.streams import text_frame


def test_text_frame_length_forms() -> None:
    for n, head in ((0, b"\x81\x00"), (125, b"\x81\x7d"), (126, b"\x81\x7e\x00\x7e"), (65535, b"\x81\x7e\xff\xff"),
                    (65536, b"\x81\x7f" + (65536).to_bytes(8, "big"))):
        f = text_frame(b"x" * n)
        assert f.startswith(head) and len(f) == len(head) + n


async def test_tape_prints_reach_every_form_numbered_with_the_matched_trades() -> None:
    srv = await start_server(finalize(SimConfig(generator=GeneratorConfig(rate_hz=0, warmup_steps=30,
                                                                          tape_rate_hz=2000, tape_interval_ms=5))))
    try:
        async with aiohttp.ClientSession() as s, \
                s.ws_connect(f"{srv.ws_url}/stream?streams=btcusdt@trade/ethusdt@trade") as comb, \
                s.ws_connect(f"{srv.ws_url}/ws/btcusdt@trade") as plain:
            got: dict[str, list[dict]] = {"comb": [], "plain": []}
            t_end = time.monotonic() + 10
            while (len(got["comb"]) < 400 or len(got["plain"]) < 200) and time.monotonic() < t_end:
                for name, ws in (("comb", comb), ("plain", plain)):
                    msg = await ws.receive(timeout=5)
                    assert msg.type == aiohttp.WSMsgType.TEXT, msg
                    got[name].append(orjson.loads(msg.data))
            async with s.get(f"{srv.url}/api/v3/trades", params={"symbol": "BTCUSDT", "limit": "1000"}) as r:
                tape = await r.json()
            async with s.get(f"{srv.url}/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "5"}) as r:
                book = await r.json()
        assert {m["stream"] for m in got["comb"]} == {"btcusdt@trade", "ethusdt@trade"}
        btc = [m["data"] for m in got["comb"] if m["stream"] == "btcusdt@trade"]
        for seq in (btc, got["plain"]):
            ids = [m["t"] for m in seq]
            assert ids == list(range(ids[0], ids[0] + len(ids)))  # one sequence, nothing skipped
            assert all(m["e"] == "trade" and m["s"] == "BTCUSDT" and float(m["q"]) > 0 for m in seq)
        # each print is at the touch: a seller hit the bid (buyer maker), a buyer lifted the ask
        bid, ask = book["bids"][0][0], book["asks"][0][0]
        assert {m["p"] for m in btc if m["m"]} == {bid} and {m["p"] for m in btc if not m["m"]} == {ask}
        # the matched warm-up trades come first in the same id sequence, and REST serves the prints too
        tids = [t["id"] for t in tape]
        assert tids == list(range(tids[0], tids[0] + len(tids))) and btc[-1]["t"] <= tids[-1]
        assert btc[0]["t"] > 1
    finally:
        await srv.close()


async def test_a_client_that_stops_reading_is_dropped(monkeypatch) -> None:
    monkeypatch.setattr(streams, "MAX_BUFFER", 256 * 1024)
    srv: SimServer = await start_server(finalize(SimConfig(generator=GeneratorConfig(rate_hz=0, warmup_steps=10,
                                                                                     tape_rate_hz=20000))))
    sock = socket.socket()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, ("127.0.0.1", srv.port))
        await loop.sock_sendall(sock, b"GET /ws/btcusdt@trade HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                                      b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                      b"Sec-WebSocket-Version: 13\r\n\r\n")
        head = await asyncio.wait_for(loop.sock_recv(sock, 256), 5)
        assert head.startswith(b"HTTP/1.1 101")
        t_end = time.monotonic() + 15
        while srv.hub.conns and time.monotonic() < t_end:  # the client reads nothing more
            await asyncio.sleep(0.05)
        assert not srv.hub.conns, "a client that stopped reading was kept"
    finally:
        sock.close()
        await srv.close()


@pytest.mark.parametrize("ms", [0.5, 0.0, 1001.0, float("nan")])
def test_the_tape_interval_is_from_1_to_1000_ms(ms: float) -> None:
    with pytest.raises(ConfigError, match=r"generator\.tape_interval_ms"):
        finalize(SimConfig(generator=GeneratorConfig(tape_rate_hz=1000, tape_interval_ms=ms)))
