"""The in-process simulated brokerage for bar and quote data, with LEAN's fill semantics.

Market orders fill when submitted, at the current slice's prices; other orders wait for the next slice
(LEAN never fills a non-market order in the slice it was placed in). Time-in-force expiry is checked before
each fill attempt. Buying power is checked again just before each fill, as LEAN does. These are LEAN's fill
models (:mod:`leand.orders.fills` says why they are not the simulator's matching engine).

LEAN scans its pending orders twice per time step: before ``OnData`` and again after it, when the asynchronous
requests made during the step are placed (each placement followed by a scan). ``end_of_step`` is that second
pass: an asynchronous market order fills there, at the same slice's prices, and a model that fills part of an
order each time it is asked (LEAN's partial fill examples) is asked twice per step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from leand.clock import datetime_to_ns, ns_to_datetime
from leand.execution import ExecutionClient
from leand.model import Order, OrderType, Symbol, TimeInForce, UpdateRequest
from leand.risk.gate import Approved, Rejection, UnapprovedOrderError

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.security import Security

FillCallback = Callable[[Order, float, float], None]
# members the per-order path compares with, as module constants (``Enum.MEMBER`` costs about 150 ns on CPython 3.11:
# EnumType's __getattr__ slot)
_MARKET = OrderType.MARKET


class BarBrokerage(ExecutionClient):
    name = "bars"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pending: dict[int, Order] = {}
        #: asynchronous market orders: they wait for the next slice's scan instead of filling when submitted
        self.deferred: set[int] = set()
        #: an order was placed or changed since the last scan: the end-of-step scan may fill something new
        self._changed = False

    # -- execution client (reached only through the risk gate's approval) ---------------------------
    def _submit(self, order: Order, now_ns: int) -> None:
        self.pending[order.id] = order
        self._changed = True
        if order.type is _MARKET and order.id not in self.deferred:
            self._try_fill(order, now_ns)

    def submit_fill_price(self, approved: Approved, order: Order, sec: Security, now_ns: int) -> float | None:
        """``submit`` of a synchronous market order for the order manager's fused path (its security has one of
        LEAN's stock fill models and no slippage model): the approval is checked and spent as ``submit`` does;
        the answer is the price it fills at now, which the order manager applies, or None, and the order waits in
        ``pending`` for data as ``submit`` leaves it."""
        if not isinstance(approved, Approved):
            raise UnapprovedOrderError(f"order {order.id}: submit needs the risk gate's approval, got "
                                       f"{type(approved).__name__}")
        approved.consume(order, "new")
        return self._take_market(order, sec, now_ns)

    def gated_fill_price(self, order: Order, sec: Security, now_ns: int) -> float | Rejection | None:
        """:meth:`submit_fill_price` for a caller with no approval in hand (the order manager's quiet path, which
        hands the order over the moment the gate would approve it): this brokerage asks the engine's risk gate
        itself and takes the order only if it passes, so nothing reaches it unchecked, without an approval issued
        to the caller only to be spent here at once. The gate's refusal is the answer when it refuses, and then
        nothing else happens."""
        refusal = self.engine.risk_gate.refusal_of_new(order)
        if refusal is not None:
            return refusal
        return self._take_market(order, sec, now_ns)

    def gated_market_price(self, sym: Symbol, sec: Security, strategy_id: str, quantity: float,
                           now_ns: int) -> float | None:
        """:meth:`gated_fill_price` of a market order created now that is not an ``Order`` yet (the order manager's
        quiet path makes one only if something needs it): its fill price when the risk gate passes it on its
        short path (``passes_plain``) and a stock fill model without slippage fills it now; the order is then
        taken. None: nothing was taken or asked of the gate that changes it, and the caller makes the ``Order``
        and goes through :meth:`gated_fill_price`, the whole way."""
        if not self.engine.risk_gate.passes_plain(strategy_id, sym, quantity, None):
            return None
        fill_model = sec.fill_model
        assert fill_model is not None
        if fill_model.slippage:
            return None
        price = fill_model.market_price_for(sec, quantity > 0.0, now_ns)
        if price is not None:
            self._changed = True
        return price

    def _take_market(self, order: Order, sec: Security, now_ns: int) -> float | None:
        """An approved synchronous market order: its fill price now, or None, and it waits in ``pending``."""
        self._changed = True
        fill_model = sec.fill_model
        assert fill_model is not None
        # (market_fill is market_price, then the model's own slippage if it has one; market_price of LEAN's stock
        # fill models, the only ones here, is market_price_for, asked directly)
        price = fill_model.market_fill(sec, order, now_ns) if fill_model.slippage else \
            fill_model.market_price_for(sec, order.quantity > 0, order.created_time)
        if price is None:
            self.pending[order.id] = order
        return price

    def _cancel(self, order: Order, now_ns: int) -> bool:
        return self.pending.pop(order.id, None) is not None

    def _modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        """Nothing is cached here: the fill models read the order's fields when they next scan."""
        self._changed = True

    def scan(self, now_ns: int) -> None:
        """Step 4 of a slice: try every pending order placed before this slice."""
        self._changed = False
        for order in list(self.pending.values()):  # in id order, as LEAN scans
            if order.created_time >= now_ns and (order.type is not _MARKET or order.id in self.deferred):
                continue
            if order.id not in self.pending:
                continue
            if self._expired(order, now_ns):
                self.pending.pop(order.id, None)
                self.engine.order_manager.expire(order)
                continue
            self._try_fill(order, now_ns)

    def end_of_step(self, now_ns: int) -> None:
        """LEAN's scans after ``OnData``: each asynchronous market order of this step is placed and followed by
        a scan, then one more scan. Without new orders or updates a second look at the same data fills nothing
        new, except for a strategy's own fill model, which may fill another part each time it is asked."""
        if self.deferred:
            for oid in sorted(self.deferred):
                self.deferred.discard(oid)
                self.scan(now_ns)
            self.scan(now_ns)
        elif self._changed or any(getattr(self.engine.securities[o.symbol].fill_model, "lean_style", False)
                                  for o in self.pending.values()):
            self.scan(now_ns)

    # -- internals --------------------------------------------------------------------------------
    def _expired(self, order: Order, now_ns: int) -> bool:
        tif = order.time_in_force
        if tif is TimeInForce.GTC:
            return False
        sec = self.engine.securities[order.symbol]
        if tif is TimeInForce.DAY:
            return now_ns >= self._day_expiry(sec, order.created_time)
        if tif is TimeInForce.GTD and order.expire_time is not None:
            return now_ns >= order.expire_time
        return False

    def _day_expiry(self, sec: Security, t_ns: int) -> int:
        hours = sec.exchange_hours
        if hours is None or hours.always_open:
            d = ns_to_datetime(t_ns).date() + timedelta(days=1)
            return datetime_to_ns(datetime.combine(d, time(0), UTC))
        return hours.next_close(t_ns, False)

    def _try_fill(self, order: Order, now_ns: int) -> None:
        sec = self.engine.securities[order.symbol]
        model = sec.fill_model
        assert model is not None  # every security gets one when it is added
        price: float | None
        if getattr(model, "lean_style", False):  # a strategy's LEAN-style model (leand.lean_models): may fill part
            from leand.lean_models import lean_fill

            qty, price = lean_fill(model, sec, order, now_ns)
            if qty == 0:
                return
            if abs(qty) < abs(order.quantity - order.filled_quantity) - 1e-12:
                # partial: the rest stays pending; LEAN charges the fee model only on the event that fills the
                # order, for the whole order, so a partial fill a strategy's model answers costs nothing
                self.engine.order_manager.fill(order, qty, price, fee=0.0)
                return
            if order.filled_quantity:
                fee, ccy = sec.fee_model.fee(sec, order, order.quantity, price, now_ns)
                if not self.engine.order_manager.check_fill_buying_power(order, sec, qty, price):
                    self.pending.pop(order.id, None)
                    return
                self.pending.pop(order.id, None)
                self.engine.order_manager.fill(order, qty, price, fee=fee, fee_currency=ccy)
                return
        else:
            price = model.fill(sec, order, now_ns)
            if price is None:
                return
            if sec.slippage_model is not None:
                from leand.lean_models import apply_slippage

                price = apply_slippage(sec, order, price)
            qty = order.quantity - order.filled_quantity
        # LEAN checks buying power again before a fill; an order filling in the instant it was submitted was
        # just checked against the same prices, so only later fills need it
        if now_ns != order.created_time and not self.engine.order_manager.check_fill_buying_power(order, sec, qty, price):
            self.pending.pop(order.id, None)
            return
        self.pending.pop(order.id, None)
        self.engine.order_manager.fill(order, qty, price)
