"""The live daemon's fused order path (issue 14): a market or limit order of a live engine goes from the strategy's
call through buying power, the risk gate, the journal and the venue's request in one straight call.

:meth:`OrderManager.submit` serves every order type, mode and model, so a live market order walks past dozens of
branches that cannot apply to it (market-on-open/close conversion, stop and trailing prices, expiry, brackets,
asynchronous orders), and then through the execution client's dispatch (approval check, emulation, time in
force). :meth:`LiveSubmit.submit_live` is that same sequence for the daemon's common case only, in the same
order with the same arithmetic and the same hooks (the recording's decision, buying power, the gate, the risk
hook, the submitted event, then the brokerage's ``send_plain``: the approval spent, the intent journaled, the
request sent). Anything else takes the general path, so the fused path never decides differently from it
(``tests/live/test_fused_orders.py`` runs one scenario both ways and compares journal, orders and events).

Its own module, mixed into :class:`~leand.orders.manager.OrderManager`, so the backtest's per-order path
(``submit_market``) and this one change independently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leand.model import (
    DataNormalizationMode,
    Order,
    OrderStatus,
    OrderType,
    SecurityType,
    Symbol,
    TimeInForce,
)
from leand.model.scalars import PLAIN, plain_numbers
from leand.risk.gate import Approved, Rejection
from leand.tickets import OrderResponse, OrderTicket, SubmitRequest

if TYPE_CHECKING:
    from collections.abc import Callable

    from leand.engine import Engine
    from leand.security import Security

_MARKET, _LIMIT = OrderType.MARKET, OrderType.LIMIT
_GTC = TimeInForce.GTC
_SUBMITTED = OrderStatus.SUBMITTED
_EQUITY = SecurityType.EQUITY
_ADJUSTED = DataNormalizationMode.ADJUSTED
#: what a submit request's response is until it is set (as the general path's)
_NO_RESPONSE = OrderResponse(0)


class LiveSubmit:
    """The fused live path of :class:`~leand.orders.manager.OrderManager` (a mixin: it is the order manager's own
    code, kept apart from the backtest's)."""

    #: on in the daemon (``[hot_path] fused_orders``, the default); off, every live order goes ``submit``'s way
    fused_live: bool = False

    # what it uses of the order manager (declared only: the order manager defines them)
    engine: Engine
    orders: dict[int, Order]
    open_orders: dict[int, Order]
    tickets: dict[int, OrderTicket]
    submit: Callable[..., OrderTicket]
    emit: Callable[..., None]
    _handler: Callable[..., None] | None
    _late_decision: Order | None
    _new_order_id: Callable[[], int]
    _open_at: Callable[[Security, int], bool]
    _standard_buying_power_ok: Callable[..., tuple[bool, str]]
    _refuse_buying_power: Callable[[Order, SubmitRequest, str], None]
    _refused_by_gate: Callable[[Order, SubmitRequest, Rejection], None]

    def submit_live(self, symbol: Symbol | str, quantity: float, order_type: OrderType,
                    limit_price: float | None = None, tag: str = "") -> OrderTicket:
        """A market or limit order (GTC, no other option) of a live engine, fused when its case is the common one:
        a known, tradable symbol with a price, not warming up, no brokerage or buying-power model of the strategy's,
        an open exchange for a market order, a brokerage with ``send_plain``. Anything else: :meth:`submit`."""
        if quantity.__class__ not in PLAIN or limit_price.__class__ not in PLAIN:  # np.int64, np.float64, ...
            quantity, limit_price = plain_numbers(quantity, limit_price)
        if not isinstance(symbol, Symbol):  # a ticker: resolved (or refused) the general way
            return self.submit(symbol, quantity, order_type, limit_price=limit_price, tag=tag)
        e = self.engine
        sec = e.securities.get(symbol)
        brokerage = e.brokerage
        send = getattr(brokerage, "send_plain", None)
        if sec is None or send is None or not self.fused_live or e.warming_up or e.brokerage_model is not None \
                or sec.is_delisted or sec.price == 0 or sec.buying_power_model is not None:
            return self.submit(symbol, quantity, order_type, limit_price=limit_price, tag=tag)
        now = e.clock.now_ns()
        if order_type is _MARKET:
            hours = sec.exchange_hours
            if hours is not None and not hours.always_open and not self._open_at(sec, now):
                return self.submit(symbol, quantity, order_type, limit_price=limit_price, tag=tag)
        inst = sec.instrument
        qty = inst.round_lot(quantity)
        if qty == 0:
            return self.submit(symbol, quantity, order_type, limit_price=limit_price, tag=tag)
        sym = symbol
        request = SubmitRequest(order_type, sym, quantity, limit_price, None, None, tag, False, now, _NO_RESPONSE,
                                None)
        if limit_price is not None and not (sec.security_type is _EQUITY and sec.normalization is _ADJUSTED):
            limit_price = inst.round_price(limit_price)
        buy = qty > 0
        sub_px = (sec.ask if buy else sec.bid) or sec.price
        oid = self._new_order_id()
        order = self.orders[oid] = Order(id=oid, symbol=sym, quantity=qty, type=order_type, time_in_force=_GTC,
                                         created_time=now, last_update_time=now,
                                         client_order_id=f"{e.client_id_prefix}{oid}", strategy_id=e.strategy_id,
                                         tag=tag, submission_price=sub_px)
        if limit_price is not None:
            order.limit_price = limit_price
        request.response = OrderResponse(oid)
        self.tickets[oid] = ticket = OrderTicket(e, oid, request)
        # the recording of the decision and of the gate's verdict waits until the request has left when nothing
        # can record a frame meanwhile: no order-event handler (the only strategy code between here and the
        # send), and any other decision of this order manager records this one first (a cancel the gate's halt
        # makes, say). The frames, their order and their times are the general path's; the metrics' gate hook
        # still runs before the send
        late = self._handler is None
        if self._late_decision is not None:
            self.record_late_decision()
        if late:
            self._late_decision = order
        elif e.decision_hook is not None:
            e.decision_hook("submit", order)
        try:
            # buying power at the price the general path checks (order_price): the limit, or the side's quote
            price = limit_price if order_type is _LIMIT and limit_price is not None else sub_px
            ok, msg = self._standard_buying_power_ok(order, sec, qty, price, now)
            if not ok:
                if late:
                    self.record_late_decision()
                self._refuse_buying_power(order, request, msg)
                return ticket
            gate = e.risk_gate
            decision = gate.check_new(order)
            if decision.__class__ is not Approved:
                assert isinstance(decision, Rejection)
                if late:
                    self.record_late_decision()
                if e.risk_hook is not None:
                    e.risk_hook(order, decision)
                if e.gate_hook is not None:
                    e.gate_hook(order, decision)
                self._refused_by_gate(order, request, decision)
                return ticket
            if not late and e.risk_hook is not None:
                e.risk_hook(order, decision)
            if e.gate_hook is not None:
                e.gate_hook(order, decision)
            order.transition(_SUBMITTED)
            self.open_orders[oid] = order
            gate.on_order_opened(order)
            if not late:  # (without a handler emit builds no event)
                self.emit(order, _SUBMITTED)
            # the approval spent, the intent journaled and the request sent, in one call, then the late recording;
            # a brokerage that cannot (its strategy on a worker thread, a type the venue lacks) says so and it
            # goes the general way (unless a handler of the event replaced the brokerage)
            if e.brokerage is brokerage and send(decision, order, now, self._record_sent if late else None):
                return ticket
            if late:
                self._record_sent(order, decision)
            e.brokerage.submit(decision, order, now)
            return ticket
        except BaseException:
            if self._late_decision is order:
                self.record_late_decision()
            raise

    def record_late_decision(self) -> None:
        """Record the decision of the order whose recording waits (see :meth:`submit_live`), now."""
        order = self._late_decision
        self._late_decision = None
        hook = self.engine.decision_hook
        if order is not None and hook is not None:
            hook("submit", order)

    def _record_sent(self, order: Order, decision: Approved) -> None:
        """The recording an approved fused order waited with (its decision, the gate's verdict): called by the
        brokerage's ``send_plain`` once the request has left, before it records the request."""
        if self._late_decision is order:
            self.record_late_decision()
        hook = self.engine.risk_hook
        if hook is not None:
            hook(order, decision)
