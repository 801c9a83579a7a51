"""The pre-trade risk gate: the one place every new order and every modification passes.

``check_new`` / ``check_modify`` return an :class:`Approved` capability or a :class:`Rejection`. Execution
clients (``leand.execution.ExecutionClient``) accept an order only together with an ``Approved`` the gate issued
for exactly that order and those values, and only once — so no code path reaches a venue around the gate. The one
other way in is the in-process bar brokerage's ``gated_fill_price``, which asks the gate itself
(``refusal_of_new``) before it takes the order.

The approve path does not log and does not allocate beyond the capability; limits are resolved once per
(strategy, instrument) and cached until the configuration changes.
"""

from __future__ import annotations

import enum
import itertools
import secrets
from collections.abc import Callable
from typing import Any

import msgspec
import structlog

from leand.model import Order, OrderEvent, OrderStatus, OrderType, Symbol, UpdateRequest
from leand.risk.account import AccountRisk
from leand.risk.context import RiskContext
from leand.risk.limits import RiskConfig, RiskLimits, effective, load_config

log = structlog.get_logger("leand.risk")


class TradingState(enum.StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


# the states every check compares with, as module constants (``Enum.MEMBER`` costs about 150 ns on CPython 3.11:
# EnumType's __getattr__ slot)
_ACTIVE, _REDUCING, _HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED


class UnapprovedOrderError(RuntimeError):
    """An execution client was handed an order the gate did not approve (or not as it is now)."""


class Rejection(msgspec.Struct, frozen=True):
    code: str
    message: str
    limit: str = ""
    approved = False

    def to_event(self, order: Order, time_ns: int) -> OrderEvent:
        return OrderEvent(order_id=order.id, symbol=order.symbol, time=time_ns, status=OrderStatus.REJECTED,
                          code=self.code, message=self.message, client_order_id=order.client_order_id)


# Capabilities the gate issued and no client has consumed yet: token -> (order id, kind). A forged Approved has
# a token that is not here; a reused one was removed on first use.
_ISSUED: dict[int, tuple[int, str]] = {}


class Approved:
    """Proof that the gate approved one order (or one modification) with these exact values."""

    __slots__ = ("_token", "kind", "limit_price", "order_id", "quantity", "stop_price")

    def __init__(self, order_id: int, quantity: float, limit_price: float | None, stop_price: float | None,
                 kind: str, _token: int | None = None) -> None:
        if _token is None or _ISSUED.get(_token) != (order_id, kind):
            raise UnapprovedOrderError("Approved can only be issued by the risk gate")
        self._token = _token
        self.order_id = order_id
        self.quantity = quantity
        self.limit_price = limit_price
        self.stop_price = stop_price
        self.kind = kind

    approved = True

    def consume(self, order: Order, kind: str) -> None:
        """Called by execution clients: checks this approval covers ``order`` as it is now, then spends it."""
        token = getattr(self, "_token", None)  # a forged object may lack it
        if type(self) is not Approved or token is None or _ISSUED.get(token) != (order.id, self.kind):
            raise UnapprovedOrderError(f"order {order.id}: not approved by the risk gate (forged or already used)")
        if self.kind != kind:
            raise UnapprovedOrderError(f"order {order.id}: approval is for a {self.kind}, not a {kind}")
        if self.order_id != order.id:
            raise UnapprovedOrderError(f"order {order.id}: approval is for order {self.order_id}")
        if (order.quantity, order.limit_price, order.stop_price) != (self.quantity, self.limit_price,
                                                                     self.stop_price):
            raise UnapprovedOrderError(
                f"order {order.id}: changed after approval (approved qty {self.quantity} limit {self.limit_price} "
                f"stop {self.stop_price}; now qty {order.quantity} limit {order.limit_price} stop {order.stop_price})")
        del _ISSUED[self._token]


    def revoke(self) -> None:
        """Give back an approval that will not be used (the order was refused later for another reason)."""
        _ISSUED.pop(self._token, None)


#: tokens are a counter from a random 64-bit start: unguessable enough to stop accidental or lazy forgery
#: (the registry, not the token, is the guard) without a getrandom() system call on every order
_TOKENS = itertools.count(secrets.randbits(64))
_new_approved = object.__new__


def _issue(order_id: int, quantity: float, limit: float | None, stop: float | None, kind: str) -> Approved:
    token = next(_TOKENS)
    _ISSUED[token] = (order_id, kind)
    a = _new_approved(Approved)  # the gate's own path: the registry entry was just made, no need to re-check it
    a._token, a.order_id, a.quantity, a.limit_price, a.stop_price, a.kind = token, order_id, quantity, limit, stop, kind
    return a


#: limits that, when set, can refuse an order for more than its instrument, lot, tick grid, price, quantity and
#: notional (``check_new``'s short path needs every one off)
_PLAIN_OFF = ("price_collar_pct", "price_collar_ticks", "max_position_quantity", "max_position_notional",
              "max_gross_exposure", "max_net_exposure", "max_open_orders_per_instrument", "max_open_orders",
              "order_rate_per_second", "venue_order_rate_per_second")


def _is_plain(lim: RiskLimits) -> bool:
    """True when a market or limit order under ``lim`` is checked for its instrument, tradability, lot, tick grid,
    a price and its own quantity and notional only (no position, open orders, throttles or buying power)."""
    return all(getattr(lim, name) is None for name in _PLAIN_OFF) and not lim.check_buying_power and \
        not lim.prevent_self_trade


#: what ``passes_plain`` reads of a (strategy, instrument)'s plain limits, resolved once with them: the collar
#: reference is the mid, the lot is checked, the tick grid is checked, max_order_quantity, max_order_notional
_Plain = tuple[bool, bool, bool, "float | None", "float | None"]


def _plain_of(lim: RiskLimits) -> _Plain:
    return (lim.collar_reference == "mid", lim.check_lot_size is not False, lim.check_tick_grid is not False,
            lim.max_order_quantity, lim.max_order_notional)


class TokenBucket:
    __slots__ = ("burst", "last_ns", "rate", "tokens")

    def __init__(self, rate_per_s: float, burst: int, now_ns: int) -> None:
        self.rate = rate_per_s
        self.burst = float(max(burst, 1))
        self.tokens = self.burst
        self.last_ns = now_ns

    def take(self, now_ns: int) -> bool:
        if now_ns > self.last_ns:
            self.tokens = min(self.burst, self.tokens + (now_ns - self.last_ns) * self.rate / 1e9)
            self.last_ns = now_ns
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RiskGate:
    def __init__(self, config: RiskConfig | dict | None, ctx: RiskContext, *,
                 on_state_change: Callable[[TradingState, str, bool], Any] | None = None,
                 account: AccountRisk | None = None) -> None:
        self.config = load_config(config)
        self.ctx = ctx
        #: the venue account this strategy's orders go to, shared with the other strategies on it (None: the
        #: strategy is alone, as in a backtest)
        self.account = account
        #: a strategy on several venue accounts: the account of each symbol (``account`` for the others)
        self.accounts: dict[Symbol, AccountRisk] | None = None
        self.state = TradingState.ACTIVE
        self.state_reason = ""
        self.on_state_change = on_state_change
        self._limits: dict[tuple[str, Symbol], RiskLimits] = {}
        #: the (strategy, instrument) pairs whose limits are plain (see ``_is_plain``): their market orders take
        #: ``check_new``'s short path
        self._plain: dict[str, dict[Symbol, _Plain]] = {}
        #: the context's one-call view for that path (``order_view(symbol, mid)`` -> instrument, tradable,
        #: reference price), if it has one; the four questions otherwise
        self._order_view: Callable[[Symbol, bool], tuple[Any, bool, float]] | None = getattr(ctx, "order_view", None)
        self._open: dict[int, Order] = {}
        self._open_by_symbol: dict[Symbol, dict[int, Order]] = {}
        self._order_buckets: dict[str, TokenBucket] = {}
        self._cancel_buckets: dict[str, TokenBucket] = {}
        self._venue_buckets: dict[str, TokenBucket] = {}
        self.rejections = 0

    # ---- configuration and state ---------------------------------------------------------------
    def set_config(self, config: RiskConfig | dict) -> None:
        """Replace the limits at run time (validated first; on error nothing changes)."""
        new = load_config(config)
        self.config = new
        self._limits = {}
        self._plain = {}
        self._order_buckets.clear()
        self._cancel_buckets.clear()
        self._venue_buckets.clear()
        log.info("risk.config_reloaded")

    def limits_for(self, strategy_id: str, symbol: Symbol) -> RiskLimits:
        key = (strategy_id, symbol)
        lim = self._limits.get(key)
        if lim is None:
            lim = self._limits[key] = effective(self.config, strategy_id, symbol.id, symbol.value)
            if _is_plain(lim) and lim.tradable is not False:  # (not tradable: the whole check refuses it)
                self._plain.setdefault(strategy_id, {})[symbol] = _plain_of(lim)
        return lim

    def _set_state(self, state: TradingState, reason: str, cancel_all: bool = False) -> None:
        if state is self.state:
            return
        old = self.state
        self.state = state
        self.state_reason = reason
        log.warning("risk.state_changed", old=old.value, new=state.value, reason=reason, cancel_all=cancel_all)
        if self.on_state_change is not None:
            self.on_state_change(state, reason, cancel_all)

    def halt(self, reason: str = "kill switch", cancel_all: bool | None = None) -> None:
        """The kill switch: nothing passes until :meth:`resume`."""
        if cancel_all is None:
            cancel_all = bool(self.config.global_.cancel_all_on_halt)
        self._set_state(TradingState.HALTED, reason, cancel_all)

    def reduce_only(self, reason: str) -> None:
        self._set_state(TradingState.REDUCING, reason)

    def resume(self, by: str) -> None:
        """Resuming is always explicit (never automatic after a breach)."""
        self._set_state(TradingState.ACTIVE, f"resumed by {by}")

    def on_equity(self, equity: float, now_ns: int) -> None:
        """Evaluate the daily-loss and drawdown limits (account level, global limits)."""
        g = self.config.global_
        if self.state is TradingState.HALTED:
            return
        if g.max_drawdown_pct is not None:
            peak = max(self.ctx.peak_equity(), equity)
            if peak > 0 and 1 - equity / peak >= g.max_drawdown_pct:
                self._breach(g.on_drawdown or "halted", f"drawdown {1 - equity / peak:.4f} from peak {peak:.2f} "
                                                        f"breaches max_drawdown_pct {g.max_drawdown_pct}")
                if self.state is TradingState.HALTED:
                    return
        if g.daily_loss_limit is not None or g.daily_loss_limit_pct is not None:
            sod = self.ctx.start_of_day_equity()
            loss = sod - equity
            if (g.daily_loss_limit is not None and loss >= g.daily_loss_limit) or (
                    g.daily_loss_limit_pct is not None and sod > 0 and loss / sod >= g.daily_loss_limit_pct):
                self._breach(g.on_daily_loss or "reducing",
                             f"daily loss {loss:.2f} against start-of-day equity {sod:.2f} breaches "
                             f"daily_loss_limit {g.daily_loss_limit} / daily_loss_limit_pct {g.daily_loss_limit_pct}")

    def _breach(self, action: str, reason: str) -> None:
        if action == "halted":
            self.halt(reason)
        elif self.state is TradingState.ACTIVE:
            self.reduce_only(reason)

    # ---- open-order bookkeeping (the engine calls these) -----------------------------------------
    def on_order_opened(self, order: Order) -> None:
        oid, sym = order.id, order.symbol
        self._open[oid] = order
        book = self._open_by_symbol.get(sym)
        if book is None:
            book = self._open_by_symbol[sym] = {}
        book[oid] = order
        acct = self.account if self.accounts is None else self.account_for(sym)
        if acct is not None:
            acct.on_order_opened(order)

    def on_order_closed(self, order: Order) -> None:
        sym = order.symbol
        if self._open.pop(order.id, None) is not None:
            self._open_by_symbol[sym].pop(order.id, None)
        acct = self.account if self.accounts is None else self.account_for(sym)
        if acct is not None:
            acct.on_order_closed(order)

    @property
    def open_order_count(self) -> int:
        return len(self._open)

    def account_for(self, symbol: Symbol) -> AccountRisk | None:
        """The venue account an order in ``symbol`` goes to (None: no account level, as in a backtest)."""
        if self.accounts is not None:
            return self.accounts.get(symbol, self.account)
        return self.account

    # ---- checks ------------------------------------------------------------------------------------
    def _reject(self, order: Order, code: str, limit: str, message: str) -> Rejection:
        self.rejections += 1
        log.warning("risk.rejected", code=code, order_id=order.id, symbol=order.symbol.id,
                    strategy=order.strategy_id, quantity=order.quantity, limit=limit, reason=message)
        return Rejection(code, message, limit)

    def _bucket(self, table: dict[str, TokenBucket], key: str, rate: float, burst: int | None,
                now: int) -> TokenBucket:
        b = table.get(key)
        if b is None:
            b = table[key] = TokenBucket(rate, burst if burst is not None else max(int(rate), 1), now)
        return b

    def check_new(self, order: Order) -> Approved | Rejection:
        """The gate's decision on a new order: the capability its execution client spends, or the refusal."""
        # (refusal_of_new, without its call)
        if order.stop_price is not None or not self.passes_plain(order.strategy_id, order.symbol, order.quantity,
                                                                 order.limit_price):
            refusal = self._check(order, order.quantity, order.limit_price, order.stop_price, None)
            if refusal is not None:
                return refusal
        return _issue(order.id, order.quantity, order.limit_price, order.stop_price, "new")

    def refusal_of_new(self, order: Order) -> Rejection | None:
        """``check_new``'s decision without a capability: None when the order passes. For an in-process execution
        client that asks the gate itself just before it takes the order (the bar brokerage's
        ``gated_fill_price``): nothing reaches it unchecked, and no approval is issued only to be spent at once."""
        if order.stop_price is None and self.passes_plain(order.strategy_id, order.symbol, order.quantity,
                                                          order.limit_price):
            return None
        return self._check(order, order.quantity, order.limit_price, order.stop_price, None)

    def passes_plain(self, strategy_id: str, sym: Symbol, qty: float, limit: float | None) -> bool:
        """True when a new order without a stop passes on ``refusal_of_new``'s short path, from its numbers alone
        (the bar brokerage asks this of a quiet market order before any ``Order`` is made); False when only the
        whole check can tell (which may still pass it). Changes nothing: a refusal is the whole check's."""
        if self.state is not _ACTIVE:
            return False
        plain = self._plain.get(strategy_id)
        if plain is None:
            return False
        p = plain.get(sym)
        if p is None:
            return False
        # plain limits (see ``_is_plain``; tradable not refused), an active account without limits of its own, no
        # stop: of ``_check``'s rules only these can refuse the order (every other one needs a limit that is off,
        # or a state that is not active); anything that fails here goes the whole way, which refuses it with its
        # code and message
        if self.accounts is None:
            acct = self.account
            if acct is not None and not acct.plain():
                return False
        else:
            acct = self.accounts.get(sym, self.account)
            if acct is not None and not acct.plain():
                return False
        mid, check_lot, check_tick, max_qty, max_notional = p
        view = self._order_view
        if view is not None:
            inst, tradable, ref = view(sym, mid)
        else:
            ctx = self.ctx
            inst = ctx.instrument(sym)
            tradable = inst is not None and ctx.tradable(sym)
            ref = (ctx.mid_price(sym) if mid else ctx.last_price(sym)) if tradable else 0.0
        if inst is None or not tradable or qty == 0.0:
            return False
        aq = qty if qty > 0.0 else -qty  # abs(qty), without the call (qty is not 0.0 here, so never -0.0)
        if check_lot:
            lot = inst.lot_size
            if lot > 0.0:
                # abs(steps - round(steps)) <= 1e-6 without round()'s call: steps > 0, so m = steps % 1.0 is
                # steps - floor(steps) exactly, and the distance to the nearest whole number is m or 1.0 - m (both
                # exact)
                steps = aq / lot
                m = steps % 1.0
                if not (m <= 1e-6 or 1.0 - m <= 1e-6):
                    if m != m:  # NaN or infinite steps: round() raises, as it did
                        round(steps)
                    return False
        if limit is None:
            if not ref:
                return False
            px = ref
        else:
            if not limit or (check_tick and not inst.on_tick_grid(limit)):
                return False
            px = limit
        return (max_qty is None or aq <= max_qty) and (
            max_notional is None or aq * px * inst.multiplier <= max_notional)

    def check_modify(self, order: Order, update: UpdateRequest) -> Approved | Rejection:
        qty = update.quantity if update.quantity is not None else order.quantity
        limit = update.limit_price if update.limit_price is not None else order.limit_price
        stop = update.stop_price if update.stop_price is not None else order.stop_price
        r = self._check(order, qty, limit, stop, order)
        if r is not None:
            return r
        return _issue(order.id, qty, limit, stop, "modify")

    def on_cancel_request(self, order: Order) -> Rejection | None:
        lim = self.limits_for(order.strategy_id, order.symbol)
        if lim.cancel_rate_per_second is not None:
            now = self.ctx.now_ns()
            b = self._bucket(self._cancel_buckets, order.strategy_id, lim.cancel_rate_per_second, lim.cancel_burst,
                             now)
            if not b.take(now):
                return self._reject(order, "RISK_CANCEL_RATE", "cancel_rate_per_second",
                                    f"cancel rate for strategy {order.strategy_id!r} exceeds "
                                    f"cancel_rate_per_second {lim.cancel_rate_per_second} "
                                    f"(burst {b.burst:g})")
        return None

    def _check(self, order: Order, qty: float, limit: float | None, stop: float | None,
               existing: Order | None) -> Rejection | None:
        ctx = self.ctx
        sym = order.symbol
        state = self.state
        if state is _HALTED:
            return self._reject(order, "RISK_HALTED", "trading_state",
                                f"trading is halted ({self.state_reason}); nothing passes until resumed")
        lim = self._limits.get((order.strategy_id, sym))
        if lim is None:
            lim = self.limits_for(order.strategy_id, sym)
        inst = ctx.instrument(sym)
        if inst is None:
            return self._reject(order, "RISK_UNKNOWN_INSTRUMENT", "instrument", f"unknown instrument {sym.id}")
        if lim.tradable is False or not ctx.tradable(sym):
            return self._reject(order, "RISK_NOT_TRADABLE", "tradable", f"{sym.id} is not tradable")
        if qty == 0:
            return self._reject(order, "RISK_ZERO_QUANTITY", "quantity", f"order quantity is 0 for {sym.id}")
        aq = abs(qty)
        lot = inst.lot_size
        if lim.check_lot_size is not False and lot > 0:
            steps = aq / lot
            if abs(steps - round(steps)) > 1e-6:
                return self._reject(order, "RISK_LOT_SIZE", "lot_size",
                                    f"quantity {aq:g} is not a multiple of the lot size {lot:g} for {sym.id}")
        if lim.check_tick_grid is not False and (limit is not None or stop is not None):
            for name, px in (("limit", limit), ("stop", stop)):
                if px is not None and not inst.on_tick_grid(px):
                    return self._reject(order, "RISK_TICK_SIZE", "tick_size",
                                        f"{name} price {px:g} is not on the tick grid {inst.tick_size:g} "
                                        f"for {sym.id}")
        # the order's own effect on the position, worst case: every open order on its side fills too
        pos = ctx.position(sym)
        side_open = 0.0
        book = self._open_by_symbol.get(sym)
        if book:
            for o in book.values():
                if o is existing:
                    continue
                rem = o.quantity - o.filled_quantity
                if (rem > 0) == (qty > 0):
                    side_open += rem
        projected = pos + side_open + qty
        increases = abs(projected) > abs(pos) or (pos != 0 and (projected > 0) != (pos > 0) and projected != 0)
        if state is _REDUCING and increases:
            return self._reject(order, "RISK_REDUCE_ONLY", "trading_state",
                                f"trading is reduce-only ({self.state_reason}): order {qty:+g} {sym.id} with "
                                f"position {pos:+g} and open {side_open:+g} would not reduce exposure")
        ref = ctx.mid_price(sym) if lim.collar_reference == "mid" else ctx.last_price(sym)
        px = limit if limit is not None else stop if stop is not None else ref
        if not px:
            return self._reject(order, "RISK_NO_PRICE", "price", f"no price for {sym.id} to assess the order")
        if ref and limit is not None and (lim.price_collar_pct is not None or lim.price_collar_ticks is not None):
            band = 0.0
            if lim.price_collar_pct is not None:
                band = ref * lim.price_collar_pct
            if lim.price_collar_ticks is not None:
                tb = lim.price_collar_ticks * inst.tick_size
                band = tb if lim.price_collar_pct is None else min(band, tb)
            if abs(limit - ref) > band + 1e-12:
                return self._reject(order, "RISK_PRICE_COLLAR", "price_collar",
                                    f"limit {limit:g} is {abs(limit - ref):g} from the "
                                    f"{lim.collar_reference or 'last'} price {ref:g}, outside the collar "
                                    f"{band:g} for {sym.id}")
        mult = inst.multiplier
        notional = aq * px * mult
        if lim.max_order_quantity is not None and aq > lim.max_order_quantity:
            return self._reject(order, "RISK_MAX_ORDER_QUANTITY", "max_order_quantity",
                                f"order quantity {aq:g} exceeds max_order_quantity {lim.max_order_quantity:g} "
                                f"for {sym.id}")
        if lim.max_order_notional is not None and notional > lim.max_order_notional:
            return self._reject(order, "RISK_MAX_ORDER_NOTIONAL", "max_order_notional",
                                f"order notional {notional:.2f} {inst.quote_currency} exceeds max_order_notional "
                                f"{lim.max_order_notional:.2f} for {sym.id}")
        if increases:
            if lim.max_position_quantity is not None and abs(projected) > lim.max_position_quantity:
                return self._reject(order, "RISK_MAX_POSITION", "max_position_quantity",
                                    f"position would reach {projected:+g} (held {pos:+g}, open {side_open:+g}, "
                                    f"order {qty:+g}), beyond max_position_quantity {lim.max_position_quantity:g} "
                                    f"for {sym.id}")
            mark = ref or px
            if lim.max_position_notional is not None and abs(projected) * mark * mult > lim.max_position_notional:
                return self._reject(order, "RISK_MAX_POSITION_NOTIONAL", "max_position_notional",
                                    f"position notional would reach {abs(projected) * mark * mult:.2f}, beyond "
                                    f"max_position_notional {lim.max_position_notional:.2f} for {sym.id}")
            if lim.max_gross_exposure is not None or lim.max_net_exposure is not None:
                gross = net = 0.0
                for s, q in ctx.positions().items():
                    if s == sym:
                        continue
                    si = ctx.instrument(s)
                    v = q * (ctx.last_price(s) or 0.0) * (si.multiplier if si else 1)
                    gross += abs(v)
                    net += v
                own = projected * mark * mult
                gross += abs(own)
                net += own
                if lim.max_gross_exposure is not None and gross > lim.max_gross_exposure:
                    return self._reject(order, "RISK_MAX_GROSS_EXPOSURE", "max_gross_exposure",
                                        f"gross exposure would reach {gross:.2f}, beyond max_gross_exposure "
                                        f"{lim.max_gross_exposure:.2f}")
                if lim.max_net_exposure is not None and abs(net) > lim.max_net_exposure:
                    return self._reject(order, "RISK_MAX_NET_EXPOSURE", "max_net_exposure",
                                        f"net exposure would reach {net:.2f}, beyond max_net_exposure "
                                        f"{lim.max_net_exposure:.2f}")
        if existing is None:
            if lim.max_open_orders_per_instrument is not None and book is not None and \
                    len(book) >= lim.max_open_orders_per_instrument:
                return self._reject(order, "RISK_MAX_OPEN_ORDERS_INSTRUMENT", "max_open_orders_per_instrument",
                                    f"{len(book)} open orders for {sym.id} already; max_open_orders_per_instrument "
                                    f"is {lim.max_open_orders_per_instrument}")
            if lim.max_open_orders is not None and len(self._open) >= lim.max_open_orders:
                return self._reject(order, "RISK_MAX_OPEN_ORDERS", "max_open_orders",
                                    f"{len(self._open)} open orders already; max_open_orders is "
                                    f"{lim.max_open_orders}")
        if lim.check_buying_power and increases:
            bp = ctx.buying_power(sym, qty, px)
            if notional > bp + 1e-9:
                return self._reject(order, "RISK_BUYING_POWER", "buying_power",
                                    f"order notional {notional:.2f} exceeds buying power {bp:.2f} for {sym.id}")
        if lim.prevent_self_trade and book:
            crossing = limit if limit is not None and order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
            for o in book.values():
                if o is existing or (o.quantity > 0) == (qty > 0) or o.limit_price is None:
                    continue
                if crossing is None or (qty > 0 and crossing >= o.limit_price) or (
                        qty < 0 and crossing <= o.limit_price):
                    return self._reject(order, "RISK_SELF_TRADE", "prevent_self_trade",
                                        f"order {qty:+g} {sym.id} at {crossing if crossing is not None else 'market'}"
                                        f" would cross own resting order {o.id} ({o.quantity:+g} @ {o.limit_price:g})")
        acct = self.account if self.accounts is None else self.account_for(sym)
        if acct is not None:
            r = acct.check(order, qty, px * mult, increases, existing)
            if r is not None:
                acct.rejections += 1
                return self._reject(order, *r)
        # throttles last: a rejected order does not spend a token
        if lim.order_rate_per_second is not None or lim.venue_order_rate_per_second is not None:
            now = ctx.now_ns()
            if lim.order_rate_per_second is not None:
                b = self._bucket(self._order_buckets, order.strategy_id, lim.order_rate_per_second, lim.order_burst,
                                 now)
                if not b.take(now):
                    return self._reject(order, "RISK_ORDER_RATE", "order_rate_per_second",
                                        f"order rate for strategy {order.strategy_id!r} exceeds "
                                        f"order_rate_per_second {lim.order_rate_per_second:g} "
                                        f"(burst {b.burst:g})")
            if lim.venue_order_rate_per_second is not None:
                venue = ctx.venue_of(sym)
                b = self._bucket(self._venue_buckets, venue, lim.venue_order_rate_per_second,
                                 lim.venue_order_burst, now)
                if not b.take(now):
                    return self._reject(order, "RISK_VENUE_ORDER_RATE", "venue_order_rate_per_second",
                                        f"order rate at venue {venue!r} exceeds venue_order_rate_per_second "
                                        f"{lim.venue_order_rate_per_second:g} (burst {b.burst:g})")
        if acct is not None:
            r = acct.take_order_token()
            if r is not None:
                acct.rejections += 1
                ob = self._order_buckets.get(order.strategy_id)
                if ob is not None:  # the strategy's own token goes back: nothing was sent
                    ob.tokens = min(ob.burst, ob.tokens + 1.0)
                return self._reject(order, *r)
        return None
