"""The venue's core, free of HTTP: accounts, client orders, the crowd, and what each book event means.

Every change goes through one synchronous path (submit/cancel on a symbol's ``OrderBook``, then
``_process`` drains the book's events): client fills move balances and produce ``executionReport`` and
``outboundAccountPosition``; every trade goes on the public tape; every touched level goes into the depth
diff channels; one operation that touches the book is one update id. Running on one asyncio loop, nothing
needs a lock.
"""

from __future__ import annotations

import random
import re
import time
import zlib
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from pathlib import Path
from typing import Literal, Protocol, overload

from leand.model import OrderType, TimeInForce
from leand.simulator.book import STP, Accepted, Canceled, Expired, OrderBook, Rejected, SimOrder, Trade

from . import errors
from .accounts import Q8, ZERO, Account, fmt, q8
from .config import DEFAULT_LEAN_DIR, ConfigError, GeneratorConfig, SimConfig
from .market import (
    INTERVALS_MS,
    Generator,
    SymbolMarket,
    kline_rows,
    load_l2d_mids,
    load_lean_mids,
    synthetic_history,
)
from .orderlists import OrderLists
from .orders import LIMIT_PRICED, ORDER_TYPES, PLAIN, STOP_TYPES, OrderRec, OrderSpec
from .params import decimal_param, long_param

CID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}\Z")
#: no balance grows past this, so every amount stays exact at 8 decimals in a 28-digit context
MAX_BALANCE = Decimal("1000000000000000")
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_STP = {"EXPIRE_TAKER": STP.CANCEL_INCOMING, "EXPIRE_MAKER": STP.CANCEL_RESTING, "EXPIRE_BOTH": STP.CANCEL_BOTH,
        "NONE": STP.NONE}
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_EXPIRY = {"ioc": "UNFILLED_IOC_QUANTITY_EXPIRED", "fok": "UNFILLED_FOK_ORDER_EXPIRED",
           "market_unfilled": "INSUFFICIENT_LIQUIDITY", "self_trade": "STP"}


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Publisher(Protocol):
    """Where the exchange's output goes (the WebSocket hub, or nothing)."""

    def wants(self, stream: str) -> bool: ...

    def publish(self, stream: str, payload: dict) -> None: ...

    def user(self, api_key: str, event: dict) -> None: ...


class NullPublisher:
    def wants(self, stream: str) -> bool:
        return False

    def publish(self, stream: str, payload: dict) -> None:
        pass

    def user(self, api_key: str, event: dict) -> None:
        pass


def _dec(params: Mapping[str, str], name: str) -> Decimal | None:
    return decimal_param(params, name)


def _int(params: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    return long_param(params, name, default)


def _lean_mids(gen: GeneratorConfig, symbol: str, base: str, quote: str) -> list[tuple[int, float]]:
    """The mid path of ``symbol`` from LEAN crypto minute quotes (BTCUSDT reads ``btcusd``)."""
    root = Path(gen.lean_dir) if gen.lean_dir else DEFAULT_LEAN_DIR
    ticker = (base + ("usd" if quote in ("USDT", "USD", "USDC") else quote)).lower()
    folder = root / ticker
    dates = sorted(p.name.split("_")[0] for p in folder.glob("*_quote.zip")) if folder.is_dir() else []
    if not dates:
        raise ConfigError(f"generator.source = 'lean': no quote files for {symbol} in {folder}")
    date = gen.lean_date or dates[0]
    if date not in dates:
        raise ConfigError(f"generator.lean_date = {date!r}: {symbol} has quotes for {', '.join(dates)}")
    try:
        return load_lean_mids(root, ticker, date)
    except (OSError, ValueError) as e:
        raise ConfigError(f"generator: cannot read LEAN quotes for {symbol}: {e}") from None


def _l2d_mids(gen: GeneratorConfig, symbol: str) -> list[tuple[int, float]]:
    """The mid path of ``symbol`` from its .l2d book recording (``generator.l2d_files``)."""
    path = gen.l2d_files.get(symbol)
    if not path:
        raise ConfigError(f"generator.source = 'l2d': no recording for {symbol} in generator.l2d_files")
    try:
        return load_l2d_mids(Path(path))
    except (OSError, ValueError) as e:
        raise ConfigError(f"generator: cannot read the book recording for {symbol}: {e}") from None


class Exchange(OrderLists):
    def __init__(self, cfg: SimConfig, publisher: Publisher | None = None,
                 clock: Callable[[], int] = wall_ms) -> None:
        self.cfg = cfg
        self.hub: Publisher = publisher or NullPublisher()
        self.clock = clock
        self.maker_fee = Decimal(cfg.maker_fee)
        self.taker_fee = Decimal(cfg.taker_fee)
        self.stp_name = cfg.stp_mode
        self.markets: dict[str, SymbolMarket] = {}
        self.sims: dict[str, dict[int, SimOrder]] = {}
        self.records: dict[str, dict[int, OrderRec]] = {}
        self.stops: dict[str, dict[int, OrderRec]] = {}
        self.next_oid: dict[str, int] = {}
        self.generators: dict[str, Generator] = {}
        self.accounts = {a.api_key: Account(a.api_key, a.api_secret, a.balances, 1000 + i)
                         for i, a in enumerate(cfg.accounts)}
        self.account_orders: dict[str, dict[str, list[OrderRec]]] = {k: {} for k in self.accounts}
        self.my_trades: dict[str, dict[str, list[dict]]] = {k: {} for k in self.accounts}
        self.exec_id = 0
        self._cid_rng = random.Random(cfg.seed)
        self._last_bbo: dict[str, tuple] = {}
        self._agg: list[Trade] = []
        self._init_lists()
        gen = cfg.generator
        for s in cfg.symbols:
            book = OrderBook(s.symbol, tick_size=float(s.tick_size), lot_size=float(s.step_size),
                             stp=_STP[cfg.stp_mode])
            m = SymbolMarket(s, book)
            self.markets[s.symbol] = m
            self.sims[s.symbol] = {}
            self.records[s.symbol] = {}
            self.stops[s.symbol] = {}
            self.next_oid[s.symbol] = 1
            rng = random.Random(cfg.seed * 1_000_003 + zlib.crc32(s.symbol.encode()))
            mids = (_lean_mids(gen, s.symbol, s.base, s.quote) if gen.source == "lean"
                    else _l2d_mids(gen, s.symbol) if gen.source == "l2d" else None)
            self.generators[s.symbol] = Generator(m, self, rng, gen.trade_prob, mids, gen.lean_speed)
            if gen.history_minutes:
                end = (int(datetime.fromisoformat(gen.history_end.replace("Z", "+00:00")).timestamp() * 1000)
                       if gen.history_end else clock())
                synthetic_history(m, cfg.seed, end, gen.history_minutes)

    # ---- the crowd ------------------------------------------------------------------------------------
    def warmup(self, steps: int) -> None:
        for _ in range(steps):
            self.step_all()

    def step_all(self, dt_ms: float = 100.0) -> None:
        for g in self.generators.values():
            g.step(dt_ms)

    def crowd_submit(self, symbol: str, side: int, qty: float, price: float, type_: OrderType,
                     owner: str) -> int:
        m = self.markets[symbol]
        oid = self._new_oid(symbol)
        o = SimOrder(id=oid, owner=owner, side=side, quantity=qty, type=type_, price=price)
        self.sims[symbol][oid] = o
        m.book.submit(o, self.clock())
        self._process(m, self.clock())
        return oid

    def crowd_cancel(self, symbol: str, order_id: int) -> None:
        m = self.markets[symbol]
        if order_id in m.book.orders:
            m.book.cancel(order_id, self.clock())
            self._process(m, self.clock())

    # ---- helpers --------------------------------------------------------------------------------------
    def _new_oid(self, symbol: str) -> int:
        oid = self.next_oid[symbol]
        self.next_oid[symbol] = oid + 1
        return oid

    def _gen_cid(self) -> str:
        return "".join(self._cid_rng.choices(_ALNUM, k=22))

    @overload
    def market(self, params: Mapping[str, str], required: Literal[True] = True) -> SymbolMarket: ...

    @overload
    def market(self, params: Mapping[str, str], required: bool) -> SymbolMarket | None: ...

    def market(self, params: Mapping[str, str], required: bool = True) -> SymbolMarket | None:
        sym = params.get("symbol")
        if not sym:
            if required:
                raise errors.mandatory("symbol")
            return None
        m = self.markets.get(sym)
        if m is None:
            raise errors.bad_symbol()
        return m

    def working(self, rec: OrderRec) -> bool:
        return rec.open and rec.order_id in self.markets[rec.symbol].book.orders

    def ref_price(self, m: SymbolMarket) -> float:
        if m.last_price:
            return m.last_price
        bp, _, ap, _ = m.bbo()
        return (bp + ap) / 2 if bp and ap else bp or ap

    def _next_exec(self) -> int:
        self.exec_id += 1
        return self.exec_id

    def _emit(self, rec: OrderRec, x: str, now: int, **kw) -> None:
        self.hub.user(rec.account, rec.report(x, now, self._next_exec(), self.working(rec), **kw))

    def _positions(self, now: int) -> None:
        for key, acct in self.accounts.items():
            changed = acct.take_changed()
            if changed:
                acct.update_time = now
                self.hub.user(key, {"e": "outboundAccountPosition", "E": now, "u": now,
                                    "B": acct.position_json(changed)})

    def _release(self, rec: OrderRec) -> None:
        if rec.locked and rec.lock_asset:
            self.accounts[rec.account].unlock(rec.lock_asset, rec.locked)
            rec.locked = ZERO

    # ---- book events -------------------------------------------------------------------------------------
    def _process(self, m: SymbolMarket, now: int) -> None:
        """Apply what the book did: fills, statuses, tape, depth touches; then publish."""
        events = m.book.drain()
        if not events:
            return
        sims = self.sims[m.symbol]
        recs = self.records[m.symbol]
        seen: list[int] = []
        agg = self._agg
        self._depth += 1
        try:
            for ev in events:
                t = type(ev)
                if t is Trade:
                    maker = sims.get(ev.maker_id)
                    if maker is not None:
                        m.touch(maker.side, maker.price)
                    taker = sims.get(ev.taker_id)
                    if taker is not None and taker.price:
                        m.touch(taker.side, taker.price)
                    seen.append(ev.maker_id)
                    seen.append(ev.taker_id)
                    self._public_trade(m, ev, now)
                    agg.append(ev)
                    r = recs.get(ev.maker_id)
                    if r is not None:
                        self._fill(m, r, ev, True, now)
                    r = recs.get(ev.taker_id)
                    if r is not None:
                        self._fill(m, r, ev, False, now)
                    continue
                oid = ev.order_id
                o = sims.get(oid)
                if o is not None:
                    m.touch(o.side, o.price)
                seen.append(oid)
                r = recs.get(oid)
                if r is None:
                    continue
                if t is Accepted:
                    if r.working_time < 0 and ev.resting:
                        r.working_time = now
                    self._emit(r, "NEW", now)
                elif t is Canceled or t is Expired:
                    reason = ev.reason if t is Canceled else "expired"
                    if reason == "canceled" and r.list_id >= 0 and (m.symbol, oid) in self.list_expiring:
                        self.list_expiring.discard((m.symbol, oid))
                        reason = "list"  # its OCO sibling worked: it expires
                    if reason == "canceled":
                        r.status = "CANCELED"
                        x = "CANCELED"
                    elif reason == "self_trade":
                        r.status = "EXPIRED_IN_MATCH"
                        r.expiry_reason = "STP"
                        x = "EXPIRED"
                    else:
                        r.status = "EXPIRED"
                        r.expiry_reason = _EXPIRY.get(reason, "")
                        x = "EXPIRED"
                    r.update_time = now
                    self._release(r)
                    self._emit(r, x, now)
                    if r.list_id >= 0:
                        self._list_note("end", r, now)
                elif t is Rejected:
                    r.status = "REJECTED"
                    r.update_time = now
                    self._release(r)
                    self._emit(r, "REJECTED", now, reject="NONE")
                    if r.list_id >= 0:
                        self._list_note("end", r, now)
        finally:
            self._depth -= 1
        live = m.book.orders
        for oid in seen:
            if oid not in live:
                sims.pop(oid, None)
        m.end_op()
        if agg:
            self._publish_agg(m, agg, now)
            agg.clear()
        bbo = m.bbo()
        if bbo != self._last_bbo.get(m.symbol):
            self._last_bbo[m.symbol] = bbo
            name = m.symbol.lower() + "@bookTicker"
            if self.hub.wants(name):
                self.hub.publish(name, m.book_ticker(bbo))
        self._positions(now)
        if self._list_queue and not self._depth:
            self._list_flush(now)
        if self.stops[m.symbol]:
            self._check_stops(m, now)

    def _public_trade(self, m: SymbolMarket, ev: Trade, now: int) -> None:
        buyer_maker = ev.taker_side < 0
        m.record_trade(ev.trade_id, ev.price, ev.quantity, now, buyer_maker)
        name = m.symbol.lower() + "@trade"
        if self.hub.wants(name):
            self.hub.publish(name, {"e": "trade", "E": now, "s": m.symbol, "t": ev.trade_id, "p": m.fpx(ev.price),
                                    "q": m.fqty(ev.quantity), "T": now, "m": buyer_maker, "M": True})

    def _publish_agg(self, m: SymbolMarket, trades: list[Trade], now: int) -> None:
        """One aggTrade per run of trades by the same taker at the same price."""
        name = m.symbol.lower() + "@aggTrade"
        want = self.hub.wants(name)
        i = 0
        while i < len(trades):
            first = trades[i]
            qty = first.quantity
            j = i + 1
            while j < len(trades) and trades[j].taker_id == first.taker_id and trades[j].price == first.price:
                qty += trades[j].quantity
                j += 1
            m.agg_id += 1
            last = trades[j - 1]
            buyer_maker = first.taker_side < 0
            m.agg_trades.append((m.agg_id, first.price, qty, first.trade_id, last.trade_id, now, buyer_maker))
            if want:
                self.hub.publish(name, {"e": "aggTrade", "E": now, "s": m.symbol, "a": m.agg_id,
                                        "p": m.fpx(first.price), "q": m.fqty(qty), "f": first.trade_id,
                                        "l": last.trade_id, "T": now, "m": buyer_maker, "M": True})
            i = j

    def _fill(self, m: SymbolMarket, r: OrderRec, ev: Trade, is_maker: bool, now: int) -> None:
        acct = self.accounts[r.account]
        q = Decimal(f"{ev.quantity:.{m.qty_dec}f}")
        p = Decimal(f"{ev.price:.{m.px_dec}f}")
        quote_amt = q8(q * p)
        rate = self.maker_fee if is_maker else self.taker_fee
        if r.side == "BUY":
            commission, comm_asset = q8(q * rate), m.base
            if r.lock_asset:
                release = min(r.locked, (q * r.price).quantize(Q8, rounding=ROUND_UP))
                r.locked -= release
                acct.spend_locked(m.quote, release)
                acct.add(m.quote, release - quote_amt)
            else:
                acct.add(m.quote, -quote_amt)
            acct.add(m.base, q - commission)
        else:
            commission, comm_asset = q8(quote_amt * rate), m.quote
            release = min(r.locked, q)
            r.locked -= release
            acct.spend_locked(m.base, release)
            acct.add(m.quote, quote_amt - commission)
        r.executed += q
        r.cum_quote += q * p
        done = (ev.maker_done if is_maker else ev.taker_done) or r.executed >= r.orig_qty
        r.status = "FILLED" if done else "PARTIALLY_FILLED"
        r.update_time = now
        if done:
            self._release(r)
        fill = {"price": fmt(p), "qty": fmt(q), "commission": fmt(commission), "commissionAsset": comm_asset,
                "tradeId": ev.trade_id}
        r.fills.append(fill)
        self.my_trades[r.account].setdefault(m.symbol, []).append(
            {"symbol": m.symbol, "id": ev.trade_id, "orderId": r.order_id, "orderListId": r.list_id, "price": fmt(p),
             "qty": fmt(q), "quoteQty": fmt(q * p), "commission": fmt(commission), "commissionAsset": comm_asset,
             "time": now, "isBuyer": r.side == "BUY", "isMaker": is_maker, "isBestMatch": True})
        self._emit(r, "TRADE", now, last_qty=q, last_px=p, commission=commission, comm_asset=comm_asset,
                   trade_id=ev.trade_id, maker=is_maker)
        if r.list_id >= 0:
            self._list_note("fill", r, now)
            if done:
                self._list_note("end", r, now)

    # ---- stops ---------------------------------------------------------------------------------------------
    def _would_fire(self, r: OrderRec, px: float) -> bool:
        return self._would_fire_at(r.type, r.side, r.stop_price, px)

    @staticmethod
    def _would_fire_at(type_: str, side: str, stop_price: Decimal, px: float) -> bool:
        stop = float(stop_price)
        above = type_.startswith("STOP_LOSS") == (side == "BUY")
        return px >= stop if above else px <= stop

    def _check_stops(self, m: SymbolMarket, now: int) -> None:
        px = m.last_price
        if not px:
            return
        stops = self.stops[m.symbol]
        fired = [r for r in stops.values() if self._would_fire(r, px)]
        for r in sorted(fired, key=lambda r: r.order_id):
            if stops.pop(r.order_id, None) is None:
                continue
            r.working_time = now
            ol = self.lists.get(r.list_id) if r.list_id >= 0 else None
            if ol is not None:  # an OCO's stop leg triggered: the other leg expires, the lock passes to it
                self._activated(ol, r, now)
            self._book_submit(m, r, now)

    # ---- orders ----------------------------------------------------------------------------------------------
    def _book_submit(self, m: SymbolMarket, r: OrderRec, now: int) -> None:
        limit = r.type in LIMIT_PRICED
        acct = self.accounts[r.account]
        if not limit and r.side == "BUY" and r.type != "MARKET":  # a triggered market stop: can it pay?
            cost = self._walk_cost(m, r.orig_qty)
            if cost > acct.available(m.quote):
                r.status, r.expiry_reason = "EXPIRED", "INSUFFICIENT_BALANCES"
                self._release(r)
                self._emit(r, "EXPIRED", now, reject="INSUFFICIENT_BALANCES")
                if r.list_id >= 0:
                    self._list_note("end", r, now)
                return
        tif = _TIF.get(r.tif, TimeInForce.GTC)
        o = SimOrder(id=r.order_id, owner=r.account, side=1 if r.side == "BUY" else -1, quantity=float(r.orig_qty),
                     type=OrderType.LIMIT if limit else OrderType.MARKET, price=float(r.price) if limit else 0.0,
                     time_in_force=tif if limit else TimeInForce.GTC, post_only=r.type == "LIMIT_MAKER")
        self.sims[m.symbol][r.order_id] = o
        m.book.submit(o, now)
        self._process(m, now)

    def _walk_cost(self, m: SymbolMarket, qty: Decimal) -> Decimal:
        """Quote needed to buy ``qty`` from the asks as they stand (an estimate for the balance check)."""
        left = float(qty)
        cost = 0.0
        for lvl in m.book.levels(-1):
            take = min(left, lvl.qty)
            cost += take * lvl.price
            left -= take
            if left <= 1e-12:
                break
        return Decimal(f"{cost:.8f}")

    def _qty_for_quote(self, m: SymbolMarket, side: str, quote: Decimal) -> Decimal:
        """Base quantity that ``quote`` buys (or that must be sold to raise it), rounded down to the step."""
        left = float(quote)
        qty = 0.0
        for lvl in m.book.levels(-1 if side == "BUY" else 1):
            if lvl.qty <= 0:
                continue
            take = min(lvl.qty, left / lvl.price)
            qty += take
            left -= take * lvl.price
            if left <= 1e-12:
                break
        return (Decimal(f"{qty:.12f}") / m.step).to_integral_value(ROUND_DOWN) * m.step

    def _filters(self, m: SymbolMarket, type_: str, price: Decimal | None, stop: Decimal | None,
                 qty: Decimal | None, quote_qty: Decimal | None) -> None:
        c = m.cfg
        for p in (price, stop):
            if p is None:
                continue
            lo, hi, tick = Decimal(c.min_price), Decimal(c.max_price), m.tick
            if p <= 0 or (lo and p < lo) or (hi and p > hi) or (p - lo) % tick != 0:
                raise errors.filter_failure("PRICE_FILTER")
        if qty is not None:
            lo, hi = Decimal(c.min_qty), Decimal(c.max_qty)
            if qty <= 0 or qty < lo or (hi and qty > hi) or (qty - lo) % m.step != 0:
                raise errors.filter_failure("LOT_SIZE")
        lo_n, hi_n = Decimal(c.min_notional), Decimal(c.max_notional)
        if type_ in LIMIT_PRICED and price is not None and qty is not None:
            notional = price * qty
            if notional < lo_n or (hi_n and notional > hi_n):
                raise errors.filter_failure("NOTIONAL")
        elif quote_qty is not None:
            if quote_qty < lo_n:
                raise errors.filter_failure("NOTIONAL")
        elif qty is not None:  # market-ish: applyMinToMarket, at the reference price
            ref = self.ref_price(m) if type_ == "MARKET" else float(stop or 0)
            if ref and qty * Decimal(f"{ref:.8f}") < lo_n:
                raise errors.filter_failure("NOTIONAL")

    def _parse_order(self, m: SymbolMarket, params: Mapping[str, str], names: Mapping[str, str] = PLAIN
                     ) -> OrderSpec:
        """One order's parameters, checked as ``POST /api/v3/order`` checks them (shape, combination, filters).
        ``names`` maps each field to its wire name: an order list's legs use prefixed names (``abovePrice``)."""
        side = params.get(names["side"])
        if not side:
            raise errors.mandatory(names["side"])
        if side not in ("BUY", "SELL"):
            raise errors.ApiError(-1117, "Invalid side.")
        type_ = params.get(names["type"])
        if not type_:
            raise errors.mandatory(names["type"])
        if type_ not in ORDER_TYPES:
            raise errors.ApiError(-1116, "Invalid orderType.")
        tif = params.get(names["timeInForce"]) or ""
        qty = _dec(params, names["quantity"])
        quote_qty = _dec(params, names["quoteOrderQty"]) if names["quoteOrderQty"] else None
        price = _dec(params, names["price"])
        stop = _dec(params, names["stopPrice"])
        needs_tif = type_ in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
        if needs_tif and not tif:
            raise errors.mandatory(names["timeInForce"])
        if tif and tif not in _TIF:
            raise errors.ApiError(-1115, "Invalid timeInForce.")
        if tif and not needs_tif:
            raise errors.not_required(names["timeInForce"])
        if type_ == "MARKET":
            if qty is None and quote_qty is None:
                raise errors.either(names["quantity"], names["quoteOrderQty"] or "quoteOrderQty")
            if qty is not None and quote_qty is not None:
                raise errors.not_required(names["quoteOrderQty"])
        else:
            if qty is None:
                raise errors.mandatory(names["quantity"])
            if quote_qty is not None:
                raise errors.not_required(names["quoteOrderQty"])
        if type_ in LIMIT_PRICED:
            if price is None:
                raise errors.mandatory(names["price"])
        elif price is not None:
            raise errors.not_required(names["price"])
        if type_ in STOP_TYPES:
            if params.get(names["trailingDelta"]):
                raise errors.order_rejected(errors.UNSUPPORTED)
            if stop is None:
                raise errors.mandatory(names["stopPrice"])
        elif stop is not None:
            raise errors.not_required(names["stopPrice"])
        if _dec(params, names["icebergQty"]):
            raise errors.order_rejected(errors.UNSUPPORTED)
        cid = params.get(names["newClientOrderId"]) or ""
        if cid and not CID_RE.match(cid):
            raise errors.bad_param(names["newClientOrderId"], "^[\\.A-Z\\:/a-z0-9_-]{1,36}$")
        self._filters(m, type_, price, stop, qty, quote_qty)
        return OrderSpec(side, type_, tif, qty, quote_qty, price, stop, cid)

    def _stp_param(self, params: Mapping[str, str]) -> str:
        stp = params.get("selfTradePreventionMode") or self.stp_name
        if stp not in _STP:
            raise errors.bad_param("selfTradePreventionMode", ", ".join(_STP))
        return stp

    def _resp_type(self, params: Mapping[str, str], default: str) -> str:
        resp_type = params.get("newOrderRespType") or default
        if resp_type not in ("ACK", "RESULT", "FULL"):
            raise errors.bad_param("newOrderRespType", "ACK, RESULT, FULL")
        return resp_type

    def _check_room(self, key: str, m: SymbolMarket, cids: list[str]) -> None:
        """MAX_NUM_ORDERS for ``len(cids)`` new orders, and no client order id already open."""
        open_here = [r for r in self.account_orders[key].get(m.symbol, ()) if r.open]
        if len(open_here) + len(cids) > m.cfg.max_num_orders:
            raise errors.filter_failure("MAX_NUM_ORDERS")
        given = [c for c in cids if c]
        if len(set(given)) != len(given) or any(r.cid in given for r in open_here):
            raise errors.order_rejected(errors.DUPLICATE)

    def _match_checks(self, m: SymbolMarket, key: str, spec: OrderSpec, now: int) -> None:
        """What the matching engine refuses at placement: a LIMIT_MAKER that would take, a stop that would
        trigger at once."""
        if spec.type == "LIMIT_MAKER":
            assert spec.price is not None  # required above for every priced type
            best = m.book.best_ask if spec.side == "BUY" else m.book.best_bid
            if best is not None and (best <= float(spec.price) if spec.side == "BUY" else best >= float(spec.price)):
                raise errors.order_rejected(errors.WOULD_TAKE)
        if spec.type in STOP_TYPES:
            assert spec.stop is not None  # required above for every stop type
            ref = self.ref_price(m)
            if ref and self._would_fire_at(spec.type, spec.side, spec.stop, ref):
                raise errors.order_rejected(errors.WOULD_TRIGGER)

    def _lock_need(self, m: SymbolMarket, key: str, spec: OrderSpec, qty: Decimal) -> tuple[str, Decimal]:
        """What an order locks (asset, amount); raises -2010 when the account cannot pay for it."""
        acct = self.accounts[key]
        if spec.side == "SELL":
            return m.base, qty
        if spec.type in LIMIT_PRICED:
            assert spec.price is not None
            return m.quote, (qty * spec.price).quantize(Q8, rounding=ROUND_UP)
        if spec.type == "MARKET" and self._walk_cost(m, qty) > acct.available(m.quote):
            raise errors.order_rejected(errors.INSUFFICIENT_BALANCE)
        return "", ZERO

    def _new_rec(self, key: str, m: SymbolMarket, spec: OrderSpec, qty: Decimal, stp: str, now: int,
                 list_id: int = -1) -> OrderRec:
        r = OrderRec(account=key, symbol=m.symbol, order_id=self._new_oid(m.symbol), cid=spec.cid or self._gen_cid(),
                     side=spec.side, type_=spec.type, tif=spec.tif or "GTC", price=spec.price or ZERO,
                     stop_price=spec.stop or ZERO, orig_qty=qty, orig_quote_qty=spec.quote_qty or ZERO, stp=stp,
                     now=now)
        r.list_id = list_id
        self.records[m.symbol][r.order_id] = r
        self.account_orders[key].setdefault(m.symbol, []).append(r)
        return r

    def _start(self, m: SymbolMarket, r: OrderRec, now: int) -> None:
        """A recorded order goes to work: a stop waits for its trigger, anything else meets the book."""
        if r.type in STOP_TYPES:
            self.stops[m.symbol][r.order_id] = r
            self._emit(r, "NEW", now)
            self._positions(now)
        elif r.orig_qty == 0:  # a quote-quantity market order with no liquidity at all
            r.status, r.expiry_reason = "EXPIRED", "INSUFFICIENT_LIQUIDITY"
            self._emit(r, "NEW", now)
            self._emit(r, "EXPIRED", now)
            if r.list_id >= 0:
                self._list_note("end", r, now)
        else:
            self._book_submit(m, r, now)

    def new_order(self, key: str, params: Mapping[str, str], test: bool = False) -> dict:
        """POST /api/v3/order (and the WS API ``order.place``). Raises ApiError with the documented code."""
        now = self.clock()
        m = self.market(params)
        spec = self._parse_order(m, params)
        resp_type = self._resp_type(params, "FULL" if spec.type in ("MARKET", "LIMIT") else "ACK")
        stp = self._stp_param(params)
        self._check_room(key, m, [spec.cid])
        return self._place_parsed(key, m, spec, stp, resp_type, now, test)

    def _place_parsed(self, key: str, m: SymbolMarket, spec: OrderSpec, stp: str, resp_type: str, now: int,
                      test: bool = False) -> dict:
        """The matching engine's half of a new order: its checks, the lock, then the book."""
        self._match_checks(m, key, spec, now)
        acct = self.accounts[key]
        qty = spec.qty
        if spec.type == "MARKET" and spec.quote_qty is not None:
            if spec.side == "BUY" and spec.quote_qty > acct.available(m.quote):
                raise errors.order_rejected(errors.INSUFFICIENT_BALANCE)
            qty = self._qty_for_quote(m, spec.side, spec.quote_qty)
        assert qty is not None  # validated above: a quantity, or a market order's quoteOrderQty turned into one
        lock_asset, lock_amt = self._lock_need(m, key, spec, qty)
        if lock_asset and lock_amt > acct.available(lock_asset):
            raise errors.order_rejected(errors.INSUFFICIENT_BALANCE)
        if test:
            return {}
        r = self._new_rec(key, m, spec, qty, stp, now)
        if lock_asset and lock_amt:
            acct.lock(lock_asset, lock_amt)
            r.lock_asset, r.locked = lock_asset, lock_amt
        self._start(m, r, now)
        if resp_type == "ACK":
            return r.ack(now)
        out = r.result(now, self.working(r))
        if resp_type == "FULL":
            out["fills"] = list(r.fills)
        return out

    def _find(self, key: str, m: SymbolMarket, params: Mapping[str, str], not_found: Callable[[], errors.ApiError]
              ) -> OrderRec:
        oid = _int(params, "orderId")
        ocid = params.get("origClientOrderId") or ""
        if oid is None and not ocid:
            raise errors.either("orderId", "origClientOrderId")
        if oid is not None:
            r = self.records[m.symbol].get(oid)
            if r is None or r.account != key or (ocid and r.cid != ocid):
                raise not_found()
            return r
        for r in reversed(self.account_orders[key].get(m.symbol, [])):
            if r.cid == ocid:
                return r
        raise not_found()

    def cancel_order(self, key: str, params: Mapping[str, str]) -> dict:
        now = self.clock()
        m = self.market(params)
        r = self._find(key, m, params, errors.cancel_rejected)
        if not r.open:
            raise errors.cancel_rejected()
        restr = params.get("cancelRestrictions")
        if (restr == "ONLY_NEW" and r.status != "NEW") or (restr == "ONLY_PARTIALLY_FILLED"
                                                             and r.status != "PARTIALLY_FILLED"):
            raise errors.ApiError(-2011, "Order was not canceled due to cancel restrictions.")
        new_cid = params.get("newClientOrderId") or ""
        if new_cid and not CID_RE.match(new_cid):
            raise errors.bad_param("newClientOrderId")
        r.cancel_cid = new_cid or self._gen_cid()
        self._cancel_rec(m, r, now)
        return r.cancel_response(now)

    def _cancel_rec(self, m: SymbolMarket, r: OrderRec, now: int) -> None:
        if r.status == "PENDING_NEW" or self.stops[m.symbol].pop(r.order_id, None) is not None:
            r.status = "CANCELED"
            r.update_time = now
            self._release(r)
            self._emit(r, "CANCELED", now)
            self._positions(now)
            if r.list_id >= 0:
                self._list_note("end", r, now)
        else:
            m.book.cancel(r.order_id, now)
            self._process(m, now)

    def cancel_all(self, key: str, params: Mapping[str, str]) -> list[dict]:
        now = self.clock()
        m = self.market(params)
        out = []
        for r in [r for r in self.account_orders[key].get(m.symbol, []) if r.open]:
            if not r.open:  # a leg of an order list canceled with an earlier leg
                out.append(r.cancel_response(now))
                continue
            r.cancel_cid = self._gen_cid()
            self._cancel_rec(m, r, now)
            out.append(r.cancel_response(now))
        if not out:
            raise errors.cancel_rejected()
        return out

    def query_order(self, key: str, params: Mapping[str, str]) -> dict:
        m = self.market(params)
        r = self._find(key, m, params, errors.no_such_order)
        return r.query(self.working(r))

    def open_orders(self, key: str, params: Mapping[str, str]) -> list[dict]:
        m = self.market(params, required=False)
        syms = [m.symbol] if m else list(self.markets)
        out = [r for s in syms for r in self.account_orders[key].get(s, []) if r.open]
        return [r.query(self.working(r)) for r in sorted(out, key=lambda r: (r.time, r.symbol, r.order_id))]

    def all_orders(self, key: str, params: Mapping[str, str]) -> list[dict]:
        m = self.market(params)
        limit = min(max(_int(params, "limit", 500) or 500, 1), 1000)
        oid = _int(params, "orderId")
        start, end = _int(params, "startTime"), _int(params, "endTime")
        rs = [r for r in self.account_orders[key].get(m.symbol, [])
              if (oid is None or r.order_id >= oid) and (start is None or r.time >= start)
              and (end is None or r.time <= end)]
        rs = rs[:limit] if oid is not None or start is not None else rs[-limit:]
        return [r.query(self.working(r)) for r in rs]

    def trades_of(self, key: str, params: Mapping[str, str]) -> list[dict]:
        m = self.market(params)
        limit = min(max(_int(params, "limit", 500) or 500, 1), 1000)
        oid, from_id = _int(params, "orderId"), _int(params, "fromId")
        start, end = _int(params, "startTime"), _int(params, "endTime")
        ts = [t for t in self.my_trades[key].get(m.symbol, [])
              if (oid is None or t["orderId"] == oid) and (from_id is None or t["id"] >= from_id)
              and (start is None or t["time"] >= start) and (end is None or t["time"] <= end)]
        return ts[:limit] if from_id is not None or start is not None else ts[-limit:]

    def account_info(self, key: str, params: Mapping[str, str]) -> dict:
        a = self.accounts[key]
        mk = int(self.maker_fee * 10000)
        tk = int(self.taker_fee * 10000)
        omit = (params.get("omitZeroBalances") or "").lower() == "true"
        return {"makerCommission": mk, "takerCommission": tk, "buyerCommission": 0, "sellerCommission": 0,
                "commissionRates": {"maker": fmt(self.maker_fee), "taker": fmt(self.taker_fee),
                                    "buyer": fmt(ZERO), "seller": fmt(ZERO)},
                "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
                "requireSelfTradePrevention": False, "preventSor": False, "updateTime": a.update_time,
                "accountType": "SPOT", "balances": a.balances_json(omit), "permissions": ["SPOT"], "uid": a.uid}

    def deposit(self, key: str, asset: str, amount: Decimal) -> None:
        """A deposit (or, negative, a withdrawal): ``balanceUpdate`` then ``outboundAccountPosition``."""
        now = self.clock()
        acct = self.accounts[key]
        if amount < 0 and -amount > acct.available(asset):
            raise errors.order_rejected(errors.INSUFFICIENT_BALANCE)
        if acct.available(asset) + amount > MAX_BALANCE:  # keeps every later balance formattable at 8 decimals
            raise errors.bad_param("amount", f"a balance of at most {MAX_BALANCE}")
        acct.add(asset, amount)
        self.hub.user(key, {"e": "balanceUpdate", "E": now, "a": asset, "d": fmt(amount), "T": now})
        self._positions(now)

    # ---- public market data -------------------------------------------------------------------------------
    def exchange_info(self, params: Mapping[str, str]) -> dict:
        syms = self._symbols_param(params)
        lim = self.cfg.limits
        return {"timezone": "UTC", "serverTime": self.clock(),
                "rateLimits": [
                    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                     "limit": lim.weight_per_minute},
                    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
                     "limit": lim.orders_per_10s},
                    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": lim.orders_per_day},
                    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000}],
                "exchangeFilters": [], "symbols": [self._symbol_info(self.markets[s]) for s in syms]}

    def _symbols_param(self, params: Mapping[str, str]) -> list[str]:
        if params.get("symbol"):
            return [self.market(params).symbol]
        raw = params.get("symbols")
        if raw:
            import orjson

            try:
                names = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise errors.bad_param("symbols") from None
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise errors.bad_param("symbols")
            for n in names:
                if n not in self.markets:
                    raise errors.bad_symbol()
            return names
        return list(self.markets)

    def _symbol_info(self, m: SymbolMarket) -> dict:
        c = m.cfg
        return {"symbol": m.symbol, "status": "TRADING", "baseAsset": m.base, "baseAssetPrecision": 8,
                "quoteAsset": m.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8, "orderTypes": list(ORDER_TYPES),
                "icebergAllowed": False, "ocoAllowed": True, "otoAllowed": True, "opoAllowed": False,
                "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": False, "cancelReplaceAllowed": True,
                "amendAllowed": False, "pegInstructionsAllowed": False, "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": fmt(Decimal(c.min_price)),
                     "maxPrice": fmt(Decimal(c.max_price)), "tickSize": fmt(m.tick)},
                    {"filterType": "LOT_SIZE", "minQty": fmt(Decimal(c.min_qty)), "maxQty": fmt(Decimal(c.max_qty)),
                     "stepSize": fmt(m.step)},
                    {"filterType": "NOTIONAL", "minNotional": fmt(Decimal(c.min_notional)), "applyMinToMarket": True,
                     "maxNotional": fmt(Decimal(c.max_notional)), "applyMaxToMarket": False, "avgPriceMins": 5},
                    {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": c.max_num_orders}],
                "permissions": [], "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": self.stp_name, "allowedSelfTradePreventionModes": [self.stp_name]}

    def depth(self, params: Mapping[str, str]) -> dict:
        m = self.market(params)
        limit = _int(params, "limit", 100) or 100
        if limit < 1 or limit > 5000:
            raise errors.bad_param("limit", "1-5000")
        return m.snapshot(limit)

    def recent_trades(self, params: Mapping[str, str]) -> list[dict]:
        m = self.market(params)
        limit = min(max(_int(params, "limit", 500) or 500, 1), 1000)
        return [{"id": t, "price": m.fpx(p), "qty": m.fqty(q), "quoteQty": f"{p * q:.8f}", "time": ts,
                 "isBuyerMaker": bm, "isBestMatch": True} for t, p, q, ts, bm in list(m.trades)[-limit:]]

    def agg_trades(self, params: Mapping[str, str]) -> list[dict]:
        m = self.market(params)
        limit = min(max(_int(params, "limit", 500) or 500, 1), 1000)
        from_id, start, end = _int(params, "fromId"), _int(params, "startTime"), _int(params, "endTime")
        rows = [a for a in m.agg_trades if (from_id is None or a[0] >= from_id)
                and (start is None or a[5] >= start) and (end is None or a[5] <= end)]
        rows = rows[:limit] if from_id is not None or start is not None else rows[-limit:]
        return [{"a": a, "p": m.fpx(p), "q": m.fqty(q), "f": f, "l": la, "T": ts, "m": bm, "M": True}
                for a, p, q, f, la, ts, bm in rows]

    def klines(self, params: Mapping[str, str]) -> list[list]:
        m = self.market(params)
        interval = params.get("interval")
        if not interval:
            raise errors.mandatory("interval")
        ms = INTERVALS_MS.get(interval)
        if ms is None:
            raise errors.bad_interval()
        limit = min(max(_int(params, "limit", 500) or 500, 1), 1000)
        return kline_rows(m, ms, _int(params, "startTime"), _int(params, "endTime"), limit)

    def ticker_24hr(self, params: Mapping[str, str]) -> dict | list[dict]:
        now = self.clock()
        if params.get("symbol"):
            return self.market(params).stats_24h(now)
        return [self.markets[s].stats_24h(now) for s in self._symbols_param(params)]

    def book_ticker(self, params: Mapping[str, str]) -> dict | list[dict]:
        def one(m: SymbolMarket) -> dict:
            bp, bq, ap, aq = m.bbo()
            return {"symbol": m.symbol, "bidPrice": m.fpx(bp), "bidQty": m.fqty(bq), "askPrice": m.fpx(ap),
                    "askQty": m.fqty(aq)}

        if params.get("symbol"):
            return one(self.market(params))
        return [one(self.markets[s]) for s in self._symbols_param(params)]

    def ticker_price(self, params: Mapping[str, str]) -> dict | list[dict]:
        if params.get("symbol"):
            m = self.market(params)
            return {"symbol": m.symbol, "price": m.fpx(m.last_price)}
        return [{"symbol": s, "price": self.markets[s].fpx(self.markets[s].last_price)}
                for s in self._symbols_param(params)]

    def avg_price(self, params: Mapping[str, str]) -> dict:
        m = self.market(params)
        now = self.clock()
        ks = [k for k in m.klines if k.open_time >= now - 300_000]
        v = sum(k.volume for k in ks)
        px = sum(k.quote_volume for k in ks) / v if v else m.last_price
        return {"mins": 5, "price": m.fpx(px), "closeTime": now}

    # ---- timers ------------------------------------------------------------------------------------------
    def flush(self, now: int, second: bool) -> None:
        """The 100 ms tick: depth diffs (and every second the 1000 ms depth, tickers, klines, partial books)."""
        hub = self.hub
        for m in self.markets.values():
            s = m.symbol.lower()
            name = s + "@depth@100ms"
            ev = m.flush_depth("100ms", now, hub.wants(name))
            if ev is not None:
                hub.publish(name, ev)
            for n in (5, 10, 20):
                name = f"{s}@depth{n}@100ms"
                if hub.wants(name):
                    hub.publish(name, m.snapshot(n))
            if not second:
                continue
            name = s + "@depth"
            ev = m.flush_depth("1000ms", now, hub.wants(name))
            if ev is not None:
                hub.publish(name, ev)
            for n in (5, 10, 20):
                name = f"{s}@depth{n}"
                if hub.wants(name):
                    hub.publish(name, m.snapshot(n))
            if hub.wants(s + "@miniTicker"):
                hub.publish(s + "@miniTicker", m.mini_ticker(now))
            if hub.wants(s + "@ticker"):
                hub.publish(s + "@ticker", m.ticker_event(now))
            for iv, ms in INTERVALS_MS.items():
                name = f"{s}@kline_{iv}"
                if hub.wants(name):
                    rows = kline_rows(m, ms, None, None, 1)
                    if rows:
                        r = rows[-1]
                        hub.publish(name, {"e": "kline", "E": now, "s": m.symbol, "k": {
                            "t": r[0], "T": r[6], "s": m.symbol, "i": iv, "f": -1, "L": -1, "o": r[1], "c": r[4],
                            "h": r[2], "l": r[3], "v": r[5], "n": r[8], "x": r[6] < now, "q": r[7], "V": r[9],
                            "Q": r[10], "B": "0"}})
