"""Market data for one symbol, and the other participants who make it.

``SymbolMarket`` wraps the L3 ``OrderBook`` with what Binance publishes about it: one monotone update-id
counter shared by the REST snapshot and the diff streams, the trade tape, 1-minute klines and 24 h stats.
``Generator`` is everyone else: a seeded random walk (or a replay of LEAN minute quotes) moves a mid price;
a market maker keeps a ladder of "market"-owned limit orders around it and random takers hit it, so client
orders rest in, and match against, the same book as the crowd.
"""

from __future__ import annotations

import bisect
import io
import math
import random
import zipfile
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from leand.model import OrderType

from .config import SymbolConfig

MARKET_OWNER = "market"


def decimals(step: Decimal) -> int:
    e = step.normalize().as_tuple().exponent
    if not isinstance(e, int):  # NaN or infinity: the config check refuses them before this
        raise ValueError(f"not a finite step: {step}")
    return max(0, -e)


@dataclass(slots=True)
class DepthChannel:
    """One diff-depth speed (100 ms or 1000 ms): the levels touched since its last event, and that event's u."""

    interval_ms: int
    last_u: int
    pending: set[tuple[int, float]] = field(default_factory=set)
    skip: int = 0  # fault injection: ids the next event leaves out


@dataclass(slots=True)
class Kline:
    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0
    quote_volume: float = 0.0
    count: int = 0
    taker_buy_base: float = 0.0
    taker_buy_quote: float = 0.0
    first_id: int = -1
    last_id: int = -1


class SymbolMarket:
    """The public side of one symbol: book, update ids, tape, klines."""

    def __init__(self, cfg: SymbolConfig, book) -> None:
        self.cfg = cfg
        self.symbol = cfg.symbol
        self.base, self.quote = cfg.base, cfg.quote
        self.tick = Decimal(cfg.tick_size)
        self.step = Decimal(cfg.step_size)
        self.px_dec = decimals(self.tick)
        self.qty_dec = decimals(self.step)
        self.tick_f = float(self.tick)
        self.step_f = float(self.step)
        self.book = book
        self.update_id = 1
        self.channels = {"100ms": DepthChannel(100, 1), "1000ms": DepthChannel(1000, 1)}
        self.trades: deque[tuple[int, float, float, int, bool]] = deque(maxlen=1000)
        self.agg_trades: deque[tuple[int, float, float, int, int, int, bool]] = deque(maxlen=1000)
        self.agg_id = 0
        self.klines: deque[Kline] = deque(maxlen=1500)
        #: seeded synthetic 1-minute klines before the live ones (``generator.history_minutes``), time-ordered
        self.history: list[Kline] = []
        self.history_times: list[int] = []
        self.last_price = 0.0
        self.last_qty = 0.0
        self.last_bbo: tuple = ()
        self.touched = False

    # ---- numbers -------------------------------------------------------------------------------------
    def px(self, ticks: int) -> float:
        """The canonical float for a price on the tick grid (one float per level, so book keys agree)."""
        return round(ticks * self.tick_f, self.px_dec)

    def qty(self, q: float) -> float:
        """Round down to the lot step."""
        return round(math.floor(q / self.step_f + 1e-9) * self.step_f, self.qty_dec)

    def fpx(self, p: float) -> str:
        return f"{p:.8f}"

    def fqty(self, q: float) -> str:
        return f"{round(q, self.qty_dec):.8f}"

    # ---- depth bookkeeping ---------------------------------------------------------------------------
    def touch(self, side: int, price: float) -> None:
        if price > 0:
            for ch in self.channels.values():
                ch.pending.add((side, price))
            self.touched = True

    def end_op(self) -> None:
        """One book operation done: it is one update id if it touched any level."""
        if self.touched:
            self.update_id += 1
            self.touched = False

    def arm_skip(self, n: int) -> None:
        for ch in self.channels.values():
            ch.skip += n

    def level_qty(self, side: int, price: float) -> float:
        q = self.book.depth(side, price)
        return q if q > 1e-12 else 0.0

    def flush_depth(self, speed: str, now: int, wanted: bool) -> dict | None:
        """The diff event for ``speed`` since its last one (None if nothing changed). ``U`` is always the
        previous ``u + 1`` unless a skip fault is armed."""
        ch = self.channels[speed]
        if self.update_id <= ch.last_u and not ch.skip:
            return None
        first = ch.last_u + 1 + ch.skip
        if ch.skip:
            ch.skip = 0
            self.update_id = max(self.update_id, first)
        last = self.update_id
        pending = ch.pending
        ch.pending = set()
        ch.last_u = last
        if not wanted:
            return None
        bids = sorted((p for s, p in pending if s > 0), reverse=True)
        asks = sorted(p for s, p in pending if s < 0)
        return {"e": "depthUpdate", "E": now, "s": self.symbol, "U": first, "u": last,
                "b": [[self.fpx(p), self.fqty(self.level_qty(1, p))] for p in bids],
                "a": [[self.fpx(p), self.fqty(self.level_qty(-1, p))] for p in asks]}

    def snapshot(self, limit: int) -> dict:
        bids, asks = self.book.top(limit)
        return {"lastUpdateId": self.update_id,
                "bids": [[self.fpx(p), self.fqty(q)] for p, q in bids if q > 1e-12],
                "asks": [[self.fpx(p), self.fqty(q)] for p, q in asks if q > 1e-12]}

    def bbo(self) -> tuple:
        b = self.book.best_level(1)
        a = self.book.best_level(-1)
        return (b.price if b else 0.0, b.qty if b else 0.0, a.price if a else 0.0, a.qty if a else 0.0)

    def book_ticker(self, bbo: tuple | None = None) -> dict:
        bp, bq, ap, aq = bbo or self.bbo()
        return {"u": self.update_id, "s": self.symbol, "b": self.fpx(bp), "B": self.fqty(bq), "a": self.fpx(ap),
                "A": self.fqty(aq)}

    # ---- tape ---------------------------------------------------------------------------------------
    def record_trade(self, trade_id: int, price: float, qty: float, now: int, buyer_maker: bool) -> None:
        self.trades.append((trade_id, price, qty, now, buyer_maker))
        self.last_price, self.last_qty = price, qty
        minute = now - now % 60000
        k = self.klines[-1] if self.klines else None
        if k is None or k.open_time != minute:
            k = Kline(minute, price, price, price, price, first_id=trade_id)
            self.klines.append(k)
        k.high = max(k.high, price)
        k.low = min(k.low, price)
        k.close = price
        k.volume += qty
        k.quote_volume += qty * price
        k.count += 1
        k.last_id = trade_id
        if not buyer_maker:
            k.taker_buy_base += qty
            k.taker_buy_quote += qty * price

    def stats_24h(self, now: int) -> dict:
        start = now - 86_400_000
        ks = [k for k in self.klines if k.open_time >= start - 60000]
        bbo = self.bbo()
        if ks:
            o, h, lo = ks[0].open, max(k.high for k in ks), min(k.low for k in ks)
            v = sum(k.volume for k in ks)
            qv = sum(k.quote_volume for k in ks)
            n = sum(k.count for k in ks)
            first, last = ks[0].first_id, ks[-1].last_id
        else:
            o = h = lo = self.last_price
            v = qv = 0.0
            n, first, last = 0, -1, -1
        c = self.last_price
        chg = c - o
        return {"symbol": self.symbol, "priceChange": self.fpx(chg),
                "priceChangePercent": f"{(chg / o * 100 if o else 0.0):.3f}",
                "weightedAvgPrice": self.fpx(qv / v if v else 0.0), "prevClosePrice": self.fpx(o),
                "lastPrice": self.fpx(c), "lastQty": self.fqty(self.last_qty), "bidPrice": self.fpx(bbo[0]),
                "bidQty": self.fqty(bbo[1]), "askPrice": self.fpx(bbo[2]), "askQty": self.fqty(bbo[3]),
                "openPrice": self.fpx(o), "highPrice": self.fpx(h), "lowPrice": self.fpx(lo),
                "volume": f"{v:.8f}", "quoteVolume": f"{qv:.8f}", "openTime": start, "closeTime": now,
                "firstId": first, "lastId": last, "count": n}

    def mini_ticker(self, now: int) -> dict:
        s = self.stats_24h(now)
        return {"e": "24hrMiniTicker", "E": now, "s": self.symbol, "c": s["lastPrice"], "o": s["openPrice"],
                "h": s["highPrice"], "l": s["lowPrice"], "v": s["volume"], "q": s["quoteVolume"]}

    def ticker_event(self, now: int) -> dict:
        s = self.stats_24h(now)
        return {"e": "24hrTicker", "E": now, "s": self.symbol, "p": s["priceChange"], "P": s["priceChangePercent"],
                "w": s["weightedAvgPrice"], "x": s["prevClosePrice"], "c": s["lastPrice"], "Q": s["lastQty"],
                "b": s["bidPrice"], "B": s["bidQty"], "a": s["askPrice"], "A": s["askQty"], "o": s["openPrice"],
                "h": s["highPrice"], "l": s["lowPrice"], "v": s["volume"], "q": s["quoteVolume"],
                "O": s["openTime"], "C": s["closeTime"], "F": s["firstId"], "L": s["lastId"], "n": s["count"]}


INTERVALS_MS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
                "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000, "8h": 28_800_000,
                "12h": 43_200_000, "1d": 86_400_000, "3d": 259_200_000, "1w": 604_800_000}


def synthetic_history(m: SymbolMarket, seed: int, end_ms: int, minutes: int) -> None:
    """Fill ``m.history`` with ``minutes`` seeded 1-minute klines ending at ``end_ms`` (a random walk from the
    symbol's start price, on its tick grid): the same seed and end give the same klines on every run."""
    import zlib

    rng = random.Random(seed * 7_919 + zlib.crc32(m.symbol.encode()))
    vol = max(m.cfg.volatility, 1e-6) * 30  # a minute is many generator steps
    end = end_ms - end_ms % 60_000
    price = m.cfg.start_price
    out: list[Kline] = []
    trade_id = 0
    for i in range(minutes):
        t = end - (minutes - i) * 60_000
        o = m.px(round(price / m.tick_f))
        c = m.px(max(round(o * math.exp(rng.gauss(0.0, vol)) / m.tick_f), 1))
        h = m.px(round(max(o, c) * (1 + abs(rng.gauss(0.0, vol / 2))) / m.tick_f))
        lo = m.px(max(round(min(o, c) * (1 - abs(rng.gauss(0.0, vol / 2))) / m.tick_f), 1))
        n = rng.randint(1, 40)
        v = round(n * rng.uniform(0.001, 0.5), 5)
        out.append(Kline(t, o, h, lo, c, v, v * (o + c) / 2, n, v / 2, v * (o + c) / 4, trade_id, trade_id + n - 1))
        trade_id += n
        price = c
    m.history = out
    m.history_times = [k.open_time for k in out]


def kline_rows(m: SymbolMarket, interval_ms: int, start: int | None, end: int | None, limit: int) -> list[list]:
    """Aggregate the 1-minute bars (history, then live) into ``interval_ms`` bars (Binance's row layout)."""
    out: dict[int, Kline] = {}
    first = 0
    if start is not None and m.history_times:
        first = bisect.bisect_left(m.history_times, start - start % interval_ms)
    live_from = m.history_times[-1] if m.history_times else None
    sources = [m.history[first:] if first else m.history,
               (k for k in m.klines if live_from is None or k.open_time > live_from)]
    done = False
    for src in sources:
        for k in src:
            t = k.open_time - k.open_time % interval_ms
            if start is not None and t + interval_ms <= start:
                continue
            if end is not None and t > end:
                done = True
                break
            a = out.get(t)
            if a is None:
                if start is not None and len(out) >= limit:  # every bucket we return is complete
                    done = True
                    break
                out[t] = Kline(t, k.open, k.high, k.low, k.close, k.volume, k.quote_volume, k.count,
                               k.taker_buy_base, k.taker_buy_quote, k.first_id, k.last_id)
            else:
                a.high, a.low, a.close = max(a.high, k.high), min(a.low, k.low), k.close
                a.volume += k.volume
                a.quote_volume += k.quote_volume
                a.count += k.count
                a.taker_buy_base += k.taker_buy_base
                a.taker_buy_quote += k.taker_buy_quote
                a.last_id = k.last_id
        if done:
            break
    rows = [[k.open_time, m.fpx(k.open), m.fpx(k.high), m.fpx(k.low), m.fpx(k.close), f"{k.volume:.8f}",
             k.open_time + interval_ms - 1, f"{k.quote_volume:.8f}", k.count, f"{k.taker_buy_base:.8f}",
             f"{k.taker_buy_quote:.8f}", "0"] for k in sorted(out.values(), key=lambda k: k.open_time)]
    return rows[:limit] if start is not None else rows[-limit:]


class Venue(Protocol):
    """What the generator needs from the exchange: place and cancel orders owned by the crowd."""

    def crowd_submit(self, symbol: str, side: int, qty: float, price: float, type_: OrderType,
                     owner: str) -> int: ...

    def crowd_cancel(self, symbol: str, order_id: int) -> None: ...


def load_lean_mids(lean_dir: Path, ticker: str, date: str) -> list[tuple[int, float]]:
    """(ms into the day, mid) per minute from a LEAN crypto minute quote zip."""
    path = lean_dir / ticker / f"{date}_quote.zip"
    with zipfile.ZipFile(path) as z:
        text = z.read(z.namelist()[0]).decode()
    out = []
    for line in io.StringIO(text):
        f = line.strip().split(",")
        if len(f) >= 10 and f[4] and f[9]:
            out.append((int(f[0]), (float(f[4]) + float(f[9])) / 2))
    if not out:
        raise ValueError(f"{path}: no quote rows")
    return out


def load_l2d_mids(path: Path) -> list[tuple[int, float]]:
    """(ms since the recording's first record, mid) at every change of the touch of a .l2d book recording,
    streamed a chunk at a time."""
    from leand.simulator.l2 import L2Book
    from leand.simulator.l2file import DELTA, SNAP_END, SNAP_LEVEL, SNAP_START, iter_chunks

    book = L2Book(str(path))
    out: list[tuple[int, float]] = []
    t0: int | None = None
    snap: tuple[int, list, list] | None = None
    last = 0.0
    for rec in iter_chunks(path):
        for t, sq, k, sd, px, sz in zip(rec["time"].tolist(), rec["seq"].tolist(), rec["kind"].tolist(),
                                        rec["side"].tolist(), rec["price"].tolist(), rec["size"].tolist()):
            if k == DELTA:
                book.apply_delta(sq, sd, px, sz)
            elif k == SNAP_START:
                snap = (sq, [], [])
            elif k == SNAP_LEVEL and snap is not None:
                (snap[1] if sd > 0 else snap[2]).append((px, sz))
            elif k == SNAP_END and snap is not None:
                book.apply_snapshot(snap[0], snap[1], snap[2])
                snap = None
            else:
                continue
            b, a = book.best_bid, book.best_ask
            if b and a and a > b:
                mid = (a + b) / 2
                if mid != last:
                    if t0 is None:
                        t0 = t
                    out.append(((t - t0) // 1_000_000, mid))
                    last = mid
    if not out:
        raise ValueError(f"{path}: no two-sided quotes in the recording")
    return out


class Generator:
    """The crowd for one symbol: a seeded mid-price path, a maker ladder around it, random takers."""

    def __init__(self, market: SymbolMarket, venue: Venue, rng: random.Random, trade_prob: float,
                 mids: list[tuple[int, float]] | None = None, speed: float = 60.0) -> None:
        self.m = market
        self.venue = venue
        self.rng = rng
        self.trade_prob = trade_prob
        self.mid = market.cfg.start_price / market.tick_f  # in ticks
        self.bids: dict[int, int] = {}  # price ticks -> order id
        self.asks: dict[int, int] = {}
        self.mids = mids
        self.speed = speed
        self.replay_ms = 0.0
        if mids:
            self.mid = mids[0][1] / market.tick_f
        self._mid_ms = [ms for ms, _ in mids or ()]
        #: how long the last mid of the path lasts before it loops (a minute for minute bars)
        self._step_ms = 60000 if len(self._mid_ms) < 2 or self._mid_ms[1] - self._mid_ms[0] >= 60000 else 1000

    def _move(self, dt_ms: float) -> None:
        if self.mids:
            self.replay_ms += dt_ms * self.speed
            span = self.mids[-1][0] + self._step_ms  # the path loops
            t = self.replay_ms % span
            i = max(0, bisect.bisect_right(self._mid_ms, t) - 1)
            self.mid = self.mids[i][1] / self.m.tick_f
        else:
            self.mid *= math.exp(self.m.cfg.volatility * self.rng.gauss(0.0, 1.0))

    def step(self, dt_ms: float = 100.0) -> None:
        """One crowd step: move the mid, re-quote the ladder, maybe trade."""
        m, cfg, rng = self.m, self.m.cfg, self.rng
        self._move(dt_ms)
        live = m.book.orders
        for d in (self.bids, self.asks):
            for t in [t for t, oid in d.items() if oid not in live]:
                del d[t]
        L = max(1, cfg.level_ticks)
        hs = cfg.half_spread_ticks
        b0 = math.floor((self.mid - hs) / L) * L
        a0 = math.ceil((self.mid + hs) / L) * L
        if a0 <= b0:
            a0 = b0 + L
        want_b = {b0 - k * L for k in range(cfg.levels) if b0 - k * L > 0}
        want_a = {a0 + k * L for k in range(cfg.levels)}
        sym = m.symbol
        for d, want in ((self.bids, want_b), (self.asks, want_a)):
            for t in [t for t in d if t not in want]:
                self.venue.crowd_cancel(sym, d.pop(t))
        if rng.random() < 0.5 and (self.bids or self.asks):  # churn: one level changes size
            d = self.bids if (rng.random() < 0.5 and self.bids) or not self.asks else self.asks
            t = rng.choice(sorted(d))
            self.venue.crowd_cancel(sym, d.pop(t))
        for t in sorted(want_a):
            if t not in self.asks:
                self.asks[t] = self._place(-1, t)
        for t in sorted(want_b, reverse=True):
            if t not in self.bids:
                self.bids[t] = self._place(1, t)
        if rng.random() < self.trade_prob:
            side = 1 if rng.random() < 0.5 else -1
            q = m.qty(cfg.level_qty * rng.uniform(0.05, 1.2))
            if q > 0:
                self.venue.crowd_submit(sym, side, q, 0.0, OrderType.MARKET, "")

    def _place(self, side: int, ticks: int) -> int:
        q = self.m.qty(self.m.cfg.level_qty * self.rng.uniform(0.2, 2.0))
        q = max(q, self.m.step_f)
        return self.venue.crowd_submit(self.m.symbol, side, q, self.m.px(ticks), OrderType.LIMIT, MARKET_OWNER)
