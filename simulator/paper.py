"""The paper venue: the simulator's L3 book (:class:`~leand.simulator.book.OrderBook`) in real time, with an
exchange account that lives apart from the daemon, like a real venue would.

Matching is the book's, so the paper venue takes every order type and time in force the book does (market,
limit, stop-market, stop-limit, trailing stop; GTC, IOC, FOK) and modifies in place with the book's priority
rules. The market is the top of book the venue is fed (``on_quote``): each side of a quote is one resting order
of the owner ``"market"`` with the quoted size, replaced by the next quote. So a market order takes the quoted
ask or bid (up to its size; what is left is canceled, as the book does), a resting limit order fills at its own
price when a quote reaches it (the quote's order trades with it as the taker), and stops trail and trigger on
the touch (a buy stop on the ask, a sell stop on the bid: quotes have no trade prints). While no stop waits in
the book, the market's orders are kept outside it and the account's orders are matched against them directly
(the same trades, prices, fees and reports); they go into the book, at the place in the queue they would have,
only for what needs the whole book. Fees are the book's,
a percent of notional (maker for resting fills, taker otherwise). What the book has no order type for
(limit-if-touched, market-on-open/close) and DAY/GTD, which need the exchange's calendar, are left to the order
manager's emulation, which the venue's ``order_types``/``time_in_force`` tell it to do.

Orders, fills and balances are kept in the venue's own SQLite store and committed before any report leaves the
venue, so a daemon crash loses nothing here and a restarted daemon can ask what really happened (``reconcile``,
``order_by_client_id``); a venue opened on an existing store puts its open orders back in the book. A venue
given no store (a replay's, a what-if's) keeps the same account in memory
(:mod:`leand.simulator.paper_account`). A client order id is accepted once only: a resent order is rejected as a
duplicate.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import msgspec

from leand.model import (
    CANCEL_REJECTED,
    ExecReport,
    Instrument,
    OrderStatus,
    OrderType,
    QuoteTick,
    ReportKind,
    Symbol,
    TimeInForce,
    VenueOrder,
)
from leand.simulator.book import (
    STP,
    Accepted,
    BookEvent,
    Canceled,
    Expired,
    OrderBook,
    Rejected,
    SimOrder,
    Trade,
)
from leand.simulator.paper_account import OPEN, MemoryAccount, PaperAccount, SqliteAccount

_TYPES = {t.value: t for t in OrderType}
#: the times in force the book ends itself (DAY/GTD are the client's to end: GTC in the book)
_TIFS = {"ioc": TimeInForce.IOC, "fok": TimeInForce.FOK}
_STATUSES = {s.value: s for s in OrderStatus}
# members read on the per-order paths, bound once: reading one off its class costs ~0.1 µs on Python 3.11 (the
# enum metaclass's __getattr__ sends every class attribute load through the slow hook); a member's text is read
# as ``_value_`` (its documented attribute), not through the ``value`` property
_MARKET_T, _LIMIT_T, _TRAILING_T = OrderType.MARKET, OrderType.LIMIT, OrderType.TRAILING_STOP
_GTC, _IOC, _FOK = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK
_ACCEPTED, _CANCELED, _EXPIRED = OrderStatus.ACCEPTED, OrderStatus.CANCELED, OrderStatus.EXPIRED
_REJECTED, _FILLED = OrderStatus.REJECTED, OrderStatus.FILLED
#: the owner of the quoted market's orders in the book, and of the account's
MARKET = "market"
ACCOUNT = "account"
_EPS = 1e-9


def _rejected(cid: str, sid: str, now: int, reason: str) -> list[ExecReport]:
    """A new order's rejection (a function apart: a closure in ``submit`` would make the names it reads cell
    variables there)."""
    return [ExecReport(client_order_id=cid, status=_REJECTED, symbol=sid, time_ns=now, reason=reason)]


class PaperVenue:
    #: quotes nothing of the account's can trade with stay out of the book until they matter, the quote a resting
    #: order joins too (``_defer``) (False: every quote goes in as it comes, the reference the tests compare with)
    lazy_quotes = True
    #: what the book matches natively (the order manager emulates the rest)
    order_types = frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_MARKET, OrderType.STOP_LIMIT,
                             OrderType.TRAILING_STOP})
    time_in_force = frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK})

    def __init__(self, store: Path | None, instruments: dict[Symbol, Instrument], *,
                 starting_balances: dict[str, float] | None = None, maker_fee: float = 0.0,
                 taker_fee: float = 0.001, order_types: frozenset[OrderType] | None = None) -> None:
        """``order_types``: fewer than the book has, to stand in for a venue that lacks some (what it lacks,
        the order manager emulates; the emulation's tests and crash tests use this)."""
        if order_types is not None:
            if not order_types <= PaperVenue.order_types:
                extra = ", ".join(sorted(t.value for t in order_types - PaperVenue.order_types))
                raise ValueError(f"the paper venue's book has no {extra} orders")
            self.order_types = frozenset(order_types)
        self.instruments = instruments
        self._by_id = {s.id: i for s, i in instruments.items()}
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        # None: an in-memory account (replays, backtests and what-ifs), same matching and bookkeeping
        self.account: PaperAccount = SqliteAccount(store) if store is not None else MemoryAccount()
        if not self.account.has_balances():
            self.account.seed_balances(starting_balances or {"USD": 100_000.0})
        self.bid: dict[str, float] = {}
        self.ask: dict[str, float] = {}
        self.books: dict[str, OrderBook] = {}
        #: the quoted market's resting order per symbol and side (+1 bid, -1 ask): book order id, for a symbol
        #: whose market orders are in the book (``_in_book``)
        self._quoted: dict[tuple[str, int], int] = {}
        #: the quoted market's resting orders kept outside the book, per symbol and side: the account's orders
        #: are matched against them directly, and they go into the book (``_materialize``, at the place their
        #: ``seq`` gives them) only for what needs the whole book: stops, modify, an order that meets both the
        #: market and the account's own orders, a crossed market
        self._mkt: dict[tuple[str, int], SimOrder] = {}
        #: symbols whose market orders are in the book: with stops there, and always for a venue that puts
        #: every quote in as it comes (``lazy_quotes`` False)
        self._in_book: set[str] = set()
        self._market_id = 0  # the market's order ids count down from -1, apart from the account's
        #: quotes not yet in the book, per symbol and side: (price, size), price 0 for a side taken away
        self._pending: dict[str, dict[int, tuple[float, float]]] = {}
        #: the last quote's symbol, its id and its pending quotes (the next quote is most often for it too)
        self._last_symbol: Symbol | None = None
        self._last_sid = ""
        self._last_pend: dict[int, tuple[float, float]] = {}
        self._next_id = self.account.max_venue_order_id() + 1
        #: per symbol, a resting limit order that went into the book before its own side's noted quote (see
        #: ``_defer``): (side, that noted quote, the order, when it came)
        self._deferred: dict[str, tuple[int, tuple[float, float], SimOrder, int]] = {}
        #: the account's open orders: book order id -> client order id, and the sign of each order's quantity
        self._cid: dict[int, str] = {}
        self._sign: dict[str, float] = {}
        for cid, vid, sid, qty, type_, limit, stop, trail, pct, tif, filled in self.account.open_rows():
            if sid not in self._by_id:
                continue
            # back in the book for what is left (no market quoted yet: nothing trades until the first quote)
            o = self._sim(vid, qty - filled, type_, limit, stop, trail, bool(pct), tif)
            book = self._book(sid)
            self._cid[vid] = cid
            self._sign[cid] = 1.0 if qty > 0 else -1.0
            book.submit(o, 0)
            book.drain()
            if book.stops:
                self._in_book.add(sid)

    # -- the book -----------------------------------------------------------------------------------------
    def _book(self, sid: str) -> OrderBook:
        book = self.books.get(sid)
        if book is None:
            inst = self._by_id[sid]
            book = self.books[sid] = OrderBook(sid, tick_size=inst.tick_size, lot_size=inst.lot_size,
                                               maker_fee=self.maker_fee, taker_fee=self.taker_fee,
                                               stp=STP.CANCEL_INCOMING)
            if not self.lazy_quotes:
                self._in_book.add(sid)
        return book

    def _materialize(self, book: OrderBook, sid: str) -> None:
        """Put the market's orders kept outside the book in it, each at its place in its level's queue."""
        if sid in self._in_book:
            return
        self._in_book.add(sid)
        mkt = self._mkt
        for side in (1, -1):
            o = mkt.pop((sid, side), None)
            if o is not None:
                book.restore(o)
                self._quoted[(sid, side)] = o.id

    def _settle(self, book: OrderBook, sid: str) -> None:
        """After a request: with no stop in the book (and quotes kept out of it), the market's orders leave
        the book again, as they are."""
        if book.stops or not self.lazy_quotes or sid not in self._in_book:
            return
        self._in_book.discard(sid)
        orders = book.orders
        for side in (1, -1):
            mid = self._quoted.pop((sid, side), None)
            if mid is not None and mid in orders:
                self._mkt[(sid, side)] = book.withdraw(mid)

    @staticmethod
    def _sim(vid: int, quantity: float, type_: str, limit: float | None, stop: float | None,
             trailing: float | None, pct: bool, tif: str) -> SimOrder:
        t = _TYPES[type_]
        tif_ = _TIFS.get(tif, _GTC)  # DAY/GTD: the client's to end
        return SimOrder(id=vid, owner=ACCOUNT, side=1 if quantity > 0 else -1, quantity=abs(quantity), type=t,
                        price=limit or 0.0, stop_price=stop or 0.0, trailing_amount=trailing or 0.0,
                        trailing_as_percentage=pct, time_in_force=tif_)

    def _quote(self, book: OrderBook, sid: str, side: int, price: float, size: float, now: int) -> None:
        """The market's order on one side is the quote: what it shows is what is left after the market traded
        through the account's orders its price crosses, so it is that much larger when it comes in (those fill
        in full at their own prices, as in the replayed book) and rests with the quoted size. It never meets the
        market's order on the other side: a locked or crossed quote is the feed's, someone bidding and someone
        offering there, not a self-trade of the account (``_aside`` takes that order out while this one comes)."""
        lot = book.lot_size
        if lot > 0:
            r = size / lot
            if abs(r - round(r)) > 1e-6:
                size = math.floor(r) * lot
        if lot > size:  # max(size, lot)
            size = lot
        in_book = sid in self._in_book
        other = None
        crossed = 0.0
        reached = False
        if side < 0:
            best = book.best_bid
            if best is not None and best >= price - _EPS:
                reached = True
                if in_book:
                    other = self._aside(book, sid, side, price)
                for lvl in book.levels(1):
                    if lvl.price < price - _EPS:
                        break
                    crossed += lvl.qty
        else:
            best = book.best_ask
            if best is not None and best <= price + _EPS:
                reached = True
                if in_book:
                    other = self._aside(book, sid, side, price)
                for lvl in book.levels(-1):
                    if lvl.price > price + _EPS:
                        break
                    crossed += lvl.qty
        mid = self._market_id = self._market_id - 1
        if in_book:
            if book.submit(SimOrder(id=mid, owner=MARKET, side=side, quantity=size + crossed, price=price), now) \
                    and mid in book.orders:
                self._quoted[(sid, side)] = mid
            if other is not None:
                book.restore(other)
            return
        # kept outside the book: what the book would rest, with the place it would have in its level
        if not reached:
            if book.quotable(side, price, size):
                self._mkt[(sid, side)] = SimOrder(id=mid, owner=MARKET, side=side, quantity=size, price=price,
                                                  time=now, seq=book.take_seq())
            return
        # it trades with the account's orders it reaches (and nothing else: the market's other order does not
        # reach it, ``_apply_quotes`` saw to that), then what is left rests
        o = SimOrder(id=mid, owner=MARKET, side=side, quantity=size + crossed, price=price, time_in_force=_IOC)
        if book.submit(o, now) and o.quantity - o.filled > _EPS:
            o.time_in_force = _GTC
            o.live = True
            o.seq = book.take_seq()
            self._mkt[(sid, side)] = o

    def _aside(self, book: OrderBook, sid: str, side: int, price: float) -> SimOrder | None:
        """The market's order on the other side of a new one of ``side`` at ``price``, taken out of the book
        (``withdraw``: its place kept for ``restore``) when the new one reaches it, a locked or crossed quote;
        else None, nothing done."""
        oid = self._quoted.get((sid, -side))
        m = book.orders.get(oid) if oid is not None else None
        if m is None or (m.price < price - _EPS if side < 0 else m.price > price + _EPS):
            return None
        return book.withdraw(m.id)

    # -- market data ----------------------------------------------------------------------------------------
    def on_quote(self, q: QuoteTick) -> list[ExecReport]:
        """The quote replaces the market's orders on the sides it names (and on a side its other price crosses,
        which is stale); resting orders it reaches fill, stops trail and trigger on the new touch. While the
        account has nothing in the book, or nothing the quote reaches and no stop, the quote is only noted: the
        market's orders are put in the book when an order comes or a quote reaches one (nothing could trade
        with them before, and they go in behind the account's orders as they would have, so that is the
        same)."""
        sym = q.symbol
        if sym is self._last_symbol or sym == self._last_symbol:  # most often the last quote's (comparing the
            sid, pend = self._last_sid, self._last_pend           # fields is cheaper than hashing a new Symbol)
        else:
            sid = sym.id
            if sid not in self._by_id:
                return []
            pend = self._pending.setdefault(sid, {})
            self._last_symbol, self._last_sid, self._last_pend = sym, sid, pend
        nb, na = q.bid_price, q.ask_price
        if nb and na:  # both sides quoted: both replace what was there
            self.bid[sid] = nb
            pend[1] = (nb, q.bid_size)
            self.ask[sid] = na
            pend[-1] = (na, q.ask_size)
        else:
            bid, ask = self.bid.get(sid, 0.0), self.ask.get(sid, 0.0)
            if nb or (na and bid and bid >= na):
                self.bid[sid] = nb
                pend[1] = (nb, q.bid_size)
            if na or (nb and ask and ask <= nb):
                self.ask[sid] = na
                pend[-1] = (na, q.ask_size)
        book = self.books.get(sid)
        if book is None:
            return []
        if self._deferred:
            d = self._deferred.get(sid)
            if d is not None:
                if pend.get(d[0]) is d[1]:  # the quote noted before the order is still the last: it goes in
                    self._undefer(sid, d)
                else:  # a newer quote on that side: it goes in behind the order, as it would have anyway
                    del self._deferred[sid]
        if book.stops or not self.lazy_quotes:  # stops trail and trigger on every touch (the market's orders are
            if not book.stops and not self._account_in(book, sid):  # in the book then)
                return []
            self._apply_quotes(book, sid, q.time)
            book.on_touch(self.bid.get(sid, 0.0), self.ask.get(sid, 0.0), q.time)
            out = self._reports(book, q.time)
            if sid in self._in_book and not book.stops and self.lazy_quotes:  # the last stop triggered
                self._settle(book, sid)
            return out
        else:
            # the account has no open order at all (most quotes of a strategy that trades now and then): nothing
            # is reaching; else which quotes reach one of its orders in this book
            if not self._cid:
                return []
            reaching = self._reaching(book, pend)
            if not reaching:
                return []
            self._apply_quotes(book, sid, q.time, reaching)
        book.on_touch(self.bid.get(sid, 0.0), self.ask.get(sid, 0.0), q.time)
        return self._reports(book, q.time)

    def _account_in(self, book: OrderBook, sid: str) -> bool:
        """Whether the account has an order (resting or a stop) in the book."""
        n = len(book.orders)
        if n > 2:  # the market has one order per side at most (a new quote's goes in after the old one left)
            return True
        if not n:
            return False
        quoted = self._quoted
        for side in (1, -1):
            mid = quoted.get((sid, side))
            if mid is not None and mid in book.orders:
                n -= 1
        return n > 0

    @staticmethod
    def _reaching(book: OrderBook, pend: dict[int, tuple[float, float]]) -> int:
        """Which noted quotes would trade with a resting order of the account (a bid at or above one of its
        asks, an ask at or below one of its bids): 0 none, +1 the bid, -1 the ask, 2 both. The others can
        stay out of the book. Called with no stop in the book and the market's orders outside it, so the book
        holds the account's resting orders only and its touch is the account's best bid and ask."""
        out = 0
        bid = pend.get(1)
        if bid is not None and bid[0]:
            best = book.best_ask
            if best is not None and best <= bid[0] + _EPS:
                out = 1
        ask = pend.get(-1)
        if ask is not None and ask[0]:
            best = book.best_bid
            if best is not None and best >= ask[0] - _EPS:
                out = 2 if out else -1
        return out

    def _apply_quotes(self, book: OrderBook, sid: str, now: int, sides: int = 2) -> None:
        """Put the quotes noted since the last time into the book: both old orders go before the new ones
        come, so the market never trades with itself. ``sides`` +1 or -1: only that side's when that is the
        same, that is when the market's order still there on the other side does not reach the noted price
        (putting both in takes the old ones out first, so the market never trades with itself; this keeps that
        true); the other stays noted. One function: it runs for nearly every order and every quote that
        reaches one."""
        pend = self._pending.get(sid)
        if not pend:
            return
        if sid not in self._in_book:
            self._apply_quotes_outside(book, sid, now, sides, pend)
            return
        quoted = self._quoted
        orders = book.orders
        if sides == 1 or sides == -1:
            px_size = pend.get(sides)
            alone = True
            if px_size is not None and px_size[0]:
                stale = quoted.get((sid, -sides))
                o = orders.get(stale) if stale is not None else None
                if o is not None:
                    alone = o.price > px_size[0] + _EPS if sides > 0 else o.price < px_size[0] - _EPS
            if alone:
                if px_size is not None:
                    del pend[sides]
                    old = quoted.pop((sid, sides), None)
                    if old is not None and old in orders:
                        book.cancel(old, now, "quote")
                    if px_size[0]:
                        self._quote(book, sid, sides, px_size[0], px_size[1], now)
                return
        bid = pend.get(1)
        ask = pend.get(-1)
        if bid is not None:
            old = quoted.pop((sid, 1), None)
            if old is not None and old in orders:
                book.cancel(old, now, "quote")
        if ask is not None:
            old = quoted.pop((sid, -1), None)
            if old is not None and old in orders:
                book.cancel(old, now, "quote")
        if bid is not None and bid[0]:
            self._quote(book, sid, 1, bid[0], bid[1], now)
        if ask is not None and ask[0]:
            self._quote(book, sid, -1, ask[0], ask[1], now)
        pend.clear()

    def _apply_quotes_outside(self, book: OrderBook, sid: str, now: int, sides: int,
                              pend: dict[int, tuple[float, float]]) -> None:
        """``_apply_quotes`` with the market's orders kept outside the book: the same steps, an old order taken
        away by forgetting it and a new one placed by ``_quote``. A quote whose new order would meet the
        market's other one (a crossed or locked market) goes the book's way: the orders into the book first."""
        mkt = self._mkt
        if sides == 1 or sides == -1:
            px_size = pend.get(sides)
            alone = True
            if px_size is not None and px_size[0]:
                o = mkt.get((sid, -sides))
                if o is not None:
                    alone = o.price > px_size[0] + _EPS if sides > 0 else o.price < px_size[0] - _EPS
                    if not alone:
                        other = pend.get(-sides)
                        if other is not None and (not other[0] or (other[0] > px_size[0] + _EPS if sides > 0
                                                                   else other[0] < px_size[0] - _EPS)):
                            # the market's order there is replaced by a noted quote that does not reach this
                            # one: forgotten now, the quote stays noted (it goes in when something needs it,
                            # as any noted quote does), and this side goes in alone
                            del mkt[(sid, -sides)]
                            alone = True
            if alone:
                if px_size is not None:
                    del pend[sides]
                    mkt.pop((sid, sides), None)
                    if px_size[0]:
                        self._quote(book, sid, sides, px_size[0], px_size[1], now)
                return
        bid = pend.get(1)
        ask = pend.get(-1)
        nb = bid[0] if bid is not None else 0.0
        na = ask[0] if ask is not None else 0.0
        if nb or na:
            stale_ask = mkt.get((sid, -1)) if ask is None else None
            stale_bid = mkt.get((sid, 1)) if bid is None else None
            if (nb and ((stale_ask is not None and stale_ask.price <= nb + _EPS) or (na and na <= nb + _EPS))) or \
                    (na and stale_bid is not None and stale_bid.price >= na - _EPS):
                self._materialize(book, sid)
                self._apply_quotes(book, sid, now, 2)
                self._settle(book, sid)
                return
        if bid is not None:
            mkt.pop((sid, 1), None)
        if ask is not None:
            mkt.pop((sid, -1), None)
        if nb:
            self._quote(book, sid, 1, nb, bid[1], now)  # type: ignore[index]
        if na:
            self._quote(book, sid, -1, na, ask[1], now)  # type: ignore[index]
        pend.clear()

    def _defer(self, book: OrderBook, sid: str, o: SimOrder, now: int) -> bool:
        """For a resting limit order that cannot trade (``_sides_for`` gave its own side): leave its side's
        noted quote out of the book instead of putting it in ahead of the order, and remember that it belongs
        ahead. Most often a newer quote on that side comes before anything could trade at the order's level,
        and that one goes in behind the order in any case, so the market's order is never placed and taken out
        for nothing (a replayed scalper's orders at the touch: one cancel and one submit of the market's order
        each). Anything else that comes first puts it in where it belongs (``_undefer``). Only when it goes in
        alone (the market's other order does not reach it) and trades with nothing (it does not reach the
        other side of the book): then it is that one book operation, moved. False: not deferred."""
        pend = self._pending.get(sid)
        side = o.side
        px_size = pend.get(side) if pend else None
        if px_size is None:
            return False  # nothing noted on that side: nothing goes in
        p = px_size[0]
        if p:
            if sid in self._in_book:
                stale = self._quoted.get((sid, -side))
                m = book.orders.get(stale) if stale is not None else None
            else:
                m = self._mkt.get((sid, -side))
            if side > 0:
                if m is not None and m.price <= p + _EPS:
                    return False
                best = book.best_ask
                if best is not None and best <= p + _EPS:
                    return False
            else:
                if m is not None and m.price >= p - _EPS:
                    return False
                best = book.best_bid
                if best is not None and best >= p - _EPS:
                    return False
        self._deferred[sid] = (side, px_size, o, now)
        return True

    def _undefer(self, sid: str, d: tuple[int, tuple[float, float], SimOrder, int]) -> None:
        """Put a deferred quote (``_defer``) in the book where it belongs: the order taken out, the quote put in
        as it would have been before the order came, the order back behind it. Nothing else touched the book
        since (every request and every quote that goes past noting comes here first), so that is the book the
        order's submit would have left; none of it is news to the account (its order rests as it did)."""
        del self._deferred[sid]
        side, _, o, t = d
        book = self.books[sid]
        if o.id not in book.orders:
            return
        events = book.events
        before = len(events)
        book.cancel(o.id, t, "requeue")
        self._apply_quotes(book, sid, t, side)
        book.submit(msgspec.structs.replace(o, live=True), t)
        del book.events[before:]

    def _undefer_all(self) -> None:
        for sid, d in list(self._deferred.items()):
            pend = self._pending.get(sid)
            if pend is not None and pend.get(d[0]) is d[1]:
                self._undefer(sid, d)
            else:
                del self._deferred[sid]

    def _sides_for(self, book: OrderBook, sid: str, o: SimOrder) -> int:
        """Which noted quotes must be in the book before the account's order ``o`` comes: an order that never
        rests (market, IOC, FOK) trades only with the other side's; a resting limit order that cannot trade
        needs only its own side's (a market order there goes ahead of it in the queue at that price, as it
        would have); the side not needed stays noted. Anything else (a limit that trades and rests, a stop)
        needs both."""
        if not self.lazy_quotes or book.stops:
            return 2
        t = o.type
        if t is _MARKET_T or (t is _LIMIT_T and o.time_in_force is not _GTC):
            return -o.side
        if t is not _LIMIT_T:
            return 2
        pend = self._pending.get(sid)
        other = pend.get(-o.side) if pend else None
        m = self._mkt.get((sid, -o.side))  # the market's order there when it is kept outside the book
        px = o.price
        if o.side > 0:
            best = book.best_ask
            if (best is not None and best <= px + _EPS) or (other is not None and other[0] and
                                                          other[0] <= px + _EPS) or \
                    (m is not None and m.price <= px + _EPS):
                return 2
        else:
            best = book.best_bid
            if (best is not None and best >= px - _EPS) or (other is not None and other[0] and
                                                          other[0] >= px - _EPS) or \
                    (m is not None and m.price >= px - _EPS):
                return 2
        return o.side

    # -- orders -----------------------------------------------------------------------------------------------
    def submit(self, client_order_id: str, symbol: Symbol, quantity: float, type_: str,
               limit_price: float | None, now_ns: int, *, stop_price: float | None = None,
               trailing_amount: float | None = None, trailing_as_percentage: bool = False,
               time_in_force: str = "gtc") -> list[ExecReport]:
        sid = symbol.id
        account = self.account
        account.record_submission(client_order_id, now_ns)
        if account.has_order(client_order_id):
            return _rejected(client_order_id, sid, now_ns, "DUPLICATE_CLIENT_ORDER_ID")
        if sid not in self._by_id:
            return _rejected(client_order_id, sid, now_ns, f"UNKNOWN_SYMBOL {sid}")
        try:
            otype = _TYPES[type_]
        except KeyError:
            otype = None
        if otype not in self.order_types:
            return _rejected(client_order_id, sid, now_ns, f"UNSUPPORTED_ORDER_TYPE {type_}")
        px = self.ask.get(sid) if quantity > 0 else self.bid.get(sid)
        if otype is _MARKET_T and not px:
            return _rejected(client_order_id, sid, now_ns, "NO_MARKET")
        inst = self._by_id[sid]
        ref = limit_price or stop_price or px or 0.0
        if otype is _TRAILING_T and not stop_price and px and trailing_amount:
            # trailed from the touch now (the order manager normally sends the stop it computed)
            stop_price = inst.round_price(px - trailing_amount * (px if trailing_as_percentage else 1.0)
                                          if quantity < 0 else
                                          px + trailing_amount * (px if trailing_as_percentage else 1.0))
        if ref:
            if quantity > 0 and account.balance(inst.quote_currency) < quantity * ref * (1 + self.taker_fee) - 1e-9:
                return _rejected(client_order_id, sid, now_ns, f"INSUFFICIENT_{inst.quote_currency}")
            if quantity < 0 and inst.base_currency and account.balance(inst.base_currency) < -quantity - 1e-12:
                return _rejected(client_order_id, sid, now_ns, f"INSUFFICIENT_{inst.base_currency}")
        vid = self._next_id
        self._next_id += 1
        o = self._sim(vid, quantity, type_, limit_price, stop_price, trailing_amount, trailing_as_percentage,
                      time_in_force)
        book = self._book(sid)
        reason = book.validate(o)
        if reason is not None:
            return _rejected(client_order_id, sid, now_ns, f"INVALID_ORDER {reason}")
        account.insert_order(client_order_id, vid, sid, quantity, type_, limit_price, now_ns, stop_price,
                             trailing_amount, trailing_as_percentage, o.time_in_force._value_)
        self._cid[vid] = client_order_id
        self._sign[client_order_id] = 1.0 if quantity > 0 else -1.0
        if self._deferred:
            self._undefer_all()
        if otype is not _MARKET_T and otype is not _LIMIT_T:
            self._materialize(book, sid)  # a stop: the market's orders stay in the book while it waits
        sides = self._sides_for(book, sid, o)
        if sides == o.side and self._defer(book, sid, o, now_ns):  # a GTC limit that rests: its quote later
            book.submit(o, now_ns)
            return self._reports(book, now_ns)
        self._apply_quotes(book, sid, now_ns, sides)
        if sid not in self._in_book:
            m = self._mkt.get((sid, -o.side))
            if m is not None and (otype is _MARKET_T or (m.price <= o.price + _EPS if o.side > 0 else
                                                         m.price >= o.price - _EPS)):
                out = self._take(book, sid, o, m, now_ns)
                if out is not None:
                    return out
                self._materialize(book, sid)  # it meets the account's own orders there too, or rests
        book.submit(o, now_ns)
        if o.id in book.stops:  # a stop already through the touch triggers at once
            book.on_touch(self.bid.get(sid, 0.0), self.ask.get(sid, 0.0), now_ns)
        out = self._reports(book, now_ns)
        if sid in self._in_book and self.lazy_quotes:
            self._settle(book, sid)
        return out

    def _take(self, book: OrderBook, sid: str, o: SimOrder, m: SimOrder, now: int) -> list[ExecReport] | None:
        """The account's order ``o`` that reaches the market's order ``m`` on the other side (kept outside
        the book) and nothing else there, matched against it directly, with the events the book's matching
        gives: accepted, one trade at ``m``'s price, then what is left of a market or IOC order canceled.
        None, with nothing done, when that is not all: the account has orders on that side (the book's
        priority and self-trade rules decide), a fill-or-kill, or a limit order that would rest what is left."""
        side = o.side
        if (book.best_ask if side > 0 else book.best_bid) is not None:
            return None
        t = o.type
        tif = o.time_in_force
        if tif is _FOK:
            return None
        oq = o.quantity
        mq = m.quantity
        rleft = mq - m.filled
        qty = oq if oq < rleft else rleft
        want = oq - qty
        if want > _EPS and t is _LIMIT_T and tif is _GTC:
            return None
        events: list[Any] = book.drain()  # what the quotes put in before it
        oid = o.id
        px = m.price
        m.filled = mfilled = m.filled + qty
        m_done = mq - mfilled <= _EPS
        if m_done:
            m.live = False
            del self._mkt[(sid, -side)]
        o.time = now
        o.filled = qty
        o.live = False
        notional = qty * px
        events.append(Accepted(now, oid, t is _LIMIT_T))
        events.append(Trade(now, book.take_trade_ids(1), px, qty, m.id, oid, MARKET, ACCOUNT, side,
                            notional * book.maker_fee, notional * book.taker_fee, m_done, want <= _EPS))
        book.on_trade_print(px, now)
        if want > _EPS:
            events.append(Canceled(now, oid, want, "market_unfilled" if t is _MARKET_T else "ioc"))
        return self._report_events(events, sid, now)

    def cancel(self, client_order_id: str, now_ns: int) -> ExecReport:
        row = self.account.row(client_order_id)
        if row is None or row[1] not in OPEN:
            # the order stays as it is (filled, canceled...): only the cancel request is refused
            return ExecReport(client_order_id=client_order_id, kind=ReportKind.CANCEL_REJECTED,
                              status=OrderStatus(row[1]) if row else OrderStatus.REJECTED,
                              symbol=row[0] if row else "", time_ns=now_ns, reason=f"{CANCEL_REJECTED} " + (
                                  "UNKNOWN_ORDER" if row is None else f"ORDER_{row[1].upper()}"))
        vid = row[6]
        sid = row[0]
        book = self._book(sid)
        if self._deferred:
            self._undefer_all()
        if vid in book.orders:
            book.cancel(vid, now_ns)
            book.drain()
            if book.stops or sid in self._in_book:
                self._settle(book, sid)  # the last stop gone: the market's orders leave the book
        self._cid.pop(vid, None)
        self._sign.pop(client_order_id, None)
        self.account.set_status(client_order_id, "canceled", now_ns)
        return ExecReport(client_order_id=client_order_id, status=_CANCELED, symbol=row[0],
                          time_ns=now_ns)

    def modify(self, client_order_id: str, quantity: float | None, limit_price: float | None,
               now_ns: int, *, stop_price: float | None = None,
               trailing_amount: float | None = None) -> list[ExecReport]:
        """Change an open order in the book (the book's rules: a size decrease keeps priority, a price change
        or a size increase goes to the back and may trade at once). A trailing stop given a new amount trails
        it from the touch now; the accepted update carries the stop price that results. The market's orders
        are in the book while it does (an amended order may trade with them by the book's priority)."""
        row = self.account.row(client_order_id)
        if row is None or row[1] not in OPEN or row[0] not in self._by_id:
            return self._modify(client_order_id, quantity, limit_price, now_ns, stop_price, trailing_amount)
        sid = row[0]
        book = self._book(sid)
        try:
            return self._modify(client_order_id, quantity, limit_price, now_ns, stop_price, trailing_amount)
        finally:
            self._settle(book, sid)

    def _modify(self, client_order_id: str, quantity: float | None, limit_price: float | None,
                now_ns: int, stop_price: float | None, trailing_amount: float | None) -> list[ExecReport]:
        row = self.account.row(client_order_id)

        def refuse(reason: str, status: OrderStatus) -> list[ExecReport]:
            return [ExecReport(client_order_id=client_order_id, kind=ReportKind.UPDATE_REJECTED, status=status,
                               symbol=row[0] if row else "", time_ns=now_ns, reason=reason)]

        if row is None:
            return refuse("UNKNOWN_ORDER", OrderStatus.REJECTED)
        sid, status, qty, filled, type_, limit, vid, _stop = row
        if status not in OPEN:
            return refuse(f"ORDER_{status.upper()}", OrderStatus(status))
        new_qty = qty if quantity is None else quantity
        if (new_qty > 0) != (qty > 0) or abs(new_qty) < abs(filled) - 1e-12:
            return refuse(f"INVALID_QUANTITY {new_qty:g} (filled {filled:g})", OrderStatus(status))
        if limit_price is not None and type_ not in ("limit", "stop_limit"):
            return refuse("LIMIT_PRICE_ON_MARKET_ORDER", OrderStatus(status))
        book = self._book(sid)
        if self._deferred:
            self._undefer_all()
        self._materialize(book, sid)
        self._apply_quotes(book, sid, now_ns)
        o = book.orders.get(vid)
        if abs(new_qty - filled) < 1e-12:  # cut down to what has filled: the order is done
            if o is not None:
                book.cancel(vid, now_ns, "replaced")
                book.drain()
            self._cid.pop(vid, None)
            self._sign.pop(client_order_id, None)
            self.account.cut_to_filled(client_order_id, new_qty, now_ns)
            return [ExecReport(client_order_id=client_order_id, kind=ReportKind.UPDATE_ACCEPTED,
                               status=OrderStatus.FILLED, symbol=sid, time_ns=now_ns, quantity=new_qty,
                               limit_price=limit)]
        if o is None:
            return refuse("ORDER_NOT_IN_BOOK", OrderStatus(status))
        if trailing_amount is not None and stop_price is None and o.id in book.stops:
            px = self.ask.get(sid) if o.side > 0 else self.bid.get(sid)
            if px:
                amt = px * trailing_amount if o.trailing_as_percentage else trailing_amount
                stop_price = self._by_id[sid].round_price(px + amt if o.side > 0 else px - amt)
        # the book's order may have come back after a restart for what was left then: its size is the new
        # quantity less what filled before the book knew it
        before = abs(filled) - o.filled
        ok = book.modify(vid, now_ns, quantity=abs(new_qty) - before if quantity is not None else None,
                         price=limit_price, stop_price=stop_price, trailing_amount=trailing_amount)
        if not ok:
            ev = book.drain()
            why = next((e.reason for e in ev if isinstance(e, Rejected)), "REFUSED")
            return refuse(f"INVALID_UPDATE {why}", OrderStatus(status))
        new_limit = limit if limit_price is None else limit_price
        self.account.amend(client_order_id, new_qty, new_limit, stop_price, trailing_amount, now_ns)
        out = [ExecReport(client_order_id=client_order_id, kind=ReportKind.UPDATE_ACCEPTED, status=OrderStatus(status),
                          symbol=sid, time_ns=now_ns, quantity=new_qty, limit_price=new_limit, stop_price=stop_price)]
        return out + self._reports(book, now_ns)

    # -- the book's events as the account's reports ----------------------------------------------------------
    def _reports(self, book: OrderBook, now_ns: int) -> list[ExecReport]:
        return self._report_events(book.drain(), book.symbol, now_ns)

    def _report_events(self, events: list[Any], sid: str, now_ns: int) -> list[ExecReport]:
        """The book's events (told apart by class, no isinstance asserts per event) as the account's reports."""
        out: list[ExecReport] = []
        cids = self._cid
        for ev in events:
            cls = ev.__class__
            if cls is Trade:
                if ev.maker_owner == ACCOUNT and ev.maker_id in cids:
                    out.append(self._fill(ev.maker_id, sid, ev.quantity, ev.price, ev.maker_fee, "maker", now_ns))
                if ev.taker_owner == ACCOUNT and ev.taker_id in cids:
                    out.append(self._fill(ev.taker_id, sid, ev.quantity, ev.price, ev.taker_fee, "taker", now_ns))
            elif ev.order_id < 0:
                continue  # the quoted market's own order (their ids count down from -1): nothing to report
            elif cls is Accepted:
                cid = cids.get(ev.order_id)
                if cid is not None:
                    out.append(ExecReport(client_order_id=cid, status=_ACCEPTED, symbol=sid,
                                          time_ns=now_ns, venue_order_id=ev.order_id))
            elif cls is Canceled or cls is Expired or cls is Rejected:
                cid = cids.pop(ev.order_id, None)
                if cid is None:
                    continue
                self._sign.pop(cid, None)
                status = _EXPIRED if cls is Expired else _REJECTED if cls is Rejected else _CANCELED
                reason = getattr(ev, "reason", "")
                self.account.set_status(cid, status._value_, now_ns)
                out.append(ExecReport(client_order_id=cid, status=status, symbol=sid, time_ns=now_ns,
                                      reason=reason.upper() if reason and reason != "canceled" else ""))
        return out

    def _fill(self, vid: int, sid: str, qty: float, price: float, fee: float, liquidity: str,
              now_ns: int) -> ExecReport:
        cid = self._cid[vid]
        q = qty * self._sign[cid]
        inst = self._by_id[sid]
        base, quote = inst.base_currency, inst.quote_currency
        st, fill_id = self.account.fill(cid, sid, q, price, fee, quote, base, liquidity, now_ns)
        status = _STATUSES[st]
        if status is _FILLED:
            self._cid.pop(vid, None)
            self._sign.pop(cid, None)
        return ExecReport(client_order_id=cid, status=status, symbol=sid, time_ns=now_ns,
                          fill_id=fill_id, fill_quantity=q, fill_price=price, fee=fee, fee_currency=quote,
                          liquidity=liquidity)

    # -- what a reconnecting client asks ---------------------------------------------------------
    def order_by_client_id(self, cid: str) -> VenueOrder | None:
        return self.account.order(cid)

    def open_orders(self) -> list[VenueOrder]:
        return self.account.open_orders()

    def fills_since(self, fill_id: int) -> list[ExecReport]:
        return self.account.fills_since(fill_id)

    def balances(self) -> dict[str, float]:
        return self.account.balances()

    def submission_counts(self) -> dict[str, int]:
        """How many times each client order id was sent (a crash test asserts 1)."""
        return self.account.submission_counts()

    def close(self) -> None:
        self.account.close()


__all__ = ["ACCOUNT", "MARKET", "BookEvent", "PaperVenue"]
