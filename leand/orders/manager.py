"""The order manager: the only code that creates orders and changes their state, in every mode.

Strategies (through the engine), the backtest brokerages and the live venues' reports all reach an order through
here. Venue reports of every venue are applied by one method, :meth:`OrderManager.apply_report`, with the same
rules everywhere:

* status never moves backwards: a terminal order stays as it is (a cancel or reject that arrives after the fill
  is logged and dropped), and an accepted order is never made "submitted" again;
* each fill is counted once (by the venue's fill id) and never beyond the order's quantity;
* a refused cancel or update puts the order back to the open state it had.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import msgspec

from leand.clock import datetime_to_ns
from leand.model import (
    AccountType,
    DataNormalizationMode,
    ExecReport,
    Fill,
    LiquiditySide,
    Order,
    OrderEvent,
    OrderStatus,
    OrderType,
    ReportKind,
    Resolution,
    SecurityType,
    Symbol,
    TimeInForce,
    UpdateRequest,
    plain_number,
    plain_numbers,
)
from leand.model.scalars import PLAIN
from leand.orders.archive import COMPACT_EVERY, FillLog, OrderArchive, OrderStore, QuietTicket, TicketStore
from leand.orders.bar_brokerage import BarBrokerage
from leand.orders.contingent import BracketTicket, Contingent
from leand.orders.fees import (
    CoinbaseFeeModel,
    ConstantFeeModel,
    InteractiveBrokersFeeModel,
    PercentFeeModel,
    PerShareFeeModel,
    is_maker,
)
from leand.orders.fills import EquityFillModel, FillModel
from leand.orders.live_submit import LiveSubmit
from leand.orders.moc import MarketOnCloseOrder
from leand.risk.gate import Approved, Rejection
from leand.tickets import OrderResponse, OrderResponseErrorCode, OrderTicket, SubmitRequest, UpdateOrderFields

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.security import Security

_EPS = 1e-9
S = OrderStatus
# the members the per-order path names, as module constants: ``Enum.MEMBER`` goes through EnumType's __getattr__
# slot, about 150 ns a reference on CPython 3.11, and an order names a dozen
_SUBMITTED, _FILLED, _PARTIALLY_FILLED, _REJECTED = S.SUBMITTED, S.FILLED, S.PARTIALLY_FILLED, S.REJECTED
_MARKET, _LIMIT = OrderType.MARKET, OrderType.LIMIT
_GTC = TimeInForce.GTC
_TAKER, _MAKER, _NO_LIQUIDITY = LiquiditySide.TAKER, LiquiditySide.MAKER, LiquiditySide.NONE
_CASH = AccountType.CASH
# (the venue reports' path, apply_report, too)
_ACCEPTED, _CANCELED, _EXPIRED = S.ACCEPTED, S.CANCELED, S.EXPIRED
_PENDING_CANCEL, _PENDING_UPDATE = S.PENDING_CANCEL, S.PENDING_UPDATE
_R_STATUS, _R_CANCEL_REJECTED = ReportKind.STATUS, ReportKind.CANCEL_REJECTED
_R_UPDATE_ACCEPTED, _R_UPDATE_REJECTED = ReportKind.UPDATE_ACCEPTED, ReportKind.UPDATE_REJECTED
#: an order status by its value (a venue that reports plain strings), without Enum's call
_STATUS_OF = {m.value: m for m in OrderStatus}
_DAILY = Resolution.DAILY
#: a submit request's response until submit sets the real one (on every path, before anyone sees it)
_NO_RESPONSE = OrderResponse(0)
#: LEAN's stock fill models (not a strategy's): ``submit_market`` fills with them on its fused path
_STOCK_FILL_MODELS = frozenset({FillModel, EquityFillModel})
#: leand's own fee models (not a strategy's, nor a subclass): each answers from its arguments alone and looks at
#: nothing else (no open orders, no portfolio), so ``submit_market`` may ask one once for the same arguments and
#: knows it cannot observe the order between its submission and its fill
_STOCK_FEE_MODELS = frozenset({ConstantFeeModel, InteractiveBrokersFeeModel, PerShareFeeModel, PercentFeeModel,
                               CoinbaseFeeModel})
_COMPACT_MASK = COMPACT_EVERY - 1
#: at most this many rounded quantities are remembered (see ``OrderManager._lots``)
_LOTS_KEPT = 1024
assert COMPACT_EVERY & _COMPACT_MASK == 0, "COMPACT_EVERY is a power of two"


class OrderManager(LiveSubmit):
    """Owns every order of one engine: ``orders`` (all, by id), ``open_orders`` and ``fills``.

    ``orders``, ``tickets`` and ``fills`` answer for the whole run, but once many closed orders pile up, those
    nobody else holds are packed into ``archive`` (:mod:`leand.orders.archive`), so memory does not grow with the
    number of orders."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        orders, tickets, fills = OrderStore(), TicketStore(), FillLog()
        self.orders: dict[int, Order] = orders
        self.open_orders: dict[int, Order] = {}
        self.fills: list[Fill] = fills
        #: the same list, as the quiet path appends to it: a quiet order's row stands for its fill there
        self._fill_rows: list[Any] = fills
        #: one ticket per order for the whole run: the object the strategy holds and ``OrderEvent.ticket``
        self.tickets: dict[int, OrderTicket] = tickets
        #: the plain dict lookup of a live ticket (the store's own ``get`` also looks in the archive; an event's
        #: order is live, and so is its ticket)
        self._live_ticket: Callable[[int], OrderTicket | None] = super(TicketStore, tickets).get
        self._event_ids: dict[int, int] = {}
        #: the strategy's on_order_event; None when it does not override it (events are then not built)
        self._handler: Callable[[OrderEvent], None] | None = engine.strategy.on_order_event
        #: an order of the fused live path whose ``decision_hook`` call waits for its request to leave (see
        #: ``LiveSubmit.submit_live``): any other decision records it first, so the recorded order is unchanged
        self._late_decision: Order | None = None
        self._next_id = 1
        self._next_trade_id = 1
        #: venue fill ids already counted (a duplicated or replayed fill report is dropped); the archive keeps it to
        #: the fills since its last packing (in the daemon the journal drops a duplicated fill before it gets here)
        self._fill_ids: set[int] = set()
        #: closed orders, their tickets and the fills, packed (see leand.orders.archive)
        self.archive = OrderArchive(engine, orders, tickets, fills, self._event_ids, self.open_orders,
                                    self._fill_ids)
        #: the archive's quiet rows: ``submit_market`` writes a quiet order's row here as it fills
        self._quiet = self.archive.quiet
        #: the updates of an order the venue has not answered yet, in the order they were sent: each answer
        #: (accepted or rejected) is for the first (two updates in flight must not apply the second's terms
        #: on the first's acceptance)
        self._pending_updates: dict[int, deque[UpdateRequest]] = {}
        #: one-cancels-other links and brackets waiting for their entry
        self.contingent = Contingent(self)
        #: orders a live client is canceling because their time in force ended: their cancel is an expiry
        self._expiring: set[int] = set()
        #: the instrument of submit_market's last order and its quantities rounded to its lot, by quantity: a
        #: strategy repeats its quantities, and round_lot answers the same for equal ones (so each time the same
        #: float, which the quiet path's rows then share)
        self._lots: tuple[object, dict[float, float]] = (None, {})
        #: symbol -> (its exchange hours, extended, start, end): the open segment submit_market last found
        self._open_segments: dict[Symbol, tuple[object, bool, int, int]] = {}

    # ---- ids ------------------------------------------------------------------------------------------
    @property
    def next_order_id(self) -> int:
        return self._next_id

    def continue_ids_from(self, next_id: int) -> None:
        """Carry on numbering after ``next_id - 1`` (a replay restores the recorded session's counter)."""
        if next_id > self._next_id:
            self._next_id = next_id

    def _new_order_id(self) -> int:
        """The next order's id: every order this manager creates is numbered here (submit, submit_market,
        adopt), the one place to act on a new order's arrival."""
        oid = self._next_id
        self._next_id = oid + 1
        if not oid & _COMPACT_MASK:  # every COMPACT_EVERY orders: pack closed orders if many are live
            self.archive.maybe_compact(oid)
        return oid

    # ---- strategy operations --------------------------------------------------------------------------
    def submit(self, symbol: Symbol | str, quantity: float, order_type: OrderType, *,
               limit_price: float | None = None, stop_price: float | None = None,
               trailing_amount: float | None = None, trailing_as_percentage: bool = False, tag: str = "",
               time_in_force: TimeInForce | None = None, expire: date | None = None,
               post_only: bool = False, asynchronous: bool = False,
               bracket: BracketTicket | None = None, trigger_price: float | None = None,
               contingent: bool = False) -> OrderTicket:
        e = self.engine
        now = e.clock.now_ns()
        # numpy's numbers as Python's, once, here: the request, the order, the journal and the archive see those
        quantity, limit_price, stop_price, trigger_price, trailing_amount = plain_numbers(
            quantity, limit_price, stop_price, trigger_price, trailing_amount)
        # what the strategy asked for (the ticket's submit_request); its response is set on every path below
        request = SubmitRequest(order_type, symbol, quantity, limit_price, stop_price, trigger_price, tag, asynchronous,
                                now, _NO_RESPONSE, time_in_force)
        E = OrderResponseErrorCode
        invalid = self._invalid
        if symbol.__class__ is Symbol:
            sym = symbol
        else:
            try:
                sym = e.resolve(symbol)
            except Exception as exc:  # the engine's EngineError: a symbol it does not know
                return invalid(request, symbol, order_type, E.MISSING_SECURITY, f"order for {symbol!r} invalid: {exc}")
        sec = e.securities[sym]
        if sec.is_delisted:
            return invalid(request, sym, order_type, E.INVALID_REQUEST, f"order for {sym} invalid: the security is delisted")
        if e.warming_up:
            return invalid(request, sym, order_type, E.ALGORITHM_WARMING_UP,
                           f"order for {sym} ignored: orders are not allowed during warm-up")
        if sec.price == 0:
            return invalid(request, sym, order_type, E.SECURITY_PRICE_ZERO, f"order for {sym} rejected: no price data yet")
        qty = sec.instrument.round_lot(quantity)
        if qty == 0:
            return invalid(request, sym, order_type, E.ORDER_QUANTITY_LESS_THAN_LOT_SIZE,
                           f"order for {sym} ignored: quantity {quantity} rounds to zero (lot size "
                           f"{sec.instrument.lot_size})")
        hours = sec.exchange_hours
        always_open = hours is None or hours.always_open
        moc_buffer = 0 if always_open else MarketOnCloseOrder.buffer_ns()  # read only when not always open
        if order_type is OrderType.MARKET and not always_open:
            if not hours.is_open(now, sec.extended_hours):
                order_type = OrderType.MARKET_ON_OPEN
            elif sec.resolution >= Resolution.DAILY and not e.live_mode:
                close = hours.next_close(now, False)
                order_type = (OrderType.MARKET_ON_OPEN if now > close - moc_buffer
                              else OrderType.MARKET_ON_CLOSE)
        if order_type is OrderType.MARKET_ON_OPEN and not always_open and hours.is_open(now, False) and \
                sec.resolution < Resolution.DAILY:
            return invalid(request, sym, order_type, E.EXCHANGE_NOT_OPEN, f"MarketOnOpen order for {sym} rejected: market is open")
        if (order_type is OrderType.MARKET_ON_OPEN or order_type is OrderType.MARKET_ON_CLOSE) and always_open:
            return invalid(request, sym, order_type, E.EXCHANGE_NOT_OPEN,
                           f"{order_type.value} order for {sym} rejected: market never closes")
        if order_type is OrderType.MARKET_ON_CLOSE and hours.next_close(now, False) - moc_buffer < now:
            return invalid(request, sym, order_type, E.MARKET_ON_CLOSE_ORDER_TOO_LATE,
                           f"MarketOnClose order for {sym} rejected: past the submission buffer")
        round_prices = not (sec.security_type is SecurityType.EQUITY
                            and sec.normalization is DataNormalizationMode.ADJUSTED)
        if round_prices:
            if limit_price is not None:
                limit_price = sec.instrument.round_price(limit_price)
            if stop_price is not None:
                stop_price = sec.instrument.round_price(stop_price)
            if trigger_price is not None:
                trigger_price = sec.instrument.round_price(trigger_price)
        if order_type is OrderType.LIMIT_IF_TOUCHED and (trigger_price is None or limit_price is None):
            return invalid(request, sym, order_type, E.INVALID_REQUEST, f"limit-if-touched order for {sym} needs a trigger and a limit "
                                                   "price")
        if order_type is OrderType.TRAILING_STOP and stop_price is None:
            stop_price = trailing_stop_price(sec.price, qty, trailing_amount or 0.0, trailing_as_percentage)
            if round_prices:
                stop_price = sec.instrument.round_price(stop_price)
        tif = time_in_force or TimeInForce.GTC
        expire_ns = None
        if expire is not None:
            tif = TimeInForce.GTD
            if always_open:
                expire_ns = datetime_to_ns(datetime.combine(expire + timedelta(days=1), time(0), ZoneInfo("UTC")))
            else:
                s = hours.session(expire)
                expire_ns = s[1] if s else datetime_to_ns(datetime.combine(expire, time(23, 59), hours.time_zone))
        buy = qty > 0
        sub_px = (sec.ask if buy else sec.bid) or sec.price
        oid = self._new_order_id()
        # the fields every order has, then the optional ones that differ from their defaults: a Struct made from
        # more than 15 keywords takes msgspec's slow path (about 1 us more)
        order = Order(id=oid, symbol=sym, quantity=qty, type=order_type, time_in_force=tif, created_time=now,
                      last_update_time=now, client_order_id=f"{e.client_id_prefix}{oid}", strategy_id=e.strategy_id,
                      tag=tag, submission_price=sub_px)
        if limit_price is not None:
            order.limit_price = limit_price
        if stop_price is not None:
            order.stop_price = stop_price
        if trailing_amount is not None:
            order.trailing_amount = trailing_amount
        if trailing_as_percentage is not False:
            order.trailing_as_percentage = trailing_as_percentage
        if trigger_price is not None:
            order.trigger_price = trigger_price
        if expire_ns is not None:
            order.expire_time = expire_ns
        if post_only is not False:
            order.post_only = post_only
        self.orders[oid] = order
        request.response = OrderResponse(oid)
        self.tickets[oid] = ticket = OrderTicket(e, oid, request)
        if e.decision_hook is not None:
            if self._late_decision is not None:
                self.record_late_decision()
            e.decision_hook("submit", order)
        if e.brokerage_model is not None:  # a strategy's brokerage model may refuse it (LEAN: order invalid)
            from leand.brokerage_models import check_submit

            ok, msg = check_submit(e.brokerage_model, sec, order)
            if not ok:
                order.transition(S.REJECTED)
                request.response = OrderResponse(oid, E.BROKERAGE_MODEL_REFUSED_TO_SUBMIT_ORDER, msg)
                self.emit(order, S.REJECTED, code="BROKERAGE_MODEL", message=msg)
                e.log("ERROR", msg)
                return ticket
        # LEAN checks buying power when an order is submitted
        if order_type is OrderType.MARKET:  # what order_price answers for a market order
            price = (sec.ask or sec.price) if qty > 0 else (sec.bid or sec.price)
        else:
            price = order_price(sec, order)
        if contingent:  # an exit waiting at the venue for its entry's fill: the venue checks funds then
            ok, msg = True, ""
        elif sec.buying_power_model is None:  # no strategy model: the standard check, without the dispatch
            ok, msg = self._standard_buying_power_ok(order, sec, qty, price)
        else:
            ok, msg = self.buying_power_ok(order, sec, qty, price)
        if not ok:
            self._refuse_buying_power(order, request, msg)
            return ticket
        # the one pre-trade gate: its approval is what the brokerage accepts
        gate = e.risk_gate
        decision = gate.check_new(order)
        if e.risk_hook is not None:
            e.risk_hook(order, decision)
        if e.gate_hook is not None:
            e.gate_hook(order, decision)
        if not isinstance(decision, Approved):
            self._refused_by_gate(order, request, decision)
            return ticket
        order.transition(S.SUBMITTED)
        self.open_orders[oid] = order
        gate.on_order_opened(order)
        self.emit(order, S.SUBMITTED)
        brokerage = e.brokerage
        if bracket is not None:  # its exits are armed when this entry fills (maybe inside submit below)
            bracket.entry = ticket
            self.contingent.brackets[oid] = bracket
            brokerage.on_bracket(order, bracket.take_profit_price, bracket.stop_loss_price, bracket.tag)
        if asynchronous and order_type is OrderType.MARKET:
            deferred = getattr(brokerage, "deferred", None)
            if deferred is not None:  # filled with the next data, not now (LEAN's asynchronous orders)
                deferred.add(oid)
        brokerage.submit(decision, order, now)
        return ticket

    def submit_market(self, symbol: Symbol | str, quantity: float, tag: str = "") -> OrderTicket:
        """A synchronous market order (``market_order``, ``set_holdings``, ``liquidate``): what :meth:`submit`
        does, fused for a backtest's common case, which is most of its orders.

        The common case: the bar brokerage, not live, not warming up, no hooks or brokerage model, a tradable
        security with a price whose exchange is open (no market-on-open/close conversion), LEAN's stock fill
        model without a slippage model or a strategy's buying-power model, and a margin account. Its order then
        does the same steps in the same order with the same arithmetic (buying power, the risk gate's approval
        spent by the brokerage, the submitted event, the fill price, the fee, the fill, the portfolio, the filled
        event), without the general path's branches and calls. Anything else, including a handler of the
        submitted event that changes the order or the models, goes the general way: :meth:`submit`, or the
        brokerage's own ``submit`` for the rest of the order's way.
        """
        e = self.engine
        if quantity.__class__ not in PLAIN:  # np.int64, np.float64, ...: as Python's (submit's first step too)
            quantity = plain_number(quantity)
        if symbol.__class__ is Symbol:
            sym = symbol
        else:  # a ticker (or a Security): resolved as submit resolves it, which refuses what does not resolve
            try:
                sym = e.resolve(symbol)
            except Exception:
                return self.submit(symbol, quantity, _MARKET, tag=tag)
        sec = e.securities.get(sym)
        if sec is None or e.warming_up or e.live_mode or e.decision_hook is not None or e.brokerage_model is not None \
                or e.risk_hook is not None or e.gate_hook is not None or sec.is_delisted or sec.price == 0.0 or sec.buying_power_model is not None \
                or sec.slippage_model is not None or sec.fill_model.__class__ not in _STOCK_FILL_MODELS \
                or e.account_type is _CASH:
            return self.submit(symbol, quantity, _MARKET, tag=tag)
        brokerage = e.brokerage
        if brokerage.__class__ is not BarBrokerage:
            return self.submit(symbol, quantity, _MARKET, tag=tag)
        now = e.clock.now_ns()
        hours = sec.exchange_hours
        if hours is not None and not hours.always_open:
            if sec.resolution >= _DAILY:
                return self.submit(symbol, quantity, _MARKET, tag=tag)
            seg = self._open_segments.get(sym)  # (_open_at's own first look, without the call)
            if (seg is None or seg[0] is not hours or seg[1] is not sec.extended_hours or not seg[2] <= now < seg[3]) \
                    and not self._open_at(sec, now):
                return self.submit(symbol, quantity, _MARKET, tag=tag)
        inst = sec.instrument
        lots = self._lots
        if lots[0] is not inst:  # (another instrument than the last order's)
            lots = self._lots = (inst, {})
        qty = lots[1].get(quantity)
        if qty is None:
            qty = inst.round_lot(quantity)
            if inst.lot_size > 0.0:  # (a lot of 0 gives the quantity back: an int stays an int, so not shared)
                if len(lots[1]) >= _LOTS_KEPT:
                    lots[1].clear()
                lots[1][quantity] = qty
        if qty == 0.0:
            return self.submit(symbol, quantity, _MARKET, tag=tag)
        # the price the buying power is checked at (order_price of a market order) is the submission price
        price = (sec.ask or sec.price) if qty > 0.0 else (sec.bid or sec.price)
        handler = self._handler
        fee_model = sec.fee_model
        pf = e.portfolio
        rates = e.rates
        c = self.contingent
        fill_price: float | None = None
        # quiet: nothing can look at the order between its submission and its fill (no handler of its events, only
        # leand's own models run until it has filled, no one-cancels-other or bracket to arm), so it need not be
        # entered as open (open_orders, the risk gate's open-order bookkeeping) only to be taken out again, the fee
        # is asked once when it fills at the price its buying power was checked at (the models' answer is the
        # same), and if it fills now it is kept as a row (leand.orders.archive): its Order, ticket request and
        # statuses are made only if read.
        quiet = handler is None and fee_model.__class__ in _STOCK_FEE_MODELS and not (c.oco or c.brackets)
        if quiet:
            # its usual way, with nothing made until it has passed: every step up to the brokerage taking it only
            # reads (the fee model's answer, the buying power, the risk gate's short path), so when one of them
            # cannot answer from the numbers alone, the way below makes the order and asks them again (the same
            # answers), refusing it or keeping it pending as any order
            rates.refresh()
            fee, cur = fee_model.market_fee(sec, qty, qty, price, now)
            cb = pf.cash_book
            fee_account = fee if cur == cb.account_currency else cb.convert(fee, cur)  # (what convert answers then)
            if pf.has_sufficient_buying_power(sec, qty, price, fee_account, 0.0, 0.0)[0]:
                fill_price = brokerage.gated_market_price(sym, sec, e.strategy_id, qty, now)
        if fill_price is not None:  # (quiet) taken, and it fills now: its row, below
            oid = self._new_order_id()
        else:  # the way with an Order: it returns, but for a quiet order that fills now (its row, below)
            oid = self._new_order_id()
            cid = f"{e.client_id_prefix}{oid}"
            order = Order(id=oid, symbol=sym, quantity=qty, type=_MARKET, time_in_force=_GTC,
                          created_time=now, last_update_time=now, client_order_id=cid,
                          strategy_id=e.strategy_id, tag=tag, submission_price=price)
            # a quiet order here is refused, waits for data, or needs the whole risk check: until it fills,
            # ``order`` is this method's own; any other way it goes, it is stored as every order is
            ticket: OrderTicket
            if quiet:
                ticket = QuietTicket(e, oid)  # (stored with the order, if it is: see _stored)
            else:
                self.orders[oid] = order
                request = SubmitRequest(_MARKET, symbol, quantity, None, None, None, tag, False, now,
                                        OrderResponse(oid), None)
                self.tickets[oid] = ticket = OrderTicket(e, oid, request)
            # buying power (_standard_buying_power_ok on a margin account)
            rates.refresh()
            fee, cur = fee_model.fee(sec, order, qty, price, now)
            cb = pf.cash_book
            fee_account = fee if cur == cb.account_currency else cb.convert(fee, cur)  # (what convert answers then)
            ok, msg = pf.has_sufficient_buying_power(sec, qty, price, fee_account, 0.0, 0.0)
            if not ok:
                if quiet:
                    request = self._stored(order, ticket, symbol, quantity, tag, now)
                self._refuse_buying_power(order, request, msg)
                return ticket
            gate = e.risk_gate
            if quiet:
                # nothing happens between the gate's approval and the brokerage taking the order (no handler, no
                # open order): the brokerage asks the gate itself, and answers the refusal or its fill price (or
                # keeps it pending, without one)
                answer = brokerage.gated_fill_price(order, sec, now)
                if isinstance(answer, Rejection):
                    self._refused_by_gate(order, self._stored(order, ticket, symbol, quantity, tag, now), answer)
                    return ticket
                fill_price = answer
            else:
                decision = gate.check_new(order)
                if decision.__class__ is not Approved:
                    assert isinstance(decision, Rejection)
                    self._refused_by_gate(order, request, decision)
                    return ticket
                order.transition(_SUBMITTED)
                self.open_orders[oid] = order
                gate.on_order_opened(order)
                if handler is not None:
                    self._emit_status(order, _SUBMITTED)
                    # the handler may have done anything: the rest of the way is the general one unless nothing
                    # changed
                    if order.status is not _SUBMITTED or e.brokerage is not brokerage \
                            or sec.slippage_model is not None or sec.fill_model.__class__ not in _STOCK_FILL_MODELS \
                            or sec.fee_model is not fee_model or e.securities.get(sym) is not sec:
                        e.brokerage.submit(decision, order, now)  # (the brokerage submit would have used)
                        return ticket
                # the brokerage takes it and answers its fill price (or keeps it pending, without one)
                fill_price = brokerage.submit_fill_price(decision, order, sec, now)
            if fill_price is None:
                if quiet:  # it waits for data: open after all
                    self._stored(order, ticket, symbol, quantity, tag, now)
                    order.transition(_SUBMITTED)
                    self.open_orders[oid] = order
                    gate.on_order_opened(order)
                return ticket
            if not quiet:
                # fill(): the whole of an open order, without a venue fee or trade id; a market order is a taker
                fill_qty = order.quantity - order.filled_quantity
                fee, fee_ccy = fee_model.fee(sec, order, fill_qty, fill_price, now)
                rates.refresh()
                trade = self._next_trade_id
                fill = Fill(order_id=oid, symbol=sym, time=now, quantity=fill_qty, price=fill_price, fee=fee,
                            fee_currency=fee_ccy, liquidity=_TAKER, trade_id=trade, client_order_id=cid)
                self._next_trade_id = trade + 1
                self.fills.append(fill)
                filled = order.filled_quantity + fill_qty
                order.average_fill_price = (order.average_fill_price * order.filled_quantity
                                            + fill_price * fill_qty) / filled
                order.filled_quantity = filled
                order.last_update_time = now
                order.transition(_FILLED)
                pf.apply_fill(sec, fill_qty, fill_price, fee, fee_ccy, now)  # (process_fill's own call)
                # _closed(order), without its call
                self.open_orders.pop(oid, None)
                self._pending_updates.pop(oid, None)
                self._expiring.discard(oid)
                e.risk_gate.on_order_closed(order)
                if self._handler is not None:
                    self._emit_fill(order, fill_price, fill_qty, fee, fee_ccy)
                if c.oco or c.brackets:
                    c.on_fill(order)
                return ticket
        # a quiet order the brokerage has taken, that fills now at fill_price: the portfolio, its row (its order and
        # its fill: see leand.orders.archive) and its ticket, without an Order or a Fill. fill(): the whole of an
        # open order (filled 0.0), without a venue fee or trade id; a market order is a taker; the fee asked again
        # only if the price moved from the one its buying power was checked at (the same question, the same answer)
        fill_qty = qty if qty.__class__ is float else qty - 0.0  # (a float minus 0.0 is itself, bit for bit)
        if fill_price != price:
            fee, cur = fee_model.market_fee(sec, qty, fill_qty, fill_price, now)
        trade = self._next_trade_id
        self._next_trade_id = trade + 1
        # the fields the fill sets, computed as on the order (filled and average price from 0.0): 0.0 + fill_qty is
        # fill_qty, bit for bit (it is not -0.0), so the row holds one float for the three quantities
        self._quiet[oid] = row = (oid, sym, qty, now, e.client_id_prefix, e.strategy_id, tag, price, fill_qty,
                                  (0.0 * 0.0 + fill_price * fill_qty) / fill_qty, symbol, quantity, fill_price, fee,
                                  cur, trade)
        self._fill_rows.append(row)
        self.tickets[oid] = ticket = QuietTicket(e, oid, row)
        pf.apply_fill(sec, fill_qty, fill_price, fee, cur, now)
        return ticket

    def _refused_by_gate(self, order: Order, request: SubmitRequest, refusal: Rejection) -> None:
        """An order refused by the risk gate (on every submit path): rejected, with the gate's code and message."""
        order.transition(_REJECTED)
        self.engine.log("ERROR", f"order {order.id} refused by the risk gate: {refusal.code}: {refusal.message}")
        request.response = OrderResponse(order.id, OrderResponseErrorCode.RISK_REFUSED, refusal.message)
        self.emit(order, _REJECTED, code=refusal.code, message=refusal.message)

    def _stored(self, order: Order, ticket: OrderTicket, symbol: Symbol | str, quantity: float, tag: str,
                now: int) -> SubmitRequest:
        """A quiet order that goes another way than a fill at once (refused, or waiting for data): stored, with its
        ticket's submit request, as ``submit_market`` stores any other order."""
        self.orders[order.id] = order
        self.tickets[order.id] = ticket
        ticket.submit_request = request = SubmitRequest(_MARKET, symbol, quantity, None, None, None, tag, False, now,
                                                        OrderResponse(order.id), None)
        return request

    def _open_at(self, sec: Security, now: int) -> bool:
        """``sec.exchange_hours.is_open(now, sec.extended_hours)``, remembering the open segment it found: the
        next orders of the session are in it (a segment never crosses the exchange date it belongs to, so one that
        holds ``now`` is what is_open would find)."""
        hours, extended = sec.exchange_hours, sec.extended_hours
        seg = self._open_segments.get(sec.symbol)
        if seg is not None and seg[0] is hours and seg[1] is extended and seg[2] <= now < seg[3]:
            return True
        for start, end in hours.segments(hours.local_date(now), extended):
            if start <= now < end:
                self._open_segments[sec.symbol] = (hours, extended, start, end)
                return True
        return False

    def _invalid(self, request: SubmitRequest, sym: Symbol | str, order_type: OrderType, code: OrderResponseErrorCode,
                 msg: str) -> OrderTicket:
        """An order refused before it became one: an invalid ticket, never an entry in the order list."""
        e = self.engine
        e.log("ERROR", msg)
        request.response = OrderResponse(0, code, msg)
        s = sym if isinstance(sym, Symbol) else Symbol.equity(str(sym))
        return OrderTicket(e, 0, request, Order(id=0, symbol=s, quantity=request.quantity, type=order_type,
                                                status=S.INVALID, tag=request.tag, created_time=request.time))

    def cancel_response(self, order_id: int, tag: str = "") -> OrderResponse:
        """``cancel`` with LEAN's answer: why a cancel was refused, not just that it was."""
        if order_id not in self.orders:
            return OrderResponse(order_id, OrderResponseErrorCode.ORDER_DOES_NOT_EXIST, "order does not exist")
        if order_id not in self.open_orders:
            return OrderResponse(order_id, OrderResponseErrorCode.INVALID_ORDER_STATUS,
                                 f"order {order_id} is {self.orders[order_id].status.value}: it cannot be canceled")
        if self.cancel(order_id, tag):
            return OrderResponse(order_id)
        return OrderResponse(order_id, OrderResponseErrorCode.INVALID_REQUEST, f"cancel of order {order_id} refused")

    def update_response(self, order_id: int, fields: UpdateOrderFields) -> OrderResponse:
        """``update`` with LEAN's answer. A closed order may still have its tag changed, as in LEAN."""
        order = self.orders.get(order_id)
        if order is None:
            return OrderResponse(order_id, OrderResponseErrorCode.ORDER_DOES_NOT_EXIST, "order does not exist")
        only_tag = (fields.tag is not None and fields.quantity is None and fields.limit_price is None
                    and fields.stop_price is None and fields.trigger_price is None and fields.trailing_amount is None)
        if order_id not in self.open_orders:
            if only_tag:
                assert fields.tag is not None
                order.tag = fields.tag
                return OrderResponse(order_id)
            return OrderResponse(order_id, OrderResponseErrorCode.INVALID_ORDER_STATUS,
                                 f"order {order_id} is {order.status.value}: it cannot be updated")
        e = self.engine
        if fields.quantity is not None and e.securities[order.symbol].instrument.round_lot(fields.quantity) == 0:
            # LEAN (SecurityTransactionManager.UpdateOrder): a zero quantity is refused with an error response and
            # no order event; the order keeps its quantity
            return OrderResponse(order_id, OrderResponseErrorCode.ORDER_QUANTITY_ZERO,
                                 f"update of order {order_id} refused: quantity zero")
        if e.brokerage_model is not None:
            from leand.brokerage_models import check_update

            ok, msg = check_update(e.brokerage_model, e.securities[order.symbol], order, fields)
            if not ok:  # LEAN answers with an error response and no order event
                e.log("ERROR", msg)
                return OrderResponse(order_id, OrderResponseErrorCode.BROKERAGE_MODEL_REFUSED_TO_UPDATE_ORDER, msg)
        if self.update(order_id, quantity=fields.quantity, limit_price=fields.limit_price,
                       stop_price=fields.stop_price, trailing_amount=fields.trailing_amount, tag=fields.tag,
                       trigger_price=fields.trigger_price):
            return OrderResponse(order_id)
        return OrderResponse(order_id, OrderResponseErrorCode.INVALID_REQUEST, f"update of order {order_id} refused")

    def cancel(self, order_id: int, tag: str = "") -> bool:
        e = self.engine
        order = self.open_orders.get(order_id)
        if order is None:
            e.log("ERROR", f"cancel of order {order_id} ignored: not open")
            return False
        if order.status is S.PENDING_CANCEL:
            e.log("ERROR", f"cancel of order {order_id} ignored: already being canceled")
            return False
        if e.decision_hook is not None:
            if self._late_decision is not None:
                self.record_late_decision()
            e.decision_hook("cancel", order)
        throttled = e.risk_gate.on_cancel_request(order)
        if throttled is not None:
            e.log("ERROR", f"cancel of order {order_id} refused: {throttled.message}")
            return False
        brokerage = e.brokerage
        brokerage.cancel(order, e.clock.now_ns())
        if order_id not in self.open_orders:  # the venue answered at once (a fill or its cancel)
            return True
        if e.live_mode or brokerage.async_cancel(order):  # the venue confirms later; fills may still arrive
            order.transition(S.PENDING_CANCEL)
            self.emit(order, S.PENDING_CANCEL, message=tag)
            return True
        if tag:
            order.tag = tag
        self.close(order, S.CANCELED, message=tag)
        return True

    def update(self, order_id: int, *, quantity: float | None = None, limit_price: float | None = None,
               stop_price: float | None = None, trailing_amount: float | None = None,
               tag: str | None = None, trigger_price: float | None = None) -> bool:
        e = self.engine
        order = self.open_orders.get(order_id)
        if order is None:
            e.log("ERROR", f"update of order {order_id} ignored: not open")
            return False
        if order.status is S.PENDING_CANCEL:
            e.log("ERROR", f"update of order {order_id} ignored: it is being canceled")
            self.emit(order, order.status, code="UPDATE_WHILE_CANCELING", message="update refused: order is being "
                                                                                  "canceled")
            return False
        quantity, limit_price, stop_price, trailing_amount, trigger_price = plain_numbers(
            quantity, limit_price, stop_price, trailing_amount, trigger_price)
        sec = e.securities[order.symbol]
        if quantity is not None:
            quantity = sec.instrument.round_lot(quantity)
            if quantity == 0 or (quantity > 0) != (order.quantity > 0) or \
                    abs(quantity) < abs(order.filled_quantity) - _EPS:
                msg = f"update refused: quantity {quantity:g} for an order of {order.quantity:g} with " \
                      f"{order.filled_quantity:g} filled"
                e.log("ERROR", f"update of order {order_id} rejected: {msg}")
                self.emit(order, order.status, code="INVALID_UPDATE_QUANTITY", message=msg)
                return False
        if trailing_amount is not None and order.type is not OrderType.TRAILING_STOP:
            msg = f"update refused: {order.type.value} orders have no trailing amount"
            self.emit(order, order.status, code="INVALID_UPDATE", message=msg)
            return False
        if trigger_price is not None and order.type is not OrderType.LIMIT_IF_TOUCHED:
            msg = f"update refused: {order.type.value} orders have no trigger price"
            self.emit(order, order.status, code="INVALID_UPDATE", message=msg)
            return False
        update = UpdateRequest(order_id=order_id, quantity=quantity, limit_price=limit_price, stop_price=stop_price,
                               trailing_amount=trailing_amount, trigger_price=trigger_price, tag=tag)
        if e.decision_hook is not None:
            if self._late_decision is not None:
                self.record_late_decision()
            e.decision_hook("modify", msgspec.structs.replace(
                order, quantity=quantity if quantity is not None else order.quantity,
                limit_price=limit_price if limit_price is not None else order.limit_price,
                stop_price=stop_price if stop_price is not None else order.stop_price))
        decision = e.risk_gate.check_modify(order, update)
        if not isinstance(decision, Approved):
            e.log("ERROR", f"update of order {order_id} rejected: {decision.message}")
            self.emit(order, order.status, code=decision.code, message=decision.message)
            return False
        brokerage = e.brokerage
        if brokerage.async_modify(order):
            # the venue answers later (UPDATE_ACCEPTED / UPDATE_REJECTED); the order keeps its values until then
            self._pending_updates.setdefault(order_id, deque()).append(update)
            if tag is not None:
                order.tag = tag
            brokerage.modify(decision, order, update, e.clock.now_ns())
            return True
        brokerage.modify(decision, order, update, e.clock.now_ns())
        self._apply_update(order, update)
        self.emit(order, order.status, message="updated")
        return True

    def _apply_update(self, order: Order, u: UpdateRequest) -> None:
        if u.quantity is not None:
            if abs(u.quantity) < abs(order.filled_quantity) - _EPS:  # fills overtook the update: keep them
                self.engine.log("ERROR", f"order {order.id}: update to {u.quantity:g} ignored, "
                                         f"{order.filled_quantity:g} already filled")
            else:
                order.quantity = u.quantity
        if u.limit_price is not None:
            order.limit_price = u.limit_price
        if u.stop_price is not None:
            order.stop_price = u.stop_price
        if u.trailing_amount is not None:
            order.trailing_amount = u.trailing_amount
        if u.trigger_price is not None:
            order.trigger_price = u.trigger_price
        if u.tag is not None:
            order.tag = u.tag
        order.last_update_time = self.engine.clock.now_ns()

    def bracket(self, symbol: Symbol | str, quantity: float, take_profit: float, stop_loss: float,
                entry_limit: float | None = None, tag: str = "") -> BracketTicket:
        """An entry (market, or limit at ``entry_limit``) whose exits, a take-profit limit and a stop-loss stop
        for the filled quantity, are armed when it fills and cancel each other."""
        e = self.engine
        quantity, take_profit, stop_loss, entry_limit = plain_numbers(quantity, take_profit, stop_loss, entry_limit)
        buy = quantity > 0
        if (take_profit <= stop_loss) if buy else (take_profit >= stop_loss):
            msg = f"bracket refused: take-profit {take_profit:g} and stop-loss {stop_loss:g} are on the wrong " \
                  f"sides for a {'buy' if buy else 'sell'}"
            e.log("ERROR", msg)
            now = e.clock.now_ns()
            request = SubmitRequest(OrderType.MARKET, symbol, quantity, None, None, None, tag, False, now)
            request.response = OrderResponse(0, OrderResponseErrorCode.INVALID_REQUEST, msg)
            sym = symbol if isinstance(symbol, Symbol) else Symbol.equity(str(symbol))
            b = BracketTicket(take_profit, stop_loss, tag)
            b.entry = OrderTicket(e, 0, request, Order(id=0, symbol=sym, quantity=quantity, status=S.INVALID,
                                                       tag=tag, created_time=now))
            return b
        return self.contingent.bracket(symbol, quantity, take_profit, stop_loss, entry_limit, tag)

    def one_cancels_other(self, a: OrderTicket, b: OrderTicket) -> bool:
        """Link two open orders: the first fill of either, a partial one included, cancels the other (emulated by
        the order manager in every mode, and said so in both orders' events). False (logged) if either is closed
        already; if one has already filled, the other is canceled at once."""
        e = self.engine
        oa, ob = self.orders.get(a.order_id), self.orders.get(b.order_id)
        if oa is None or ob is None or oa is ob:
            e.log("ERROR", f"one_cancels_other({a.order_id}, {b.order_id}) ignored: needs two different orders")
            return False
        for filled, other in ((oa, ob), (ob, oa)):
            if filled.filled_quantity and other.is_open:
                self.cancel(other.id, "OCO: the other order filled")
                return True
        if not (oa.is_open and ob.is_open):
            e.log("ERROR", f"one_cancels_other({oa.id}, {ob.id}) ignored: both orders must be open")
            return False
        if self.contingent.oco.get(oa.id) == ob.id:  # linked already (a bracket's exits, say)
            return True
        self.contingent.emulated_link(oa, ob)
        return True

    def get_open_orders(self, symbol: Symbol | str | None = None) -> list[Order]:
        if symbol is None:
            return list(self.open_orders.values())
        sym = self.engine.resolve(symbol)
        return [o for o in self.open_orders.values() if o.symbol == sym]

    def cancel_open_orders(self, symbol: Symbol | str | None = None, tag: str = "") -> list[OrderTicket]:
        out = []
        for o in self.get_open_orders(symbol):
            if self.cancel(o.id, tag):
                out.append(self.tickets[o.id])
        return out

    # ---- buying power ---------------------------------------------------------------------------------
    def _reserved(self, sec: Security, exclude: int) -> tuple[float, float]:
        """Quote cash reserved by open buys and base amount by open sells (cash accounts)."""
        securities = self.engine.securities
        rq = rb = 0.0
        for o in self.open_orders.values():
            if o.id == exclude:
                continue
            osec = securities[o.symbol]
            rem = o.quantity - o.filled_quantity
            if rem > 0 and osec.quote_currency == sec.quote_currency and o.type is not OrderType.MARKET:
                rq += rem * (o.limit_price or o.stop_price or osec.price)
            elif rem < 0 and o.symbol == sec.symbol:
                rb += -rem
        return rq, rb

    def buying_power_ok(self, order: Order, sec: Security, qty: float, price: float) -> tuple[bool, str]:
        model = sec.buying_power_model
        if getattr(model, "lean_style", False):  # a strategy's BuyingPowerModel (leand.lean_models)
            from leand.lean_models import model_sufficient

            return model_sufficient(model, sec, self.engine.portfolio, order,
                                    lambda: self._standard_buying_power_ok(order, sec, qty, price))
        return self._standard_buying_power_ok(order, sec, qty, price)

    def _refuse_buying_power(self, order: Order, request: SubmitRequest, msg: str) -> None:
        """A new order refused for buying power: the same status, response, event and log on every submit path."""
        order.transition(S.REJECTED)
        request.response = OrderResponse(order.id, OrderResponseErrorCode.INSUFFICIENT_BUYING_POWER, msg)
        self.emit(order, S.REJECTED, code="INSUFFICIENT_BUYING_POWER", message=msg)
        self.engine.log("ERROR", f"order {order.id} invalid: {msg}")

    def _standard_buying_power_ok(self, order: Order, sec: Security, qty: float, price: float,
                                  now_ns: int | None = None) -> tuple[bool, str]:
        """``now_ns``: the engine clock's time, when the caller has it (the fee model is asked at it)."""
        e = self.engine
        e.rates.refresh()
        pf = e.portfolio
        fee, cur = sec.fee_model.fee(sec, order, qty, price, e.clock.now_ns() if now_ns is None else now_ns)
        cb = pf.cash_book
        fee_acc = fee if cur == cb.account_currency else cb.convert(fee, cur)  # (convert's own first case)
        rq = rb = 0.0
        if e.account_type is _CASH:
            rq, rb = self._reserved(sec, order.id)
            if order.type is _LIMIT and qty > 0:
                # limit buys need the fee on top, in quote currency
                return pf.has_sufficient_buying_power(sec, qty, price + fee / abs(qty), 0.0, rq, rb)
        return pf.has_sufficient_buying_power(sec, qty, price, fee_acc, rq, rb)

    def check_fill_buying_power(self, order: Order, sec: Security, qty: float, price: float) -> bool:
        ok, msg = self.buying_power_ok(order, sec, qty, price)
        if not ok:
            self.close(order, S.REJECTED, code="INSUFFICIENT_BUYING_POWER", message=msg)
            self.engine.log("ERROR", f"order {order.id} invalid at fill: {msg}")
        return ok

    # ---- what venues report: every state change after submission comes through here --------------------
    def fill(self, order: Order, qty: float, price: float, fee: float | None = None,
             fee_currency: str | None = None, trade_id: int | None = None) -> Fill | None:
        """Apply a fill: the order, the portfolio, then the strategy's ``on_order_event``. A venue's fill carries
        its own fee and trade id (a trade id seen before is a duplicate and is dropped); simulated fills get
        them from the fee model. A fill never takes an order past its quantity."""
        e = self.engine
        if trade_id is not None and trade_id in self._fill_ids:
            return None
        filled = order.filled_quantity + qty
        if qty == 0 or (qty > 0) != (order.quantity > 0) or abs(filled) > abs(order.quantity) + _EPS:
            e.log("ERROR", f"fill {qty:+g} @ {price:g} of order {order.id} ({order.filled_quantity:g} of "
                           f"{order.quantity:g} filled) dropped: it does not fit the order")
            return None
        if trade_id is not None:
            self._fill_ids.add(trade_id)
        sec = e.securities[order.symbol]
        now = e.clock.now_ns()
        if fee is None:
            fee, fee_ccy = sec.fee_model.fee(sec, order, qty, price, now)
        else:
            fee_ccy = fee_currency or sec.quote_currency
        e.rates.refresh()
        order.average_fill_price = (order.average_fill_price * order.filled_quantity + price * qty) / filled
        order.filled_quantity = filled
        order.last_update_time = now
        status = order.status
        was_open = status.is_open
        if was_open:
            status = _FILLED if abs(filled - order.quantity) < _EPS else _PARTIALLY_FILLED
            order.transition(status)
        else:  # a fill the venue reported after it closed the order: the money moved, the status stays
            e.log("ERROR", f"order {order.id}: fill {qty:+g} @ {price:g} after it was {order.status.value}")
        liquidity = _MAKER if is_maker(order) else _TAKER
        trade = self._next_trade_id
        fill = Fill(order_id=order.id, symbol=order.symbol, time=now, quantity=qty, price=price, fee=fee,
                    fee_currency=fee_ccy, liquidity=liquidity, trade_id=trade_id if trade_id is not None else trade,
                    client_order_id=order.client_order_id)
        self._next_trade_id = trade + 1
        self.fills.append(fill)
        e.portfolio.process_fill(sec, fill)
        if was_open and status is _FILLED:
            self._closed(order)
        self.emit(order, order.status, fill_price=price, fill_quantity=qty, fee=fee, fee_currency=fee_ccy,
                  liquidity=liquidity)
        c = self.contingent
        if c.oco or c.brackets or c.pending or c.canceled_for:
            c.on_fill(order)
        return fill

    def close(self, order: Order, status: OrderStatus, *, code: str = "", message: str = "") -> bool:
        """The venue (or the simulator) canceled, rejected or expired an order. A closed order stays closed:
        False (and nothing changes) when it already was."""
        if not order.status.is_open:
            if order.status is not status:
                self.engine.log("ERROR", f"order {order.id}: late {status.value} report ignored, it is already "
                                         f"{order.status.value}")
            return False
        order.transition(status)
        self._closed(order)
        self.emit(order, status, code=code, message=message)
        c = self.contingent
        if c.oco or c.brackets or c.pending or c.canceled_for:
            c.on_closed(order)
        return True

    def expire(self, order: Order) -> None:
        self.close(order, S.EXPIRED, message="time in force expired")

    def _closed(self, order: Order) -> None:
        """An order leaves the open set: the manager's maps and the risk gate's. ``submit_market``'s fill with a
        handler does these four steps inline (one frame less per order): a step added here goes there too."""
        self.open_orders.pop(order.id, None)
        self._pending_updates.pop(order.id, None)
        self._expiring.discard(order.id)
        self.engine.risk_gate.on_order_closed(order)

    def _reopen_state(self, order: Order) -> OrderStatus:
        return S.PARTIALLY_FILLED if order.filled_quantity else S.ACCEPTED

    def apply_report(self, order: Order, r: ExecReport) -> None:
        """Apply one (journaled) venue report. The only path by which any live venue changes an order."""
        st = order.status
        kind = r.kind
        if kind is _R_STATUS and r.reason.startswith("CANCEL_REJECTED"):  # the older spelling of a refusal
            kind = _R_CANCEL_REJECTED
        if r.fill_quantity:
            if st is _SUBMITTED:
                order.transition(_ACCEPTED)
            self.fill(order, r.fill_quantity, r.fill_price, r.fee, r.fee_currency or None, trade_id=r.fill_id or None)
        elif kind is _R_CANCEL_REJECTED:
            if r.client_order_id == order.client_order_id and self.engine.brokerage.on_cancel_refused(order):
                self._next_update(order)  # the cancel of a cancel-replace: the update is refused
                self.emit(order, order.status, code="UPDATE_REJECTED", message=r.reason)
            elif st is _PENDING_CANCEL:
                order.transition(self._reopen_state(order))
                self.emit(order, order.status, code="CANCEL_REJECTED", message=r.reason)
        elif kind is _R_UPDATE_ACCEPTED:
            self.engine.brokerage.on_update_answered(order, True)
            u = self._next_update(order)
            if u is None:
                u = UpdateRequest(order_id=order.id, quantity=r.quantity, limit_price=r.limit_price,
                                  stop_price=r.stop_price)
            if st.is_open:
                self._apply_update(order, u)
                if r.stop_price is not None:  # a venue (or the emulation) may set the stop itself: a trailing stop
                    order.stop_price = r.stop_price
                if st is _PENDING_UPDATE:
                    order.transition(self._reopen_state(order))
                if order.filled_quantity and abs(order.remaining) < _EPS:  # cut down to what had filled
                    order.transition(_FILLED)
                    self._closed(order)
                self.emit(order, order.status, message="updated")
        elif kind is _R_UPDATE_REJECTED:
            self.engine.brokerage.on_update_answered(order, False)
            self._next_update(order)
            if st.is_open:
                if st is _PENDING_UPDATE:
                    order.transition(self._reopen_state(order))
                self.emit(order, order.status, code="UPDATE_REJECTED", message=r.reason)
        else:
            status = r.status
            if status.__class__ is not OrderStatus:  # a venue that reports plain strings
                status = _STATUS_OF.get(status) or OrderStatus(status)
            if status is _ACCEPTED or status is _PARTIALLY_FILLED or status is _PENDING_CANCEL:
                if st is _SUBMITTED:
                    order.transition(_ACCEPTED)
                    if r.reason == "EMULATED":
                        self.emit(order, _ACCEPTED, code="EMULATED",
                                  message=f"{order.type.value} held by leand's order manager: the venue has no such "
                                          "order; it is sent when triggered")
            elif status is _CANCELED or status is _EXPIRED or status is _REJECTED:
                if r.client_order_id and r.client_order_id != order.client_order_id:
                    return  # the end of a venue order this one replaced (cancel-replace): the order lives on
                if status is _CANCELED and st.is_open and st is not _PENDING_CANCEL and \
                        self.engine.brokerage.on_venue_canceled(order, self.engine.clock.now_ns()):
                    return
                if status is _CANCELED and order.id in self._expiring:
                    status = _EXPIRED
                self.close(order, status, code=r.reason, message=r.reason)

    def _next_update(self, order: Order) -> UpdateRequest | None:
        """The oldest update of ``order`` the venue has not answered yet, taken off the list."""
        q = self._pending_updates.get(order.id)
        if not q:
            return None
        u = q.popleft()
        if not q:
            del self._pending_updates[order.id]
        return u

    def expiring(self, order: Order) -> None:
        """The venue will confirm this order's end as a cancel: it is an expiry of its time in force."""
        self._expiring.add(order.id)

    def order_by_client_id(self, cid: str, *, live: bool = True) -> Order | None:
        """The order with client order id ``cid``: found by the id inside it (``prefix + id``), or among the live
        orders (an adopted order keeps its first boot's id). ``live=False`` reads an archived order without making
        it live again (a copy), for a reader on another thread than the engine's."""
        prefix = self.engine.client_id_prefix
        tail = cid[len(prefix):] if cid.startswith(prefix) else ""
        if tail.isdigit():
            oid = int(tail)
            o = self.orders.get(oid) if live else dict.get(self.orders, oid) or self.archive.order_copy(oid)
            if o is not None and o.client_order_id == cid:
                return o
        for o in list(dict.values(self.orders)):
            if o.client_order_id == cid:
                return o
        return None

    def adopt(self, order: Order) -> None:
        """An order still open at the venue after a restart: tracked again, so strategies can cancel it."""
        order.id = self._new_order_id()
        self.orders[order.id] = order
        self.open_orders[order.id] = order
        self.tickets[order.id] = OrderTicket(self.engine, order.id)
        self.engine.risk_gate.on_order_opened(order)
        self.engine.brokerage.on_adopted(order, self.engine.clock.now_ns())

    # ---- events ---------------------------------------------------------------------------------------
    def set_event_handler(self, handler: Callable[[OrderEvent], None] | None) -> None:
        """Where order events go; None: the strategy has no handler, so none is built."""
        self._handler = handler

    def emit(self, order: Order, status: OrderStatus, *, fill_price: float = 0.0, fill_quantity: float = 0.0,
             fee: float = 0.0, fee_currency: str = "USD", liquidity: LiquiditySide = LiquiditySide.NONE,
             code: str = "", message: str = "") -> None:
        e = self.engine
        handler = self._handler
        if handler is None:
            return  # the strategy does not handle order events: none is built
        oid = order.id
        ids = self._event_ids
        eid = ids[oid] = ids.get(oid, 0) + 1
        # at most 15 keywords (msgspec's fast path): the fill fields only on a fill; code, message and trigger price
        # only if set
        if fill_quantity:
            ev = OrderEvent(order_id=oid, symbol=order.symbol, time=e.clock.now_ns(), status=status,
                            fill_price=fill_price, fill_quantity=fill_quantity, fee=fee, fee_currency=fee_currency,
                            liquidity=liquidity, client_order_id=order.client_order_id, quantity=order.quantity,
                            limit_price=order.limit_price, stop_price=order.stop_price, ticket=self._live_ticket(oid),
                            id=eid)
            if code:
                ev.code = code
            if message:
                ev.message = message
            if order.trigger_price is not None:
                ev.trigger_price = order.trigger_price
        else:
            ev = OrderEvent(order_id=oid, symbol=order.symbol, time=e.clock.now_ns(), status=status,
                            code=code, message=message, client_order_id=order.client_order_id,
                            quantity=order.quantity, limit_price=order.limit_price, stop_price=order.stop_price,
                            trigger_price=order.trigger_price, ticket=self._live_ticket(oid), id=eid)
            if fill_price:
                ev.fill_price = fill_price
            if fee:
                ev.fee = fee
            if fee_currency != "USD":
                ev.fee_currency = fee_currency
            if liquidity is not _NO_LIQUIDITY:
                ev.liquidity = liquidity
        handler(ev)

    def _emit_status(self, order: Order, status: OrderStatus) -> None:
        """``emit(order, status)`` with a handler and nothing but the status (``submit_market``'s submitted event):
        the same event, without emit's keywords and the branches of the fields it leaves at their defaults."""
        oid = order.id
        ids = self._event_ids
        eid = ids[oid] = ids.get(oid, 0) + 1
        self._handler(OrderEvent(  # type: ignore[misc]
            order_id=oid, symbol=order.symbol, time=self.engine.clock.now_ns(), status=status,
            client_order_id=order.client_order_id, quantity=order.quantity, limit_price=order.limit_price,
            stop_price=order.stop_price, trigger_price=order.trigger_price, ticket=self._live_ticket(oid), id=eid))

    def _emit_fill(self, order: Order, fill_price: float, fill_quantity: float, fee: float, fee_currency: str
                   ) -> None:
        """``emit(order, FILLED, ...)`` of a taker fill, with a handler (``submit_market``'s): its arguments by
        position, without the keywords and the branches of the fields a fill event leaves unset."""
        oid = order.id
        ids = self._event_ids
        eid = ids[oid] = ids.get(oid, 0) + 1
        ev = OrderEvent(order_id=oid, symbol=order.symbol, time=self.engine.clock.now_ns(), status=_FILLED,
                        fill_price=fill_price, fill_quantity=fill_quantity, fee=fee, fee_currency=fee_currency,
                        liquidity=_TAKER, client_order_id=order.client_order_id, quantity=order.quantity,
                        limit_price=order.limit_price, stop_price=order.stop_price, ticket=self._live_ticket(oid),
                        id=eid)
        if order.trigger_price is not None:
            ev.trigger_price = order.trigger_price
        self._handler(ev)  # type: ignore[misc]

    def open_market_quantity(self, sym: Symbol) -> float:
        return sum(o.quantity - o.filled_quantity for o in self.open_orders.values()
                   if o.symbol == sym and o.type in (OrderType.MARKET, OrderType.MARKET_ON_OPEN))


def order_price(sec: Security, order: Order) -> float:
    """The price an order is checked for buying power at."""
    if order.type is OrderType.LIMIT and order.limit_price is not None:
        return order.limit_price
    if order.type in (OrderType.STOP_LIMIT,) and order.limit_price is not None:
        return order.limit_price
    if order.type is OrderType.STOP_MARKET and order.stop_price is not None:
        return order.stop_price
    if order.quantity > 0:
        return sec.ask or sec.price
    return sec.bid or sec.price


def trailing_stop_price(price: float, quantity: float, amount: float, as_percentage: bool) -> float:
    """A trailing stop's stop price ``amount`` (or ``amount`` x 100 %) away from ``price``, on the losing side."""
    if quantity < 0:
        return price * (1 - amount) if as_percentage else price - amount
    return price * (1 + amount) if as_percentage else price + amount


__all__ = ["OrderManager", "order_price", "trailing_stop_price"]
