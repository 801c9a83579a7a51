"""Property tests for the simulated exchange's order book (``leand.simulator.book.OrderBook``).

A rule-based state machine drives one book with random limit orders (both sides, several owners, a small
price grid, quantities in lots; GTC/DAY/GTD/IOC/FOK, some post-only), market orders, cancels and modifies
of known and unknown ids, and clock advances that expire DAY/GTD orders, under every STP mode.

Before each operation the test snapshots the book's L3 queues; it then replays the operation's events
against that snapshot as an independent model of price-time priority (each Trade must hit the head of
the best opposite level, at the maker's price, within the taker's limit; a self-trade cancel must hit the
owner's order at the head, ...), rests what the model says should rest, and requires the book to equal
the model afterwards. On top of that it checks conservation of every order's quantity, the L2 views
against the L3 queues, and that the book is never crossed.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from leand.model import OrderType, TimeInForce
from leand.simulator.book import (
    STP,
    Accepted,
    BookError,
    Canceled,
    Expired,
    Modified,
    OrderBook,
    Rejected,
    SimOrder,
    Trade,
)

TICK = 0.25
BASE = 10.0
N_PRICES = 9  # 10.00 .. 12.00: a grid small enough that orders collide and queue
OWNERS = ("a", "b", "c")
MAKER_RATE = -0.0002  # a rebate
TAKER_RATE = 0.0005

prices = st.integers(0, N_PRICES - 1).map(lambda k: BASE + k * TICK)
lots = st.integers(1, 5).map(float)
sides = st.sampled_from((1, -1))
owners = st.sampled_from(OWNERS)


class Taker:
    """What the model knows of the incoming order of one operation."""

    def __init__(self, o: SimOrder, remaining: float) -> None:
        self.id = o.id
        self.side = o.side
        self.owner = o.owner
        self.limit = o.price if o.type is OrderType.LIMIT else None
        self.tif = o.time_in_force
        self.remaining = remaining
        self.ended = False  # canceled (ioc, fok, market_unfilled, self_trade)
        self.traded = False


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book: OrderBook
        self.stp = STP.NONE
        self.now = 1_000
        self.next_id = 1
        self.known: list[int] = []  # every id ever submitted (live or not)
        # the model of every order: quantity (as last modified), filled, status and what was closed
        self.model: dict[int, dict] = {}
        # the model of the book: side -> price -> [[id, remaining, owner], ...] in priority order
        self.snap: dict[int, dict[float, list[list]]] = {1: {}, -1: {}}
        self.bought = 0.0
        self.sold = 0.0

    @initialize(stp=st.sampled_from(list(STP)))
    def setup(self, stp: STP) -> None:
        self.stp = stp
        self.book = OrderBook("X", tick_size=TICK, lot_size=1.0, maker_fee=MAKER_RATE, taker_fee=TAKER_RATE,
                              stp=stp)

    # ---- the model ------------------------------------------------------------------------------------
    def _best(self, side: int) -> float | None:
        levels = self.snap[side]
        if not levels:
            return None
        return max(levels) if side > 0 else min(levels)

    def _crosses(self, side: int, limit: float | None) -> bool:
        """Would an order on ``side`` with ``limit`` (None: market) find an opposite level to hit?"""
        best = self._best(-side)
        if best is None:
            return False
        return limit is None or (best <= limit if side > 0 else best >= limit)

    def _fillable(self, side: int, owner: str, limit: float | None) -> float:
        """What an incoming order could trade before STP or its limit stops it."""
        levels = self.snap[-side]
        total = 0.0
        for px in sorted(levels, reverse=side < 0):
            if limit is not None and (px > limit if side > 0 else px < limit):
                break
            for _oid, rem, own in levels[px]:
                if own == owner and self.stp is not STP.NONE:
                    if self.stp in (STP.CANCEL_INCOMING, STP.CANCEL_BOTH):
                        return total
                    continue
                total += rem
        return total

    def _pop_head(self, side: int, px: float) -> list:
        q = self.snap[side][px]
        head = q.pop(0)
        if not q:
            del self.snap[side][px]
        return head

    def _unrest(self, oid: int) -> list:
        for side in (1, -1):
            for px, q in list(self.snap[side].items()):
                for i, entry in enumerate(q):
                    if entry[0] == oid:
                        del q[i]
                        if not q:
                            del self.snap[side][px]
                        return entry
        raise AssertionError(f"order {oid} is not resting in the model")

    def _close(self, oid: int, status: str, remaining: float) -> None:
        m = self.model[oid]
        assert m["status"] == "live", (oid, m)
        assert math.isclose(remaining, m["quantity"] - m["filled"], abs_tol=1e-9), (oid, remaining, m)
        m["status"] = status
        m["closed"] = remaining

    def _walk(self, events: list, t: Taker) -> None:
        """Replay the events of one incoming order against the model, checking each."""
        book_side = -t.side
        prev = None
        for ev in events:
            assert not t.ended, f"event after the taker ended: {ev}"
            if isinstance(ev, Trade):
                assert ev.taker_id == t.id and ev.taker_side == t.side and ev.taker_owner == t.owner
                best = self._best(book_side)
                assert best is not None, f"trade with an empty opposite side: {ev}"
                assert ev.price == best, f"trade at {ev.price} while the best opposite level is {best}"
                if t.limit is not None:
                    assert (ev.price <= t.limit) if t.side > 0 else (ev.price >= t.limit), "traded through"
                head = self.snap[book_side][best][0]
                assert ev.maker_id == head[0], f"FIFO: filled {ev.maker_id} before the head {head[0]}"
                assert ev.maker_owner == head[2]
                if self.stp is not STP.NONE:
                    assert ev.maker_owner != ev.taker_owner, f"self-trade under {self.stp.name}: {ev}"
                q = ev.quantity
                assert q > 0 and q <= head[1] + 1e-9 and q <= t.remaining + 1e-9
                assert math.isclose(ev.maker_fee, q * ev.price * MAKER_RATE, abs_tol=1e-12)
                assert math.isclose(ev.taker_fee, q * ev.price * TAKER_RATE, abs_tol=1e-12)
                head[1] -= q
                t.remaining -= q
                t.traded = True
                self.model[head[0]]["filled"] += q
                self.model[t.id]["filled"] += q
                self.bought += q
                self.sold += q
                assert ev.maker_done == (head[1] <= 1e-9)
                assert ev.taker_done == (t.remaining <= 1e-9)
                if ev.maker_done:
                    self._pop_head(book_side, best)
                    self.model[head[0]]["status"] = "filled"
            elif isinstance(ev, Canceled) and ev.order_id != t.id:
                # STP took a resting order out: it must be the taker owner's order at the head
                assert ev.reason == "self_trade", ev
                assert self.stp in (STP.CANCEL_RESTING, STP.CANCEL_BOTH), ev
                best = self._best(book_side)
                assert best is not None
                if t.limit is not None:
                    assert (best <= t.limit) if t.side > 0 else (best >= t.limit)
                head = self._pop_head(book_side, best)
                assert head[0] == ev.order_id and head[2] == t.owner, (head, ev)
                self._close(ev.order_id, "canceled", ev.remaining)
            elif isinstance(ev, Canceled):
                assert ev.remaining == pytest.approx(t.remaining)
                if ev.reason == "self_trade":
                    assert self.stp in (STP.CANCEL_INCOMING, STP.CANCEL_BOTH), ev
                    if self.stp is STP.CANCEL_BOTH:
                        assert isinstance(prev, Canceled) and prev.reason == "self_trade"
                        assert self.model[prev.order_id]["owner"] == t.owner
                    else:
                        best = self._best(book_side)
                        assert best is not None
                        assert self.snap[book_side][best][0][2] == t.owner
                elif ev.reason == "ioc":
                    assert t.tif is TimeInForce.IOC, ev
                    assert not self._crosses(t.side, t.limit), "IOC canceled while it could still trade"
                elif ev.reason == "market_unfilled":
                    assert t.limit is None and not self.snap[book_side], ev
                elif ev.reason == "fok":
                    assert t.tif is TimeInForce.FOK and not t.traded
                else:
                    raise AssertionError(f"unexpected cancel reason {ev.reason!r}")
                t.ended = True
                self._close(t.id, "canceled", ev.remaining)
            else:
                raise AssertionError(f"unexpected event {ev}")
            prev = ev
        if t.ended:
            return
        if t.remaining <= 1e-9:
            self.model[t.id]["status"] = "filled"
            return
        # not filled, not canceled: only a GTC/DAY/GTD limit rests, and only once it cannot trade on
        assert t.limit is not None and t.tif not in (TimeInForce.IOC, TimeInForce.FOK), "unfilled remainder lost"
        assert not self._crosses(t.side, t.limit), "rested while it could still trade"
        self.snap[t.side].setdefault(t.limit, []).append([t.id, t.remaining, t.owner])

    def _new(self, side: int, owner: str, quantity: float, **kw) -> SimOrder:
        oid = self.next_id
        self.next_id += 1
        self.known.append(oid)
        o = SimOrder(id=oid, owner=owner, side=side, quantity=quantity, **kw)
        self.model[oid] = {"side": side, "owner": owner, "quantity": quantity, "filled": 0.0, "status": "live",
                           "closed": 0.0, "expire_time": o.expire_time}
        return o

    def _pick(self, pick: int, which: int) -> int:
        """Mostly a live order; sometimes any id ever used (filled, canceled...); sometimes a new one."""
        live = [i for i in self.known if self._live(i)]
        if which == 0 or not self.known:
            return 1_000_000 + pick
        if which == 1 or not live:
            return self.known[pick % len(self.known)]
        return live[pick % len(live)]

    def _live(self, oid: int) -> bool:
        m = self.model.get(oid)
        return m is not None and m["status"] == "live"

    # ---- operations -----------------------------------------------------------------------------------
    @rule(side=sides, owner=owners, px=prices, qty=lots,
          tif=st.sampled_from((TimeInForce.GTC, TimeInForce.GTC, TimeInForce.DAY, TimeInForce.GTD,
                               TimeInForce.IOC, TimeInForce.FOK)),
          post_only=st.booleans(), ttl=st.integers(1, 30))
    def limit(self, side, owner, px, qty, tif, post_only, ttl) -> None:
        self._limit(side, owner, px, qty, tif, post_only, ttl)

    def _limit(self, side, owner, px, qty, tif, post_only, ttl) -> None:
        post_only = post_only and tif not in (TimeInForce.IOC, TimeInForce.FOK)
        expire = self.now + ttl if tif in (TimeInForce.DAY, TimeInForce.GTD) else 0
        o = self._new(side, owner, qty, price=px, time_in_force=tif, post_only=post_only, expire_time=expire)
        crosses = self._crosses(side, px)
        fillable = self._fillable(side, owner, px)
        assert self.book.submit(o, self.now) == (not (post_only and crosses))
        ev = self.book.drain()
        if post_only and crosses:
            assert ev == [Rejected(self.now, o.id, "post-only order would take liquidity")]
            self.model[o.id]["status"] = "rejected"
            return
        assert isinstance(ev[0], Accepted) and ev[0].order_id == o.id
        if tif is TimeInForce.FOK:
            if fillable < qty:
                assert ev[1:] == [Canceled(self.now, o.id, qty, "fok")], "FOK not killed whole"
            else:
                assert not any(isinstance(e, Canceled) and e.order_id == o.id for e in ev), "FOK not filled whole"
        if post_only:
            assert len(ev) == 1
        self._walk(ev[1:], Taker(o, qty))

    @rule(side=sides, owner=owners, k=st.integers(0, 3), qty=lots)
    def passive(self, side, owner, k, qty) -> None:
        """A GTC limit on its own side of the grid's middle: builds queues to trade against."""
        self._limit(side, owner, BASE + (3 - k if side > 0 else 5 + k) * TICK, qty, TimeInForce.GTC, False, 1)

    @rule(side=sides, owner=owners, qty=lots)
    def market(self, side, owner, qty) -> None:
        o = self._new(side, owner, qty, type=OrderType.MARKET)
        assert self.book.submit(o, self.now)
        ev = self.book.drain()
        assert ev[0] == Accepted(self.now, o.id, False)
        self._walk(ev[1:], Taker(o, qty))

    @rule(pick=st.integers(0, 10_000), which=st.integers(0, 5))
    def cancel(self, pick, which) -> None:
        oid = self._pick(pick, which)
        if not self._live(oid):
            with pytest.raises(BookError, match=rf"\b{oid}\b"):
                self.book.cancel(oid, self.now)
            assert self.book.drain() == []
            return
        o = self.book.cancel(oid, self.now)
        assert o.id == oid
        m = self.model[oid]
        assert self.book.drain() == [Canceled(self.now, oid, m["quantity"] - m["filled"], "canceled")]
        self._unrest(oid)
        self._close(oid, "canceled", m["quantity"] - m["filled"])

    @rule(pick=st.integers(0, 10_000), which=st.integers(0, 5),
          kind=st.sampled_from(("price", "up", "down", "both", "same")), px=prices, dq=st.integers(1, 4))
    def modify(self, pick, which, kind, px, dq) -> None:
        oid = self._pick(pick, which)
        if not self._live(oid):
            with pytest.raises(BookError, match=rf"\b{oid}\b"):
                self.book.modify(oid, self.now, price=px)
            assert self.book.drain() == []
            return
        m = self.model[oid]
        o = self.book.orders[oid]
        old_px, old_qty = o.price, o.quantity
        new_px = px if kind in ("price", "both") else old_px
        new_qty = {"up": old_qty + dq, "down": old_qty - dq, "both": old_qty + dq}.get(kind, old_qty)
        side = m["side"]
        if new_qty <= m["filled"]:
            assert not self.book.modify(oid, self.now, quantity=new_qty, price=new_px)
            ev = self.book.drain()
            assert len(ev) == 1 and isinstance(ev[0], Rejected) and "not above the filled" in ev[0].reason
            return
        kept = new_px == old_px and new_qty <= old_qty
        # a post-only order leaves the book first, so only the opposite side can make it cross
        if not kept and o.post_only and self._crosses(side, new_px):
            assert not self.book.modify(oid, self.now, quantity=new_qty, price=new_px)
            assert self.book.drain() == [Rejected(self.now, oid, "post-only order would take liquidity")]
            return
        assert self.book.modify(oid, self.now, quantity=new_qty, price=new_px)
        ev = self.book.drain()
        assert ev[0] == Modified(self.now, oid, new_qty, new_px, kept)
        m["quantity"] = new_qty
        if kept:
            assert len(ev) == 1
            entry = next(e for e in self.snap[side][old_px] if e[0] == oid)
            entry[1] = new_qty - m["filled"]
            return
        self._unrest(oid)
        self._walk(ev[1:], Taker(o, new_qty - m["filled"]))

    @rule(pick=st.integers(0, 10_000), side=sides, px=prices, qty=lots)
    def duplicate_id(self, pick, side, px, qty) -> None:
        live = [i for i in self.known if self._live(i)]
        if not live:
            return
        oid = live[pick % len(live)]
        dup = SimOrder(id=oid, owner="z", side=side, quantity=qty, price=px)
        assert not self.book.submit(dup, self.now)
        assert self.book.drain() == [Rejected(self.now, oid, f"duplicate order id {oid}")]

    @rule(dt=st.integers(0, 12))
    def advance(self, dt) -> None:
        self.now += dt
        self.book.expire(self.now)
        due = {i for i, m in self.model.items()
               if m["status"] == "live" and 0 < m["expire_time"] <= self.now}
        ev = self.book.drain()
        assert all(isinstance(e, Expired) for e in ev), ev
        assert {e.order_id for e in ev} == due, "expired the wrong orders"
        assert len(ev) == len(due)
        for e in ev:
            self._unrest(e.order_id)
            self._close(e.order_id, "expired", e.remaining)

    # ---- invariants -----------------------------------------------------------------------------------
    @invariant()
    def book_matches_model(self) -> None:
        book = self.book
        bids, asks = book.top(10**6)
        # never crossed
        if bids and asks:
            assert bids[0][0] < asks[0][0], f"crossed book: bid {bids[0][0]} >= ask {asks[0][0]}"
        assert book.best_bid == (bids[0][0] if bids else None)
        assert book.best_ask == (asks[0][0] if asks else None)
        assert [(lvl.price, lvl.qty) for lvl in book.levels(1)] == bids
        assert [(lvl.price, lvl.qty) for lvl in book.levels(-1)] == asks
        # price order of the L2 view
        assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)
        assert [p for p, _ in asks] == sorted(p for p, _ in asks)
        resting = set()
        for side, l2 in ((1, bids), (-1, asks)):
            actual = {}
            for px, qty in l2:
                queue = book.queue(side, px)
                assert queue, f"empty level {px} reported"
                seqs = [o.seq for o in queue]
                assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), f"level {px} not in FIFO order"
                assert qty == pytest.approx(sum(o.remaining for o in queue)), f"level {px} quantity"
                assert book.depth(side, px) == qty
                for o in queue:
                    assert o.live and o.side == side and o.price == px and o.remaining > 0
                    assert book.orders[o.id] is o
                    assert o.id not in resting, f"order {o.id} rests twice"
                    resting.add(o.id)
                actual[px] = [[o.id, o.remaining, o.owner] for o in queue]
            assert actual == self.snap[side], f"side {side}: book {actual} != model {self.snap[side]}"
        assert set(book.orders) == resting, "book.orders holds orders not resting (or misses some)"

    @invariant()
    def quantity_conserved(self) -> None:
        buy_fills = sell_fills = 0.0
        for oid, m in self.model.items():
            if m["status"] == "rejected":
                assert m["filled"] == 0
                continue
            if m["side"] > 0:
                buy_fills += m["filled"]
            else:
                sell_fills += m["filled"]
            if m["status"] == "live":
                o = self.book.orders[oid]
                assert o.quantity == m["quantity"] and o.filled == pytest.approx(m["filled"])
                assert m["quantity"] == pytest.approx(m["filled"] + o.remaining)
            elif m["status"] == "filled":
                assert oid not in self.book.orders
                assert m["filled"] == pytest.approx(m["quantity"])
            else:  # canceled or expired
                assert oid not in self.book.orders
                assert m["quantity"] == pytest.approx(m["filled"] + m["closed"])
        assert buy_fills == pytest.approx(sell_fills)
        assert buy_fills == pytest.approx(self.bought) and sell_fills == pytest.approx(self.sold)


BookMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
TestOrderBookMachine = BookMachine.TestCase
