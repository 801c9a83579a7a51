"""A price-time priority limit order book with its matching engine (L3: every resting order is known).

This is the exchange proper: orders from any number of owners rest in FIFO queues per price level, and
an incoming order trades against the best opposite levels in time order. It knows market, limit, stop
market, stop limit and trailing stop orders; GTC, DAY, GTD, IOC and FOK; post-only; modify (a price
change or size increase loses priority, a size decrease keeps it), cancel and cancel-replace; self-trade
prevention; maker/taker fees; and validates tick size, lot size and minimum notional with a reason.

Performance notes: a side's levels live in a plain dict keyed by ``side * price`` (bids by price, asks by
negated price), with a plain sorted list of those keys whose last item is the best: a level that appears is
inserted by bisection in C (or appended when it is the new best), the best level leaves by ``list.pop()``,
and the list is touched only when a level appears or disappears (a sorted container's Python-level insert and
pop cost ~1-2 µs each, and a third of marketable orders empty a level). A level's queue is a deque with lazy deletion (a canceled order is
marked dead and skipped when it reaches the front), so a cancel is O(1) and a level never rescans. Prices and
sizes that passed validation once are remembered, so a plain GTC limit or market order at a known price and
size skips the grid arithmetic and the general validation (every other check still runs).
Results are appended to ``self.events`` (msgspec Structs) for the caller to drain: no callbacks, no
allocation beyond the events themselves.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator
from enum import IntEnum
from itertools import islice

import msgspec

from leand.model import OrderType, TimeInForce


class BookError(Exception):
    """A request the book cannot act on at all (unknown order id, duplicate id): a caller bug or a
    malformed client message, reported with the id."""


class STP(IntEnum):
    """Self-trade prevention when an incoming order would trade with a resting order of the same owner."""

    NONE = 0
    CANCEL_RESTING = 1  # expire the resting (maker) order, keep matching (Binance EXPIRE_MAKER)
    CANCEL_INCOMING = 2  # expire what is left of the incoming (taker) order (Binance EXPIRE_TAKER)
    CANCEL_BOTH = 3  # expire both (Binance EXPIRE_BOTH)


class SimOrder(msgspec.Struct, kw_only=True, gc=False):
    """An order as the exchange holds it. ``quantity`` is positive; ``side`` is +1 buy, -1 sell."""

    id: int
    owner: str = ""
    side: int
    quantity: float
    type: OrderType = OrderType.LIMIT
    price: float = 0.0  # limit price (0 for market orders)
    stop_price: float = 0.0
    trailing_amount: float = 0.0
    trailing_as_percentage: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_time: int = 0  # DAY and GTD: when the order expires (the caller computes the session close)
    post_only: bool = False
    filled: float = 0.0
    time: int = 0  # accepted (or last lost priority) at
    seq: int = 0  # arrival sequence: the time priority within a level
    live: bool = True  # resting and not canceled (lazy deletion from the level queue)
    triggered: bool = False
    #: replay venues only: displayed quantity ahead of this order, and the displayed size last seen at its price
    ahead: float = 0.0
    shown: float = 0.0

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled


class Accepted(msgspec.Struct, gc=False, tag=True):
    time: int
    order_id: int
    resting: bool  # False while a stop waits for its trigger


class Rejected(msgspec.Struct, gc=False, tag=True):
    time: int
    order_id: int
    reason: str


class Trade(msgspec.Struct, gc=False, tag=True):
    time: int
    trade_id: int
    price: float
    quantity: float
    maker_id: int
    taker_id: int
    maker_owner: str
    taker_owner: str
    taker_side: int
    maker_fee: float
    taker_fee: float
    maker_done: bool
    taker_done: bool


class Canceled(msgspec.Struct, gc=False, tag=True):
    time: int
    order_id: int
    remaining: float
    reason: str  # "canceled", "ioc", "fok", "market_unfilled", "self_trade", "replaced"


class Expired(msgspec.Struct, gc=False, tag=True):
    time: int
    order_id: int
    remaining: float


class Triggered(msgspec.Struct, gc=False, tag=True):
    time: int
    order_id: int
    stop_price: float


class Modified(msgspec.Struct, gc=False, tag=True):
    time: int
    order_id: int
    quantity: float
    price: float
    kept_priority: bool


BookEvent = Accepted | Rejected | Trade | Canceled | Expired | Triggered | Modified

_EPS = 1e-9
_INF = math.inf
# enum members bound once: reading one off its class costs ~0.1 µs on Python 3.11 (the enum metaclass's
# __getattr__ sends every class attribute load through the slow hook)
_LIMIT = OrderType.LIMIT
_GTC = TimeInForce.GTC
_MARKET = OrderType.MARKET
_STOP_MARKET, _STOP_LIMIT, _TRAILING = OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP
_IOC, _FOK, _DAY, _GTD = TimeInForce.IOC, TimeInForce.FOK, TimeInForce.DAY, TimeInForce.GTD
_STP_NONE, _STP_RESTING, _STP_INCOMING, _STP_BOTH = STP.NONE, STP.CANCEL_RESTING, STP.CANCEL_INCOMING, STP.CANCEL_BOTH
_GTC_OR_IOC = frozenset({TimeInForce.GTC, TimeInForce.IOC})  # no expiry, no fill-or-kill check
_LIMIT_TYPES = (_LIMIT, _STOP_LIMIT)
_STOP_TYPES = (_STOP_MARKET, _STOP_LIMIT)
_BOOK_TYPES = (_MARKET, _LIMIT, _STOP_MARKET, _STOP_LIMIT, _TRAILING)
_IOC_FOK = (_IOC, _FOK)
_DAY_GTD = (_DAY, _GTD)


class Level:
    """One price: its FIFO queue (with dead entries skipped lazily) and its live quantity."""

    __slots__ = ("count", "orders", "price", "qty")

    def __init__(self, price: float) -> None:
        self.price = price
        self.orders: deque[SimOrder] = deque()
        self.qty = 0.0
        self.count = 0

    def live_orders(self) -> list[SimOrder]:
        return [o for o in self.orders if o.live]


def _on_grid(x: float, step: float) -> bool:
    """Whether ``x`` is within 1e-6 steps of a multiple of ``step``: ``abs(r - round(r)) <= 1e-6`` for
    ``r = x / step``, without making an int. The fraction ``abs(r) % 1.0`` is exact (fmod), and so is
    ``1.0 - f`` for ``f >= 0.5``, so the distance to the nearest multiple is the same float either way
    (``test_grid_check_is_the_rounding_one``); an infinite or NaN ``x`` is off the grid."""
    if step <= 0:
        return True
    f = abs(x / step) % 1.0
    return f <= 1e-6 or 1.0 - f <= 1e-6


class AcceptanceRules:
    """The exchange's rules for taking an order, shared by every simulated venue: the L3 book here and the
    replayed book (:class:`~leand.simulator.replay.ReplayVenue`), and through the book the paper venue. An
    order is validated (a reject says why); a stop is held for its trigger (a trailing stop trails from the
    venue's reference price) and may trigger at once; a post-only order that would take liquidity is rejected;
    a fill-or-kill order that cannot fill in full is accepted and canceled; anything else is accepted and
    matched. What differs between venues is only how they see the market, through the hooks below."""

    events: list[BookEvent]

    def accept(self, o: SimOrder, now: int) -> bool:
        """Take ``o`` by the rules. False when rejected (a ``Rejected`` event says why)."""
        reason = self.validate(o)
        if reason is not None:
            self.events.append(Rejected(now, o.id, reason))
            return False
        self._remember_terms(o)
        o.time = now
        o.filled = 0.0
        o.live = True
        t = o.type
        if t is _STOP_MARKET or t is _STOP_LIMIT or t is _TRAILING:
            if t is _TRAILING and o.stop_price <= 0:
                ref = self._stop_reference(o)
                o.stop_price = OrderBook._trail_from(o, ref) if ref else 0.0
            self.events.append(Accepted(now, o.id, False))
            self._hold_stop(o, now)
            return True
        if o.post_only and self._would_cross(o):
            self.events.append(Rejected(now, o.id, "post-only order would take liquidity"))
            return False
        if o.time_in_force is _FOK and self._fillable(o) + _EPS < o.quantity:
            self.events.append(Accepted(now, o.id, False))
            self.events.append(Canceled(now, o.id, o.quantity, "fok"))
            return True
        self.events.append(Accepted(now, o.id, t is _LIMIT))
        self._execute(o, now)
        return True

    def amend_reason(self, o: SimOrder, new_qty: float, new_px: float) -> str | None:
        """Why an amendment of ``o`` to ``new_qty`` at ``new_px`` is refused, or None: the rule every venue's
        modify applies before its own priority rules."""
        if new_qty <= o.filled + _EPS:
            return f"new quantity {new_qty:g} is not above the filled {o.filled:g}"
        lot, tick = self._grid()
        if not _on_grid(new_qty, lot):
            return f"quantity {new_qty:g} is not a multiple of the lot size {lot:g}"
        if o.type in _LIMIT_TYPES and (new_px <= 0 or not _on_grid(new_px, tick)):
            return f"limit price {new_px:g} is not a positive multiple of the tick size {tick:g}"
        return None

    # ---- hooks: how a venue sees its market ----------------------------------------------------------------
    def validate(self, o: SimOrder) -> str | None:
        raise NotImplementedError

    def _grid(self) -> tuple[float, float]:
        """(lot size, tick size)."""
        raise NotImplementedError

    def _remember_terms(self, o: SimOrder) -> None:
        """An order passed validation (the L3 book remembers its grid)."""

    def _stop_reference(self, o: SimOrder) -> float:
        """The price a trailing stop given no stop price trails from (0: none yet)."""
        raise NotImplementedError

    def _hold_stop(self, o: SimOrder, now: int) -> None:
        """Hold an accepted stop for its trigger, and trigger it if the market is already through it."""
        raise NotImplementedError

    def _would_cross(self, o: SimOrder) -> bool:
        raise NotImplementedError

    def _fillable(self, o: SimOrder) -> float:
        """Quantity ``o`` could take at acceptable prices now."""
        raise NotImplementedError

    def _execute(self, o: SimOrder, now: int) -> None:
        """Match ``o`` now, then rest, cancel or expire what is left."""
        raise NotImplementedError


class OrderBook(AcceptanceRules):
    """The limit order book and matching engine for one instrument."""

    def __init__(self, symbol: str = "", *, tick_size: float = 0.01, lot_size: float = 1.0,
                 min_notional: float = 0.0, maker_fee: float = 0.0, taker_fee: float = 0.0,
                 stp: STP = STP.CANCEL_INCOMING) -> None:
        self.symbol = symbol
        self.tick_size = tick_size
        self.lot_size = lot_size
        self.min_notional = min_notional
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.stp = stp
        #: 1/lot and 1/tick (0 when there is no grid): the fast path's grid checks multiply instead of divide
        #: prices and quantities already validated on the tick/lot grid (see _remember_grid)
        self._px_ok: dict[float, bool] = {}
        self._qty_ok: dict[float, bool] = {}
        # each side's levels by key (``side * price``) and its keys in ascending order: ``keys[-1]`` is the best
        self._bids: dict[float, Level] = {}
        self._asks: dict[float, Level] = {}
        self._bid_keys: list[float] = []
        self._ask_keys: list[float] = []
        self.orders: dict[int, SimOrder] = {}  # every live order: resting or waiting stops
        self.stops: dict[int, SimOrder] = {}
        self.events: list[BookEvent] = []
        self.last_trade_price = 0.0
        self._seq = 0
        self._trade_id = 0
        self._expiries: list[tuple[int, int]] = []  # heap of (expire_time, order id)

    # ---- views ------------------------------------------------------------------------------------------
    @property
    def best_bid(self) -> float | None:
        keys = self._bid_keys
        return keys[-1] if keys else None

    @property
    def best_ask(self) -> float | None:
        # the best key, negated (exact for floats)
        keys = self._ask_keys
        return -keys[-1] if keys else None

    def best_level(self, side: int) -> Level | None:
        """The best level of one side (+1 bids, -1 asks), or None when the side is empty."""
        levels, keys = (self._bids, self._bid_keys) if side > 0 else (self._asks, self._ask_keys)
        return levels[keys[-1]] if keys else None

    def levels(self, side: int) -> Iterator[Level]:
        """The levels of one side (+1 bids, -1 asks), best first, read in C (the sorted keys reversed, each
        looked up). Do not change the book while iterating."""
        if side > 0:
            return map(self._bids.__getitem__, reversed(self._bid_keys))
        return map(self._asks.__getitem__, reversed(self._ask_keys))

    def depth(self, side: int, price: float) -> float:
        """Live resting quantity at ``price`` on ``side`` (+1 bids, -1 asks)."""
        lvl = (self._bids.get(price) if side > 0 else self._asks.get(-price))
        return lvl.qty if lvl is not None else 0.0

    def top(self, n: int = 5) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """The L2 view: up to ``n`` (price, quantity) levels per side, best first."""
        bids = [(lvl.price, lvl.qty) for lvl in islice(self.levels(1), n)]
        asks = [(lvl.price, lvl.qty) for lvl in islice(self.levels(-1), n)]
        return bids, asks

    def take_trade_ids(self, n: int) -> int:
        """Reserve ``n`` consecutive trade ids for trades printed outside the matching (a venue's tape prints,
        see ``simulator/binance/tape.py``), so one id sequence numbers every trade; returns the first."""
        first = self._trade_id + 1
        self._trade_id += n
        return first

    def take_seq(self) -> int:
        """The next arrival sequence number, for an order a venue keeps outside the book for now (it goes in
        with ``restore`` at the place this number gives it, as if it had rested when the number was taken)."""
        self._seq += 1
        return self._seq

    def quotable(self, side: int, price: float, quantity: float) -> bool:
        """Whether a plain GTC limit order of ``side`` at ``price`` for ``quantity`` passes ``validate`` (the
        price and size memos first, as ``submit`` asks them)."""
        if (price in self._px_ok or self._learn_price(price)) and \
                (quantity in self._qty_ok or self._learn_quantity(quantity)) and self.min_notional <= 0.0:
            return True
        return self.validate(SimOrder(id=0, side=side, quantity=quantity, price=price)) is None

    def withdraw(self, order_id: int) -> SimOrder:
        """Take a resting order out of the book with no event, as it is (its ``seq`` keeps its place for
        ``restore``): the paper venue keeps the quoted market's orders outside the book between the requests
        that need them there."""
        o = self.orders.pop(order_id)
        side = o.side
        key = o.price if side > 0 else -o.price
        lvl = (self._bids if side > 0 else self._asks)[key]
        q = lvl.orders
        for i, r in enumerate(q):
            if r is o:
                del q[i]
                break
        lvl.qty -= o.quantity - o.filled
        lvl.count -= 1
        if lvl.count <= 0:
            self._drop_level(side, key)
        return o

    def restore(self, o: SimOrder) -> None:
        """Put a live resting order (``withdraw``'s, or one kept outside the book with a ``take_seq`` number)
        back on its level, at its place in time priority by ``seq``, with no event."""
        side = o.side
        levels, keys, key = (self._bids, self._bid_keys, o.price) if side > 0 else \
            (self._asks, self._ask_keys, -o.price)
        lvl = levels.get(key)
        if lvl is None:
            lvl = levels[key] = Level(o.price)
            if keys and key < keys[-1]:
                insort(keys, key)
            else:
                keys.append(key)
        q = lvl.orders
        seq = o.seq
        if not q or q[-1].seq < seq:
            q.append(o)
        else:
            for i, r in enumerate(q):
                if r.seq > seq:
                    q.insert(i, o)
                    break
        lvl.qty += o.quantity - o.filled
        lvl.count += 1
        self.orders[o.id] = o

    def queue(self, side: int, price: float) -> list[SimOrder]:
        """The L3 view of one level: its live orders in priority order."""
        lvl = (self._bids.get(price) if side > 0 else self._asks.get(-price))
        return lvl.live_orders() if lvl is not None else []

    def drain(self) -> list[BookEvent]:
        ev = self.events
        self.events = []
        return ev

    # ---- validation -------------------------------------------------------------------------------------
    _on_grid = staticmethod(_on_grid)

    def _remember_grid(self, o: SimOrder) -> None:
        """After ``validate`` passed a plain limit order: remember its price and quantity as on the grid, so
        the next order at the same price or size skips the arithmetic (a stream revisits a few levels and
        sizes millions of times). Only positive finite values that passed are stored, and the memo is
        bounded."""
        if len(self._px_ok) > 65536:
            self._px_ok.clear()
        if len(self._qty_ok) > 65536:
            self._qty_ok.clear()
        if o.type is _LIMIT:
            self._px_ok[o.price] = True
        self._qty_ok[o.quantity] = True

    def _learn_price(self, px: float) -> bool:
        """Whether ``px`` passes ``validate``'s limit price checks (positive, finite, on the tick grid),
        remembered when it does: a price the memo has not seen yet (a market maker's quote moving) still takes
        the one-pass path instead of the general one."""
        if not (px > 0) or px == _INF or not self._on_grid(px, self.tick_size):
            return False
        if len(self._px_ok) > 65536:
            self._px_ok.clear()
        self._px_ok[px] = True
        return True

    def _learn_quantity(self, qty: float) -> bool:
        """Likewise for ``validate``'s quantity checks (positive, finite, a multiple of the lot)."""
        if not (qty > 0) or qty == _INF or not self._on_grid(qty, self.lot_size):
            return False
        if len(self._qty_ok) > 65536:
            self._qty_ok.clear()
        self._qty_ok[qty] = True
        return True

    def validate(self, o: SimOrder) -> str | None:
        """The reject reason for an order the exchange will not take, or None."""
        t = o.type
        if (t is _MARKET or (t is _LIMIT and (o.price in self._px_ok or self._learn_price(o.price)))) \
                and (o.quantity in self._qty_ok or self._learn_quantity(o.quantity)) and not o.post_only \
                and o.time_in_force in _GTC_OR_IOC and (o.side == 1 or o.side == -1) and self.min_notional <= 0 \
                and o.id not in self.orders:
            return None  # a plain market or limit order on the grid: every check below passes (the one-pass path)
        if o.id in self.orders:
            return f"duplicate order id {o.id}"
        if o.side not in (1, -1):
            return f"side must be +1 (buy) or -1 (sell), got {o.side}"
        if not (o.quantity > 0) or math.isinf(o.quantity):
            return f"quantity must be positive, got {o.quantity}"
        if not self._on_grid(o.quantity, self.lot_size):
            return f"quantity {o.quantity:g} is not a multiple of the lot size {self.lot_size:g}"
        t = o.type
        if t in _LIMIT_TYPES:
            if not (o.price > 0) or math.isinf(o.price):
                return f"limit price must be positive, got {o.price}"
            if not self._on_grid(o.price, self.tick_size):
                return f"limit price {o.price:g} is not a multiple of the tick size {self.tick_size:g}"
        if t in _STOP_TYPES:
            if not (o.stop_price > 0):
                return f"stop price must be positive, got {o.stop_price}"
            if not self._on_grid(o.stop_price, self.tick_size):
                return f"stop price {o.stop_price:g} is not a multiple of the tick size {self.tick_size:g}"
        if t is _TRAILING and not (o.trailing_amount > 0):
            return f"trailing amount must be positive, got {o.trailing_amount}"
        if t not in _BOOK_TYPES:
            return f"order type {t.value} is not supported by the book"
        if o.post_only and (t is not _LIMIT or o.time_in_force in _IOC_FOK):
            return "post-only needs a resting limit order (not IOC/FOK)"
        if o.time_in_force in _DAY_GTD and o.expire_time <= 0:
            return f"{o.time_in_force.value} order needs an expire time"
        if self.min_notional > 0:
            ref = o.price or o.stop_price or self.last_trade_price
            if ref > 0 and o.quantity * ref < self.min_notional - _EPS:
                return f"notional {o.quantity * ref:g} is below the minimum {self.min_notional:g}"
        return None

    # ---- requests ---------------------------------------------------------------------------------------
    def submit(self, o: SimOrder, now: int) -> bool:
        """Take an order: validate, then trigger/match/rest as its type and time in force say.
        Returns False when rejected (a ``Rejected`` event says why)."""
        t = o.type
        if t is _LIMIT:
            side = o.side
            px = o.price
            # ``bound``: the opposite side's best key at or above which the order crosses (a buy crosses an ask
            # at or below px + eps, whose key is -ask; a sell a bid at or above px - eps). Negation is exact,
            # so this is the same comparison as with the prices
            if side == 1:
                levels = self._bids
                key = px
                opp = self._ask_keys
                bound = -px - _EPS
            elif side == -1:
                levels = self._asks
                key = -px
                opp = self._bid_keys
                bound = px - _EPS
            else:
                return self.accept(o, now)  # rejected there, with the reason
            # a level exists only at a price that passed validation: its lookup (needed to rest the order)
            # answers the price check too, and the memo is asked only for a price with no level yet
            lvl = levels.get(key)
            oid = o.id
            qty = o.quantity
            if o.time_in_force is _GTC and not o.post_only \
                    and (lvl is not None or px in self._px_ok or self._learn_price(px)) \
                    and (qty in self._qty_ok or self._learn_quantity(qty)) and oid not in self.orders \
                    and not (self.min_notional > 0.0 and qty * px < self.min_notional - _EPS):
                # the common case in one pass: a GTC limit at a price and size on the grid (exactly what
                # ``validate`` would pass) that does not cross simply rests. A Struct field store is a slow
                # generic setattr (~3x a slot's): the fresh order's defaults are only read, not rewritten
                o.time = now
                if o.filled:
                    o.filled = 0.0
                if not o.live:
                    o.live = True
                self.events.append(Accepted(now, oid, True))
                if opp and opp[-1] >= bound:
                    self._execute(o, now)
                    return True
                # _rest, inlined
                self._seq = o.seq = self._seq + 1
                if lvl is None:
                    lvl = levels[key] = Level(px)
                    keys = self._bid_keys if side == 1 else self._ask_keys
                    if keys and key < keys[-1]:
                        insort(keys, key)
                    else:
                        keys.append(key)  # the new best
                lvl.orders.append(o)
                lvl.qty += qty
                lvl.count += 1
                self.orders[oid] = o
                return True
        elif t is _MARKET:
            qty = o.quantity
            oid = o.id
            side = o.side
            tif = o.time_in_force
            if (qty in self._qty_ok or self._learn_quantity(qty)) and oid not in self.orders \
                    and (side == 1 or side == -1) and not o.post_only and self.min_notional <= 0.0 \
                    and (tif is _GTC or tif is _IOC):
                # a market order of a size already validated: exactly what ``validate`` would pass
                o.time = now
                if o.filled:
                    o.filled = 0.0
                if not o.live:
                    o.live = True
                self.events.append(Accepted(now, oid, False))
                self._execute(o, now)
                return True
        return self.accept(o, now)

    # ---- the acceptance rules' hooks (see AcceptanceRules) --------------------------------------------------
    def _grid(self) -> tuple[float, float]:
        return self.lot_size, self.tick_size

    def _remember_terms(self, o: SimOrder) -> None:
        if o.type is _LIMIT or o.type is _MARKET:
            self._remember_grid(o)

    def _stop_reference(self, o: SimOrder) -> float:
        return self.last_trade_price

    def _hold_stop(self, o: SimOrder, now: int) -> None:
        self.orders[o.id] = o
        self.stops[o.id] = o
        self._track_expiry(o)
        if self.last_trade_price and self._stop_hit(o, self.last_trade_price):
            self._trigger(o, now)

    def cancel(self, order_id: int, now: int, reason: str = "canceled") -> SimOrder:
        o = self.orders.pop(order_id, None)
        if o is None:
            raise BookError(f"cancel: unknown order id {order_id} (never seen, already filled or canceled)")
        left = o.quantity - o.filled
        if o.live and (not self.stops or order_id not in self.stops):  # a resting order: _remove, inlined
            o.live = False
            if o.side > 0:
                levels = self._bids
                key = o.price
            else:
                levels = self._asks
                key = -o.price
            lvl = levels.get(key)
            if lvl is not None:
                lvl.qty -= left
                lvl.count -= 1
                if lvl.count <= 0:
                    self._drop_level(o.side, key)
        else:
            self._remove(o)
        self.events.append(Canceled(now, order_id, left, reason))
        return o

    def modify(self, order_id: int, now: int, *, quantity: float | None = None, price: float | None = None,
               stop_price: float | None = None, trailing_amount: float | None = None) -> bool:
        """Amend a resting order in place. A size decrease keeps the order's place; a price change or a
        size increase sends it to the back (and may trade, as a new order would). A stop waiting for its
        trigger may also get a new stop price or trailing amount (it is not in the book yet: no priority)."""
        o = self.orders.get(order_id)
        if o is None:
            raise BookError(f"modify: unknown order id {order_id}")
        if stop_price is not None or trailing_amount is not None:
            if o.id not in self.stops:
                self.events.append(Rejected(now, order_id, "only a stop waiting for its trigger has a stop price "
                                                           "or trailing amount to change"))
                return False
            if stop_price is not None and (not (stop_price > 0) or not self._on_grid(stop_price, self.tick_size)):
                self.events.append(Rejected(now, order_id, f"stop price {stop_price:g} is not a positive multiple "
                                                           f"of the tick size {self.tick_size:g}"))
                return False
            if trailing_amount is not None and (o.type is not OrderType.TRAILING_STOP or not (trailing_amount > 0)):
                self.events.append(Rejected(now, order_id, f"trailing amount {trailing_amount:g} needs a trailing "
                                                           "stop and a positive amount"))
                return False
        new_qty = o.quantity if quantity is None else quantity
        new_px = o.price if price is None else price
        reason = self.amend_reason(o, new_qty, new_px)
        if reason is not None:
            self.events.append(Rejected(now, order_id, reason))
            return False
        if o.id in self.stops:  # not in the book yet: nothing to keep or lose
            o.quantity, o.price = new_qty, new_px
            if trailing_amount is not None:
                o.trailing_amount = trailing_amount
            if stop_price is not None:
                o.stop_price = stop_price
            self.events.append(Modified(now, order_id, new_qty, new_px, True))
            return True
        if new_px == o.price and new_qty <= o.quantity:
            lvl = self._level_of(o)
            lvl.qty -= o.quantity - new_qty
            o.quantity = new_qty
            self.events.append(Modified(now, order_id, new_qty, new_px, True))
            return True
        if o.post_only:
            probe = msgspec.structs.replace(o, price=new_px)
            if self._would_cross(probe):
                self.events.append(Rejected(now, order_id, "post-only order would take liquidity"))
                return False
        lvl = self._level_of(o)
        self._remove(o)
        # lazy deletion left ``o`` in its old queue: drop that entry, or reviving ``o`` below would make
        # it live again at its old place (and price) as well as at its new one
        for i, r in enumerate(lvl.orders):
            if r is o:
                del lvl.orders[i]
                break
        o.quantity, o.price, o.time, o.live = new_qty, new_px, now, True
        self.events.append(Modified(now, order_id, new_qty, new_px, False))
        self._execute(o, now)
        return True

    def cancel_replace(self, order_id: int, new: SimOrder, now: int) -> bool:
        """Cancel ``order_id`` and submit ``new`` in one step (the new order starts at the back)."""
        self.cancel(order_id, now, "replaced")
        return self.submit(new, now)

    def expire(self, now: int) -> None:
        """Expire DAY/GTD orders whose time has come (call on the clock's ticks)."""
        h = self._expiries
        while h and h[0][0] <= now:
            _, oid = heapq.heappop(h)
            o = self.orders.get(oid)
            if o is not None and 0 < o.expire_time <= now:
                self._remove(o)
                self.events.append(Expired(now, oid, o.remaining))

    def on_trade_print(self, price: float, now: int) -> None:
        """A trade printed elsewhere (market data): moves trailing stops and triggers stops."""
        self.last_trade_price = price
        if self.stops:
            self._check_stops(price, now)

    def on_touch(self, bid: float, ask: float, now: int) -> None:
        """Quote-only market data (no trade prints): each stop trails and triggers on the price it would trade
        at, a buy stop on the ask and a sell stop on the bid (a side quoted 0 is unknown: its stops wait)."""
        if not self.stops:
            return
        fired = []
        for o in self.stops.values():
            px = ask if o.side > 0 else bid
            if not px:
                continue
            if o.type is _TRAILING:
                trail = self._trail_from(o, px)
                if o.stop_price <= 0 or (trail < o.stop_price if o.side > 0 else trail > o.stop_price):
                    o.stop_price = trail
            if self._stop_hit(o, px):
                fired.append(o)
        for o in sorted(fired, key=lambda s: s.id):
            if o.id in self.stops:
                self._trigger(o, now)

    # ---- internals --------------------------------------------------------------------------------------
    def _track_expiry(self, o: SimOrder) -> None:
        if o.time_in_force in _DAY_GTD and o.expire_time > 0:
            heapq.heappush(self._expiries, (o.expire_time, o.id))

    def _would_cross(self, o: SimOrder) -> bool:
        if o.side > 0:
            ask = self.best_ask
            return ask is not None and ask <= o.price + _EPS
        bid = self.best_bid
        return bid is not None and bid >= o.price - _EPS

    def _fillable(self, o: SimOrder) -> float:
        """Quantity available to ``o`` at acceptable prices, not counting its owner's own orders
        (those would be prevented, not traded)."""
        total = 0.0
        limit = o.price if o.type in _LIMIT_TYPES else None
        # CANCEL_INCOMING/CANCEL_BOTH end the incoming order at its owner's first resting order
        stops_at_own = self.stp is _STP_INCOMING or self.stp is _STP_BOTH
        for lvl in self.levels(-o.side):
            if limit is not None and (lvl.price > limit + _EPS if o.side > 0 else lvl.price < limit - _EPS):
                break
            if self.stp is _STP_NONE or not o.owner:
                total += lvl.qty
            else:
                for r in lvl.orders:
                    if not r.live:
                        continue
                    if r.owner == o.owner:
                        if stops_at_own:
                            return total
                        continue
                    total += r.remaining
            if total >= o.quantity:
                break
        return total

    def _level_of(self, o: SimOrder) -> Level:
        return self._bids[o.price] if o.side > 0 else self._asks[-o.price]

    def _drop_level(self, side: int, key: float) -> None:
        """Take the (empty) level at ``key`` off ``side``: its key leaves the sorted list by ``pop()`` when it
        is the best, else by bisection."""
        levels, keys = (self._bids, self._bid_keys) if side > 0 else (self._asks, self._ask_keys)
        del levels[key]
        if keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect_left(keys, key)]

    def _remove(self, o: SimOrder) -> None:
        self.orders.pop(o.id, None)
        if self.stops.pop(o.id, None) is not None:
            o.live = False
            return
        if not o.live:
            return
        o.live = False
        key = o.price if o.side > 0 else -o.price
        lvl = (self._bids if o.side > 0 else self._asks).get(key)
        if lvl is None:
            return
        lvl.qty -= o.remaining
        lvl.count -= 1
        if lvl.count <= 0:
            self._drop_level(o.side, key)

    def _rest(self, o: SimOrder) -> None:
        self._seq += 1
        o.seq = self._seq
        levels, keys, key = (self._bids, self._bid_keys, o.price) if o.side > 0 else \
            (self._asks, self._ask_keys, -o.price)
        lvl = levels.get(key)
        if lvl is None:
            lvl = levels[key] = Level(o.price)
            if keys and key < keys[-1]:
                insort(keys, key)
            else:
                keys.append(key)
        lvl.orders.append(o)
        lvl.qty += o.quantity - o.filled
        lvl.count += 1
        self.orders[o.id] = o
        if o.time_in_force is not _GTC:
            self._track_expiry(o)

    def _execute(self, o: SimOrder, now: int) -> None:
        """Match ``o`` against the opposite side, then rest, cancel or expire what is left.

        ``o`` is not in ``self.orders`` (every caller checked it is new or took it out). The incoming order's
        fill, its id and the fee rates are kept in locals for the loop; ``o.filled`` is written back when the
        matching stops (the events carry the numbers; nothing reads the order in between)."""
        t = o.type
        limit_order = t is _LIMIT or t is _STOP_LIMIT
        side = o.side
        if side > 0:
            book, keys = self._asks, self._ask_keys
            limit = o.price + _EPS
        else:
            book, keys = self._bids, self._bid_keys
            limit = o.price - _EPS
        events = self.events
        orders = self.orders
        owner = o.owner
        stp_on = self.stp is not _STP_NONE and owner != ""
        maker_fee, taker_fee = self.maker_fee, self.taker_fee
        oq = o.quantity
        ofilled = o.filled
        oid = o.id
        tid = self._trade_id
        last_px = 0.0
        want = oq - ofilled  # what is left of the incoming order, recomputed from ``ofilled`` after each fill
        if want > _EPS:
            while keys:
                lvl: Level = book[keys[-1]]  # the best level
                px = lvl.price
                if limit_order and (px > limit if side > 0 else px < limit):
                    break
                q = lvl.orders
                while q:
                    r = q[0]
                    if not r.live:
                        q.popleft()
                        continue
                    if stp_on and r.owner == owner:
                        mode = self.stp
                        if mode is _STP_RESTING or mode is _STP_BOTH:
                            # take the resting order out here: the level is in use, _remove would delete it
                            r.live = False
                            q.popleft()
                            lvl.count -= 1
                            lvl.qty -= r.quantity - r.filled
                            orders.pop(r.id, None)
                            events.append(Canceled(now, r.id, r.quantity - r.filled, "self_trade"))
                        if mode is _STP_INCOMING or mode is _STP_BOTH:
                            if lvl.count <= 0:
                                del book[keys.pop()]
                            o.filled = ofilled
                            self._trade_id = tid
                            o.live = False
                            events.append(Canceled(now, oid, want, "self_trade"))
                            self._after_trades(last_px, now)
                            return
                        continue
                    rq = r.quantity
                    rfilled = r.filled
                    rleft = rq - rfilled
                    qty = want if want < rleft else rleft  # min(rleft, want)
                    r.filled = rfilled = rfilled + qty
                    ofilled += qty
                    want = oq - ofilled
                    lvl.qty -= qty
                    tid += 1
                    notional = qty * px
                    r_done = rq - rfilled <= _EPS
                    o_done = want <= _EPS
                    events.append(Trade(now, tid, px, qty, r.id, oid, r.owner, owner, side,
                                        notional * maker_fee, notional * taker_fee, r_done, o_done))
                    last_px = px
                    if r_done:
                        r.live = False
                        q.popleft()
                        lvl.count -= 1
                        orders.pop(r.id, None)
                    if o_done:
                        break
                # the queue ran out (its level is empty) or the incoming order is filled
                if lvl.count <= 0:
                    del book[keys.pop()]
                if want <= _EPS:
                    break
        if last_px:  # traded (a price is positive)
            o.filled = ofilled
            self._trade_id = tid
        if want > _EPS:
            if t is _MARKET or t is _STOP_MARKET or t is _TRAILING:
                o.live = False
                events.append(Canceled(now, oid, want, "market_unfilled"))
            elif o.time_in_force is _IOC or o.time_in_force is _FOK:
                o.live = False
                events.append(Canceled(now, oid, want, "ioc"))
            else:
                self._rest(o)
        else:
            o.live = False
        if last_px:  # _after_trades, inlined
            self.last_trade_price = last_px
            if self.stops:
                self._check_stops(last_px, now)

    def _after_trades(self, last_px: float, now: int) -> None:
        if last_px:
            self.last_trade_price = last_px
            if self.stops:
                self._check_stops(last_px, now)

    @staticmethod
    def _trail_from(o: SimOrder, px: float) -> float:
        amt = px * o.trailing_amount if o.trailing_as_percentage else o.trailing_amount
        return px + amt if o.side > 0 else px - amt

    @staticmethod
    def _stop_hit(o: SimOrder, px: float) -> bool:
        return px >= o.stop_price - _EPS if o.side > 0 else px <= o.stop_price + _EPS

    def _check_stops(self, px: float, now: int) -> None:
        """A trade at ``px``: every stop trails and triggers on that one price (the touch rule with bid = ask)."""
        self.on_touch(px, px, now)

    def _trigger(self, o: SimOrder, now: int) -> None:
        del self.stops[o.id]
        self.orders.pop(o.id, None)
        o.triggered = True
        self.events.append(Triggered(now, o.id, o.stop_price))
        if o.time_in_force is TimeInForce.FOK and self._fillable(o) + _EPS < o.quantity:
            o.live = False  # fill or kill applies when the stop becomes an order, as in submit
            self.events.append(Canceled(now, o.id, o.quantity, "fok"))
            return
        self._execute(o, now)
