"""The simulated exchange as a backtest brokerage: orders for chosen symbols rest in a replayed book
(:class:`leand.simulator.replay.ReplayVenue`) with a queue-position model and latencies; every other symbol keeps
the bar fill models. Strategies see the same ``ExecutionClient`` either way.

Latency on one virtual clock. The engine hands each slice to the venue (exchange time ``t``) before the
strategy sees it; the strategy therefore effectively sees data ``md`` late if its orders are delayed by
``md`` too. So an order sent at ``now`` reaches the venue at ``now + md + entry``, and a venue event at ``tx``
reaches the strategy at ``tx + max(response - md, 0)``: the same ordering of everything the strategy and
the venue see as with a separately delayed feed, on one timeline. Requests and responses in flight are
clock alerts, so they interleave exactly with data in time order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leand.execution import ExecutionClient
from leand.model import BookDelta, BookSnapshot, OrderStatus, OrderType, QuoteTick, TradeTick, UpdateRequest
from leand.simulator.book import (
    BookError,
    Canceled,
    Expired,
    Modified,
    Rejected,
    SimOrder,
    Trade,
)
from leand.simulator.models import Latency
from leand.simulator.replay import ReplayVenue

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.model import Order, Symbol


class SimulatedBooks:
    """The simulated exchange a backtest engine's ``use_order_book``/``add_book_data`` match in (an
    :class:`~leand.execution.OrderBookMarket`): a :class:`ReplayVenue` per chosen symbol behind one
    :class:`BookBrokerage` that keeps the bar fill models for every other symbol."""

    def _brokerage(self, engine: Engine) -> BookBrokerage:
        b = engine.brokerage
        return b if isinstance(b, BookBrokerage) else BookBrokerage(engine, b)

    def use_order_book(self, engine: Engine, symbol: Symbol, *, queue: Any = "conservative", latency: Any = None,
                       maker_fee: float | None = None, taker_fee: float | None = None,
                       min_notional: float = 0.0) -> BookBrokerage:
        inst = engine.securities[symbol].instrument
        venue = ReplayVenue(str(symbol), tick_size=inst.tick_size, lot_size=inst.lot_size, min_notional=min_notional,
                            maker_fee=maker_fee or 0.0, taker_fee=taker_fee or 0.0, queue=queue,
                            owner=engine.strategy_id)  # ValueError: a bad model or grid, said by the engine
        b = self._brokerage(engine)
        b.add(symbol, venue, latency if latency is not None else Latency(),
              maker_fee is not None or taker_fee is not None)
        return b

    def book_stream(self, symbol: Symbol, path: Path | Sequence[Path]) -> Callable[[int, int], Iterator[Any]]:
        from leand.backtest.book_data import l2_stream
        from leand.simulator.l2file import L2FormatError

        try:
            return l2_stream(symbol, path)
        except L2FormatError as e:
            raise ValueError(str(e)) from None

    def feed_from_book(self, engine: Engine, symbol: Symbol) -> BookBrokerage:
        b = self._brokerage(engine)
        if symbol not in b.venues:
            b = self.use_order_book(engine, symbol)
        b.book_fed.add(symbol)
        return b


class BookBrokerage(ExecutionClient):
    name = "book"

    def __init__(self, engine: Engine, fallback: ExecutionClient) -> None:
        self.engine = engine
        self.fallback = fallback
        self.venues: dict[Symbol, ReplayVenue] = {}
        self.latency: dict[Symbol, Latency] = {}
        self._fees: dict[Symbol, bool] = {}
        self._orders: dict[int, Order] = {}  # engine orders in the book, by id
        #: symbols whose only data is a recorded book: the venue's touch is their price
        self.book_fed: set[Symbol] = set()
        self.requests = 0  # requests that reached a venue (for benchmarks)

    def add(self, symbol: Symbol, venue: ReplayVenue, latency: Latency, venue_fees: bool) -> None:
        self.venues[symbol] = venue
        self.latency[symbol] = latency
        self._fees[symbol] = venue_fees

    # ---- data: the venue sees each slice before the strategy -------------------------------------------
    def on_slice(self, t: int, events: tuple) -> None:
        venues = self.venues
        book_fed = self.book_fed
        for ev in events:
            v = venues.get(ev.symbol)
            if v is None:
                continue
            cls = ev.__class__
            if cls is QuoteTick:
                if not ev.suspicious:
                    v.on_quote(t, ev.bid_price, ev.bid_size, ev.ask_price, ev.ask_size)
            elif cls is TradeTick:
                if not ev.suspicious:
                    v.on_trade(t, ev.price, ev.quantity)
                    if ev.symbol in book_fed:
                        self._touch(ev.symbol, v, ev.price)
            elif cls is BookDelta:
                v.on_delta(t, ev.sequence, 1 if ev.is_bid else -1, ev.price, ev.size)
                self._touch(ev.symbol, v)
            elif cls is BookSnapshot:
                v.on_snapshot(t, ev.sequence, [(x.price, x.size) for x in ev.bids], [(x.price, x.size) for x in ev.asks])
                self._touch(ev.symbol, v)
            if v.events:
                self._deliver(ev.symbol, v.drain(), t)

    def _touch(self, sym: Symbol, v: ReplayVenue, last: float = 0.0) -> None:
        """A recorded book is the security's only price source: keep its bid/ask (and last) current."""
        sec = self.engine.securities[sym]
        b = v.book
        if b.bids:
            sec.bid, sec.bid_size = b.best_bid, b.bid_size
        if b.asks:
            sec.ask, sec.ask_size = b.best_ask, b.ask_size
        if last:
            sec.price = last
        elif sec.bid and sec.ask:
            sec.price = (sec.bid + sec.ask) / 2

    # ---- requests -------------------------------------------------------------------------------------
    def async_cancel(self, order: Order) -> bool:
        return order.symbol in self.venues

    def _submit(self, order: Order, now_ns: int) -> None:
        if order.symbol not in self.venues:
            self.fallback._submit(order, now_ns)
            return
        self._orders[order.id] = order
        sim = SimOrder(id=order.id, owner=order.strategy_id or "strategy", side=1 if order.quantity > 0 else -1,
                       quantity=abs(order.quantity), type=order.type, price=order.limit_price or 0.0,
                       stop_price=order.stop_price or 0.0, trailing_amount=order.trailing_amount or 0.0,
                       trailing_as_percentage=order.trailing_as_percentage, time_in_force=order.time_in_force,
                       expire_time=order.expire_time or 0, post_only=order.post_only)
        if order.type is OrderType.TRAILING_STOP:
            sim.stop_price = 0.0  # the venue trails from its own prices
        self._send(order.symbol, now_ns, lambda v, t: v.submit(sim, t))

    def _cancel(self, order: Order, now_ns: int) -> bool:
        if order.symbol not in self.venues:
            return self.fallback._cancel(order, now_ns)

        def cancel(v: ReplayVenue, t: int) -> None:
            # filled or closed before the cancel arrived: that event is already on its way
            with contextlib.suppress(BookError):
                v.cancel(order.id, t)
        self._send(order.symbol, now_ns, cancel)
        return True

    def _modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        if order.symbol not in self.venues:
            self.fallback._modify(order, update, now_ns)
            return
        qty = abs(update.quantity) if update.quantity is not None else None
        px = update.limit_price

        def modify(v: ReplayVenue, t: int) -> None:
            with contextlib.suppress(BookError):
                v.modify(order.id, t, quantity=qty, price=px)
        self._send(order.symbol, now_ns, modify)

    def scan(self, now_ns: int) -> None:
        self.fallback.scan(now_ns)
        for sym, v in self.venues.items():
            if v.orders:
                v.expire(now_ns)
                if v.events:
                    self._deliver(sym, v.drain(), now_ns)

    def end_of_step(self, now_ns: int) -> None:
        self.fallback.end_of_step(now_ns)

    # ---- in flight ------------------------------------------------------------------------------------
    def _send(self, sym: Symbol, now: int, act) -> None:
        lat = self.latency[sym]
        arrive = now + lat.market_data() + lat.entry()
        v = self.venues[sym]

        def arrive_cb(t: int) -> None:
            self.requests += 1
            act(v, t)
            if v.events:
                self._deliver(sym, v.drain(), t)
        if arrive <= now:
            arrive_cb(now)
        else:
            self.engine.clock.set_time_alert("book-request", arrive, arrive_cb)

    def _deliver(self, sym: Symbol, events: list, tx: int) -> None:
        lat = self.latency[sym]
        delay = lat.response() - lat.market_data()
        if delay <= 0:
            self._apply(sym, events)
        else:
            self.engine.clock.set_time_alert("book-response", tx + delay, lambda _t: self._apply(sym, events))

    def _apply(self, sym: Symbol, events: list) -> None:
        eng = self.engine
        fees = self._fees[sym]
        for ev in events:
            cls = ev.__class__
            if cls is Trade:
                oid = ev.maker_id or ev.taker_id
                order = self._orders.get(oid)
                if order is None:
                    continue
                qty = ev.quantity if order.quantity > 0 else -ev.quantity
                fee: Any = (ev.maker_fee if ev.maker_id else ev.taker_fee) if fees else None
                eng.order_manager.fill(order, qty, ev.price, fee=fee)
                if order.status is OrderStatus.FILLED:
                    self._orders.pop(oid, None)
            elif cls is Canceled or cls is Rejected or cls is Expired:
                if cls is Rejected and ev.order_id in self.venues[sym].orders:
                    eng.log("ERROR", f"update of order {ev.order_id} rejected by the venue: {ev.reason}")
                    continue  # a refused modification: the order itself still rests
                order = self._orders.pop(ev.order_id, None)
                if order is None or order.status in (OrderStatus.FILLED, OrderStatus.CANCELED,
                                                     OrderStatus.REJECTED, OrderStatus.EXPIRED):
                    continue
                if cls is Expired:
                    eng.order_manager.expire(order)
                elif cls is Rejected:
                    eng.order_manager.close(order, OrderStatus.REJECTED, code=ev.reason, message=ev.reason)
                else:
                    eng.order_manager.close(order, OrderStatus.CANCELED, code=ev.reason, message=ev.reason)
            elif cls is Modified:
                pass  # the engine applied the new values when it sent the request
