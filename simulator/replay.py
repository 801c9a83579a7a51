"""A venue that replays recorded market data and matches one participant's orders against it.

The market's own orders are known only as displayed size per price (an :class:`~leand.simulator.l2.L2Book`
rebuilt from L1 quotes, L2 deltas and trade prints); the participant's orders are held individually (L3),
each with its place in the queue at its price. That place follows a :mod:`queue model <leand.simulator.models>`:

* a marketable order takes the displayed liquidity level by level at the levels' prices (taker), and the
  levels it took shrink until the recording next updates them;
* a resting order joins behind the displayed size at its price; trades printing at its price eat the
  queue ahead of it first, then fill it; displayed size that disappears without a trade advances it as the
  queue model says; a trade printing *through* its price, or the opposite side quoting at or through it,
  fills what is left (maker);
* stops trigger on trade prints (on the touch for quote-only data) and then act as market or limit orders.

Time is the caller's: every method takes the exchange time ``t`` of the event (the recording's time for
market data; the arrival time, after entry latency, for requests). Results are appended to ``events`` as the
same Structs the L3 :class:`~leand.simulator.book.OrderBook` emits, so one consumer handles both.
"""

from __future__ import annotations

from leand.model import OrderType, TimeInForce
from leand.simulator.book import (
    AcceptanceRules,
    BookError,
    BookEvent,
    Canceled,
    Expired,
    Modified,
    OrderBook,
    Rejected,
    SimOrder,
    Trade,
    Triggered,
)
from leand.simulator.l2 import L2Book, apply_deltas_quiet
from leand.simulator.models import QueueModel, queue_model

_EPS = 1e-9
_MARKETS = (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TRAILING_STOP)


class ReplayVenue(AcceptanceRules):
    """One instrument's recorded book plus one participant's orders in it. It takes and amends orders by the
    L3 book's rules (:class:`~leand.simulator.book.AcceptanceRules`); it matches differently because the market's own
    orders are not known one by one here, only the displayed size per price, so the participant's place in a
    queue is modeled (:mod:`~leand.simulator.models`) instead of known."""

    def __init__(self, symbol: str = "", *, tick_size: float = 0.01, lot_size: float = 1.0,
                 min_notional: float = 0.0, maker_fee: float = 0.0, taker_fee: float = 0.0,
                 queue: str | QueueModel = "conservative", owner: str = "strategy") -> None:
        self.symbol = symbol
        self.book = L2Book(symbol)
        self.queue = queue_model(queue)
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.owner = owner
        # the exchange's rules, shared with the L3 book so rejects read the same everywhere
        self._rules = OrderBook(symbol, tick_size=tick_size, lot_size=lot_size, min_notional=min_notional)
        self.orders: dict[int, SimOrder] = {}  # live: resting or waiting stops
        self.resting: list[SimOrder] = []
        self.stops: list[SimOrder] = []
        self.events: list[BookEvent] = []
        self.last_trade = 0.0
        self.has_trades = False
        self._trade_id = 0
        #: True while nothing has happened since _after_book last ran (it is then a fixed point: running it
        #: again on a book whose best prices and levels at our prices are unchanged does nothing)
        self._settled = False
        self._watch: set[tuple[int, float]] = set()  # (side, price) of our resting orders when settled

    def drain(self) -> list[BookEvent]:
        ev = self.events
        self.events = []
        return ev

    # ---- market data ------------------------------------------------------------------------------------
    def on_quote(self, t: int, bid: float, bid_size: float, ask: float, ask_size: float) -> None:
        self._settled = False
        self.book.set_quote(bid, bid_size, ask, ask_size)
        if self.resting:
            self._after_book(t)
        if self.stops and not self.has_trades:
            self._check_stops(t, None)

    def on_delta(self, t: int, seq: int, side: int, price: float, size: float) -> None:
        if self.book.apply_delta(seq, side, price, size) and self.resting:
            self._after_book(t)

    def on_deltas(self, t: list[int], seq: list[int], side: list[int], price: list[float],
                  size: list[float]) -> None:
        """A run of deltas, the same as :meth:`on_delta` on each: while our orders are settled, the deltas
        none of them can see (away from their prices, not moving a best price) are applied in one loop."""
        book = self.book
        n = len(seq)
        i = 0
        while i < n:
            if self._settled:
                i = apply_deltas_quiet(book, seq, side, price, size, i, self._watch)
                if i >= n:
                    return
            self.on_delta(t[i], seq[i], side[i], price[i], size[i])
            i += 1

    def on_snapshot(self, t: int, seq: int, bids: list, asks: list) -> None:
        self._settled = False
        self.book.apply_snapshot(seq, bids, asks)
        if self.resting:
            self._after_book(t)

    def on_trade(self, t: int, price: float, qty: float) -> None:
        """A trade printed in the market (not ours)."""
        self._settled = False
        self.last_trade = price
        self.has_trades = True
        if self.resting:
            for o in list(self.resting):
                p = o.price
                if o.side > 0:
                    if price < p - _EPS:
                        self._fill(o, o.quantity - o.filled, p, t, maker=True)
                    elif abs(price - p) <= _EPS:
                        o.ahead, got = self.queue.on_trade(o.ahead, qty)
                        if got > 0:
                            self._fill(o, min(got, o.quantity - o.filled), p, t, maker=True)
                else:
                    if price > p + _EPS:
                        self._fill(o, o.quantity - o.filled, p, t, maker=True)
                    elif abs(price - p) <= _EPS:
                        o.ahead, got = self.queue.on_trade(o.ahead, qty)
                        if got > 0:
                            self._fill(o, min(got, o.quantity - o.filled), p, t, maker=True)
        if self.stops:
            self._check_stops(t, price)

    def _after_book(self, t: int) -> None:
        """The displayed book changed: crossed orders fill, queue places move."""
        book = self.book
        bb, ba = book.best_bid, book.best_ask
        for o in list(self.resting):
            p = o.price
            if o.side > 0:
                if ba and ba <= p + _EPS:
                    self._fill(o, o.quantity - o.filled, p, t, maker=True)
                    continue
                shown = book.bids.get(p, 0.0)
                if shown == 0.0 and (not bb or bb < p - _EPS):
                    o.ahead = 0.0  # the level emptied and nobody better is shown: we are the best bid
            else:
                if bb and bb >= p - _EPS:
                    self._fill(o, o.quantity - o.filled, p, t, maker=True)
                    continue
                shown = book.asks.get(p, 0.0)
                if shown == 0.0 and (not ba or ba > p + _EPS):
                    o.ahead = 0.0
            if shown != o.shown:
                if shown < o.shown:
                    o.ahead = self.queue.on_depth_change(o.ahead, o.shown, shown)
                o.shown = shown
        self._watch = {(o.side, o.price) for o in self.resting}
        self._settled = True

    # ---- requests (at their arrival time) -----------------------------------------------------------------
    def submit(self, o: SimOrder, t: int) -> bool:
        """Take an order by the exchange's rules (:class:`~leand.simulator.book.AcceptanceRules`, the L3
        book's own), matched against the displayed book."""
        self._settled = False
        o.owner = o.owner or self.owner
        return self.accept(o, t)

    # ---- the acceptance rules' hooks: the market is the displayed book ------------------------------------
    def validate(self, o: SimOrder) -> str | None:
        if o.id in self.orders:
            return f"duplicate order id {o.id}"
        rules = self._rules
        rules.last_trade_price = self.last_trade or self._mid()  # the minimum notional's reference
        return rules.validate(o)

    def _grid(self) -> tuple[float, float]:
        return self._rules.lot_size, self._rules.tick_size

    def _stop_reference(self, o: SimOrder) -> float:
        return self.last_trade or self._mid()

    def _hold_stop(self, o: SimOrder, now: int) -> None:
        self.orders[o.id] = o
        self.stops.append(o)
        self._check_stops(now, self.last_trade if self.has_trades else None)

    def _would_cross(self, o: SimOrder) -> bool:
        return self._crosses(o)

    def _fillable(self, o: SimOrder) -> float:
        return self._available(o)

    def cancel(self, order_id: int, t: int, reason: str = "canceled") -> SimOrder:
        self._settled = False
        o = self.orders.get(order_id)
        if o is None:
            raise BookError(f"cancel: unknown order id {order_id} (never seen, already filled or canceled)")
        self._drop(o)
        self.events.append(Canceled(t, order_id, o.quantity - o.filled, reason))
        return o

    def modify(self, order_id: int, t: int, *, quantity: float | None = None, price: float | None = None) -> bool:
        """A size decrease keeps the queue place; a price change or size increase starts at the back."""
        self._settled = False
        o = self.orders.get(order_id)
        if o is None:
            raise BookError(f"modify: unknown order id {order_id}")
        new_qty = o.quantity if quantity is None else quantity
        new_px = o.price if price is None else price
        reason = self.amend_reason(o, new_qty, new_px)
        if reason is not None:
            self.events.append(Rejected(t, order_id, reason))
            return False
        if o in self.stops or (new_px == o.price and new_qty <= o.quantity):
            o.quantity, o.price = new_qty, new_px
            self.events.append(Modified(t, order_id, new_qty, new_px, True))
            return True
        probe = SimOrder(id=o.id, side=o.side, quantity=new_qty, type=o.type, price=new_px, post_only=o.post_only)
        if o.post_only and self._crosses(probe):
            self.events.append(Rejected(t, order_id, "post-only order would take liquidity"))
            return False
        self._drop(o)
        o.quantity, o.price, o.time, o.live = new_qty, new_px, t, True
        self.events.append(Modified(t, order_id, new_qty, new_px, False))
        self._execute(o, t)
        return True

    def expire(self, t: int) -> None:
        self._settled = False
        for o in [o for o in self.orders.values() if 0 < o.expire_time <= t]:
            self._drop(o)
            self.events.append(Expired(t, o.id, o.quantity - o.filled))

    # ---- internals --------------------------------------------------------------------------------------
    def _mid(self) -> float:
        b, a = self.book.best_bid, self.book.best_ask
        return (b + a) / 2 if b and a else (b or a)

    def _crosses(self, o: SimOrder) -> bool:
        if o.side > 0:
            a = self.book.best_ask
            return bool(a) and a <= o.price + _EPS
        b = self.book.best_bid
        return bool(b) and b >= o.price - _EPS

    def _levels(self, o: SimOrder):
        """Opposite levels ``o`` may take, best first, as (price, size)."""
        limit = None if o.type in _MARKETS else o.price
        if o.side > 0:
            for p, s in self.book.levels(-1):
                if limit is not None and p > limit + _EPS:
                    return
                yield p, s
        else:
            for p, s in self.book.levels(1):
                if limit is not None and p < limit - _EPS:
                    return
                yield p, s

    def _available(self, o: SimOrder) -> float:
        total = 0.0
        for _, s in self._levels(o):
            total += s
            if total >= o.quantity:
                break
        return total

    def _execute(self, o: SimOrder, t: int) -> None:
        taken = []
        left = o.quantity - o.filled
        for p, s in self._levels(o):
            if left <= _EPS:
                break
            q = min(s, left)
            taken.append((p, q))
            left -= q
        for p, q in taken:
            self.book.take(-o.side, p, q)
            self._fill(o, q, p, t, maker=False)
        left = o.quantity - o.filled
        if left <= _EPS:
            return
        if o.type in _MARKETS:
            self.events.append(Canceled(t, o.id, left, "market_unfilled"))
            o.live = False
            self.orders.pop(o.id, None)
        elif o.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            self.events.append(Canceled(t, o.id, left, "ioc"))
            o.live = False
            self.orders.pop(o.id, None)
        else:
            o.shown = self.book.depth(o.side, o.price)
            o.ahead = o.shown
            self.orders[o.id] = o
            self.resting.append(o)

    def _fill(self, o: SimOrder, qty: float, price: float, t: int, *, maker: bool) -> None:
        if qty <= _EPS:
            return
        o.filled += qty
        done = o.quantity - o.filled <= _EPS
        self._trade_id += 1
        notional = qty * price
        if maker:
            self.events.append(Trade(t, self._trade_id, price, qty, o.id, 0, o.owner, "market", -o.side,
                                     notional * self.maker_fee, 0.0, done, False))
        else:
            self.events.append(Trade(t, self._trade_id, price, qty, 0, o.id, "market", o.owner, o.side,
                                     0.0, notional * self.taker_fee, False, done))
        if done:
            self._drop(o)

    def _drop(self, o: SimOrder) -> None:
        o.live = False
        self.orders.pop(o.id, None)
        if o in self.resting:
            self.resting.remove(o)
        elif o in self.stops:
            self.stops.remove(o)

    def _check_stops(self, t: int, trade_px: float | None) -> None:
        book = self.book
        for o in list(self.stops):
            # the price that triggers: the last trade, or for quote-only data the touch the stop would hit
            px = trade_px if trade_px is not None else (book.best_ask if o.side > 0 else book.best_bid)
            if not px:
                continue
            if o.type is OrderType.TRAILING_STOP:
                trail = OrderBook._trail_from(o, px)
                if o.stop_price <= 0 or (trail < o.stop_price if o.side > 0 else trail > o.stop_price):
                    o.stop_price = trail
            if (px >= o.stop_price - _EPS) if o.side > 0 else (px <= o.stop_price + _EPS):
                self.stops.remove(o)
                self.orders.pop(o.id, None)
                o.triggered = True
                self.events.append(Triggered(t, o.id, o.stop_price))
                self._execute(o, t)


def replay_records(venue: ReplayVenue, records) -> int:
    """Drive ``venue`` with a chunk of :mod:`leand.simulator.l2file` records in order; returns how many were
    applied. Runs of deltas go through :func:`~leand.simulator.l2.apply_deltas` while none of our orders rests
    (nothing to re-check after each update); otherwise each record is applied and checked on its own."""
    from leand.simulator.l2 import apply_deltas
    from leand.simulator.l2file import DELTA, SNAP_END, SNAP_LEVEL, SNAP_START, TRADE

    t = records["time"].tolist()
    seq = records["seq"].tolist()
    kind = records["kind"].tolist()
    side = records["side"].tolist()
    px = records["price"].tolist()
    sz = records["size"].tolist()
    n = len(t)
    i = 0
    snap: tuple[int, list, list] | None = None
    while i < n:
        k = kind[i]
        if k == DELTA:
            if snap is None:
                j = i
                while j < n and kind[j] == DELTA:
                    j += 1
                if venue.resting:
                    venue.on_deltas(t[i:j], seq[i:j], side[i:j], px[i:j], sz[i:j])
                else:
                    apply_deltas(venue.book, seq[i:j], side[i:j], px[i:j], sz[i:j])
                i = j
                continue
            venue.on_delta(t[i], seq[i], side[i], px[i], sz[i])
        elif k == TRADE:
            venue.on_trade(t[i], px[i], sz[i])
        elif k == SNAP_START:
            snap = (seq[i], [], [])
        elif k == SNAP_LEVEL and snap is not None:
            (snap[1] if side[i] > 0 else snap[2]).append((px[i], sz[i]))
        elif k == SNAP_END and snap is not None:
            venue.on_snapshot(t[i], snap[0], snap[1], snap[2])
            snap = None
        i += 1
    return n
