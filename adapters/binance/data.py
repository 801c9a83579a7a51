"""Binance market data: one combined WebSocket stream for all symbols, a local book per symbol, model events out.

``stream()`` yields :class:`~leand.model.QuoteTick` whenever a symbol's top of book changes (and
:class:`~leand.model.TradeTick` per trade when ``trades`` is on), stamped with the receive time of the message
that caused it: when the socket read that brought it returned (every message of one read has that time). It
never ends on its own: a dropped connection is reopened with exponential backoff and every book is rebuilt
from a fresh snapshot; an update-id gap resyncs just that symbol.

Per message it costs one lax msgspec decode straight to floats and no await: frames come in batches (one
per socket read, ``stream_socket.py``), and only a book that needs a snapshot suspends the stream (the socket
buffers further frames meanwhile).

With a consumer attached (:meth:`BinanceDataClient.attach`, what the daemon does) the events are not yielded:
each is handed to the consumer in the socket's own ``data_received``, so no task wakes up and no loop
iteration passes between the read and the strategy's handler (issue 14's synchronous hot path from the socket
on). ``stream()`` still runs: it connects, reconnects, and fetches the snapshots a book needs (the frames
after it wait, in order, and the socket stops reading meanwhile).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping

import msgspec
import structlog

from leand.adapters.binance.book import LocalBook, Sync
from leand.adapters.binance.config import BinanceVenueConfig
from leand.adapters.binance.rest import BinanceError, BinanceRest, UnknownOutcome, backoff
from leand.adapters.binance.schemas import DepthSnapshot, Trade, market_data_decoder
from leand.adapters.binance.stream_socket import StreamSocket
from leand.model import Instrument, QuoteTick, Symbol, TradeTick

log = structlog.get_logger("leand.binance.data")
_APPLIED, _GAP, _OVERFLOW = Sync.APPLIED, Sync.GAP, Sync.OVERFLOW
_now_ns = time.time_ns


def depth_weight(limit: int) -> int:
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


class BinanceDataClient:
    def __init__(self, cfg: BinanceVenueConfig, instruments: Mapping[Symbol, Instrument], rest: BinanceRest) -> None:
        self.cfg = cfg
        self.rest = rest
        self.symbols = {s.value.upper(): s for s in instruments}
        self.books = {v: LocalBook(v, cfg.max_buffered_diffs) for v in self.symbols}
        self._top: dict[str, tuple[float, float, float, float]] = {}
        self._decoder = market_data_decoder()
        self._snap = msgspec.json.Decoder(DepthSnapshot)
        #: receive time (ns) of the last market-data message: the start of tick-to-order latency
        self.last_recv_ns = 0
        self.stats = {"messages": 0, "connects": 0, "gaps": 0, "snapshots": 0, "stale_snapshots": 0,
                      "decode_errors": 0, "buffer_overflows": 0}
        self.connected = asyncio.Event()
        self._ws: StreamSocket | None = None
        #: the attached consumer (events go to it from the socket's callback instead of out of stream())
        self._sink: Callable[[QuoteTick | TradeTick], None] | None = None
        #: attached: the book waiting for its snapshot, the batches (receive time, frames, first unread) behind
        #: it, and what the consumer raised (the connection is then reopened, as a failed feed task would be)
        self._resync_book: LocalBook | None = None
        self._held: deque[tuple[int, list[bytes], int]] = deque()
        self._sink_error: BaseException | None = None

    def attach(self, sink: Callable[[QuoteTick | TradeTick], None]) -> None:
        """Hand every event to ``sink`` in the callback that read its frame instead of yielding it from
        :meth:`stream` (which must still be iterated: it connects, reconnects and resyncs). Takes effect at the
        next connection."""
        self._sink = sink

    @property
    def url(self) -> str:
        depth = "depth@100ms" if self.cfg.depth_speed == "100ms" else "depth"
        names = [f"{s.lower()}@{depth}" for s in self.symbols]
        if self.cfg.trades:
            names += [f"{s.lower()}@trade" for s in self.symbols]
        return f"{self.cfg.stream_url.rstrip('/')}/stream?streams={'/'.join(names)}"

    async def stream(self) -> AsyncIterator[QuoteTick | TradeTick]:
        attempt = 0
        while True:
            try:
                async with await StreamSocket.connect(self.url, max_size=1 << 24, open_timeout=10,
                                                      ping_interval=20, ping_timeout=60) as ws:
                    self._ws = ws
                    self.stats["connects"] += 1
                    attempt = 0
                    for b in self.books.values():
                        b.reset()
                    self._top.clear()
                    self.connected.set()
                    log.info("binance.md.connected", url=self.url)
                    if self._sink is not None:
                        await self._run_attached(ws)
                    else:
                        on_frame = self.on_frame
                        async for batch in ws.batches():  # what one socket read brought
                            recv_ns = ws.recv_ns
                            for raw in batch:
                                ev = on_frame(raw, recv_ns)
                                if ev is None:
                                    continue
                                if isinstance(ev, LocalBook):  # out of sync: fetch its snapshot first
                                    ev = await self._resync_quote(ev)
                                    if ev is None:
                                        continue
                                yield ev
                log.warning("binance.md.closed")
            except (OSError, TimeoutError, ValueError) as e:  # StreamClosed is an OSError
                log.warning("binance.md.disconnected", error=f"{type(e).__name__}: {e}")
            finally:
                self.connected.clear()
                self._ws = None
            await asyncio.sleep(backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))
            attempt += 1

    def subscribe(self, instruments: Mapping[Symbol, Instrument]) -> None:
        """Add symbols: the combined stream is reopened with them (and every book rebuilt from a snapshot)."""
        new = {s.value.upper(): s for s in instruments if s.value.upper() not in self.symbols}
        if new:
            self.symbols.update(new)
            self.books.update({v: LocalBook(v, self.cfg.max_buffered_diffs) for v in new})
            self._reopen()

    def unsubscribe(self, symbols: Iterable[Symbol]) -> None:
        gone = [s.value.upper() for s in symbols if s.value.upper() in self.symbols]
        for v in gone:
            del self.symbols[v]
            self.books.pop(v, None)
            self._top.pop(v, None)
        if gone:
            self._reopen()

    def _reopen(self) -> None:
        if self._ws is not None:
            asyncio.get_running_loop().create_task(self._ws.close())

    async def close_connection(self) -> None:
        """Drop the current connection (tests and operators: forces the reconnect-and-resync path)."""
        if self._ws is not None:
            await self._ws.close()

    # ---- attached: events from the socket's callback ------------------------------------------------------
    async def _run_attached(self, ws: StreamSocket) -> None:
        """Until the connection ends: frames go to the consumer from ``data_received``
        (:meth:`_on_stream_message`);
        this task only fetches the snapshot a book needs, then replays what waited behind it."""
        self._resync_book, self._sink_error = None, None
        self._held.clear()
        ws.attach(self._on_stream_message)
        try:
            while True:
                if self._sink_error is not None:
                    raise self._sink_error
                book = self._resync_book
                if book is None:
                    if ws.done:
                        await ws.wait()  # raises if it broke
                        return
                    await ws.wait()
                    continue
                ev = await self._resync_quote(book)
                self._resync_book = None
                if ev is not None:
                    self._emit(ev)
                while self._held and self._resync_book is None and self._sink_error is None:
                    recv_ns, frames, start = self._held.popleft()
                    self._dispatch(recv_ns, frames, start)
                if self._resync_book is None:
                    ws.resume_reading()
        finally:
            ws.detach()
            self._held.clear()

    def _on_stream_message(self, recv_ns: int, raw: bytes) -> None:
        """One message, from the socket's read callback."""
        if self._resync_book is not None or self._held or self._sink_error is not None:
            if self._sink_error is None:  # behind a snapshot: in order, after it
                self._held.append((recv_ns, [raw], 0))
            return
        ev = self.on_frame(raw, recv_ns)
        if ev is None:
            return
        if ev.__class__ is LocalBook:
            assert isinstance(ev, LocalBook)
            self._resync_book = ev
            self._hold()
            return
        assert not isinstance(ev, LocalBook)
        sink = self._sink  # _emit, inlined: this runs once per message
        if sink is not None:
            try:
                sink(ev)
            except Exception as e:
                self._consumer_failed(e)

    def _dispatch(self, recv_ns: int, frames: list[bytes], start: int) -> None:
        on_frame = self.on_frame
        emit = self._emit
        for i in range(start, len(frames)):
            ev = on_frame(frames[i], recv_ns)
            if ev is None:
                continue
            if ev.__class__ is LocalBook:  # out of sync: its snapshot first, the rest of the batch after it
                assert isinstance(ev, LocalBook)
                self._resync_book = ev
                if i + 1 < len(frames):
                    self._held.appendleft((recv_ns, frames, i + 1))
                self._hold()
                return
            assert not isinstance(ev, LocalBook)
            if not emit(ev):
                return

    def _emit(self, ev: QuoteTick | TradeTick) -> bool:
        sink = self._sink
        if sink is None:  # detached meanwhile: nobody takes it
            return False
        try:
            sink(ev)
        except Exception as e:
            self._consumer_failed(e)
            return False
        return True

    def _consumer_failed(self, e: Exception) -> None:
        """The feed fails as its task would: logged, the stream ends with ``e``, the supervisor reconnects."""
        log.error("binance.md.consumer_failed", error=f"{type(e).__name__}: {e}")
        self._sink_error = e
        self._hold()

    def _hold(self) -> None:
        ws = self._ws
        if ws is not None:
            ws.pause_reading()
            ws.wake()

    def on_frame(self, raw: str | bytes, now: int = 0) -> QuoteTick | TradeTick | LocalBook | None:
        """One stream frame received at ``now`` (ns; 0: now): the event it makes, or the book that needs a
        snapshot before it can quote, or None (a frame refused as malformed, an unknown symbol, a top of book
        that did not change)."""
        if not now:
            now = _now_ns()
        self.last_recv_ns = now
        stats = self.stats
        stats["messages"] += 1
        try:
            d = self._decoder.decode(raw).data
        except (msgspec.DecodeError, msgspec.ValidationError):
            stats["decode_errors"] += 1
            return None
        s = d.s
        sym = self.symbols.get(s)
        if sym is None:
            return None
        if isinstance(d, Trade):  # prices and sizes finite and positive: the schema's bounds
            # m: the buyer was the maker, so the aggressor sold
            return TradeTick(sym, now, d.p, d.q, "binance", "sell" if d.m else "buy")
        book = self.books[s]
        r = book.on_diff(d)
        if r is not _APPLIED:
            if r is _GAP:
                stats["gaps"] += 1
                log.warning("binance.md.gap", symbol=s, first=d.U, last=d.u)
            elif r is _OVERFLOW:
                stats["buffer_overflows"] += 1
                log.warning("binance.md.buffer_overflow", symbol=s, max_buffered_diffs=book.max_buffer)
            if book.last_id is None:
                return book
        top = book.book.top()  # _quote, inlined: this runs once per depth diff
        if top == self._top.get(s) or not (top[0] and top[2]):
            return None
        self._top[s] = top
        return QuoteTick(sym, now, top[0], top[1], top[2], top[3], exchange="binance")

    async def _on_message(self, raw: str | bytes) -> list[QuoteTick | TradeTick]:
        """``on_frame`` with the snapshot fetched when a book needs one (tests and the fuzz suite)."""
        ev = self.on_frame(raw)
        if isinstance(ev, LocalBook):
            ev = await self._resync_quote(ev)
        return [] if ev is None or isinstance(ev, LocalBook) else [ev]

    async def _resync_quote(self, book: LocalBook) -> QuoteTick | None:
        try:
            await self._resync(book)
        except (BinanceError, UnknownOutcome) as e:  # stays out of sync: the next diff tries again
            log.warning("binance.md.snapshot_failed", symbol=book.symbol, error=str(e))
            return None
        sym = self.symbols.get(book.symbol)
        return None if sym is None else self._quote(sym, book, self.last_recv_ns)

    async def _resync(self, book: LocalBook) -> None:
        """Fetch the snapshot while the socket buffers further diffs; an outdated snapshot waits for the next
        diff to be fetched again."""
        body = await self.rest.request("GET", "/api/v3/depth", {"symbol": book.symbol,
                                                                "limit": self.cfg.depth_limit},
                                       weight=depth_weight(self.cfg.depth_limit))
        r = book.on_snapshot(self._snap.decode(body))
        self.stats["snapshots"] += 1
        if r is Sync.SNAPSHOT_TOO_OLD:
            self.stats["stale_snapshots"] += 1
        elif r is Sync.GAP:
            self.stats["gaps"] += 1
        log.info("binance.md.snapshot", symbol=book.symbol, result=r.value, last_id=book.last_id)

    def _quote(self, sym: Symbol, book: LocalBook, now: int) -> QuoteTick | None:
        if not book.synced:
            return None
        top = book.book.top()
        if top == self._top.get(book.symbol) or not (top[0] and top[2]):
            return None
        self._top[book.symbol] = top
        return QuoteTick(sym, now, top[0], top[1], top[2], top[3], exchange="binance")
