"""Order entry through ccxt's async REST API, own-order updates from ``watch_orders``/``watch_my_trades``
(ccxt.pro) or REST polling, and REST reconciliation at start and after every reconnect.

The guarantees of every leand venue, and where they are kept:

* journal before send: the daemon journals the intent before :meth:`submit`; the request task starts after;
* client ids: the engine's deterministic client order id is sent as the exchange's (ccxt's unified
  ``clientOrderId`` parameter), so any order can be looked up by the id leand journaled;
* no blind resend: a new order whose outcome is unknown (timeout, 5xx) is looked up by its client order id,
  never sent again; a request refused for load (429, 418) was not executed and is retried after a backoff;
* no lost report: the order stream is subscribed before the REST snapshot is taken, at start and after every
  reconnect, so every fill arrives by one path or both; fills carry a stable id built from the exchange's
  trade id, and the daemon drops one it has already journaled;
* status only moves forward here as well (a late ``open`` never follows ``closed``), and an ended order's
  per-order state is dropped while a bounded window (``_ended``) still maps its late trades to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any

import structlog

from leand.adapters.ccxt.config import CcxtVenueConfig
from leand.adapters.ccxt.data import backoff, match_markets
from leand.adapters.ccxt.exchange import has_ws, make_exchange
from leand.adapters.ccxt.markets import MarketRules, OrderRefused, native_order_types, rules_from_market
from leand.model import (
    CANCEL_REJECTED,
    STATUS_RANK,
    ExecReport,
    Instrument,
    Order,
    OrderStatus,
    OrderType,
    ReportKind,
    Symbol,
    TimeInForce,
    UpdateRequest,
    VenueOrder,
)
from leand.venue import (
    Capabilities,
    EndedOrders,
    OrderStore,
    ReportChannel,
    VenueView,
    fill_moves_on,
    held_locally,
    status_moves_on,
)

log = structlog.get_logger("leand.ccxt.exec")

#: how far along an order is: a report that would move it back is dropped
RANK = STATUS_RANK
_S = OrderStatus
_CLOSED = (_S.CANCELED, _S.REJECTED, _S.EXPIRED)
TRADE_ID_SPAN = 10 ** 12
TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}
#: how far (venue time) before the journal's newest fill of a symbol, or an open intent's creation, a snapshot
#: asks the trade history again: a fill journaled after a later one, and the daemon's clock against the venue's
REPORT_REORDER_NS = 60 * 1_000_000_000
#: a bound on the pages one trade-history walk reads (a venue that keeps answering the same page cannot loop)
MAX_TRADE_PAGES = 10_000
#: lookups of an unknown order whose trade came first, before its held trades are left to a reconciliation
LOOKUP_TRIES = 3


def fill_key(symbol_index: int, trade_id: Any) -> int:
    """The journal's fill key for an exchange trade id: numeric ids keep their value above the symbol's index
    (as the Binance adapter does, so both adapters agree on the same venue), others a stable 62-bit hash."""
    s = str(trade_id)
    if s.isdigit() and int(s) < TRADE_ID_SPAN:
        return symbol_index * TRADE_ID_SPAN + int(s)
    h = int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big") >> 2
    return (1 << 61) | h


def _trade_uid(t: Mapping[str, Any]) -> str:
    """A trade's identity across pages: its exchange id (its order and time where the exchange gives none)."""
    tid = t.get("id")
    return str(tid) if tid is not None else f"{t.get('order')}@{t.get('timestamp')}:{t.get('amount')}@{t.get('price')}"


def order_status(o: dict[str, Any]) -> OrderStatus:
    """ccxt's unified order status as leand's."""
    st = o.get("status")
    filled = float(o.get("filled") or 0.0)
    if st == "closed":
        return _S.FILLED
    if st == "canceled":
        return _S.CANCELED
    if st == "expired":
        return _S.EXPIRED
    if st == "rejected":
        return _S.REJECTED
    return _S.PARTIALLY_FILLED if filled > 0 else _S.ACCEPTED


class CcxtExecutionClient:
    def __init__(self, cfg: CcxtVenueConfig, store: OrderStore, instruments: Mapping[Symbol, Instrument],
                 credentials: Mapping[str, str]) -> None:
        self.cfg = cfg
        self.store = store
        self.reports: ReportChannel = ReportChannel()
        self.symbols: dict[str, Symbol] = {s.value.upper(): s for s in instruments}
        self.index = {v: i for i, v in enumerate(self.symbols)}
        self._credentials = dict(credentials)
        self.exchange: Any = None
        #: leand ticker -> ccxt unified symbol, and back
        self.names: dict[str, str] = {}
        self.tickers: dict[str, str] = {}
        self.rules: dict[str, MarketRules] = {}
        self.capabilities = Capabilities()
        self.account: dict[str, float] = {}
        self.start_view: VenueView | None = None
        # Per-order state is kept for orders that have not ended (filled, canceled, rejected, expired): an order
        # that ends moves to ``_ended``, so a long session's memory does not grow with its orders.
        #: client order id -> symbol id of every order this client sent or adopted and has not seen end
        self._orders: dict[str, str] = {}
        #: (ccxt symbol, venue order id) -> client order id, of the orders that have not ended and those in
        #: ``_ended`` (a trade names only its venue order id: a late one still finds its order)
        self._order_cids: dict[tuple[str, str], str] = {}
        #: client order id -> (ccxt symbol, venue order id)
        self._venue_ids: dict[str, tuple[str, str]] = {}
        #: client order id -> how far along (``RANK``) the order is
        self._stage: dict[str, int] = {}
        #: the last orders that ended, oldest first: client order id -> (ccxt symbol, venue order id) if known
        self._ended: EndedOrders[tuple[str, str] | None] = EndedOrders()
        self._inflight: set[str] = set()
        self._tasks: set[asyncio.Task] = set()
        self._user_tasks: list[asyncio.Task] = []
        self._reconciling: asyncio.Task | None = None
        self.user_connected = asyncio.Event()
        self._trade_wait: list[dict[str, Any]] = []
        #: per client order id: the order's quantity and what has been filled (for the status a fill carries)
        self._quantities: dict[str, float] = {}
        self._filled: dict[str, float] = {}
        #: per client order id: the fill ids already reported or journaled (a fill that comes by the stream and by
        #: REST is counted once); an ended order's late fill goes on to the journal's fill-id dedupe
        self._seen_fills: dict[str, set[int]] = {}
        self._snapshots = 0
        #: ticker -> when (ms) this process's last snapshot read its trade history (the next one starts a window
        #: before, not from the oldest open intent again)
        self._walked: dict[str, int] = {}
        self.stats = {"orders_sent": 0, "rejected": 0, "unknown_outcomes": 0, "retries": 0, "reconciles": 0,
                      "recovered_fills": 0, "user_reconnects": 0, "events": 0}

    # -- the venue boundary ---------------------------------------------------------------------------------
    @property
    def inflight(self) -> int:
        return len(self._inflight) + len(self._tasks)

    async def connect(self) -> None:
        """Markets and capabilities, the order stream, then the REST snapshot :meth:`reconcile` returns."""
        import ccxt

        self.exchange = ex = make_exchange(self.cfg, self._credentials,
                                           pro=None if self.cfg.user_data != "rest" else False)
        try:
            await ex.load_markets()
        except ccxt.AuthenticationError:
            raise
        except ccxt.BaseError as e:
            raise ConnectionError(f"{self.cfg.exchange}: load_markets failed: {type(e).__name__}: {e}") from e
        self.names = match_markets(ex.markets, self.symbols)
        self.tickers = {v: k for k, v in self.names.items()}
        self.rules = {t: rules_from_market(ex.markets[n], ex.precisionMode) for t, n in self.names.items()}
        self.capabilities = capabilities(ex)
        loop = asyncio.get_running_loop()
        ws = self.cfg.user_data != "rest" and has_ws(ex, "watchOrders") and has_ws(ex, "watchMyTrades")
        if ws:
            self._user_tasks = [loop.create_task(self._watch("orders", ex.watch_orders, self._on_orders)),
                                loop.create_task(self._watch("trades", ex.watch_my_trades, self._on_trades, True))]
            if has_ws(ex, "watchBalance"):
                self._user_tasks.append(loop.create_task(self._watch("balance", ex.watch_balance,
                                                                     self._on_balance)))
            await self._await_user_stream()
        else:
            self._user_tasks = [loop.create_task(self._poll_user())]
            self.user_connected.set()
        self.start_view = await self._snapshot()
        self.account = dict(self.start_view.balances)

    async def _await_user_stream(self) -> None:
        """Wait until ccxt.pro's private connection is open and subscribed (its client's ``subscriptions``),
        so the snapshot taken next cannot miss an event the stream would not carry."""
        deadline = time.monotonic() + self.cfg.connect_timeout_s
        ex = self.exchange
        while time.monotonic() < deadline:
            for t in self._user_tasks:
                if t.done():
                    raise t.exception() or ConnectionError(f"{self.cfg.exchange}: order stream ended")
            for client in list(getattr(ex, "clients", {}).values()):
                connected = getattr(client, "connected", None)
                if connected is not None and connected.done() and not connected.exception() and \
                        getattr(client, "subscriptions", None):
                    await asyncio.sleep(0.05)  # the subscription request itself is in flight; its ack is quick
                    self.user_connected.set()
                    return
            await asyncio.sleep(0.02)
        raise ConnectionError(f"{self.cfg.exchange}: order stream not subscribed after "
                              f"{self.cfg.connect_timeout_s:.0f} s")

    async def close(self) -> None:
        tasks = [*self._user_tasks, self._reconciling, *self._tasks]
        for t in tasks:
            if t is not None:
                t.cancel()
        for t in tasks:
            if t is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        if self.exchange is not None:
            with contextlib.suppress(Exception):
                await self.exchange.close()

    def submit(self, order: Order, now_ns: int) -> None:
        self._orders[order.client_order_id] = order.symbol.id
        self._quantities[order.client_order_id] = abs(order.quantity)
        self._spawn(self._place(order))

    def cancel(self, order: Order, now_ns: int) -> None:
        self._spawn(self._cancel(order))

    def modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        raise NotImplementedError("ccxt venues modify by cancel and replace (the order manager's emulation)")

    def balances(self) -> dict[str, float]:
        return dict(self.account)

    def reconcile(self) -> VenueView:
        if self.start_view is None:
            raise RuntimeError("CcxtExecutionClient.reconcile() before connect()")
        return self.start_view

    # -- orders ------------------------------------------------------------------------------------------------
    def order_args(self, order: Order) -> tuple[str, str, str, float, float | None, dict[str, Any]]:
        """``create_order``'s arguments, rounded to the market's rules; OrderRefused says why not."""
        ticker = order.symbol.value.upper()
        name = self.names.get(ticker)
        rules = self.rules.get(ticker)
        if name is None or rules is None:
            raise OrderRefused(f"UNKNOWN_SYMBOL {ticker} on {self.cfg.exchange}")
        if not rules.active:
            raise OrderRefused(f"{name} is not trading on {self.cfg.exchange}")
        is_buy = order.quantity > 0
        side = "buy" if is_buy else "sell"
        amount = rules.amount(order.quantity)
        params: dict[str, Any] = {"clientOrderId": order.client_order_id}
        t = order.type
        price: float | None = None
        if t is OrderType.MARKET:
            kind = "market"
        elif t is OrderType.LIMIT:
            kind = "limit"
            price = rules.price(float(order.limit_price or 0.0), is_buy)
            if order.post_only:
                params["postOnly"] = True
            elif order.time_in_force in TIF:
                params["timeInForce"] = TIF[order.time_in_force]
        elif t in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) and t in self.capabilities.order_types:
            params["triggerPrice"] = rules.price(float(order.stop_price or 0.0), is_buy)
            if t is OrderType.STOP_LIMIT:
                kind = "limit"
                price = rules.price(float(order.limit_price or 0.0), is_buy)
            else:
                kind = "market"
        else:
            raise OrderRefused(f"UNSUPPORTED_ORDER_TYPE {t.value} on {self.cfg.exchange}")
        rules.check_cost(amount, price if price is not None else order.limit_price)
        return name, kind, side, amount, price, params

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        t = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._done)

    def _done(self, t: asyncio.Task) -> None:
        self._tasks.discard(t)
        if not t.cancelled() and t.exception() is not None:
            e = t.exception()
            log.error("ccxt.task.failed", error=f"{type(e).__name__}: {e}")

    async def _place(self, order: Order) -> None:
        import ccxt

        cid = order.client_order_id
        sid = order.symbol.id
        try:
            name, kind, side, amount, price, params = self.order_args(order)
        except OrderRefused as e:
            self.stats["rejected"] += 1
            self._push_status(cid, _S.REJECTED, sid, time.time_ns(), str(e))
            return
        self._inflight.add(cid)
        try:
            for attempt in range(self.cfg.max_retries + 1):
                self.stats["orders_sent"] += 1
                try:
                    resp = await self.exchange.create_order(name, kind, side, amount, price, dict(params))
                except (ccxt.DDoSProtection, ccxt.RateLimitExceeded) as e:
                    # refused for load before execution (429/418): the same request may go again, later
                    self.stats["retries"] += 1
                    log.warning("ccxt.order.throttled", client_order_id=cid, error=str(e)[:200])
                    if attempt == self.cfg.max_retries:
                        self._push_status(cid, _S.REJECTED, sid, time.time_ns(), f"THROTTLED {str(e)[:200]}")
                        return
                    await asyncio.sleep(backoff(attempt + 2, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))
                    continue
                except (ccxt.RequestTimeout, ccxt.ExchangeNotAvailable, ccxt.NetworkError) as e:
                    self.stats["unknown_outcomes"] += 1
                    log.warning("ccxt.order.unknown_outcome", client_order_id=cid, error=str(e)[:200])
                    await self._resolve_unknown(order, name)
                    return
                except ccxt.BaseError as e:  # InvalidOrder, InsufficientFunds, BadRequest, ...: refused
                    if attempt and "uplicate" in str(e):  # an earlier attempt did get through: look it up
                        await self._resolve_unknown(order, name)
                        return
                    self.stats["rejected"] += 1
                    log.warning("ccxt.order.rejected", client_order_id=cid, error=f"{type(e).__name__}: {e}"[:300])
                    self._push_status(cid, _S.REJECTED, sid, time.time_ns(), f"{type(e).__name__}: {str(e)[:200]}")
                    return
                self._on_order(resp, cid)
                return
        finally:
            self._inflight.discard(cid)

    async def _find_order(self, name: str, cid: str) -> dict[str, Any] | None:
        """The exchange's order with client order id ``cid``, or None if it never heard of it."""
        import ccxt

        ex = self.exchange
        try:
            return await ex.fetch_order("", name, {"clientOrderId": cid})
        except ccxt.OrderNotFound:
            return None
        except (ccxt.NotSupported, ccxt.ArgumentsRequired, ccxt.BadRequest):
            pass
        for fetch in ("fetch_open_orders", "fetch_closed_orders", "fetch_canceled_orders"):
            if not ex.has.get(fetch_flag(fetch)):
                continue
            for o in await getattr(ex, fetch)(name):
                if o.get("clientOrderId") == cid:
                    return o
        return None

    async def _resolve_unknown(self, order: Order, name: str) -> None:
        """Ask the venue a few times whether the order exists (it may still be on its way); never resend."""
        import ccxt

        cid = order.client_order_id
        for attempt in range(5):
            await asyncio.sleep(backoff(attempt + 1, 0.2, 2.0))
            try:
                o = await self._find_order(name, cid)
            except ccxt.BaseError as e:
                log.warning("ccxt.order.lookup_failed", client_order_id=cid, error=str(e)[:200])
                continue
            if o is not None:
                self._on_order(o, cid)
                if float(o.get("filled") or 0):
                    await self._trades_of(name, o, cid)
                return
        self._push_status(cid, _S.REJECTED, order.symbol.id, time.time_ns(), "UNKNOWN_OUTCOME_NOT_FOUND")

    async def _trades_of(self, name: str, o: dict[str, Any], cid: str) -> None:
        """The fills of one order, from the account's trades since the order was made (a lost answer's fills
        are never guessed)."""
        order_id = str(o.get("id"))
        ts = o.get("timestamp")
        since = None if ts is None else int(ts) - REPORT_REORDER_NS // 1_000_000
        for t in await self._my_trades(name, since):
            if str(t.get("order")) == order_id:
                self._on_trade(t, cid)

    async def _my_trades(self, name: str, since_ms: int | None) -> list[dict[str, Any]]:
        """Our trades in market ``name`` from ``since_ms`` (venue time) to now, every page of them, oldest first.

        ccxt's date-based pagination, forward: ``fetch_my_trades(symbol, since, limit)``, then ``since`` moves to
        the newest trade's time. It stays on that millisecond (inclusive: trades that share it come again and
        are dropped by id), so a page boundary inside one millisecond loses nothing. ``limit`` is
        ``trades_page_limit`` or the exchange's documented page maximum (ccxt's ``features``); where the
        exchange caps how far ``until`` may be from ``since`` (Binance: one day), a request older than that names
        its window's end, and a window done moves on to the next, so a quiet day does not end the walk. Caught
        up when the window reaching now returns a short page. A ``since`` older than one window first asks for
        the newest page: if that holds every trade since then, it is the answer (one request). Without
        ``since_ms`` (no intent to recover for): the exchange's default page."""
        ex = self.exchange
        if since_ms is None:
            return list(await ex.fetch_my_trades(name))
        feats = ((getattr(ex, "features", None) or {}).get("spot") or {}).get("fetchMyTrades") or {}
        limit = self.cfg.trades_page_limit or feats.get("limit")
        span = int(float(feats["untilDays"]) * 86_400_000) if feats.get("untilDays") else None
        if span is not None and limit is not None and since_ms + span < int(ex.milliseconds()):
            latest = await ex.fetch_my_trades(name, None, limit)
            if len(latest) < limit or min(int(t.get("timestamp") or 0) for t in latest) <= since_ms:
                return sorted((t for t in latest if int(t.get("timestamp") or 0) >= since_ms),
                              key=lambda t: (t.get("timestamp") or 0, str(t.get("id"))))
        out: dict[str, dict[str, Any]] = {}
        since = since_ms
        for _ in range(MAX_TRADE_PAGES):
            # the window's end; None: the window reaches now (no until: a venue clock ahead loses nothing)
            end = since + span if span is not None and since + span < int(ex.milliseconds()) else None
            page = await ex.fetch_my_trades(name, since, limit, {} if end is None else {"until": end})
            fresh = [t for t in page if _trade_uid(t) not in out]
            for t in fresh:
                out[_trade_uid(t)] = t
            if limit is not None and len(page) >= limit:  # a full page: more after its newest
                newest = max(int(t.get("timestamp") or 0) for t in page)
                if newest <= since:  # a whole page on one millisecond: the rest of it cannot be paged to
                    log.warning("ccxt.trades.page_stuck", symbol=name, since=since)
                    newest = since + 1
                since = newest
                continue
            if limit is None and fresh:  # no known page size: on while pages bring new trades
                newest = max(int(t.get("timestamp") or 0) for t in fresh)
                if newest > since:
                    since = newest
                    continue
            if end is not None:  # this window is done; the next one
                since = end + 1
                continue
            break
        else:
            log.warning("ccxt.trades.too_many_pages", symbol=name, pages=MAX_TRADE_PAGES, since=since_ms)
        return sorted(out.values(), key=lambda t: (t.get("timestamp") or 0, str(t.get("id"))))

    def _recovery_since(self, ticker: str, open_intents: Iterable[Mapping[str, Any]]) -> int | None:
        """Where a snapshot reads a symbol's trade history from (ms, venue time): a window before the journal's
        newest fill of it, or before the oldest open intent's creation if that is earlier (a crash can leave any
        open order's fills unjournaled); with neither, before the oldest intent of the symbol; None: no intent
        of the symbol, nothing of ours to recover. Asks the journal by index, not for its whole history."""
        sid = self.symbols[ticker].id
        first = self.store.first_intent_ns(sid)
        if first is None:
            return None
        times = [i["created_ns"] for i in open_intents if i["symbol"] == sid]
        last = self.store.last_fill_ns(sid)
        if last is not None:
            times.append(last)
        start = min(times) if times else first
        return (start - REPORT_REORDER_NS) // 1_000_000

    def _on_order(self, o: dict[str, Any], cid: str | None = None) -> None:
        """An order as ccxt parsed it (a create/fetch answer, or a ``watch_orders`` update): its status."""
        cid = cid or o.get("clientOrderId")
        name = o.get("symbol")
        if not cid or name not in self.tickers or (cid not in self._orders and cid not in self._ended):
            return  # not one of ours (another client's order on the same account)
        vid = str(o.get("id"))
        self._learn(cid, name, vid)
        sym = self.symbols[self.tickers[name]].id
        t_ns = int(o.get("timestamp") or time.time() * 1000) * 1_000_000
        self._push_status(cid, _S.ACCEPTED, sym, t_ns, venue_order_id=_vid(vid))
        st = order_status(o)
        if st in _CLOSED:
            reason = "EXPIRED" if o.get("status") == "expired" else ""
            self._push_status(cid, st, sym, t_ns, reason, _vid(vid))
        for t in self._take_waiting(name, vid):
            self._on_trade(t, cid)

    def _take_waiting(self, name: str, vid: str) -> list[dict[str, Any]]:
        mine = [t for t in self._trade_wait if t.get("symbol") == name and str(t.get("order")) == vid]
        if mine:
            self._trade_wait = [t for t in self._trade_wait if t not in mine]
        return mine

    def _on_trade(self, t: dict[str, Any], cid: str | None = None) -> None:
        """One of our fills (``watch_my_trades`` or ``fetch_my_trades``) as a fill report."""
        name = t.get("symbol")
        if name not in self.tickers:
            return
        vid = str(t.get("order"))
        cid = cid or self._order_cids.get((name, vid))
        if cid is None:  # the order's own update has not come yet: hold the fill until it does
            self._trade_wait.append(t)
            self._spawn(self._learn_order(name, vid))
            return
        rep = self._trade_report(t, cid)
        if rep is not None:
            self._push_fill(rep)

    def _trade_report(self, t: dict[str, Any], cid: str) -> ExecReport | None:
        """The fill report of one of our trades, or None if it was reported already (stream and REST both)."""
        name, vid = t["symbol"], str(t.get("order"))
        ticker = self.tickers[name]
        sign = 1.0 if t.get("side") == "buy" else -1.0
        qty = sign * float(t["amount"])
        fee = t.get("fee") or {}
        fill_id = fill_key(self.index.get(ticker, 0), t.get("id"))
        if cid in self._ended:  # a late fill of an ended order: the journal drops it if it has it
            st = _S.PARTIALLY_FILLED
        else:
            seen = self._seen_fills.setdefault(cid, set())
            if fill_id in seen:
                return None
            seen.add(fill_id)
            # the status goes with the fill: the stream's order update, or the quantity against the intent
            total = self._intent_quantity(cid)
            done = self._filled.get(cid, 0.0) + abs(qty)
            self._filled[cid] = done
            st = _S.FILLED if total and done >= total - 1e-12 else _S.PARTIALLY_FILLED
        return ExecReport(client_order_id=cid, status=st, symbol=self.symbols[ticker].id,
                          time_ns=int(t.get("timestamp") or time.time() * 1000) * 1_000_000,
                          venue_order_id=_vid(vid), fill_id=fill_id, fill_quantity=qty,
                          fill_price=float(t["price"]), fee=float(fee.get("cost") or 0.0),
                          fee_currency=str(fee.get("currency") or ""), liquidity=str(t.get("takerOrMaker") or ""))

    def _intent_quantity(self, cid: str) -> float:
        q = self._quantities.get(cid)
        if q is None:
            for it in self.store.open_intents():
                if it["client_order_id"] == cid:
                    q = self._quantities[cid] = abs(it["quantity"])
        return q or 0.0

    async def _learn_order(self, name: str, vid: str) -> None:
        """A trade for an order id we have no client id for yet: ask the exchange for the order."""
        import ccxt

        await asyncio.sleep(0.2)  # usually the order's own update is just behind
        for attempt in range(LOOKUP_TRIES):
            if (name, vid) in self._order_cids:
                for t in self._take_waiting(name, vid):
                    self._on_trade(t)
                return
            try:
                o = await self.exchange.fetch_order(vid, name)
                break
            except ccxt.BaseError as e:
                log.warning("ccxt.order.lookup_failed", order_id=vid, error=str(e)[:200], attempt=attempt + 1)
                await asyncio.sleep(backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))
        else:
            # not held for ever: the held trades go, and a reconciliation reads them again from the trade
            # history, attributing them by the journal's open intents (as at a reconnect)
            if self._take_waiting(name, vid):
                self._spawn(self._reconcile_safely())
            return
        c = o.get("clientOrderId")
        if c in self._orders or c in self._quantities or c in self._ended:
            self._on_order(o)
        else:
            log.warning("ccxt.foreign_trade", symbol=name, order_id=vid)
            self._take_waiting(name, vid)

    async def _cancel(self, order: Order) -> None:
        import ccxt

        cid = order.client_order_id
        name = self.names.get(order.symbol.value.upper(), "")
        for _ in range(200):  # a cancel right behind its own submit waits for the submit's answer
            if cid not in self._inflight:
                break
            await asyncio.sleep(0.01)
        for attempt in range(self.cfg.max_retries + 1):
            try:
                vid = self._venue_ids.get(cid, ("", ""))[1]
                resp = await self.exchange.cancel_order(vid, name, {"clientOrderId": cid})
                if isinstance(resp, dict) and resp.get("status"):
                    self._on_order(resp, cid)
                    if float(resp.get("filled") or 0):
                        await self._trades_of(name, resp, cid)
                return
            except (ccxt.DDoSProtection, ccxt.RateLimitExceeded):
                self.stats["retries"] += 1
                await asyncio.sleep(backoff(attempt + 2, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))
            except ccxt.OrderNotFound as e:  # unknown or already final: find out which
                o = await self._find_order(name, cid)
                if o is not None and order_status(o) in (_S.FILLED, *_CLOSED):
                    self._on_order(o, cid)
                    if float(o.get("filled") or 0):
                        await self._trades_of(name, o, cid)
                    return
                self.reports.put_nowait(ExecReport(client_order_id=cid, kind=ReportKind.CANCEL_REJECTED,
                                                   status=order.status, symbol=order.symbol.id,
                                                   time_ns=time.time_ns(), reason=f"{CANCEL_REJECTED} {e}"[:300]))
                return
            except (ccxt.RequestTimeout, ccxt.ExchangeNotAvailable, ccxt.NetworkError) as e:
                log.warning("ccxt.cancel.unknown_outcome", client_order_id=cid, error=str(e)[:200])
                self._spawn(self._reconcile_safely())
                return
            except ccxt.BaseError as e:
                self.reports.put_nowait(ExecReport(client_order_id=cid, kind=ReportKind.CANCEL_REJECTED,
                                                   status=order.status, symbol=order.symbol.id,
                                                   time_ns=time.time_ns(),
                                                   reason=f"{CANCEL_REJECTED} {type(e).__name__}: {e}"[:300]))
                return

    # -- reports ----------------------------------------------------------------------------------------------
    def _push_status(self, cid: str, status: OrderStatus, symbol: str, time_ns: int, reason: str = "",
                     venue_order_id: int = 0) -> None:
        if not status_moves_on(self._stage, self._ended, cid, RANK[status], self._end):
            return
        self.reports.put_nowait(ExecReport(client_order_id=cid, status=status, symbol=symbol, time_ns=time_ns,
                                           venue_order_id=venue_order_id, reason=reason))

    def _push_fill(self, rep: ExecReport) -> None:
        """A fill goes on even for an ended order (the journal drops one it has by fill id)."""
        fill_moves_on(self._stage, self._ended, rep.client_order_id, RANK[rep.status], self._end)
        self.reports.put_nowait(rep)

    def _learn(self, cid: str, name: str, vid: str) -> None:
        """The venue's order id of one of our orders (its trades name only that)."""
        if cid not in self._ended:
            self._order_cids[(name, vid)] = cid
            self._venue_ids[cid] = (name, vid)

    def _end(self, cid: str, key: tuple[str, str] | None = None) -> None:
        """The order ended: its per-order state goes, and it joins the bounded window of recently ended orders
        (whose venue order ids still map its late trades to it until it leaves the window)."""
        self._orders.pop(cid, None)
        self._stage.pop(cid, None)
        self._quantities.pop(cid, None)
        self._filled.pop(cid, None)
        self._seen_fills.pop(cid, None)
        key = self._venue_ids.pop(cid, key)
        if key is not None:
            self._order_cids[key] = cid
        for old, old_key in self._ended.add(cid, key):
            if old_key is not None and self._order_cids.get(old_key) == old:
                del self._order_cids[old_key]

    # -- own-order stream --------------------------------------------------------------------------------------
    async def _watch(self, what: str, watch: Callable[[], Awaitable[Any]], handle: Callable[[Any], None],
                     reconcile_after_drop: bool = False) -> None:
        """One of ccxt.pro's private streams, forever: each update handled; a drop waits a backoff, calls the
        watch again (ccxt reconnects) and, for the fills stream, has REST tell what the stream missed."""
        import ccxt

        attempt = 0
        while True:
            try:
                update = await watch()
                attempt = 0
                handle(update)
            except ccxt.AuthenticationError:
                raise
            except ccxt.BaseError as e:
                self._stream_down(what, e)
                await asyncio.sleep(backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))
                attempt += 1
                if reconcile_after_drop:
                    self._spawn(self._reconcile_when_up())

    def _on_orders(self, orders: list[dict[str, Any]]) -> None:
        self.stats["events"] += len(orders)
        for o in orders:
            self._on_order(o)

    def _on_trades(self, trades: list[dict[str, Any]]) -> None:
        self.stats["events"] += len(trades)
        if not self.user_connected.is_set():
            self.user_connected.set()
        for t in trades:
            self._on_trade(t)

    def _on_balance(self, bal: dict[str, Any]) -> None:
        """The account as the stream reports it (assets the update names; the REST snapshot has the rest)."""
        for asset, total in (bal.get("total") or {}).items():
            if total is not None:
                self.account[asset] = float(total)

    def _stream_down(self, what: str, e: Exception) -> None:
        if self.user_connected.is_set():
            self.stats["user_reconnects"] += 1
            log.warning("ccxt.user.disconnected", stream=what, error=f"{type(e).__name__}: {str(e)[:200]}")
        self.user_connected.clear()

    async def _reconcile_when_up(self) -> None:
        if self._reconciling is not None and not self._reconciling.done():
            return
        self._reconciling = asyncio.current_task()
        with contextlib.suppress(ConnectionError):
            await self._await_user_stream()
        await self._reconcile_safely()

    async def _poll_user(self) -> None:
        """No order stream: reconcile over REST every poll interval (the same path a reconnect takes)."""
        while True:
            await asyncio.sleep(self.cfg.poll_interval_s)
            await self._reconcile_safely()

    async def _reconcile_safely(self) -> None:
        import ccxt

        for attempt in range(10):
            try:
                await self.reconcile_now()
                return
            except ccxt.BaseError as e:
                log.warning("ccxt.reconcile.failed", error=str(e)[:200], attempt=attempt + 1)
                await asyncio.sleep(backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))

    # -- REST snapshot and reconciliation ------------------------------------------------------------------------
    async def _snapshot(self) -> VenueView:
        """Balances, open orders, our trades since the journal's last fill per symbol, and every open intent the
        exchange does not list as open, looked up by client order id."""
        ex = self.exchange
        bal = await ex.fetch_balance()
        balances = {a: float(v) for a, v in (bal.get("total") or {}).items() if v}
        ended = self._ended
        # an emulated order not yet triggered was never sent: no fills to look for, nothing to look up; and one
        # this process saw end (its report may not be journaled yet) is not taken up again
        mine = [i for i in self.store.open_intents() if not held_locally(i) and i["client_order_id"] not in ended]
        open_intents = {i["client_order_id"] for i in mine}
        start = not self._snapshots
        for i in mine:
            self._quantities.setdefault(i["client_order_id"], abs(i["quantity"]))
            if start:  # at start the journal is the truth; later, this process's own counts are
                self._filled[i["client_order_id"]] = abs(i["filled"])
        self._snapshots += 1
        opened: list[dict[str, Any]] = []
        trades: list[dict[str, Any]] = []
        name: str | None  # a market name, unknown for a trade that does not say
        o: dict[str, Any] | None
        for ticker, name in self.names.items():
            opened += await ex.fetch_open_orders(name)
            since = self._recovery_since(ticker, mine)
            walked = self._walked.get(ticker)
            if since is not None and walked is not None:  # this process read the history up to then already
                since = max(since, walked - REPORT_REORDER_NS // 1_000_000)
            started = int(ex.milliseconds())
            trades += await self._my_trades(name, since)
            self._walked[ticker] = started
        ours = open_intents | self._orders.keys()  # not every open order of the account (another client's)
        opened_by_cid = {o["clientOrderId"]: o for o in opened if o.get("clientOrderId")}
        for c, o in opened_by_cid.items():
            if c in ours:
                self._learn(c, o["symbol"], str(o["id"]))
        queried: dict[str, dict[str, Any] | None] = {}
        for it in mine:
            cid = it["client_order_id"]
            if cid in ended:  # its end came by the stream meanwhile
                continue
            self._orders[cid] = it["symbol"]
            if cid in opened_by_cid or cid in self._inflight:
                continue
            name = self.names.get(Symbol.parse(it["symbol"]).value.upper())
            if name is None:
                continue
            o = await self._find_order(name, cid)
            queried[cid] = o
            if o is not None:
                self._learn(cid, name, str(o["id"]))
        # the journal is asked about these trades only, not for every fill id it holds (its whole history)
        have = self.store.journaled_fills(fill_key(self.index[self.tickers[str(t["symbol"])]], t.get("id"))
                                          for t in trades)
        known: dict[str, bool] = {}  # client order id -> journaled (an ended order's included)
        fills: list[ExecReport] = []
        foreign: list[dict[str, Any]] = []
        looked_up: dict[tuple[str, str], str | None] = {}  # this snapshot's answers for trades of unknown orders
        for t in sorted(trades, key=lambda t: (t.get("timestamp") or 0, str(t.get("id")))):
            name, vid = str(t["symbol"]), str(t.get("order"))
            key = fill_key(self.index[self.tickers[name]], t.get("id"))
            cid = self._order_cids.get((name, vid))
            if key in have:  # journaled: its order is not asked for, and an open one does not count it again
                if cid is not None and cid not in ended:
                    self._seen_fills.setdefault(cid, set()).add(key)
                continue
            if cid is None:
                if (name, vid) not in looked_up:
                    try:
                        looked_up[(name, vid)] = (await ex.fetch_order(vid, name)).get("clientOrderId")
                    except Exception:
                        looked_up[(name, vid)] = None
                cid = looked_up[(name, vid)]
                if cid and cid in ours:
                    self._learn(cid, name, vid)
            if cid is not None and cid not in known:
                known[cid] = bool(self.store.intents_of((cid,)))
            if cid is None or not known[cid]:
                foreign.append({"kind": "foreign_trade", "symbol": name, "trade_id": t.get("id"), "order_id": vid})
                continue
            if cid not in self._orders and cid not in ended:  # an order the journal has closed has ended
                self._end(cid, (name, vid))
            rep = self._trade_report(t, cid)  # into the view, not the queue (which may hold stream reports)
            if rep is not None:
                fills.append(rep)
        orders: dict[str, VenueOrder | None] = {}
        for it in mine:
            cid = it["client_order_id"]
            o = opened_by_cid.get(cid) or queried.get(cid)
            if (cid not in queried and o is None) or cid in ended:
                continue
            orders[cid] = None if o is None else self._venue_order(o)
            if not start:  # a later view's statuses are reported by reconcile_now, which records them as it goes
                continue
            # the start view is applied to the journal as it is (apply_view): what it closes ends here
            if o is None:
                self._end(cid)  # closed as never sent
            elif RANK[order_status(o)] >= 4:
                self._end(cid, (str(o["symbol"]), str(o["id"])))
            else:
                self._stage[cid] = max(self._stage.get(cid, 0), RANK[order_status(o)])
        return VenueView(open_orders=[self._venue_order(o) for o in opened if o.get("clientOrderId")],
                         orders=orders, fills=fills, balances=balances, foreign=foreign)

    def _venue_order(self, o: dict[str, Any]) -> VenueOrder:
        sign = 1.0 if o.get("side") == "buy" else -1.0
        ticker = self.tickers[o["symbol"]]
        return VenueOrder(client_order_id=str(o.get("clientOrderId")), venue_order_id=_vid(str(o.get("id"))),
                          symbol=self.symbols[ticker].id, quantity=sign * float(o.get("amount") or 0.0),
                          type="limit" if o.get("type") == "limit" else "market",
                          limit_price=float(o["price"]) if o.get("price") else None, status=order_status(o),
                          filled=sign * float(o.get("filled") or 0.0))

    async def reconcile_now(self) -> int:
        """After a reconnect (or each poll without a stream): a fresh snapshot; what the stream missed goes into
        the report queue (the daemon journals each report before applying it and drops fills it has)."""
        view = await self._snapshot()
        self.stats["reconciles"] += 1
        self.account = dict(view.balances)
        for rep in view.fills:
            self._push_fill(rep)
        now = time.time_ns()
        for cid, vo in view.orders.items():
            if cid in self._inflight:
                continue
            sym = self._orders.get(cid, "")
            if vo is None:
                self._push_status(cid, _S.REJECTED, sym, now, "NOT_FOUND_AT_VENUE")
            else:
                self._push_status(cid, vo.status if vo.status != _S.FILLED or not view.fills else _S.ACCEPTED,
                                  vo.symbol, now)
        self.stats["recovered_fills"] += len(view.fills)
        log.info("ccxt.reconciled", fills=len(view.fills), open_orders=len(view.open_orders))
        return len(view.fills)


def _vid(vid: str) -> int:
    return int(vid) if vid.isdigit() else 0


def fetch_flag(method: str) -> str:
    """``fetch_open_orders`` -> ``fetchOpenOrders`` (the ``has`` key)."""
    head, *rest = method.split("_")
    return head + "".join(w.title() for w in rest)


def capabilities(ex: Any) -> Capabilities:
    """What the exchange does natively, from ccxt's ``has`` and ``features``; the rest is emulated above."""
    spot = ((getattr(ex, "features", None) or {}).get("spot") or {}).get("createOrder") or {}
    types = set(native_order_types(ex.has))
    if not spot.get("triggerPrice") and not spot.get("stopLossPrice"):
        types -= {OrderType.STOP_MARKET, OrderType.STOP_LIMIT}
    if not spot.get("trailing"):
        types.discard(OrderType.TRAILING_STOP)
    types.discard(OrderType.TRAILING_STOP)  # not expressed through create_order's unified arguments here
    tif = {TimeInForce.GTC}
    for name, enum in (("IOC", TimeInForce.IOC), ("FOK", TimeInForce.FOK)):
        if (spot.get("timeInForce") or {}).get(name):
            tif.add(enum)
    return Capabilities(order_types=frozenset(types), time_in_force=frozenset(tif),
                        post_only=bool((spot.get("timeInForce") or {}).get("PO")), modify=False,
                        cancel_replace=False, oco=False, oto=False, async_cancel=True)
