"""Tape prints: trades the venue reports at the touch without matching them against the book.

A load source. The L3 matching engine makes a few thousand trades a second on one core, and a load test of the
daemon (``benchmarks/load_daemon.py``) wants tens of thousands of market-data messages a second. With
``generator.tape_rate_hz`` set, every symbol also prints that many trades a second, each at the best bid
(a seller took it) or the best ask (a buyer did), with a seeded random size: real trade messages on the
``<symbol>@trade`` stream and in ``GET /api/v3/trades`` and the klines, numbered in the same trade-id sequence as
the matched ones, but leaving the book as it was (they stand for volume the simulator does not model). Each is
formatted straight into bytes and framed once; a batch goes to every subscriber in one write.
"""

from __future__ import annotations

import random

from .market import SymbolMarket


class Tape:
    """The prints of one symbol."""

    def __init__(self, market: SymbolMarket, rng: random.Random) -> None:
        self.m = market
        self.rng = rng
        self.stream = market.symbol.lower() + "@trade"
        self._fmt = (b'{"e":"trade","E":%d,"s":"' + market.symbol.encode()
                     + b'","t":%d,"p":"%s","q":"%s","T":%d,"m":%s,"M":true}')
        # a small cycle of seeded sizes (formatted once): prints vary without a float format per message
        q = market.cfg.level_qty
        self._sizes = [(s, market.fqty(s).encode()) for s in (market.qty(q * rng.uniform(0.01, 0.3)) for _ in range(61))
                       if s > 0] or [(market.step_f, market.fqty(market.step_f).encode())]

    def prints(self, n: int, now: int, want: bool) -> list[bytes]:
        """Print ``n`` trades now; their encoded payloads if ``want`` (someone subscribes to the stream)."""
        m = self.m
        bp, _, ap, _ = m.bbo()
        if n <= 0 or not bp or not ap:
            return []
        first = m.book.take_trade_ids(n)
        bid, ask = m.fpx(bp).encode(), m.fpx(ap).encode()
        sizes, k = self._sizes, len(self._sizes)
        bits = self.rng.getrandbits(n)
        start = self.rng.randrange(k)
        fmt, record = self._fmt, m.record_trade
        out: list[bytes] = []
        for i in range(n):
            seller = (bits >> i) & 1  # the buyer was the maker: a seller hit the bid
            qty, qtxt = sizes[(start + i) % k]
            tid = first + i
            record(tid, bp if seller else ap, qty, now, bool(seller))
            if want:
                out.append(fmt % (now, tid, bid if seller else ask, qtxt, now, b"true" if seller else b"false"))
        return out
