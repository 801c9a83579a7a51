"""A receive-side WebSocket client (RFC 6455) for market-data streams, built for messages per second.

The general clients spend most of a market-data message's cost in framing: ``websockets`` parses each frame
in a Python generator and hands it over through an assembler and a future (4-6 CPU us a message on the dev
machine), aiohttp through a queue and an await per message. Here ``data_received`` splits everything a socket
read brought into whole messages in one loop and queues them as one list, so the reader awaits once per read,
not per message (about 0.7 us a message; ``benchmarks/bench_md_receive.py`` prints all three).

What it does: the opening handshake (``Sec-WebSocket-Accept`` checked; no extensions asked for, so no
compression), text and binary messages with fragmentation, answers to pings, its own pings (a connection
silent for ``ping_timeout`` is dropped: a half-open TCP connection otherwise hangs forever), the closing
handshake, a size limit, and flow control (reading pauses while ``max_queue`` messages wait, so a slow
reader pushes back on the venue instead of growing memory). Client frames are masked. It only receives
data messages: the market-data streams need nothing sent but control frames. Protocol violations (masked or
RSV-flagged frames from the server, bad opcodes, oversized messages) drop the connection as an error.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import ssl
import struct
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import cast
from urllib.parse import urlsplit

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HEADER = 64 * 1024
_U16 = struct.Struct("!H")
_U64 = struct.Struct("!Q")


class StreamClosed(ConnectionError):
    """The connection failed or broke (the handshake was refused, the peer broke the protocol, it went
    silent, or TCP dropped); a normal close ends iteration instead."""


def _mask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if not n:
        return b""
    k = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ k).to_bytes(n, "big")


def client_frame(opcode: int, payload: bytes = b"") -> bytes:
    """One final, masked client frame (control frames: payload at most 125 bytes)."""
    key = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + _U16.pack(n)
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + _U64.pack(n)
    return head + key + _mask(payload, key)


class _Protocol(asyncio.Protocol):
    def __init__(self, key: str, max_size: int, max_queue: int) -> None:
        self.key = key
        self.max_size = max_size
        self.max_queue = max_queue
        self.transport: asyncio.Transport | None = None
        self.handshake: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        #: (receive time in ns, the messages one socket read completed)
        self.batches: deque[tuple[int, list[bytes]]] = deque()
        #: a consumer called with each message as data_received parses it, instead of queueing it
        #: (StreamSocket.attach)
        self.on_message: Callable[[int, bytes], None] | None = None
        self.recv_ns = 0
        #: receive time of the batch last taken
        self.taken_ns = 0
        self.queued = 0
        self.paused = False
        self.waiter: asyncio.Future[None] | None = None
        self.closed_by_peer = False
        self.close_sent = False
        self.error: BaseException | None = None
        self.done = False
        self.last_rx = 0.0
        self._pending = bytearray()
        self._need = 0
        self._fragments: list[bytes] = []
        self._frag_size = 0

    # ---- asyncio callbacks ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(StreamClosed(f"connection closed during the handshake: {exc}"))
        if exc is not None and self.error is None and not self.closed_by_peer:
            self.error = StreamClosed(f"connection lost: {exc}")
        elif self.error is None and not self.closed_by_peer and not self.close_sent:
            self.error = StreamClosed("connection closed without a close frame")
        self.done = True
        self._wake()

    def data_received(self, data: bytes) -> None:
        self.recv_ns = time.time_ns()  # when the frames in it were received: tick-to-order starts here
        self.last_rx = asyncio.get_running_loop().time()
        if self._pending:
            self._pending += data
            if len(self._pending) < self._need:
                return
            data = bytes(self._pending)
            self._pending.clear()
        if not self.handshake.done():
            end = data.find(b"\r\n\r\n")
            if end < 0:
                if len(data) > _MAX_HEADER:
                    self._fail("the handshake response is too long")
                else:
                    self._pending += data
                    self._need = 0
                return
            self.handshake.set_result(data[:end])
            data = data[end + 4:]
            if not data:
                return
        try:
            self._frames(data)
        except StreamClosed as e:
            self._fail(str(e))

    # ---- frames --------------------------------------------------------------------------------------
    def _frames(self, buf: bytes) -> None:
        out: list[bytes] = []
        pos, end = 0, len(buf)
        on_message, recv_ns, max_size = self.on_message, self.recv_ns, self.max_size
        while end - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n, h = b1 & 0x7F, 2
            if n == 126:
                if end - pos < 4:
                    break
                n, h = _U16.unpack_from(buf, pos + 2)[0], 4
            elif n == 127:
                if end - pos < 10:
                    break
                n, h = _U64.unpack_from(buf, pos + 2)[0], 10
            if b1 & 0x80 or b0 & 0x70:
                raise StreamClosed("protocol error: a masked or extension-flagged frame from the server")
            if n > max_size:
                raise StreamClosed(f"message larger than {max_size} bytes")
            if end - pos < h + n:
                break
            payload = buf[pos + h:pos + h + n]
            pos += h + n
            op = b0 & 0x0F
            if op == 1 or op == 2:  # text or binary
                if self._fragments:
                    raise StreamClosed("protocol error: a new message inside a fragmented one")
                if b0 & 0x80:
                    if on_message is not None:
                        on_message(recv_ns, payload)
                    else:
                        out.append(payload)
                else:
                    self._fragments.append(payload)
                    self._frag_size = n
            elif op == 0:  # continuation
                if not self._fragments:
                    raise StreamClosed("protocol error: a continuation frame with nothing to continue")
                self._frag_size += n
                if self._frag_size > self.max_size:
                    raise StreamClosed(f"message larger than {self.max_size} bytes")
                self._fragments.append(payload)
                if b0 & 0x80:
                    if on_message is not None:
                        on_message(recv_ns, b"".join(self._fragments))
                    else:
                        out.append(b"".join(self._fragments))
                    self._fragments = []
            elif op >= 8:
                if not b0 & 0x80 or n > 125:
                    raise StreamClosed("protocol error: a fragmented or oversized control frame")
                if op == 9:
                    self._send(client_frame(10, payload))  # pong with the ping's payload
                elif op == 8:
                    self.closed_by_peer = True
                    if not self.close_sent:
                        self.close_sent = True
                        self._send(client_frame(8, payload[:2]))
                    if self.transport is not None:
                        self.transport.close()
                    break
                # op 10: a pong; any frame counts as life (last_rx)
            else:
                raise StreamClosed(f"protocol error: opcode {op}")
        if pos < end and not self.closed_by_peer:
            self._pending += buf[pos:]
            self._need = self._frame_len(buf, pos, end)
        if out:
            self.batches.append((self.recv_ns, out))
            self.queued += len(out)
            if self.queued >= self.max_queue and not self.paused and self.transport is not None:
                self.paused = True
                self.transport.pause_reading()
            self._wake()

    @staticmethod
    def _frame_len(buf: bytes, pos: int, end: int) -> int:
        """Bytes the incomplete frame at ``pos`` needs in all (0 while its header is incomplete)."""
        if end - pos < 2:
            return 0
        n = buf[pos + 1] & 0x7F
        if n == 126:
            return 4 + _U16.unpack_from(buf, pos + 2)[0] if end - pos >= 4 else 0
        if n == 127:
            return 10 + _U64.unpack_from(buf, pos + 2)[0] if end - pos >= 10 else 0
        return 2 + n

    def _send(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    def _fail(self, why: str) -> None:
        if self.error is None:
            self.error = StreamClosed(why)
        if self.transport is not None:
            self.transport.abort()
        if not self.handshake.done():
            self.handshake.set_exception(StreamClosed(why))
        self.done = True
        self._wake()

    def _wake(self) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    def take(self) -> list[bytes] | None:
        """The oldest queued batch, or None if nothing is queued."""
        if not self.batches:
            return None
        self.taken_ns, batch = self.batches.popleft()
        self.queued -= len(batch)
        if self.paused and self.queued <= self.max_queue // 2 and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return batch


class StreamSocket:
    """``async with await StreamSocket.connect(url) as ws: async for batch in ws.batches(): ...``"""

    def __init__(self, proto: _Protocol, ping_interval: float, ping_timeout: float) -> None:
        self._p = proto
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._pinger: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, url: str, *, open_timeout: float = 10.0, max_size: int = 1 << 24,
                      max_queue: int = 20_000, ping_interval: float = 20.0, ping_timeout: float = 60.0
                      ) -> StreamSocket:
        u = urlsplit(url)
        hostname = u.hostname
        if u.scheme not in ("ws", "wss") or not hostname:
            raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
        secure = u.scheme == "wss"
        port = u.port or (443 if secure else 80)
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        key = base64.b64encode(os.urandom(16)).decode()
        loop = asyncio.get_running_loop()

        async def opening() -> _Protocol:
            _, proto = await loop.create_connection(
                lambda: _Protocol(key, max_size, max_queue), hostname, port,
                ssl=ssl.create_default_context() if secure else None,
                server_hostname=hostname if secure else None)
            host = hostname if u.port is None else f"{hostname}:{u.port}"
            proto._send(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
            head = await proto.handshake
            lines = head.decode("latin-1").split("\r\n")
            status = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
            want = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
            if len(status) < 2 or status[1] != "101":
                problem = f"the server answered {lines[0][:80]!r}"
            elif headers.get("upgrade", "").lower() != "websocket":
                problem = "no Upgrade: websocket"
            elif headers.get("sec-websocket-accept") != want:
                problem = "a wrong Sec-WebSocket-Accept"
            elif headers.get("sec-websocket-extensions"):
                problem = "an extension it was not asked for"
            else:
                problem = ""
            if problem:
                proto._fail(f"WebSocket handshake refused: {problem}")
                raise StreamClosed(f"WebSocket handshake refused: {problem}")
            return proto

        proto = await asyncio.wait_for(opening(), open_timeout)
        ws = cls(proto, ping_interval, ping_timeout)
        proto.last_rx = loop.time()
        if ping_interval > 0:
            ws._pinger = loop.create_task(ws._keepalive())
        return ws

    async def batches(self) -> AsyncIterator[list[bytes]]:
        """Every message in arrival order, in the batches one socket read brought. Ends on a normal close;
        raises :class:`StreamClosed` when the connection broke."""
        p = self._p
        loop = asyncio.get_running_loop()
        while True:
            batch = p.take()
            if batch is not None:
                yield batch
                if p.batches:  # more already queued: let the loop's other work (ctl, timers, orders) run first
                    await asyncio.sleep(0)
                continue
            if p.done:
                if p.error is not None:
                    raise p.error
                return
            p.waiter = loop.create_future()
            try:
                await p.waiter
            finally:
                p.waiter = None

    @property
    def recv_ns(self) -> int:
        """When the batch :meth:`batches` yielded last was received (``time.time_ns()`` at the socket read)."""
        return self._p.taken_ns

    def attach(self, on_message: Callable[[int, bytes], None]) -> None:
        """Hand every message to ``on_message(receive time in ns, message)`` as the callback that read it
        parses it, instead of queueing it for :meth:`batches`: no task wakes up between the socket read and the
        consumer, and the first message of a long read does not wait for the rest to be parsed. What is queued
        already goes first. The consumer must not raise; it holds back what it cannot take yet (and stops the
        reading with :meth:`pause_reading`), and waits for the connection or its own :meth:`wake` with
        :meth:`wait`."""
        p = self._p
        while (batch := p.take()) is not None:
            for m in batch:
                on_message(p.taken_ns, m)
        p.on_message = on_message

    def detach(self) -> None:
        self._p.on_message = None

    def pause_reading(self) -> None:
        p = self._p
        if not p.paused and p.transport is not None and not p.done:
            p.paused = True
            p.transport.pause_reading()

    def resume_reading(self) -> None:
        p = self._p
        if p.paused and p.transport is not None and not p.done:
            p.paused = False
            p.transport.resume_reading()

    def wake(self) -> None:
        """End a pending :meth:`wait` (the attached consumer has work for its task)."""
        self._p._wake()

    @property
    def done(self) -> bool:
        return self._p.done

    async def wait(self) -> None:
        """Until :meth:`wake` or the end of the connection: returns on a normal close (then :attr:`done`),
        raises :class:`StreamClosed` when it broke."""
        p = self._p
        if not p.done:
            p.waiter = asyncio.get_running_loop().create_future()
            try:
                await p.waiter
            finally:
                p.waiter = None
        if p.done and p.error is not None:
            raise p.error

    async def _keepalive(self) -> None:
        p = self._p
        loop = asyncio.get_running_loop()
        while not p.done:
            await asyncio.sleep(self._ping_interval)
            if loop.time() - p.last_rx > self._ping_timeout:
                p._fail(f"no data and no pong for {self._ping_timeout:g} s")
                return
            p._send(client_frame(9, b"leand"))

    async def close(self, timeout: float = 2.0) -> None:
        """The closing handshake (code 1000); the TCP connection goes when the server answers, or after
        ``timeout``."""
        p = self._p
        if self._pinger is not None:
            self._pinger.cancel()
        if not p.close_sent and not p.done:
            p.close_sent = True
            p._send(client_frame(8, _U16.pack(1000)))
        t_end = asyncio.get_running_loop().time() + timeout
        while not p.done and asyncio.get_running_loop().time() < t_end:
            p.batches.clear()  # nobody reads them any more
            p.queued = 0
            if p.paused and p.transport is not None:
                p.paused = False
                p.transport.resume_reading()
            await asyncio.sleep(0.01)
        if p.transport is not None:
            p.transport.close()
        p.done = True
        p._wake()

    async def __aenter__(self) -> StreamSocket:
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()
