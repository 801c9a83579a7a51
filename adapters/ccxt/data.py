"""Market data through ccxt: ``watch_order_book``/``watch_trades`` (ccxt.pro) where the exchange has them,
REST polling (``fetch_order_book``/``fetch_trades``) otherwise.

ccxt.pro keeps the local book itself from a snapshot plus diffs, with the exchange's sequence checks (Binance's
``U``/``u``, OKX's checksums...): a gap raises ``InvalidNonce`` or ``ChecksumError``, after which the next watch
starts from a fresh snapshot. We count those as resyncs and emit a quote only when the top of the book moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import structlog

from leand.adapters.ccxt.config import CcxtVenueConfig
from leand.adapters.ccxt.exchange import has_ws, make_exchange
from leand.adapters.ccxt.markets import leand_ticker
from leand.model import Instrument, QuoteTick, Symbol, TradeTick

log = structlog.get_logger("leand.ccxt.data")


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter (seeded per process by the caller's random module)."""
    return random.uniform(0, min(cap, base * (2 ** min(attempt, 16))))


def match_markets(markets: Mapping[str, dict[str, Any]], tickers: Iterable[str]) -> dict[str, str]:
    """leand ticker -> ccxt unified symbol of the exchange's active spot market with that base and quote."""
    by_ticker: dict[str, str] = {}
    for sym, m in markets.items():
        if m.get("spot", True) and m.get("type", "spot") == "spot":
            by_ticker.setdefault(leand_ticker(m), sym)
    out, missing = {}, []
    for t in tickers:
        key = t.replace("/", "").replace("-", "").upper()
        if key in by_ticker:
            out[t.upper()] = by_ticker[key]
        else:
            missing.append(t)
    if missing:
        raise ValueError(f"no spot market for {', '.join(missing)} on this exchange")
    return out


class CcxtDataClient:
    """One ccxt instance of its own for market data (its WebSocket connections and snapshot requests never
    queue behind order entry)."""

    def __init__(self, cfg: CcxtVenueConfig, instruments: Mapping[Symbol, Instrument],
                 credentials: Mapping[str, str] | None = None) -> None:
        self.cfg = cfg
        self.symbols: dict[str, Symbol] = {s.value.upper(): s for s in instruments}
        self._credentials = dict(credentials or {})
        self.last_recv_ns = 0
        self.stats = {"messages": 0, "quotes": 0, "trades": 0, "reconnects": 0, "resyncs": 0, "errors": 0}
        self._restart = asyncio.Event()
        self.exchange: Any = None

    def subscribe(self, instruments: Mapping[Symbol, Instrument]) -> None:
        new = {s.value.upper(): s for s in instruments if s.value.upper() not in self.symbols}
        if new:
            self.symbols.update(new)
            self._restart.set()

    def unsubscribe(self, symbols: Iterable[Symbol]) -> None:
        gone = [s.value.upper() for s in symbols if s.value.upper() in self.symbols]
        for v in gone:
            del self.symbols[v]
        if gone:
            self._restart.set()

    async def stream(self) -> AsyncIterator[QuoteTick | TradeTick]:
        while True:
            self._restart.clear()
            ex = self.exchange = make_exchange(self.cfg, self._credentials,
                                               pro=None if self.cfg.data != "rest" else False)
            out: asyncio.Queue[QuoteTick | TradeTick] = asyncio.Queue()
            tasks: list[asyncio.Task] = []
            try:
                await self._load(ex)
                names = match_markets(ex.markets, self.symbols)
                ws = self.cfg.data != "rest" and has_ws(ex, "watchOrderBook")
                for ticker, ccxt_sym in names.items():
                    sym = self.symbols[ticker]
                    tasks.append(asyncio.create_task(
                        self._watch_book(ex, ccxt_sym, sym, out) if ws else self._poll_book(ex, ccxt_sym, sym, out)))
                    if self.cfg.trades:
                        tasks.append(asyncio.create_task(
                            self._watch_trades(ex, ccxt_sym, sym, out) if ws and has_ws(ex, "watchTrades")
                            else self._poll_trades(ex, ccxt_sym, sym, out)))
                restart = asyncio.create_task(self._restart.wait())
                while not restart.done():
                    get = asyncio.create_task(out.get())
                    done, _ = await asyncio.wait({get, restart}, return_when=asyncio.FIRST_COMPLETED)
                    if get in done:
                        yield get.result()
                    else:
                        get.cancel()
                for t in tasks:
                    if t.done() and t.exception() is not None:
                        raise t.exception()  # type: ignore[misc]
            finally:
                for t in tasks:
                    t.cancel()
                for t in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await t
                with contextlib.suppress(Exception):
                    await ex.close()

    async def _load(self, ex: Any) -> None:
        import ccxt

        attempt = 0
        while True:
            try:
                await ex.load_markets()
                return
            except (ccxt.NetworkError, ccxt.ExchangeNotAvailable) as e:
                self.stats["errors"] += 1
                log.warning("ccxt.md.load_markets_failed", exchange=self.cfg.exchange, error=str(e)[:200])
                await asyncio.sleep(backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))
                attempt += 1

    def _quote(self, sym: Symbol, book: dict[str, Any], last: list[tuple]) -> QuoteTick | None:
        bids, asks = book.get("bids") or [], book.get("asks") or []
        if not bids or not asks:
            return None
        top = (float(bids[0][0]), float(bids[0][1]), float(asks[0][0]), float(asks[0][1]))
        if last and last[0] == top:
            return None
        last[:] = [top]
        now = time.time_ns()
        self.last_recv_ns = now
        self.stats["quotes"] += 1
        return QuoteTick(sym, now, top[0], top[1], top[2], top[3])

    async def _watch_book(self, ex: Any, name: str, sym: Symbol, out: asyncio.Queue) -> None:
        import ccxt

        last: list[tuple] = []
        attempt = 0
        while True:
            try:
                book = await ex.watch_order_book(name, self.cfg.depth)
                attempt = 0
                self.stats["messages"] += 1
                q = self._quote(sym, book, last)
                if q is not None:
                    out.put_nowait(q)
            except (ccxt.InvalidNonce, ccxt.ChecksumError) as e:
                # a skipped sequence id: ccxt drops the book; the next watch rebuilds it from a snapshot
                self.stats["resyncs"] += 1
                last.clear()
                log.warning("ccxt.md.gap", symbol=name, error=str(e)[:200])
            except (ccxt.NetworkError, ccxt.ExchangeNotAvailable, ccxt.ExchangeError) as e:
                self.stats["reconnects"] += 1
                last.clear()
                log.warning("ccxt.md.disconnected", symbol=name, error=f"{type(e).__name__}: {str(e)[:200]}")
                await asyncio.sleep(backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))
                attempt += 1

    async def _poll_book(self, ex: Any, name: str, sym: Symbol, out: asyncio.Queue) -> None:
        import ccxt

        last: list[tuple] = []
        attempt = 0
        while True:
            try:
                book = await ex.fetch_order_book(name, self.cfg.depth or 5)
                attempt = 0
                self.stats["messages"] += 1
                q = self._quote(sym, book, last)
                if q is not None:
                    out.put_nowait(q)
                await asyncio.sleep(self.cfg.poll_interval_s)
            except (ccxt.NetworkError, ccxt.ExchangeNotAvailable, ccxt.ExchangeError) as e:
                self.stats["errors"] += 1
                log.warning("ccxt.md.poll_failed", symbol=name, error=f"{type(e).__name__}: {str(e)[:200]}")
                await asyncio.sleep(backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))
                attempt += 1

    def _trade(self, sym: Symbol, t: dict[str, Any]) -> TradeTick:
        now = time.time_ns()
        self.last_recv_ns = now
        self.stats["trades"] += 1
        return TradeTick(sym, now, float(t["price"]), float(t["amount"]))

    async def _watch_trades(self, ex: Any, name: str, sym: Symbol, out: asyncio.Queue) -> None:
        import ccxt

        attempt = 0
        while True:
            try:
                trades = await ex.watch_trades(name)  # only the trades new since the last call
                attempt = 0
                self.stats["messages"] += 1
                for t in trades:
                    out.put_nowait(self._trade(sym, t))
            except (ccxt.NetworkError, ccxt.ExchangeNotAvailable, ccxt.ExchangeError) as e:
                self.stats["reconnects"] += 1
                log.warning("ccxt.md.trades_disconnected", symbol=name, error=str(e)[:200])
                await asyncio.sleep(backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))
                attempt += 1

    async def _poll_trades(self, ex: Any, name: str, sym: Symbol, out: asyncio.Queue) -> None:
        import ccxt

        seen: str | None = None
        since: int | None = None
        attempt = 0
        while True:
            try:
                trades = await ex.fetch_trades(name, since)
                attempt = 0
                fresh = trades
                if seen is not None:
                    ids = [t.get("id") for t in trades]
                    fresh = trades[ids.index(seen) + 1:] if seen in ids else trades
                elif trades:
                    fresh = []  # the first poll only sets where we are
                for t in fresh:
                    out.put_nowait(self._trade(sym, t))
                if trades:
                    seen, since = trades[-1].get("id"), trades[-1].get("timestamp")
                await asyncio.sleep(self.cfg.poll_interval_s)
            except (ccxt.NetworkError, ccxt.ExchangeNotAvailable, ccxt.ExchangeError) as e:
                self.stats["errors"] += 1
                log.warning("ccxt.md.trades_poll_failed", symbol=name, error=str(e)[:200])
                await asyncio.sleep(backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))
                attempt += 1
