"""The market-data WebSocket client (adapters/binance/stream_socket.py) against real loopback servers: the sim
server, and a raw TCP server that writes hand-made frames (fragments, interleaved pings, byte-at-a-time reads,
long messages, protocol violations, silence)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct

import orjson
import pytest

from leand.adapters.binance.stream_socket import StreamClosed, StreamSocket
from leand.simulator.binance import finalize, start_server
from leand.simulator.binance.config import GeneratorConfig, SimConfig

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(op: int, payload: bytes, fin: bool = True, mask: bytes | None = None) -> bytes:
    n = len(payload)
    b0 = (0x80 if fin else 0) | op
    m = 0x80 if mask else 0
    head = bytes((b0, m | n)) if n < 126 else (bytes((b0, m | 126)) + struct.pack("!H", n) if n < 65536
                                               else bytes((b0, m | 127)) + struct.pack("!Q", n))
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        head += mask
    return head + payload


def unmask_client_frames(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        op, n = data[pos] & 0x0F, data[pos + 1] & 0x7F
        assert data[pos + 1] & 0x80, "a client frame must be masked"
        key = data[pos + 2:pos + 6]
        out.append((op, bytes(c ^ key[i % 4] for i, c in enumerate(data[pos + 6:pos + 6 + n]))))
        pos += 6 + n
    return out


class RawServer:
    """Answers the handshake (or not), then writes ``script`` (a list of bytes chunks) and records what the
    client sent."""

    def __init__(self, script: list[bytes], accept_ok: bool = True, close_after: bool = False) -> None:
        self.script, self.accept_ok, self.close_after = script, accept_ok, close_after
        self.received = b""
        self.server: asyncio.Server | None = None

    async def handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        head = await r.readuntil(b"\r\n\r\n")
        key = next(ln.split(b":", 1)[1].strip() for ln in head.split(b"\r\n") if ln.lower().startswith(b"sec-websocket-key"))
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest()) if self.accept_ok else b"nope"
        w.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        for chunk in self.script:
            w.write(chunk)
            await w.drain()
            await asyncio.sleep(0.001)
        try:
            while data := await asyncio.wait_for(r.read(4096), 1.0):
                self.received += data
        except (TimeoutError, ConnectionError):
            pass
        w.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/stream?streams=x"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()


async def collect(ws: StreamSocket) -> list[bytes]:
    out: list[bytes] = []
    async for batch in ws.batches():
        out.extend(batch)
    return out


async def test_fragments_pings_split_reads_long_messages_and_the_closing_handshake() -> None:
    long = b"x" * 70_000
    small = frame(1, b'{"a":1}') + frame(1, b'{"b":', fin=False) + frame(9, b"hi") + frame(0, b"2", fin=False)
    big = frame(0, b"}") + frame(1, long) + frame(2, b"\x00\x01") + frame(8, struct.pack("!H", 1000))
    # seven bytes a read, then the long message in pieces
    srv = RawServer([small[i:i + 7] for i in range(0, len(small), 7)]
                    + [big[i:i + 5000] for i in range(0, len(big), 5000)])
    async with srv as url:
        ws = await StreamSocket.connect(url)
        got = await asyncio.wait_for(collect(ws), 10)  # ends normally on the close frame
        await ws.close()
        await asyncio.sleep(0.05)
    assert got == [b'{"a":1}', b'{"b":2}', long, b"\x00\x01"]
    sent = unmask_client_frames(srv.received)
    assert (10, b"hi") in sent and sent[-1] == (8, struct.pack("!H", 1000))  # a pong, then the close answer


async def test_an_attached_consumer_gets_every_message_from_the_read_callback_with_its_read_time() -> None:
    """attach(): the same messages as batches() (fragments, split reads), each handed over as it is parsed
    with the time of the socket read that completed it; the connection's end comes through wait()."""
    long = b"x" * 70_000
    script = [frame(1, b'{"a":1}') + frame(1, b'{"b":', fin=False) + frame(9, b"hi"), frame(0, b"2}"),
              frame(1, long)[:3000], frame(1, long)[3000:] + frame(1, b"z") + frame(8, struct.pack("!H", 1000))]
    async with RawServer(script) as url:
        ws = await StreamSocket.connect(url)
        got: list[tuple[int, bytes]] = []
        ws.attach(lambda t, m: got.append((t, m)))
        await asyncio.wait_for(ws.wait(), 10)  # returns on the normal close
        assert ws.done
        await ws.close()
    assert [m for _, m in got] == [b'{"a":1}', b'{"b":2}', long, b"z"]
    times = [t for t, _ in got]
    assert times == sorted(times) and times[2] == times[3]  # the last read completed both


@pytest.mark.parametrize("bad", [frame(1, b"{}", mask=b"abcd"), bytes((0xC1, 2)) + b"{}", frame(3, b"?"),
                                 frame(0, b"orphan"), frame(1, b"y" * 2000)])
async def test_protocol_violations_and_oversized_messages_break_the_connection(bad: bytes) -> None:
    async with RawServer([frame(1, b"ok"), bad]) as url:
        ws = await StreamSocket.connect(url, max_size=1000)
        with pytest.raises(StreamClosed):
            await asyncio.wait_for(collect(ws), 5)
        await ws.close()


async def test_a_wrong_accept_refuses_the_handshake() -> None:
    async with RawServer([], accept_ok=False) as url:
        with pytest.raises(StreamClosed, match="Sec-WebSocket-Accept"):
            await StreamSocket.connect(url)


async def test_a_silent_connection_is_dropped_and_a_tcp_close_is_an_error() -> None:
    async with RawServer([frame(1, b"one")]) as url:
        ws = await StreamSocket.connect(url, ping_interval=0.05, ping_timeout=0.3)
        with pytest.raises(StreamClosed, match="no data"):
            await asyncio.wait_for(collect(ws), 5)
        await ws.close()


async def test_the_sim_servers_streams_arrive_whole_and_in_order() -> None:
    srv = await start_server(finalize(SimConfig(generator=GeneratorConfig(rate_hz=0, warmup_steps=10,
                                                                          tape_rate_hz=5000))))
    try:
        ws = await StreamSocket.connect(f"{srv.ws_url}/stream?streams=btcusdt@trade", max_queue=100)
        ids: list[int] = []
        async for batch in ws.batches():
            ids += [orjson.loads(m)["data"]["t"] for m in batch]
            if len(ids) >= 3000:
                break
        await ws.close()
        assert ids == list(range(ids[0], ids[0] + len(ids)))
    finally:
        await srv.close()


def test_under_uvloop_as_the_daemon_runs_it() -> None:
    uvloop = pytest.importorskip("uvloop")
    uvloop.run(test_the_sim_servers_streams_arrive_whole_and_in_order())
    uvloop.run(test_a_silent_connection_is_dropped_and_a_tcp_close_is_an_error())
