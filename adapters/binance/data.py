"""Binance market data: one combined WebSocket stream for all symbols, a local book per symbol, model events out.

``stream()`` yields :class:`~leand.model.QuoteTick` whenever a symbol's top of book changes (and
:class:`~leand.model.TradeTick` per trade when ``trades`` is on), stamped with the receive time of the message
that caused it. It never ends on its own: a dropped connection is reopened with exponential backoff and every
book is rebuilt from a fresh snapshot; an update-id gap resyncs just that symbol.

Per message it costs one lax msgspec decode straight to floats and no await: frames come in batches (one
per socket read, ``stream_socket.py``), and only a book that needs a snapshot suspends the stream (the socket
buffers further frames meanwhile).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping

import msgspec
import structlog

from leand.adapters.binance.book import LocalBook, Sync
from leand.adapters.binance.config import BinanceVenueConfig
from leand.adapters.binance.rest import BinanceError, BinanceRest, UnknownOutcome, backoff
from leand.adapters.binance.schemas import DepthSnapshot, Trade, market_data_decoder
from leand.adapters.binance.stream_socket import StreamSocket
from leand.model import Instrument, QuoteTick, Symbol, TradeTick

log = structlog.get_logger("leand.binance.data")
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
                    on_frame = self.on_frame
                    async for batch in ws.batches():  # what one socket read brought
                        for raw in batch:
                            ev = on_frame(raw)
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

    def on_frame(self, raw: str | bytes) -> QuoteTick | TradeTick | LocalBook | None:
        """One stream frame: the event it makes, or the book that needs a snapshot before it can quote, or None
        (a frame refused as malformed, an unknown symbol, a top of book that did not change)."""
        now = _now_ns()
        self.last_recv_ns = now
        stats = self.stats
        stats["messages"] += 1
        try:
            d = self._decoder.decode(raw).data
        except (msgspec.DecodeError, msgspec.ValidationError):
            stats["decode_errors"] += 1
            return None
        sym = self.symbols.get(d.s)
        if sym is None:
            return None
        if isinstance(d, Trade):  # prices and sizes finite and positive: the schema's bounds
            # m: the buyer was the maker, so the aggressor sold
            return TradeTick(sym, now, d.p, d.q, "binance", "sell" if d.m else "buy")
        book = self.books[d.s]
        r = book.on_diff(d)
        if r is Sync.GAP:
            stats["gaps"] += 1
            log.warning("binance.md.gap", symbol=d.s, first=d.U, last=d.u)
        elif r is Sync.OVERFLOW:
            stats["buffer_overflows"] += 1
            log.warning("binance.md.buffer_overflow", symbol=d.s, max_buffered_diffs=book.max_buffer)
        if not book.synced:
            return book
        return self._quote(sym, book, now)

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
