"""Order entry with Binance Spot: WebSocket API orders (REST as the fallback), the WebSocket API user-data
stream, REST reconciliation.

:class:`BinanceExecutionClient` implements the venue boundary's :class:`leand.venue.ExecutionClient`: ``submit``,
``cancel``, ``reports``, ``connect``/``close`` and ``reconcile()`` (the venue's view taken at connect).
Guarantees, and where they are kept:

* journal before send: the daemon journals the intent before ``submit`` is called; ``submit`` writes the
  signed ``order.place`` frame to the kept-alive WebSocket API connection at once (:mod:`.wsapi`), or, when
  that connection is down or backed up, spawns the REST request task;
* no lost report: the user-data stream is subscribed *before* the REST snapshot (openOrders, myTrades,
  account) is taken, at start and after every reconnect, so every fill reaches the queue by one path or both;
* no duplicated report: fills are keyed by Binance trade id (``fill_key``) and journaled with INSERT OR IGNORE
  before the engine sees them; order-status reports only ever move an order forward (``_stage``), and an ended
  order's per-order state is dropped while a bounded window (``_ended``) still knows its late reports;
* no blind resend: a new order whose outcome is unknown (5xx, timeout) is looked up by its client order id,
  never sent again; a WS API order whose connection drops, or whose answer does not come within
  ``request_timeout_s``, is looked up the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import msgspec
import structlog
import websockets

from leand.adapters.binance.config import BinanceVenueConfig
from leand.adapters.binance.rest import (
    BinanceError,
    BinanceRest,
    UnknownOutcome,
    WeightThrottle,
    backoff,
    decode,
)
from leand.adapters.binance.schemas import (
    Account,
    AccountPosition,
    CancelReplaceError,
    CancelReplaceResult,
    CancelResponse,
    ExchangeInfo,
    ExecutionReport,
    MyTrade,
    OrderListResponse,
    OrderResponse,
    OtherEvent,
    QueryOrder,
    StreamTerminated,
    UserDataFrame,
    UserEvent,
    WsListAnswer,
    WsReplaceAnswer,
)
from leand.adapters.binance.schemas import ApiError as ApiErrorBody
from leand.adapters.binance.signing import ws_signature
from leand.adapters.binance.wsapi import RequestTemplates, Template, write_now
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

log = structlog.get_logger("leand.binance.exec")

_S = OrderStatus
#: Binance order status -> leand's
STATUS = {"NEW": _S.ACCEPTED, "PENDING_NEW": _S.ACCEPTED, "PARTIALLY_FILLED": _S.PARTIALLY_FILLED,
          "FILLED": _S.FILLED, "CANCELED": _S.CANCELED, "PENDING_CANCEL": _S.ACCEPTED, "REJECTED": _S.REJECTED,
          "EXPIRED": _S.EXPIRED, "EXPIRED_IN_MATCH": _S.EXPIRED}
#: how far along an order is: a report that would move it back is dropped
RANK = STATUS_RANK
_CLOSED = (_S.CANCELED, _S.REJECTED, _S.EXPIRED)
TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.DAY: "GTC"}
TRADE_ID_SPAN = 10 ** 12
#: how far (venue time) a trade's report may trail a later trade's of the same symbol into the journal: an order's
#: answer carries its own trades before the user stream tells of a resting order's earlier one, and a strategy
#: answering a market-data print sends before its resting order's report arrives. A snapshot asks again for every
#: trade this much older than the journal's newest (those it has are dropped by trade id)
REPORT_REORDER_NS = 60 * 1_000_000_000
_user_event = msgspec.json.Decoder(UserEvent)


class AuthRefused(ConnectionError):
    """The venue refused the key or the signature: retrying will not help."""


def fill_key(symbol_index: int, trade_id: int) -> int:
    """The journal's fill key: Binance trade ids are per symbol, so the symbol's index goes above them (the
    first configured symbol keeps the raw trade id)."""
    return symbol_index * TRADE_ID_SPAN + trade_id


class Filters(msgspec.Struct):
    tick: str = "0.01"
    step: str = "0.00001"

    @staticmethod
    def _places(step: str) -> int:
        e = Decimal(step).normalize().as_tuple().exponent
        return max(0, -int(e))

    def price(self, px: float, side: str) -> str:
        """Rounded to the tick, away from crossing: buys down, sells up."""
        t = Decimal(self.tick)
        q = Decimal(repr(px)) / t
        n = q.to_integral_value(rounding="ROUND_FLOOR" if side == "BUY" else "ROUND_CEILING")
        return f"{n * t:.{self._places(self.tick)}f}"

    def quantity(self, qty: float) -> str | None:
        """The quantity on the step grid, or None if it is not on it (the engine would then disagree with
        the venue about what was ordered)."""
        s = Decimal(self.step)
        q = Decimal(repr(abs(qty))) / s
        n = q.to_integral_value()
        if abs(q - n) > Decimal("1e-6") or n == 0:
            return None
        return f"{n * s:.{self._places(self.step)}f}"


class VenueState(msgspec.Struct, kw_only=True):
    """What one REST snapshot of the account said."""

    balances: dict[str, float]
    open_orders: list[QueryOrder]
    trades: list[MyTrade]
    #: client order id -> the order as queried (None: the venue does not know it)
    queried: dict[str, QueryOrder | None]
    #: (symbol, orderId) -> client order id
    order_cids: dict[tuple[str, int], str]


class BinanceExecutionClient:
    capabilities = Capabilities(
        order_types=frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_MARKET, OrderType.STOP_LIMIT}),
        time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}), post_only=True,
        async_cancel=True, cancel_replace=True, oco=True, otoco=True)

    def __init__(self, cfg: BinanceVenueConfig, store: OrderStore, instruments: dict[Symbol, Instrument],
                 credentials: Mapping[str, str]) -> None:
        self.cfg = cfg
        self.store = store
        self.reports: ReportChannel = ReportChannel()
        #: client order id -> symbol id of every order this client sent or adopted and has not seen end
        #: (reconnects look them up); an order that ends moves to ``_ended``
        self._orders: dict[str, str] = {}
        self.sent = 0
        self.symbols: dict[str, Symbol] = {s.value.upper(): s for s in instruments}
        self.index = {v: i for i, v in enumerate(self.symbols)}
        self.filters: dict[str, Filters] = {v: Filters(tick=_dec(i.tick_size), step=_dec(i.lot_size))
                                            for v, i in zip(self.symbols, instruments.values())}
        self._api_key = credentials.get("api_key", "")
        self._secret = credentials.get("api_secret", "")
        self.rest = BinanceRest(cfg.base_url, self._api_key, self._secret, recv_window_ms=cfg.recv_window_ms,
                                throttle=WeightThrottle(cfg.weight_limit_1m, cfg.weight_headroom),
                                timeout_s=cfg.request_timeout_s, max_retries=cfg.max_retries,
                                backoff_base_s=cfg.reconnect_base_s, backoff_cap_s=cfg.reconnect_cap_s)
        self.account: dict[str, float] = {}
        self.start_state: VenueState | None = None
        #: client order id -> how far along (``RANK``) an order that has not ended is
        self._stage: dict[str, int] = {}
        #: client order id -> (symbol, Binance orderId) of an order that has not ended
        self._venue_ids: dict[str, tuple[str, int]] = {}
        #: the last ``_ended.size`` orders that ended, oldest first: client order id -> (symbol, orderId) if known.
        #: Per-order state goes when an order ends, so a long session's memory does not grow with its orders
        self._ended: EndedOrders[tuple[str, int] | None] = EndedOrders()
        self._inflight: set[str] = set()
        #: client order ids of orders the venue holds in an order list (it ends them when a partner works)
        self._list_cids: set[str] = set()
        #: replacement client order id -> its stream reports held until the cancel-replace's answer is applied
        self._held: dict[str, list[ExecutionReport]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._user_task: asyncio.Task | None = None
        self._time_task: asyncio.Task | None = None
        self._uws: Any = None
        self.user_connected = asyncio.Event()
        self._reconciling: asyncio.Task | None = None
        self.stats = {"user_connects": 0, "reconciles": 0, "recovered_fills": 0, "orders_sent": 0,
                      "rejected": 0, "unknown_outcomes": 0, "events": 0, "ws_orders": 0, "rest_orders": 0}
        self.templates = RequestTemplates(self._api_key, self._secret, cfg.recv_window_ms)
        #: WS API request id -> (order, its answer's deadline)
        self._ws_pending: dict[str, tuple[Order, asyncio.TimerHandle]] = {}
        #: WS API request id -> (what to do with its raw answer frame, None when none will come; the deadline):
        #: order lists and cancel-replace, kept apart from the single orders' path
        self._ws_calls: dict[str, tuple[Callable[[str | bytes | None], None], asyncio.TimerHandle]] = {}
        #: order shape -> (its order.place template, the symbol's filters and text memo, has a price, has a stop
        #: price, side)
        self._ws_shapes: dict[tuple, tuple[Template, Filters, dict[Any, str], bool, bool, str]] = {}
        #: symbol -> {quantity or (price, side): the value as sent on its grid}; a quantity off the grid: ""
        self._text_memo: dict[str, dict[Any, str]] = {}
        #: called with (method, the request's per-order values) as a new order goes on the wire (benchmarks
        #: time it)
        self.on_send: Callable[[str, Mapping[str, Any]], None] | None = None

    # -- the venue boundary ---------------------------------------------------------------------------------
    @property
    def inflight(self) -> int:
        """Requests not yet answered: the daemon waits for them on shutdown."""
        return len(self._inflight) + len(self._tasks)

    async def connect(self, timeout: float = 20.0) -> None:
        """Connect before trading: clock offset, symbol filters, the user-data subscription, then the REST
        snapshot that :meth:`reconcile` applies to the journal."""
        await self.rest.sync_time()
        await self._load_filters()
        loop = asyncio.get_running_loop()
        self._user_task = loop.create_task(self._user_loop())
        self._time_task = loop.create_task(self._time_loop())
        connected = loop.create_task(self.user_connected.wait())
        await asyncio.wait({self._user_task, connected}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        connected.cancel()
        if self._user_task.done():  # it only ends on a refusal that retrying cannot fix
            raise self._user_task.exception() or ConnectionError("binance: user-data stream ended")
        if not self.user_connected.is_set():
            raise ConnectionError(f"binance: user-data stream at {self.cfg.ws_api_url} not subscribed after "
                                  f"{timeout:.0f} s")
        self.start_state = await self._snapshot_venue()
        self.account = dict(self.start_state.balances)

    async def close(self) -> None:
        for t in (self._user_task, self._time_task, self._reconciling, *self._tasks):
            if t is not None:
                t.cancel()
        for t in (self._user_task, self._time_task, self._reconciling, *self._tasks):
            if t is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        await self.rest.close()

    def submit(self, order: Order, now_ns: int) -> None:
        self._orders[order.client_order_id] = order.symbol.id
        self.send_order(order)

    def cancel(self, order: Order, now_ns: int) -> None:
        self.send_cancel(order)

    def modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        """An update as one ``POST /api/v3/order/cancelReplace`` (``capabilities.cancel_replace``): ``order``
        comes under its replacement's journaled client order id, ``update.replaces`` names the venue order to
        cancel. Binance has no in-place modify: an update without ``replaces`` is refused."""
        if update.replaces is None:
            self.reports.put_nowait(ExecReport(
                client_order_id=order.client_order_id, kind=ReportKind.UPDATE_REJECTED, status=order.status,
                symbol=order.symbol.id, time_ns=now_ns,
                reason="UNSUPPORTED_MODIFY binance spot orders are replaced (cancelReplace), not modified"))
            return
        qty = update.quantity if update.quantity is not None else order.quantity
        leg = msgspec.structs.replace(
            order, quantity=qty - order.filled_quantity,
            limit_price=update.limit_price if update.limit_price is not None else order.limit_price,
            stop_price=update.stop_price if update.stop_price is not None else order.stop_price)
        self._orders[leg.client_order_id] = leg.symbol.id
        self._held[leg.client_order_id] = []  # the replacement's stream reports wait for the answer
        old = update.replaces
        if old not in self._inflight:  # (right behind the old order's own submit, REST waits for its answer)
            params = self.order_params(leg)
            if not isinstance(params, str):
                params.update(cancelReplaceMode="STOP_ON_FAILURE", cancelOrigClientOrderId=old)
                if self._ws_call("order.cancelReplace", params,
                                 lambda raw: self._spawn(self._on_ws_replace(leg, old, update, raw))):
                    self._inflight.add(leg.client_order_id)
                    self.stats["ws_orders"] += 1
                    return
        self._spawn(self._cancel_replace(leg, old, update))

    def balances(self) -> dict[str, float]:
        return dict(self.account)

    def reconcile(self) -> VenueView:
        """The venue's view from the snapshot :meth:`connect` took: fills attributed to the journal's intents,
        each intent the journal had open as the venue holds it, the open orders and the balances."""
        st = self.start_state
        if st is None:
            raise RuntimeError("BinanceExecutionClient.reconcile() before connect()")
        foreign: list[dict[str, Any]] = []
        fills: list[ExecReport] = []
        intents = self._trade_intents(st)
        filled = {c: i["filled"] for c, i in intents.items()}
        for t in st.trades:
            cid = st.order_cids.get((t.symbol, t.orderId))
            it = intents.get(cid) if cid else None
            if cid is None or it is None:
                foreign.append({"kind": "foreign_trade", "symbol": t.symbol, "trade_id": t.id, "order_id": t.orderId})
                continue
            fills.append(self._trade_report(t, cid, it["quantity"], filled, st))
        open_by_cid = {o.clientOrderId: o for o in st.open_orders}
        orders: dict[str, VenueOrder | None] = {}
        for it in self.store.open_intents():
            cid = it["client_order_id"]
            if held_locally(it):  # never sent: the order manager arms it again, and sends it if it triggers
                continue
            self._orders[cid] = it["symbol"]
            q = open_by_cid.get(cid) or st.queried.get(cid)
            if q is None:
                orders[cid] = None
                self._end(cid)  # the view closes it as never sent
                continue
            vo = self._venue_order(q)
            rank = RANK[vo.status]
            if rank >= 4:  # ended at the venue: the view closes it
                self._end(cid, (q.symbol, q.orderId))
            elif cid not in self._ended:
                self._stage[cid] = max(self._stage.get(cid, 0), rank)
            orders[cid] = vo
        return VenueView(open_orders=[self._venue_order(o) for o in st.open_orders], orders=orders, fills=fills,
                         balances=dict(st.balances), foreign=foreign)

    def _trade_intents(self, st: VenueState) -> dict[str, dict[str, Any]]:
        """The journal's intents of the snapshot's trades' orders (an ended one's included: a fill a crash left
        unjournaled is still ours), looked up by id instead of reading every intent the journal holds."""
        cids = {st.order_cids.get((t.symbol, t.orderId)) for t in st.trades}
        return self.store.intents_of(c for c in cids if c)

    def _venue_order(self, o: QueryOrder) -> VenueOrder:
        sign = 1.0 if o.side == "BUY" else -1.0
        return VenueOrder(client_order_id=o.clientOrderId, venue_order_id=o.orderId,
                          symbol=self.symbols[o.symbol].id, quantity=sign * float(o.origQty),
                          type="limit" if o.type.startswith("LIMIT") else "market",
                          limit_price=float(o.price) or None, status=STATUS.get(o.status, _S.ACCEPTED),
                          filled=sign * float(o.executedQty))

    # -- REST snapshot ----------------------------------------------------------------------------------------
    async def _load_filters(self) -> None:
        body = await self.rest.request("GET", "/api/v3/exchangeInfo", weight=20)
        info = decode(body, ExchangeInfo)
        for s in info.symbols:
            f = self.filters.get(s.symbol)
            if f is None:
                continue
            for flt in s.filters:
                if flt.filterType == "PRICE_FILTER" and flt.tickSize and float(flt.tickSize):
                    f.tick = flt.tickSize
                elif flt.filterType == "LOT_SIZE" and flt.stepSize and float(flt.stepSize):
                    f.step = flt.stepSize
        self._ws_shapes.clear()  # rounding from the new filters
        self._text_memo.clear()
        missing = set(self.filters) - {s.symbol for s in info.symbols}
        if missing:
            log.warning("binance.unknown_symbols", symbols=sorted(missing))

    async def _snapshot_venue(self) -> VenueState:
        """Account, open orders, trades since the journal's last one per symbol, and every open intent the
        venue does not list as open (queried one by one, so a filled or canceled order is told from a lost one)."""
        r = self.rest
        acct = decode(await r.request("GET", "/api/v3/account", signed=True, weight=20), Account)
        balances = {b.asset: float(b.free) + float(b.locked) for b in acct.balances}
        opened: list[QueryOrder] = []
        trades: list[MyTrade] = []
        for sym in self.symbols:
            body = await r.request("GET", "/api/v3/openOrders", {"symbol": sym}, signed=True, weight=6)
            opened += decode(body, list[QueryOrder])
            last_id, since_ms = self._recovery_start(sym)
            trades += await self._trades_from(sym, last_id, since_ms)
        # the journal is asked about these trades only, not for every fill id it holds (its whole history)
        have = self.store.journaled_fills(fill_key(self.index[t.symbol], t.id) for t in trades)
        trades = [t for t in trades if fill_key(self.index[t.symbol], t.id) not in have]
        cids = {k: c for c, k in self._ended.items() if k is not None}
        cids.update((k, c) for c, k in self._venue_ids.items())
        for o in opened:
            cids[(o.symbol, o.orderId)] = o.clientOrderId
            if o.orderListId >= 0:  # the venue ends it when a partner in its list works (after a restart too)
                self._list_cids.add(o.clientOrderId)
        open_cids = {o.clientOrderId for o in opened}
        queried: dict[str, QueryOrder | None] = {}
        for it in self.store.open_intents():
            cid = it["client_order_id"]
            if cid in open_cids or cid in self._inflight or held_locally(it):  # the venue never had an unsent one
                continue
            q = await self._query_order(Symbol.parse(it["symbol"]).value, cid=cid)
            queried[cid] = q
            if q is not None:
                cids[(q.symbol, q.orderId)] = cid
        for t in trades:
            if (t.symbol, t.orderId) not in cids:
                q = await self._query_order(t.symbol, order_id=t.orderId)
                if q is not None:
                    cids[(t.symbol, t.orderId)] = q.clientOrderId
        # kept for the next snapshot: orders that have not ended (not every foreign trade's order)
        keep = open_cids | {it["client_order_id"] for it in self.store.open_intents()} | self._orders.keys()
        for k, c in cids.items():
            if c in keep and c not in self._ended:
                self._venue_ids[c] = k
        return VenueState(balances=balances, open_orders=opened, trades=trades, queried=queried, order_cids=cids)

    def _recovery_start(self, sym: str) -> tuple[int, int | None]:
        """Where the trades a snapshot needs start: after a trade id (the last one surely journaled with all
        before it; -1 with no time: the newest trades, for a journal without any), or from a time (ms). Not the
        journal's highest trade id: one symbol's trades are not always journaled in id order
        (``REPORT_REORDER_NS``), so a crash can leave a gap under it. Trade ids grow with time, so every trade in
        the window before the newest is asked for again: after the newest journaled trade older than the window,
        or, with none that old, from the window's start."""
        lo = self.index[sym] * TRADE_ID_SPAN
        floor, newest = self.store.fill_floor(lo, lo + TRADE_ID_SPAN, REPORT_REORDER_NS)
        if floor is not None:
            return floor - lo, None
        return -1, None if newest is None else (newest - REPORT_REORDER_NS) // 1_000_000

    async def _trades_from(self, sym: str, last_id: int, since_ms: int | None) -> list[MyTrade]:
        """The trades after ``last_id``, or from ``since_ms`` on (one page by time, which holds the journal's
        newest trade, then on by id as after ``last_id``)."""
        out: list[MyTrade] = []
        if since_ms is not None:
            out = decode(await self.rest.request("GET", "/api/v3/myTrades", {"symbol": sym, "startTime": since_ms,
                                                                              "limit": 1000}, signed=True,
                                                 weight=20), list[MyTrade])
            last_id = max((t.id for t in out), default=last_id)
        return out + await self._trades_since(sym, last_id)

    async def _trades_since(self, sym: str, last_id: int) -> list[MyTrade]:
        out: list[MyTrade] = []
        while True:
            params: dict[str, Any] = {"symbol": sym, "limit": 1000}
            if last_id >= 0:
                params["fromId"] = last_id + 1
            page = decode(await self.rest.request("GET", "/api/v3/myTrades", params, signed=True, weight=20),
                          list[MyTrade])
            page = [t for t in page if t.id > last_id]
            out += page
            if len(page) < 1000:
                return out
            last_id = max(t.id for t in page)

    async def _query_order(self, sym: str, *, cid: str | None = None, order_id: int | None = None
                           ) -> QueryOrder | None:
        params: dict[str, Any] = {"symbol": sym}
        if cid is not None:
            params["origClientOrderId"] = cid
        else:
            params["orderId"] = order_id
        try:
            body = await self.rest.request("GET", "/api/v3/order", params, signed=True, weight=4)
        except BinanceError as e:
            if e.code == -2013:
                return None
            raise
        return decode(body, QueryOrder)

    def _trade_report(self, t: MyTrade, cid: str, order_qty: float, filled: dict[str, float],
                      st: VenueState) -> ExecReport:
        """A fill report from a myTrades row; its order status from the venue if it was looked at, otherwise
        from the cumulative quantity."""
        sign = 1.0 if t.isBuyer else -1.0
        qty = sign * float(t.qty)
        filled[cid] = filled.get(cid, 0.0) + qty
        status = _S.FILLED if abs(filled[cid]) >= abs(order_qty) - 1e-12 else _S.PARTIALLY_FILLED
        q = st.queried.get(cid)
        if q is not None and status is _S.FILLED and q.status not in ("FILLED",):
            status = _S.PARTIALLY_FILLED
        return ExecReport(client_order_id=cid, status=status, symbol=self.symbols[t.symbol].id,
                          time_ns=t.time * 1_000_000, fill_id=fill_key(self.index[t.symbol], t.id),
                          fill_quantity=qty, fill_price=float(t.price), fee=float(t.commission),
                          fee_currency=t.commissionAsset, liquidity="maker" if t.isMaker else "taker")

    async def reconcile_now(self) -> int:
        """After a reconnect: take a fresh snapshot and push what the stream may have missed into the report
        queue (the daemon journals each before applying it, and drops fills it already has)."""
        st = await self._snapshot_venue()
        self.stats["reconciles"] += 1
        self.account = dict(st.balances)
        intents = self._trade_intents(st)
        filled = {c: i["filled"] for c, i in intents.items()}
        have = self.store.journaled_fills(fill_key(self.index[t.symbol], t.id) for t in st.trades)
        n = 0
        for t in st.trades:
            cid = st.order_cids.get((t.symbol, t.orderId))
            it = intents.get(cid) if cid else None
            if cid is None or it is None:
                continue
            rep = self._trade_report(t, cid, it["quantity"], filled, st)
            if rep.fill_id not in have:
                n += 1
                self._push_fill(rep)
        now = time.time_ns()
        open_by_cid = {o.clientOrderId: o for o in st.open_orders}
        for cid, sym in list(self._orders.items()):
            if cid in self._inflight or self._stage.get(cid, 0) >= 3:
                continue
            vo = open_by_cid.get(cid) or st.queried.get(cid)
            if vo is None and cid in st.queried:
                self._push_status(cid, _S.REJECTED, sym, now, "NOT_FOUND_AT_VENUE")
            elif vo is not None:
                self._push_status(cid, STATUS.get(vo.status, _S.ACCEPTED), sym, now,
                                  "EXPIRED" if vo.status.startswith("EXPIRED") else "")
        self.stats["recovered_fills"] += n
        log.info("binance.reconciled", trades=len(st.trades), pushed_fills=n, open_orders=len(st.open_orders))
        return n

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

    def _learn(self, cid: str, symbol: str, order_id: int) -> None:
        """The venue's order id of one of our orders (a reconnect's snapshot attributes its trades by it)."""
        if cid not in self._ended:
            self._venue_ids[cid] = (symbol, order_id)

    def _end(self, cid: str, key: tuple[str, int] | None = None) -> None:
        """The order ended: its per-order state goes, and it joins the bounded window of recently ended orders."""
        self._orders.pop(cid, None)
        self._stage.pop(cid, None)
        key = self._venue_ids.pop(cid, key)
        self._list_cids.discard(cid)  # the venue no longer links it to anything
        self._ended.add(cid, key)

    def on_execution_report(self, ev: ExecutionReport) -> None:
        held = self._held.get(ev.client_order_id)
        if held is not None:  # a cancel-replace's new order: its update is applied first
            held.append(ev)
            return
        cid = ev.client_order_id
        sym = self.symbols.get(ev.s)
        if sym is None:
            return
        if cid not in self._ended:
            self._venue_ids[cid] = (ev.s, ev.i)
        status = STATUS.get(ev.X, _S.ACCEPTED)
        t_ns = ev.T * 1_000_000
        if ev.x == "TRADE":
            sign = 1.0 if ev.S == "BUY" else -1.0
            self._push_fill(ExecReport(client_order_id=cid, status=status, symbol=sym.id, time_ns=t_ns,
                                       venue_order_id=ev.i, fill_id=fill_key(self.index[ev.s], ev.t),
                                       fill_quantity=sign * float(ev.l), fill_price=float(ev.L),
                                       fee=float(ev.n or 0), fee_currency=ev.N or "",
                                       liquidity="maker" if ev.m else "taker"))
        elif status is _S.ACCEPTED or status in _CLOSED or ev.x == "EXPIRED":
            reason = "EXPIRED" if ev.X.startswith("EXPIRED") else (ev.r if ev.r != "NONE" else "")
            if ev.g >= 0 and ev.X == "EXPIRED" and not ev.eR:  # its OCO partner worked: ended as leand's OCO
                status, reason = _S.CANCELED, "OCO: the other order filled"
            self._push_status(cid, status, sym.id, t_ns, reason, ev.i)

    # -- orders ------------------------------------------------------------------------------------------------
    def order_params(self, order: Order) -> dict[str, Any] | str:
        """The POST /api/v3/order parameters, or the reason the order cannot be expressed on Binance."""
        sym = order.symbol.value.upper()
        f = self.filters.get(sym)
        if f is None:
            return f"UNKNOWN_SYMBOL {sym}"
        side = "BUY" if order.quantity > 0 else "SELL"
        qty = f.quantity(order.quantity)
        if qty is None:
            return f"LOT_SIZE: {abs(order.quantity)!r} is not a multiple of {f.step}"
        p: dict[str, Any] = {"symbol": sym, "side": side}
        t = order.type
        if t is OrderType.MARKET:
            p["type"] = "MARKET"
        elif (t in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.limit_price is None) or (
                t in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) and order.stop_price is None):
            return f"MISSING_PRICE {t.value} order without its price"
        elif t is OrderType.LIMIT:
            assert order.limit_price is not None
            if order.post_only:
                p["type"] = "LIMIT_MAKER"
            else:
                p["type"] = "LIMIT"
                p["timeInForce"] = TIF.get(order.time_in_force, "GTC")
            p["price"] = f.price(order.limit_price, side)
        elif t is OrderType.STOP_MARKET:
            assert order.stop_price is not None
            p["type"] = "STOP_LOSS"
            p["stopPrice"] = f.price(order.stop_price, side)
        elif t is OrderType.STOP_LIMIT:
            assert order.limit_price is not None and order.stop_price is not None
            p.update(type="STOP_LOSS_LIMIT", timeInForce=TIF.get(order.time_in_force, "GTC"),
                     price=f.price(order.limit_price, side), stopPrice=f.price(order.stop_price, side))
        else:
            return f"UNSUPPORTED_ORDER_TYPE {t.value}"
        p["quantity"] = qty
        p["newClientOrderId"] = order.client_order_id
        p["newOrderRespType"] = "FULL"
        return p

    def send_order(self, order: Order) -> None:
        if self.cfg.order_entry == "ws" and self._uws is not None and self.user_connected.is_set() and \
                self._place_ws(order):
            return
        self._spawn(self._place(order))

    def _place_ws(self, order: Order) -> bool:
        """Write the signed ``order.place`` frame now; False (the caller goes by REST) when the order cannot be
        expressed (REST reports why), the weight budget says wait, or the connection cannot take the frame.

        The order's shape (symbol, type, side, post-only, time in force) names its template and filters, made
        from :meth:`order_params` on the shape's first order; after that an order costs two memo lookups (its
        quantity and price as text on the symbol's grid), the template's render and the write."""
        if self.rest.throttle.delay(1) > 0:
            return False
        buy = order.quantity > 0
        key = (order.symbol, order.type, buy, order.post_only, order.time_in_force)
        shape = self._ws_shapes.get(key)
        if shape is None:
            params = self.order_params(order)
            if isinstance(params, str):
                return False
            sym = params["symbol"]
            shape = self._ws_shapes[key] = (self.templates.template("order.place", params), self.filters[sym],
                                            self._text_memo.setdefault(sym, {}), "price" in params,
                                            "stopPrice" in params, params["side"])
        tpl, f, memo, has_price, has_stop, side = shape
        if len(memo) > 4096:  # a strategy that sizes every order differently: the memo stays small
            memo.clear()
        qty = memo.get(order.quantity) or memo.setdefault(order.quantity, f.quantity(order.quantity) or "")
        if not qty:
            return False
        price = stop = ""
        if has_price:
            px = order.limit_price
            if px is None:
                return False
            price = memo.get((px, side)) or memo.setdefault((px, side), f.price(px, side))
        if has_stop:
            px = order.stop_price
            if px is None:
                return False
            stop = memo.get((px, side)) or memo.setdefault((px, side), f.price(px, side))
        cid = order.client_order_id
        rid = f"o{self.sent}-{cid}"
        if not write_now(self._uws, tpl.render(rid, cid, qty, price, stop, self.rest.timestamp_ms())):
            return False
        if self.on_send is not None:
            self.on_send("order.place", {"newClientOrderId": cid, "quantity": qty, "price": price,
                                         "stopPrice": stop})
        self._inflight.add(cid)
        self.sent += 1
        self.stats["orders_sent"] += 1
        self.stats["ws_orders"] += 1
        timer = asyncio.get_running_loop().call_later(self.cfg.request_timeout_s, self._ws_unanswered, rid)
        self._ws_pending[rid] = (order, timer)
        return True

    def _on_ws_answer(self, rid: str, f: UserDataFrame) -> None:
        order, timer = self._ws_pending.pop(rid)
        timer.cancel()
        cid = order.client_order_id
        if f.status == 200 and f.error is None:
            try:
                resp = msgspec.json.decode(f.result, type=OrderResponse)
            except (msgspec.DecodeError, msgspec.ValidationError) as e:
                self._unknown_ws(order, f"malformed order.place answer: {e}")
                return
            self._inflight.discard(cid)
            self._on_order_response(order, resp)
            return
        if f.status is None or f.status >= 500:
            self._unknown_ws(order, f"order.place answered {f.status}")
            return
        self._inflight.discard(cid)
        self.stats["rejected"] += 1
        code, msg = (f.error.code, f.error.msg) if f.error is not None else (0, f"status {f.status}")
        log.warning("binance.order.rejected", client_order_id=cid, code=code, msg=msg, via="ws")
        self._push_status(cid, _S.REJECTED, order.symbol.id, time.time_ns(), f"{code} {msg}")

    def _ws_unanswered(self, rid: str) -> None:
        item = self._ws_pending.pop(rid, None)
        if item is not None:
            self._unknown_ws(item[0], f"no answer to order.place in {self.cfg.request_timeout_s:g} s")

    def _unknown_ws(self, order: Order, why: str) -> None:
        """Sent and not answered for sure: ask the venue by client order id, never send it again."""
        self.stats["unknown_outcomes"] += 1
        log.warning("binance.order.unknown_outcome", client_order_id=order.client_order_id, error=why, via="ws")
        self._spawn(self._resolve_inflight(order))

    async def _resolve_inflight(self, order: Order) -> None:
        cid = order.client_order_id
        self._inflight.add(cid)
        try:
            await self._resolve_unknown(order)
        finally:
            self._inflight.discard(cid)

    def send_cancel(self, order: Order) -> None:
        self._spawn(self._cancel(order))

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        t = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._done)

    def _done(self, t: asyncio.Task) -> None:
        self._tasks.discard(t)
        if not t.cancelled() and t.exception() is not None:
            e = t.exception()
            log.error("binance.task.failed", error=f"{type(e).__name__}: {e}")

    async def _place(self, order: Order) -> None:
        cid = order.client_order_id
        sid = order.symbol.id
        params = self.order_params(order)
        if isinstance(params, str):
            self.stats["rejected"] += 1
            self._push_status(cid, _S.REJECTED, sid, time.time_ns(), params)
            return
        self._inflight.add(cid)
        try:
            # no "sent" write on the hot path: reconciliation treats "intent" and "sent" alike (it asks the venue)
            self.sent += 1
            self.stats["orders_sent"] += 1
            self.stats["rest_orders"] += 1
            try:
                body = await self.rest.request("POST", "/api/v3/order", params, signed=True, weight=1,
                                               retry=False)
                resp = decode(body, OrderResponse)
            except BinanceError as e:
                self.stats["rejected"] += 1
                log.warning("binance.order.rejected", client_order_id=cid, code=e.code, msg=e.msg)
                self._push_status(cid, _S.REJECTED, sid, time.time_ns(), f"{e.code} {e.msg}")
                return
            except UnknownOutcome as e:
                self.stats["unknown_outcomes"] += 1
                log.warning("binance.order.unknown_outcome", client_order_id=cid, error=str(e))
                await self._resolve_unknown(order)
                return
            self._on_order_response(order, resp)
        finally:
            self._inflight.discard(cid)

    def _on_order_response(self, order: Order, resp: OrderResponse) -> None:
        cid = order.client_order_id
        sid = order.symbol.id
        self._learn(cid, resp.symbol, resp.orderId)
        t_ns = (resp.transactTime or int(time.time() * 1000)) * 1_000_000
        self._push_status(cid, _S.ACCEPTED, sid, t_ns, venue_order_id=resp.orderId)
        sign = 1.0 if order.quantity > 0 else -1.0
        cum, total = 0.0, abs(order.quantity)
        for f in resp.fills:
            cum += float(f.qty)
            st = _S.FILLED if cum >= total - 1e-12 else _S.PARTIALLY_FILLED
            self._push_fill(ExecReport(client_order_id=cid, status=st, symbol=sid, time_ns=t_ns,
                                       venue_order_id=resp.orderId, fill_id=fill_key(self.index[resp.symbol],
                                                                                     f.tradeId),
                                       fill_quantity=sign * float(f.qty), fill_price=float(f.price),
                                       fee=float(f.commission), fee_currency=f.commissionAsset, liquidity="taker"))
        status = STATUS.get(resp.status)
        if status in _CLOSED:
            self._push_status(cid, status, sid, t_ns, "EXPIRED" if resp.status.startswith("EXPIRED") else "",
                              resp.orderId)

    async def _resolve_unknown(self, order: Order) -> None:
        """5xx/timeout on a new order: ask the venue (a few times, the order may still be on its way in)
        whether it exists; never send it again."""
        cid = order.client_order_id
        for attempt in range(4):
            await asyncio.sleep(backoff(attempt, 0.2, 2.0))
            try:
                q = await self._query_order(order.symbol.value.upper(), cid=cid)
            except (BinanceError, UnknownOutcome) as e:
                log.warning("binance.order.query_failed", client_order_id=cid, error=str(e))
                continue
            if q is not None:
                await self._recover_order(order, q)
                return
        self._push_status(cid, _S.REJECTED, order.symbol.id, time.time_ns(), "UNKNOWN_OUTCOME_NOT_FOUND")

    async def _recover_order(self, order: Order, q: QueryOrder) -> None:
        """The venue knows the order: its fills from myTrades (by orderId), then its status."""
        cid = order.client_order_id
        self._learn(cid, q.symbol, q.orderId)
        self._push_status(cid, _S.ACCEPTED, order.symbol.id, time.time_ns(), venue_order_id=q.orderId)
        if float(q.executedQty):
            try:
                body = await self.rest.request("GET", "/api/v3/myTrades", {"symbol": q.symbol,
                                                                           "orderId": q.orderId},
                                               signed=True, weight=5)
            except (BinanceError, UnknownOutcome) as e:  # the status waits: no close before its fills
                log.warning("binance.order.trades_failed", client_order_id=cid, error=str(e))
                self._spawn(self._reconcile_safely())
                return
            filled: dict[str, float] = {cid: 0.0}
            st = VenueState(balances={}, open_orders=[], trades=[], queried={cid: q}, order_cids={})
            for t in sorted(decode(body, list[MyTrade]), key=lambda t: t.id):
                self._push_fill(self._trade_report(t, cid, order.quantity, filled, st))
        status = STATUS.get(q.status, _S.ACCEPTED)
        if status in _CLOSED:
            reason = "EXPIRED" if q.status.startswith("EXPIRED") else ""
            if q.orderListId >= 0 and q.status == "EXPIRED":  # its OCO partner worked (see on_execution_report)
                status, reason = _S.CANCELED, "OCO: the other order filled"
            self._push_status(cid, status, order.symbol.id, time.time_ns(), reason, q.orderId)

    async def _cancel(self, order: Order) -> None:
        cid = order.client_order_id
        sym = order.symbol.value.upper()
        found: QueryOrder | None = None
        # a cancel right behind its own submit waits for the submit's answer (the venue may not know it yet)
        for _ in range(200):
            if cid not in self._inflight:
                break
            await asyncio.sleep(0.01)
        try:
            body = await self.rest.request("DELETE", "/api/v3/order", {"symbol": sym, "origClientOrderId": cid},
                                           signed=True, weight=1, retry=True)
            c = decode(body, CancelResponse)
            # the answer may overtake the stream's fills: an order that traded is recovered fills first
            q = QueryOrder(symbol=c.symbol, orderId=c.orderId, clientOrderId=cid, price=c.price,
                           origQty=c.origQty, executedQty=c.executedQty, status=c.status or "CANCELED",
                           type=c.type, side=c.side)
            await self._recover_order(order, q)
        except BinanceError as e:
            if e.code == -2011:  # unknown or already final: find out which, the stream may have missed it
                found = await self._query_order(sym, cid=cid)
                if found is not None and STATUS.get(found.status) in (_S.FILLED, *_CLOSED):
                    await self._recover_order(order, found)
                    return
            log.warning("binance.cancel.rejected", client_order_id=cid, code=e.code, msg=e.msg)
            self.reports.put_nowait(ExecReport(client_order_id=cid, kind=ReportKind.CANCEL_REJECTED,
                                               status=STATUS.get(found.status, _S.ACCEPTED) if found is not None
                                               else order.status, symbol=order.symbol.id, time_ns=time.time_ns(),
                                               reason=f"{CANCEL_REJECTED} {e.code} {e.msg}"))
        except UnknownOutcome as e:
            log.warning("binance.cancel.unknown_outcome", client_order_id=cid, error=str(e))
            if self.user_connected.is_set():
                self._spawn(self.reconcile_now())

    # -- order lists ---------------------------------------------------------------------------------------------
    def submit_oco(self, orders: tuple[Order, Order], now_ns: int) -> None:
        """Two orders as one ``POST /api/v3/orderList/oco`` (:class:`leand.venue.OrderListEntry`)."""
        for o in orders:
            self._orders[o.client_order_id] = o.symbol.id
            self._list_cids.add(o.client_order_id)
        self._send_list("oco", orders, self.oco_params(orders))

    def submit_otoco(self, orders: tuple[Order, Order, Order], now_ns: int) -> None:
        """A bracket (limit entry, take-profit, stop-loss) as one ``POST /api/v3/orderList/otoco``: the entry
        works now, Binance places the exits as an OCO pair once it has filled."""
        for o in orders:
            self._orders[o.client_order_id] = o.symbol.id
            self._list_cids.add(o.client_order_id)
        self._send_list("otoco", orders, self.otoco_params(orders))

    def in_order_list(self, client_order_id: str) -> bool:
        return client_order_id in self._list_cids

    def otoco_params(self, orders: tuple[Order, Order, Order]) -> dict[str, Any] | str:
        """The OTOCO list's parameters: the entry is the working order (LIMIT, or LIMIT_MAKER if post-only),
        the exits the pending above/below pair as :meth:`oco_params` orders them."""
        entry, tp, sl = orders
        w = self.order_params(entry)
        if isinstance(w, str):
            return w
        if w["type"] not in ("LIMIT", "LIMIT_MAKER"):
            return f"UNSUPPORTED_OTOCO a {entry.type.value} order cannot be the working order of a Binance OTOCO"
        pair = self.oco_params((tp, sl))
        if isinstance(pair, str):
            return pair
        if pair["side"] == w["side"]:
            return "UNSUPPORTED_OTOCO the exits must be on the other side of the entry"
        out: dict[str, Any] = {"symbol": w["symbol"], "workingType": w["type"], "workingSide": w["side"],
                               "workingClientOrderId": entry.client_order_id, "workingPrice": w["price"],
                               "workingQuantity": w["quantity"]}
        if "timeInForce" in w:
            out["workingTimeInForce"] = w["timeInForce"]
        out["pendingSide"] = pair["side"]
        out["pendingQuantity"] = pair["quantity"]
        for k, v in pair.items():
            if k.startswith(("above", "below")):
                out["pending" + k[0].upper() + k[1:]] = v
        out["newOrderRespType"] = "FULL"
        return out

    def oco_params(self, orders: tuple[Order, Order]) -> dict[str, Any] | str:
        """The OCO list's parameters: the leg that sits higher is the above leg; a limit goes as LIMIT_MAKER,
        a stop as STOP_LOSS (STOP_LOSS_LIMIT with its limit)."""
        a, b = orders
        if a.symbol != b.symbol or abs(a.quantity - b.quantity) > 1e-12:
            return "UNSUPPORTED_OCO the two orders differ in symbol or quantity"
        legs = []
        for o in orders:
            p = self.order_params(o)
            if isinstance(p, str):
                return p
            level = o.stop_price if o.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) else o.limit_price
            t = {"LIMIT": "LIMIT_MAKER"}.get(p["type"], p["type"])
            if t not in ("LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT"):
                return f"UNSUPPORTED_OCO {o.type.value} cannot be a leg of a Binance OCO"
            legs.append((level or 0.0, t, p, o))
        legs.sort(key=lambda x: x[0])
        out: dict[str, Any] = {"symbol": legs[0][2]["symbol"], "side": legs[0][2]["side"],
                               "quantity": legs[0][2]["quantity"]}
        for name, (_, t, p, o) in zip(("below", "above"), legs, strict=True):
            out[name + "Type"] = t
            if t != "STOP_LOSS":
                out[name + "Price"] = p["price"]
            if t != "LIMIT_MAKER":
                out[name + "StopPrice"] = p["stopPrice"]
            if t == "STOP_LOSS_LIMIT":
                out[name + "TimeInForce"] = "GTC"
            out[name + "ClientOrderId"] = o.client_order_id
        out["newOrderRespType"] = "FULL"
        return out

    def _send_list(self, kind: str, orders: tuple[Order, ...], params: dict[str, Any] | str) -> None:
        """A list as the WebSocket API's ``orderList.place.<kind>`` when that connection is up (REST
        ``POST /api/v3/orderList/<kind>`` otherwise, or when the list cannot be expressed: REST reports why)."""
        if not isinstance(params, str) and self._ws_call(f"orderList.place.{kind}", params,
                                                         lambda raw: self._on_ws_list(kind, orders, raw)):
            self._inflight.update(o.client_order_id for o in orders)
            self.stats["orders_sent"] += len(orders)
            self.stats["ws_orders"] += len(orders)
            return
        self._spawn(self._place_list(kind, orders, params))

    def _on_ws_list(self, kind: str, orders: tuple[Order, ...], raw: str | bytes | None) -> None:
        """The WebSocket API's answer to an order list: as REST's (each leg's answer, or every leg refused); no
        answer (a dropped connection, the deadline) or a 5xx: each leg looked up, never resent."""
        cids = [o.client_order_id for o in orders]
        f = _ws_frame(raw, WsListAnswer)
        if f is not None and f.status == 200 and f.result is not None:
            self._inflight.difference_update(cids)
            self._on_list_response(orders, f.result)
            return
        if f is None or f.status is None or f.status >= 500:
            self.stats["unknown_outcomes"] += 1
            log.warning(f"binance.{kind}.unknown_outcome", client_order_ids=cids, via="ws",
                        error="no answer" if f is None else f"status {f.status}")
            for o in orders:
                self._spawn(self._resolve_inflight(o))
            return
        self._inflight.difference_update(cids)
        self.stats["rejected"] += len(orders)
        code, msg = (f.error.code, f.error.msg) if f.error is not None else (0, f"status {f.status}")
        log.warning(f"binance.{kind}.rejected", client_order_ids=cids, code=code, msg=msg, via="ws")
        now = time.time_ns()
        for o in orders:
            self._push_status(o.client_order_id, _S.REJECTED, o.symbol.id, now, f"{code} {msg}")

    def _ws_call(self, method: str, params: Mapping[str, Any], answered: Callable[[str | bytes | None], None]
                 ) -> bool:
        """Write one signed WebSocket API request now (signed in full: these requests are rare, so no
        template); ``answered`` gets its raw answer frame, or None if none comes. False: not sent (the
        connection is down or backed up, or the weight budget says wait)."""
        if self.cfg.order_entry != "ws" or self._uws is None or not self.user_connected.is_set() or \
                self.rest.throttle.delay(1) > 0:
            return False
        p: dict[str, Any] = {**params, "apiKey": self._api_key, "recvWindow": self.cfg.recv_window_ms,
                             "timestamp": self.rest.timestamp_ms()}
        p["signature"] = ws_signature(p, self._secret)
        rid = f"l{self.sent}-{uuid.uuid4().hex[:8]}"
        if not write_now(self._uws, msgspec.json.encode({"id": rid, "method": method, "params": p}).decode()):
            return False
        self.sent += 1
        if self.on_send is not None:
            self.on_send(method, params)
        timer = asyncio.get_running_loop().call_later(self.cfg.request_timeout_s, self._ws_call_unanswered, rid)
        self._ws_calls[rid] = (answered, timer)
        return True

    def _ws_call_unanswered(self, rid: str) -> None:
        item = self._ws_calls.pop(rid, None)
        if item is not None:
            item[0](None)

    async def _place_list(self, kind: str, orders: tuple[Order, ...], params: dict[str, Any] | str) -> None:
        """``POST /api/v3/orderList/<kind>``: each leg's answer reported under its own client order id; a refusal
        refuses every leg; an unknown outcome is looked up leg by leg, never resent."""
        now = time.time_ns()
        if isinstance(params, str):
            for o in orders:
                self._push_status(o.client_order_id, _S.REJECTED, o.symbol.id, now, params)
            return
        cids = [o.client_order_id for o in orders]
        self._inflight.update(cids)
        try:
            self.stats["orders_sent"] += len(orders)
            try:
                body = await self.rest.request("POST", f"/api/v3/orderList/{kind}", params, signed=True,
                                               weight=1, retry=False)
                resp = decode(body, OrderListResponse)
            except BinanceError as e:
                self.stats["rejected"] += len(orders)
                log.warning(f"binance.{kind}.rejected", client_order_ids=cids, code=e.code, msg=e.msg)
                for o in orders:
                    self._push_status(o.client_order_id, _S.REJECTED, o.symbol.id, now, f"{e.code} {e.msg}")
                return
            except UnknownOutcome as e:
                self.stats["unknown_outcomes"] += 1
                log.warning(f"binance.{kind}.unknown_outcome", client_order_ids=cids, error=str(e))
                for o in orders:
                    await self._resolve_unknown(o)
                return
            self._on_list_response(orders, resp)
        finally:
            self._inflight.difference_update(cids)

    def _on_list_response(self, orders: tuple[Order, ...], resp: OrderListResponse) -> None:
        by_cid = {o.client_order_id: o for o in orders}
        for r in resp.orderReports:
            leg = by_cid.get(r.clientOrderId)
            if leg is not None:
                self._on_order_response(leg, r)

    # -- cancel-replace ------------------------------------------------------------------------------------------
    async def _cancel_replace(self, leg: Order, old_cid: str, update: UpdateRequest) -> None:
        new_cid = leg.client_order_id
        try:
            params = self.order_params(leg)
            if isinstance(params, str):
                self._update_refused(leg, params)
                return
            params.update(cancelReplaceMode="STOP_ON_FAILURE", cancelOrigClientOrderId=old_cid)
            for _ in range(200):  # right behind the old order's own submit: wait for its answer
                if old_cid not in self._inflight:
                    break
                await asyncio.sleep(0.01)
            self._inflight.add(new_cid)
            try:
                body = await self.rest.request("POST", "/api/v3/order/cancelReplace", params, signed=True, weight=1,
                                               retry=False)
                res, why = decode(body, CancelReplaceResult), ""
            except BinanceError as e:
                try:
                    err = msgspec.json.decode(e.body, type=CancelReplaceError) if e.body else None
                except (msgspec.DecodeError, msgspec.ValidationError):
                    err = None
                log.warning("binance.replace.failed", client_order_id=new_cid, code=e.code, msg=e.msg)
                if err is None or err.data is None:  # refused as a request: nothing happened
                    self._update_refused(leg, f"{e.code} {e.msg}")
                    return
                res, why = err.data, f"{e.code} {e.msg}"
            except UnknownOutcome as e:
                self.stats["unknown_outcomes"] += 1
                log.warning("binance.replace.unknown_outcome", client_order_id=new_cid, error=str(e))
                await self._resolve_replace(leg, old_cid, update)
                return
            finally:
                self._inflight.discard(new_cid)
            await self._on_replaced(leg, old_cid, update, res, why)
        finally:
            for ev in self._held.pop(new_cid, []):
                self.on_execution_report(ev)

    async def _on_ws_replace(self, leg: Order, old_cid: str, update: UpdateRequest, raw: str | bytes | None
                             ) -> None:
        """The WebSocket API's answer to ``order.cancelReplace``, applied as REST's: what each half did (the
        error's ``data`` when one half failed), a refusal, or no answer: looked up, never resent."""
        new_cid = leg.client_order_id
        try:
            f = _ws_frame(raw, WsReplaceAnswer)
            self._inflight.discard(new_cid)
            if f is None or f.status is None or f.status >= 500:
                self.stats["unknown_outcomes"] += 1
                log.warning("binance.replace.unknown_outcome", client_order_id=new_cid, via="ws",
                            error="no answer" if f is None else f"status {f.status}")
                await self._resolve_replace(leg, old_cid, update)
            elif f.status == 200 and f.result is not None:
                await self._on_replaced(leg, old_cid, update, f.result, "")
            else:
                err = f.error
                why = f"{err.code} {err.msg}" if err is not None else f"status {f.status}"
                log.warning("binance.replace.failed", client_order_id=new_cid, reason=why, via="ws")
                if err is None or err.data is None:  # refused as a request: nothing happened
                    self._update_refused(leg, why)
                else:
                    await self._on_replaced(leg, old_cid, update, err.data, why)
        finally:
            self._inflight.discard(new_cid)
            for ev in self._held.pop(new_cid, []):
                self.on_execution_report(ev)

    def _update_refused(self, leg: Order, reason: str) -> None:
        self.reports.put_nowait(ExecReport(client_order_id=leg.client_order_id, kind=ReportKind.UPDATE_REJECTED,
                                           status=leg.status, symbol=leg.symbol.id, time_ns=time.time_ns(),
                                           reason=f"UPDATE_REJECTED {reason}"))

    def _update_accepted(self, leg: Order, update: UpdateRequest) -> None:
        self.reports.put_nowait(ExecReport(client_order_id=leg.client_order_id, kind=ReportKind.UPDATE_ACCEPTED,
                                           status=leg.status, symbol=leg.symbol.id, time_ns=time.time_ns(),
                                           reason="REPLACED", quantity=update.quantity,
                                           limit_price=update.limit_price, stop_price=update.stop_price))

    async def _on_replaced(self, leg: Order, old_cid: str, update: UpdateRequest, res: CancelReplaceResult,
                           why: str) -> None:
        """Apply what each half did: the old order's fills and end (which no longer closes the strategy's
        order), then the update and the new order's answer; or a refusal."""
        if res.cancelResult != "SUCCESS":  # STOP_ON_FAILURE: nothing was placed
            self._update_refused(leg, f"{why} (cancel: {_half(res.cancel_half)})")
            return
        if res.cancel_half is not None:
            c = decode(res.cancel_half, CancelResponse)
            q = QueryOrder(symbol=c.symbol, orderId=c.orderId, clientOrderId=old_cid, price=c.price,
                           origQty=c.origQty, executedQty=c.executedQty, status=c.status or "CANCELED", type=c.type,
                           side=c.side)
            await self._recover_order(msgspec.structs.replace(leg, client_order_id=old_cid), q)
        new = res.new_half
        if res.newOrderResult == "SUCCESS" and new is not None:
            self._update_accepted(leg, update)
            self._on_order_response(leg, decode(new, OrderResponse))
            return
        # the old order is canceled and its replacement refused: the order is over
        self._push_status(leg.client_order_id, _S.CANCELED, leg.symbol.id, time.time_ns(),
                          f"REPLACE_REFUSED {why} (new order: {_half(res.new_half)})")

    async def _resolve_replace(self, leg: Order, old_cid: str, update: UpdateRequest) -> None:
        """5xx/timeout on a cancel-replace: find out from the venue which halves happened; never send it again."""
        sym = leg.symbol.value.upper()
        old = msgspec.structs.replace(leg, client_order_id=old_cid)
        q_old: QueryOrder | None = None
        for attempt in range(4):
            await asyncio.sleep(backoff(attempt, 0.2, 2.0))
            try:
                q_new = await self._query_order(sym, cid=leg.client_order_id)
                q_old = await self._query_order(sym, cid=old_cid)
            except (BinanceError, UnknownOutcome) as e:
                log.warning("binance.replace.query_failed", client_order_id=leg.client_order_id, error=str(e))
                continue
            if q_new is not None:
                if q_old is not None:
                    await self._recover_order(old, q_old)
                self._update_accepted(leg, update)
                await self._recover_order(leg, q_new)
                return
        if q_old is not None and STATUS.get(q_old.status) in (_S.ACCEPTED, _S.PARTIALLY_FILLED):
            self._update_refused(leg, "UNKNOWN_OUTCOME the venue order was not replaced")
            return
        if q_old is not None:
            await self._recover_order(old, q_old)
        self._push_status(leg.client_order_id, _S.CANCELED, leg.symbol.id, time.time_ns(),
                          "REPLACE_UNKNOWN_OUTCOME the venue order is gone and no replacement was found")

    # -- user-data stream ---------------------------------------------------------------------------------------
    async def _user_loop(self) -> None:
        attempt = 0
        first = True
        while True:
            try:
                # no compression: an order frame is written as it is (wsapi.write_now), and nothing on this
                # connection is big enough for deflate to pay for its time
                async with websockets.connect(self.cfg.ws_api_url, open_timeout=10, ping_interval=20,
                                              ping_timeout=60, max_size=1 << 24, compression=None) as ws:
                    self._uws = ws
                    await self._subscribe(ws)
                    attempt = 0
                    self.stats["user_connects"] += 1
                    self.user_connected.set()
                    log.info("binance.user.subscribed", url=self.cfg.ws_api_url)
                    if not first:  # whatever happened while the stream was down comes from REST
                        self._reconciling = asyncio.get_running_loop().create_task(self._reconcile_safely())
                    first = False
                    async for raw in ws:
                        if self._on_user_frame(raw):
                            break
            except AuthRefused as e:
                log.error("binance.user.refused", error=str(e))
                if first:
                    raise
            except (OSError, websockets.WebSocketException, TimeoutError, ConnectionError) as e:
                log.warning("binance.user.disconnected", error=f"{type(e).__name__}: {e}")
            finally:
                self.user_connected.clear()
                self._uws = None
                # WS API orders the dropped connection did not answer: their outcome is unknown
                pending, self._ws_pending = self._ws_pending, {}
                for order, timer in pending.values():
                    timer.cancel()
                    self._unknown_ws(order, "WebSocket API connection closed before the answer")
                calls, self._ws_calls = self._ws_calls, {}
                for answered, timer in calls.values():
                    timer.cancel()
                    answered(None)
            await asyncio.sleep(backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))
            attempt += 1

    async def _reconcile_safely(self) -> None:
        for attempt in range(10):
            try:
                await self.reconcile_now()
                return
            except (BinanceError, UnknownOutcome) as e:
                log.warning("binance.reconcile.failed", error=str(e), attempt=attempt + 1)
                await asyncio.sleep(backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_cap_s))

    async def _subscribe(self, ws) -> None:
        params: dict[str, Any] = {"apiKey": self._api_key, "recvWindow": self.cfg.recv_window_ms,
                                  "timestamp": self.rest.timestamp_ms()}
        params["signature"] = ws_signature(params, self._secret)
        rid = uuid.uuid4().hex
        # a text frame: the WebSocket API ignores binary ones
        await ws.send(msgspec.json.encode({"id": rid, "method": "userDataStream.subscribe.signature",
                                           "params": params}).decode())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            raw = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
            f = msgspec.json.decode(raw, type=UserDataFrame)
            if f.id != rid:
                self._on_user_frame(raw)
                continue
            if f.status != 200 or f.error is not None:
                err = f.error
                if err is not None and err.code == -1021:
                    await self.rest.sync_time()
                refused = f.status in (401, 403) or (err is not None and err.code in (-1022, -2014, -2015))
                raise (AuthRefused if refused else ConnectionError)(f"userDataStream.subscribe.signature refused: {f.status} "
                                      f"{err.code if err else ''} {err.msg if err else ''}")
            return
        raise TimeoutError("no answer to userDataStream.subscribe.signature")

    def _on_user_frame(self, raw: str | bytes) -> bool:
        """Handle one frame; True when the venue ended the stream (resubscribe)."""
        try:
            f = msgspec.json.decode(raw, type=UserDataFrame)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("binance.user.undecodable", frame=str(raw)[:200])
            return False
        if not len(f.event):
            if f.id is not None and f.id in self._ws_pending:
                self._on_ws_answer(str(f.id), f)
            elif f.id is not None and f.id in self._ws_calls:
                answered, timer = self._ws_calls.pop(str(f.id))
                timer.cancel()
                answered(raw)
            return False
        self.stats["events"] += 1
        try:
            ev = _user_event.decode(f.event)
        except msgspec.DecodeError as e:  # also ValidationError, and bytes that are not UTF-8
            if _acted_on(f.event):  # ours, but malformed: say so (reconciliation fetches the truth)
                self.stats["malformed"] = self.stats.get("malformed", 0) + 1
                log.warning("binance.user.malformed", error=str(e), frame=bytes(f.event)[:200].decode(errors="replace"))
            return False  # balanceUpdate, listStatus, ...: nothing to act on
        if isinstance(ev, ExecutionReport):
            self.on_execution_report(ev)
        elif isinstance(ev, AccountPosition):
            for b in ev.B:
                self.account[b.a] = float(b.f) + float(b.l)
        elif isinstance(ev, StreamTerminated):
            log.warning("binance.user.terminated")
            return True
        return False

    async def drop_user_stream(self) -> None:
        """Close the user-data socket (tests: forces the reconnect-and-reconcile path)."""
        if self._uws is not None:
            await self._uws.close()

    async def _time_loop(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.time_sync_interval_s)
            with contextlib.suppress(BinanceError, UnknownOutcome):
                await self.rest.sync_time()


_event_type = msgspec.json.Decoder(OtherEvent)
_A = TypeVar("_A", WsListAnswer, WsReplaceAnswer)


def _acted_on(raw: msgspec.Raw) -> bool:
    """Whether an event is of a type this adapter acts on (so failing to decode it is worth a warning)."""
    try:
        return _event_type.decode(raw).e in ("executionReport", "outboundAccountPosition", "eventStreamTerminated")
    except (msgspec.DecodeError, msgspec.ValidationError):
        return True


def _ws_frame(raw: str | bytes | None, type_: type[_A]) -> _A | None:
    """A WebSocket API answer frame as ``type_``; None when there was none or it does not decode."""
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError):
        log.warning("binance.ws_api.malformed_answer", frame=str(raw)[:200])
        return None


def _half(raw: msgspec.Raw | None) -> str:
    """One half of a cancel-replace answer, for a reason text."""
    if raw is None:
        return "not attempted"
    try:
        e = msgspec.json.decode(raw, type=ApiErrorBody)
        return f"{e.code} {e.msg}"
    except (msgspec.DecodeError, msgspec.ValidationError):
        return "ok"


def _dec(x: float) -> str:
    return format(Decimal(repr(x)).normalize(), "f")
