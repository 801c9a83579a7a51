"""Market data for the paper venue: a seeded synthetic random walk, or LEAN tick quotes replayed in real time."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from leand.adapters.paper.config import PaperVenueConfig
from leand.model import Instrument, QuoteTick, Symbol

if TYPE_CHECKING:
    from leand.adapters.paper.execution import PaperExecutionClient


class SyntheticQuotes:
    """Top-of-book quotes from a seeded geometric random walk, ``rate_hz`` per symbol, stamped on receipt."""

    def __init__(self, cfg: PaperVenueConfig, instruments: Mapping[Symbol, Instrument]) -> None:
        self.cfg = cfg
        self.instruments = dict(instruments)
        self.rng = np.random.default_rng(cfg.seed)
        self.mid = {s: cfg.start_price for s in instruments}

    def subscribe(self, instruments: Mapping[Symbol, Instrument]) -> None:
        for s, i in instruments.items():
            self.instruments[s] = i
            self.mid.setdefault(s, self.cfg.start_price)

    def unsubscribe(self, symbols: Iterable[Symbol]) -> None:
        for s in symbols:
            self.instruments.pop(s, None)

    def next_quote(self, symbol: Symbol) -> QuoteTick:
        inst = self.instruments[symbol]
        m = self.mid[symbol] * math.exp(self.cfg.volatility * float(self.rng.standard_normal()))
        self.mid[symbol] = m
        half = self.cfg.spread / 2
        bid = inst.round_price(m - half)
        ask = max(inst.round_price(m + half), bid + inst.tick_size)
        size = float(self.rng.integers(1, 20))
        return QuoteTick(symbol, time.time_ns(), bid, size, ask, size)

    async def stream(self) -> AsyncIterator[QuoteTick]:
        period = 1.0 / self.cfg.rate_hz
        nxt = time.monotonic()
        while True:
            for s in list(self.instruments):
                yield self.next_quote(s)
            nxt += period
            delay = nxt - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                nxt = time.monotonic()
                await asyncio.sleep(0)


class LeanTickReplay:
    """LEAN tick quotes for one day, paced by their own timestamps (× speed), looping at the end."""

    def __init__(self, cfg: PaperVenueConfig, instruments: Mapping[Symbol, Instrument], data_root: Path) -> None:
        from leand.data.lean import LeanDataSource
        from leand.data.market_hours import MarketHoursDatabase

        self.cfg = cfg
        self.instruments = dict(instruments)
        self.source = LeanDataSource(data_root)
        self.mhdb = MarketHoursDatabase.load(data_root / "market-hours" / "market-hours-database.json")

    def subscribe(self, instruments: Mapping[Symbol, Instrument]) -> None:
        """One day of one symbol is replayed: a symbol added later takes effect when the stream restarts."""
        self.instruments.update(instruments)

    def unsubscribe(self, symbols: Iterable[Symbol]) -> None:
        for s in symbols:
            self.instruments.pop(s, None)

    async def stream(self) -> AsyncIterator[QuoteTick]:
        from leand.model import Resolution, TickType

        (sym,) = list(self.instruments)[:1]
        d = date.fromisoformat(self.cfg.replay_date)
        hours = self.mhdb.get(sym.security_type, sym.market, sym.value)
        cols = self.source.read_day(sym, Resolution.TICK, TickType.QUOTE, d, hours)
        if cols is None:
            raise FileNotFoundError(f"no tick quotes for {sym} on {d}")
        t = cols.time.tolist()
        bid, ask = cols.cols["bid_price"].tolist(), cols.cols["ask_price"].tolist()
        bsz, asz = cols.cols["bid_size"].tolist(), cols.cols["ask_size"].tolist()
        while True:
            t0, w0 = t[0], time.monotonic()
            for i in range(len(t)):
                due = w0 + (t[i] - t0) / 1e9 / self.cfg.replay_speed
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                yield QuoteTick(sym, time.time_ns(), bid[i], bsz[i], ask[i], asz[i])


class PaperDataClient:
    """The paper venue's data client: each quote reaches the paper venue's book first (its fills go to the
    execution client's report queue), then the daemon."""

    def __init__(self, source: SyntheticQuotes | LeanTickReplay, execution: PaperExecutionClient) -> None:
        self.source = source
        self.execution = execution

    def subscribe(self, instruments: Mapping[Symbol, Instrument]) -> None:
        self.source.subscribe(instruments)

    def unsubscribe(self, symbols: Iterable[Symbol]) -> None:
        self.source.unsubscribe(symbols)

    async def stream(self) -> AsyncIterator[QuoteTick]:
        """The venue's book sees each quote before the strategies do; the fills it causes reach them right after
        the quote itself (as a network venue's would: the quote on one socket, the fill after it on another),
        so a recorded session replays them in that order. The venue has committed a quote's fills before the
        quote is yielded, so they are pushed even when the consumer stops there and closes the stream (the daemon
        stopping: otherwise they stayed unjournaled until the next start, lost to a journal read in between)."""
        match, push = self.execution.match, self.execution.push
        async for q in self.source.stream():
            reports = match(q)
            try:
                yield q
            finally:
                if reports:
                    push(reports)
