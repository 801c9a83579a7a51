"""Binance's order lists and cancel-replace, as the venue runs them: OCO (``POST /api/v3/orderList/oco`` and the
legacy ``/api/v3/order/oco``), OTO and OTOCO (``/api/v3/orderList/oto``, ``/otoco``), ``DELETE /api/v3/orderList``,
the list queries, ``listStatus`` events, and ``POST /api/v3/order/cancelReplace``.

Rules kept (Binance's docs): an OCO's two legs cancel each other, the first fill or trigger of one expires the
other; an OTO's pending legs (PENDING_NEW) go to work only when its working leg is fully filled, and are expired
(or canceled) when it ends otherwise; an OTOCO's two pending legs form an OCO once placed; canceling any leg
cancels the whole list. An OCO locks its funds once (the larger of its legs' needs), on the leg that works
first; a leg that activates takes the lock over.

This is a mixin of :class:`~leand.simulator.binance.exchange.Exchange`: the same synchronous path as single
orders, so one request is one step of the venue.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import errors
from .accounts import ZERO
from .orders import LIMIT_PRICED, STOP_TYPES, OrderRec, OrderSpec, leg_names

if TYPE_CHECKING:
    from .market import SymbolMarket

OCO_BAD_PRICES = "The relationship of the prices for the orders is not correct."
#: what an OCO's legs may be (the stop-loss family on one side, a limit maker or take-profit on the other)
OCO_TYPES = frozenset({"LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
_LOSS = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT"})
_MODES = ("STOP_ON_FAILURE", "ALLOW_FAILURE")
_RESTRICTIONS = ("ONLY_NEW", "ONLY_PARTIALLY_FILLED")


class OrderList:
    """One order list: its legs, which legs cancel each other, which wait for the working leg."""

    __slots__ = ("account", "contingency", "done", "fired", "legs", "list_cid", "list_id", "need", "oco",
                 "pending", "symbol", "time", "working")

    def __init__(self, list_id: int, list_cid: str, contingency: str, symbol: str, account: str, now: int) -> None:
        self.list_id = list_id
        self.list_cid = list_cid
        self.contingency = contingency
        self.symbol = symbol
        self.account = account
        self.time = now
        self.legs: list[OrderRec] = []
        #: the legs that cancel each other (an OCO's two, an OTOCO's two pending)
        self.oco: list[OrderRec] = []
        #: an OTO's working leg, and the legs waiting for it to fill
        self.working: OrderRec | None = None
        self.pending: list[OrderRec] = []
        #: order id -> what the leg locks when it works alone
        self.need: dict[int, Decimal] = {}
        self.fired = False
        self.done = False

    def json(self, now: int, reports: list[dict] | None = None) -> dict:
        d: dict[str, Any] = {
            "orderListId": self.list_id, "contingencyType": self.contingency,
            "listStatusType": "ALL_DONE" if self.done else "EXEC_STARTED",
            "listOrderStatus": "ALL_DONE" if self.done else "EXECUTING", "listClientOrderId": self.list_cid,
            "transactionTime": self.time, "symbol": self.symbol,
            "orders": [{"symbol": r.symbol, "orderId": r.order_id, "clientOrderId": r.cid} for r in self.legs]}
        if reports is not None:
            d["orderReports"] = reports
        return d

    def event(self, now: int) -> dict:
        return {"e": "listStatus", "E": now, "s": self.symbol, "g": self.list_id, "c": self.contingency,
                "l": "ALL_DONE" if self.done else "EXEC_STARTED", "L": "ALL_DONE" if self.done else "EXECUTING",
                "r": "NONE", "C": self.list_cid, "T": now,
                "O": [{"s": r.symbol, "i": r.order_id, "c": r.cid} for r in self.legs]}


class OrderLists:
    """The order-list half of the Exchange (see the module docstring)."""

    # provided by Exchange (declared for the type checker)
    if TYPE_CHECKING:
        accounts: dict[str, Any]
        account_orders: dict[str, dict[str, list[OrderRec]]]
        stops: dict[str, dict[int, OrderRec]]
        markets: dict[str, SymbolMarket]
        hub: Any
        clock: Any
        market: Any
        working: Any
        ref_price: Any
        _parse_order: Any
        _stp_param: Any
        _resp_type: Any
        _check_room: Any
        _match_checks: Any
        _lock_need: Any
        _new_rec: Any
        _start: Any
        _emit: Any
        _positions: Any
        _release: Any
        _process: Any
        _check_stops: Any
        _find: Any
        _gen_cid: Any
        _cancel_rec: Any
        _place_parsed: Any

    def _init_lists(self) -> None:
        self.lists: dict[int, OrderList] = {}
        self.account_lists: dict[str, list[OrderList]] = {k: [] for k in self.accounts}
        self.next_list_id = 1
        #: (kind, leg) waiting to be applied once the book's events are applied ("fill" or "end")
        self._list_queue: list[tuple[str, OrderRec]] = []
        #: (symbol, order id) of legs leaving the book as expired (their sibling worked), not canceled
        self.list_expiring: set[tuple[str, int]] = set()
        self._depth = 0

    # ---- placement -------------------------------------------------------------------------------------------
    def _list_cid(self, key: str, params: Mapping[str, str]) -> str:
        from .exchange import CID_RE

        cid = params.get("listClientOrderId") or ""
        if cid and not CID_RE.match(cid):
            raise errors.bad_param("listClientOrderId", "^[\\.A-Z\\:/a-z0-9_-]{1,36}$")
        if cid and any(ol.list_cid == cid and not ol.done for ol in self.account_lists[key]):
            raise errors.order_rejected(errors.DUPLICATE)
        return cid or self._gen_cid()

    def _leg(self, m: SymbolMarket, params: Mapping[str, str], names: dict[str, str], allowed: frozenset[str] | None
             ) -> OrderSpec:
        t = params.get(names["type"])
        if not t:
            raise errors.mandatory(names["type"])
        if allowed is not None and t not in allowed:
            raise errors.ApiError(-1116, "Invalid orderType.")
        return self._parse_order(m, params, names)

    @staticmethod
    def _level(spec: OrderSpec) -> Decimal:
        """Where a leg sits: a limit maker at its price, a stop at its stop price."""
        p = spec.stop if spec.type in STOP_TYPES else spec.price
        assert p is not None
        return p

    def _check_pair(self, m: SymbolMarket, above: OrderSpec, below: OrderSpec, last: float | None) -> None:
        """An OCO pair: one leg of the stop-loss family, the other a limit maker or take-profit; above over the
        last price over below (``last`` None: not checked against the price yet, an OTOCO's pending pair)."""
        if (above.type in _LOSS) == (below.type in _LOSS) or above.side != below.side:
            raise errors.order_rejected(errors.UNSUPPORTED)
        hi, lo = self._level(above), self._level(below)
        if hi <= lo or (last and not (float(hi) > last > float(lo))):
            raise errors.order_rejected(OCO_BAD_PRICES)

    def _new_list(self, key: str, m: SymbolMarket, list_cid: str, contingency: str, now: int) -> OrderList:
        ol = OrderList(self.next_list_id, list_cid, contingency, m.symbol, key, now)
        self.next_list_id += 1
        self.lists[ol.list_id] = ol
        self.account_lists[key].append(ol)
        return ol

    def _pair_need(self, m: SymbolMarket, key: str, specs: list[OrderSpec]) -> tuple[str, Decimal, list[Decimal]]:
        needs = []
        asset = ""
        for s in specs:
            assert s.qty is not None
            a, n = self._lock_need(m, key, s, s.qty)
            asset = asset or a
            needs.append(n)
        return asset, max(needs), needs

    def _lock_pair(self, ol: OrderList, recs: list[OrderRec], asset: str, total: Decimal, needs: list[Decimal]) -> None:
        """Lock an OCO pair's funds once, on the leg that works first (the limit maker, else the first)."""
        for r, n in zip(recs, needs, strict=True):
            ol.need[r.order_id] = n
        if asset and total:
            first = next((r for r in recs if r.type not in STOP_TYPES), recs[0])
            self.accounts[ol.account].lock(asset, total)
            first.lock_asset, first.locked = asset, total
            for r in recs:
                r.lock_asset = asset

    def _finish_placement(self, m: SymbolMarket, ol: OrderList, resp_type: str, now: int) -> dict:
        """The placement's answer shows the legs as placed: a working leg that filled at once is FILLED while
        its pending legs still read PENDING_NEW (as Binance's docs say); what follows is applied after."""
        self.hub.user(ol.account, ol.event(now))
        if resp_type == "ACK":
            reports = [r.ack(now) for r in ol.legs]
        else:
            reports = []
            for r in ol.legs:
                d = r.result(now, self.working(r))
                if resp_type == "FULL":
                    d["fills"] = list(r.fills)
                reports.append(d)
        out = ol.json(now, reports)
        self._list_flush(now)
        return out

    def place_oco(self, key: str, params: Mapping[str, str], legacy: bool = False) -> dict:
        """``POST /api/v3/orderList/oco`` (and, ``legacy``, the deprecated ``/api/v3/order/oco``)."""
        now = self.clock()
        m = self.market(params)
        if legacy:
            params = _legacy_oco(params)
        list_cid = self._list_cid(key, params)
        above = self._leg(m, params, leg_names("above", side="side", quantity="quantity"), OCO_TYPES)
        below = self._leg(m, params, leg_names("below", side="side", quantity="quantity"), OCO_TYPES)
        resp_type = self._resp_type(params, "FULL")
        stp = self._stp_param(params)
        self._check_room(key, m, [above.cid, below.cid])
        self._check_pair(m, above, below, self.ref_price(m) or None)
        for s in (above, below):
            self._match_checks(m, key, s, now)
        asset, total, needs = self._pair_need(m, key, [below, above])
        if asset and total > self.accounts[key].available(asset):
            raise errors.order_rejected(errors.INSUFFICIENT_BALANCE)
        ol = self._new_list(key, m, list_cid, "OCO", now)
        legs = [self._new_rec(key, m, s, s.qty or ZERO, stp, now, ol.list_id) for s in (below, above)]
        ol.legs = list(legs)
        ol.oco = list(legs)
        self._lock_pair(ol, legs, asset, total, needs)
        self._depth += 1
        try:
            for r in legs:
                self._start(m, r, now)
        finally:
            self._depth -= 1
        return self._finish_placement(m, ol, resp_type, now)

    def place_oto(self, key: str, params: Mapping[str, str], otoco: bool = False) -> dict:
        """``POST /api/v3/orderList/oto`` and ``/otoco``: the working leg now, the pending leg(s) once it filled."""
        now = self.clock()
        m = self.market(params)
        list_cid = self._list_cid(key, params)
        working = self._leg(m, params, leg_names("working"), frozenset({"LIMIT", "LIMIT_MAKER"}))
        if otoco:
            shared = {"side": "pendingSide", "quantity": "pendingQuantity"}
            above = self._leg(m, params, leg_names("pendingAbove", **shared), OCO_TYPES)
            below = self._leg(m, params, leg_names("pendingBelow", **shared), OCO_TYPES)
            self._check_pair(m, above, below, None)
            pending = [above, below]
        else:
            pending = [self._leg(m, params, leg_names("pending"), None)]
        resp_type = self._resp_type(params, "FULL")
        stp = self._stp_param(params)
        self._check_room(key, m, [working.cid, *(p.cid for p in pending)])
        self._match_checks(m, key, working, now)
        assert working.qty is not None
        asset, amount = self._lock_need(m, key, working, working.qty)
        acct = self.accounts[key]
        if asset and amount > acct.available(asset):
            raise errors.order_rejected(errors.INSUFFICIENT_BALANCE)
        ol = self._new_list(key, m, list_cid, "OTO", now)
        w = self._new_rec(key, m, working, working.qty, stp, now, ol.list_id)
        if asset and amount:
            acct.lock(asset, amount)
            w.lock_asset, w.locked = asset, amount
        ol.working = w
        ol.pending = [self._new_rec(key, m, p, p.qty or ZERO, stp, now, ol.list_id) for p in pending]
        for p in ol.pending:
            p.status = "PENDING_NEW"
        ol.legs = [w, *ol.pending]
        if otoco:
            ol.oco = list(ol.pending)
        self._depth += 1
        try:
            for p in ol.pending:
                self._emit(p, "NEW", now)
            self._start(m, w, now)
        finally:
            self._depth -= 1
        return self._finish_placement(m, ol, resp_type, now)

    # ---- what happens to a list as its legs work ----------------------------------------------------------------
    def _list_note(self, kind: str, r: OrderRec, now: int) -> None:
        """A leg of a list filled (``fill``) or ended (``end``): applied once the book's events are applied."""
        self._list_queue.append((kind, r))
        if self._depth == 0:
            self._list_flush(now)

    def _list_flush(self, now: int) -> None:
        while self._list_queue:
            kind, r = self._list_queue.pop(0)
            ol = self.lists.get(r.list_id)
            if ol is None:
                continue
            if kind == "fill":
                self._activated(ol, r, now)
            else:
                self._leg_ended(ol, r, now)

    def _activated(self, ol: OrderList, r: OrderRec, now: int) -> None:
        """``r`` filled or triggered: its OCO sibling expires, and its lock passes to ``r``."""
        if r not in ol.oco or ol.fired:
            return
        ol.fired = True
        for s in ol.oco:
            if s is r:
                continue
            give = min(s.locked, ol.need.get(r.order_id, ZERO) - r.locked)
            if give > 0:
                s.locked -= give
                r.locked += give
                r.lock_asset = s.lock_asset
            if s.open:
                self._end_leg(s, "EXPIRED", now)
            else:
                self._release(s)

    def _leg_ended(self, ol: OrderList, r: OrderRec, now: int) -> None:
        if ol.done:
            return
        if r is ol.working:
            if r.status == "FILLED":
                self._activate_pending(ol, now)
            else:
                for p in ol.pending:
                    self._end_leg(p, "CANCELED" if r.status == "CANCELED" else "EXPIRED", now)
        elif r.status == "CANCELED":  # canceling one leg cancels the list
            for s in ol.legs:
                self._end_leg(s, "CANCELED", now)
        elif r in ol.oco and not ol.fired:  # refused or expired before it worked: the pair is over
            ol.fired = True
            for s in ol.oco:
                self._end_leg(s, "EXPIRED", now)
        if not any(s.open for s in ol.legs):
            ol.done = True
            for s in ol.legs:
                self._release(s)
            self._positions(now)
            self.hub.user(ol.account, ol.event(now))

    def _activate_pending(self, ol: OrderList, now: int) -> None:
        m = self.markets[ol.symbol]
        legs = [p for p in ol.pending if p.status == "PENDING_NEW"]
        if not legs:
            return
        acct = self.accounts[ol.account]
        specs = [OrderSpec(p.side, p.type, p.tif, p.orig_qty, None, p.price if p.type in LIMIT_PRICED else None,
                           p.stop_price if p.type in STOP_TYPES else None, p.cid) for p in legs]
        asset, total, needs = self._pair_need(m, ol.account, specs)
        if asset and total > acct.available(asset):
            for p in legs:
                p.status, p.expiry_reason = "EXPIRED", "INSUFFICIENT_BALANCES"
                p.update_time = now
                self._emit(p, "EXPIRED", now, reject="INSUFFICIENT_BALANCES")
            self._list_note("end", legs[0], now)
            return
        for p in legs:
            p.status = "NEW"
            p.update_time = now
        self._lock_pair(ol, legs, asset, total, needs)
        self.hub.user(ol.account, ol.event(now))
        self._depth += 1
        try:
            for p in legs:
                if p.open:
                    self._start(m, p, now)
        finally:
            self._depth -= 1
        self._check_stops(m, now)
        self._list_flush(now)

    def _end_leg(self, s: OrderRec, status: str, now: int) -> None:
        """End leg ``s`` of a list as ``status`` (CANCELED or EXPIRED), wherever it is."""
        if not s.open:
            return
        m = self.markets[s.symbol]
        if s.status == "PENDING_NEW" or self.stops[s.symbol].pop(s.order_id, None) is not None:
            s.status = status
            s.update_time = now
            self._release(s)
            self._emit(s, status, now)
            self._positions(now)
            self._list_note("end", s, now)
            return
        if status == "EXPIRED":
            self.list_expiring.add((s.symbol, s.order_id))
        elif not s.cancel_cid:
            s.cancel_cid = self._gen_cid()
        m.book.cancel(s.order_id, now)
        self._process(m, now)

    # ---- cancel and queries -----------------------------------------------------------------------------------
    def _find_list(self, key: str, params: Mapping[str, str], cid_name: str, cancel: bool = False) -> OrderList:
        from .params import long_param

        lid = long_param(params, "orderListId")
        lcid = params.get(cid_name) or ""
        if lid is None and not lcid:
            raise errors.either("orderListId", cid_name)
        found = None
        if lid is not None:
            ol = self.lists.get(lid)
            if ol is not None and ol.account == key and (not lcid or ol.list_cid == lcid):
                found = ol
        else:
            found = next((ol for ol in reversed(self.account_lists[key]) if ol.list_cid == lcid), None)
        if found is None:
            raise errors.cancel_rejected() if cancel else errors.no_such_order()
        return found

    def cancel_list(self, key: str, params: Mapping[str, str]) -> dict:
        """``DELETE /api/v3/orderList``: every open leg canceled."""
        from .exchange import CID_RE

        now = self.clock()
        m = self.market(params)
        ol = self._find_list(key, params, "listClientOrderId", cancel=True)
        if ol.symbol != m.symbol or ol.done:
            raise errors.cancel_rejected()
        new_cid = params.get("newClientOrderId") or ""
        if new_cid and not CID_RE.match(new_cid):
            raise errors.bad_param("newClientOrderId")
        new_cid = new_cid or self._gen_cid()
        for s in ol.legs:
            if s.open:
                s.cancel_cid = new_cid
        for s in ol.legs:
            self._end_leg(s, "CANCELED", now)
        self._list_flush(now)
        return ol.json(now, [s.cancel_response(now) for s in ol.legs])

    def query_list(self, key: str, params: Mapping[str, str]) -> dict:
        """``GET /api/v3/orderList`` (by ``orderListId`` or ``origClientOrderId``)."""
        return self._find_list(key, params, "origClientOrderId").json(self.clock())

    def open_lists(self, key: str, params: Mapping[str, str]) -> list[dict]:
        now = self.clock()
        return [ol.json(now) for ol in self.account_lists[key] if not ol.done]

    def all_lists(self, key: str, params: Mapping[str, str]) -> list[dict]:
        from .params import long_param

        now = self.clock()
        limit = min(max(long_param(params, "limit", 500) or 500, 1), 1000)
        from_id = long_param(params, "fromId")
        start, end = long_param(params, "startTime"), long_param(params, "endTime")
        if from_id is not None and (start is not None or end is not None):
            raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
        rows = [ol for ol in self.account_lists[key] if (from_id is None or ol.list_id >= from_id)
                and (start is None or ol.time >= start) and (end is None or ol.time <= end)]
        rows = rows[:limit] if from_id is not None or start is not None else rows[-limit:]
        return [ol.json(now) for ol in rows]

    # ---- cancel-replace -------------------------------------------------------------------------------------
    def cancel_replace(self, key: str, params: Mapping[str, str]) -> dict:
        """``POST /api/v3/order/cancelReplace``: the parameters and filters are checked first; then the cancel
        and (unless ``STOP_ON_FAILURE`` and the cancel failed) the new order."""
        from .exchange import CID_RE
        from .params import long_param

        now = self.clock()
        m = self.market(params)
        mode = params.get("cancelReplaceMode")
        if not mode:
            raise errors.mandatory("cancelReplaceMode")
        if mode not in _MODES:
            raise errors.bad_param("cancelReplaceMode", ", ".join(_MODES))
        restr = params.get("cancelRestrictions") or ""
        if restr and restr not in _RESTRICTIONS:
            raise errors.ApiError(-1145, "Invalid cancelRestrictions")
        oid = long_param(params, "cancelOrderId")
        ocid = params.get("cancelOrigClientOrderId") or ""
        if oid is None and not ocid:
            raise errors.either("cancelOrderId", "cancelOrigClientOrderId")
        cancel_cid = params.get("cancelNewClientOrderId") or ""
        if cancel_cid and not CID_RE.match(cancel_cid):
            raise errors.bad_param("cancelNewClientOrderId", "^[\\.A-Z\\:/a-z0-9_-]{1,36}$")
        spec = self._parse_order(m, params)
        resp_type = self._resp_type(params, "FULL" if spec.type in ("MARKET", "LIMIT") else "ACK")
        stp = self._stp_param(params)
        lookup = {"orderId": str(oid)} if oid is not None else {"origClientOrderId": ocid}
        cancel_resp: dict
        cancel_ok = False
        try:
            r = self._find(key, m, lookup, errors.cancel_rejected)
            if not r.open:
                raise errors.cancel_rejected()
            if (restr == "ONLY_NEW" and r.status != "NEW") or (restr == "ONLY_PARTIALLY_FILLED"
                                                                 and r.status != "PARTIALLY_FILLED"):
                raise errors.ApiError(-2011, "Order was not canceled due to cancel restrictions.")
            open_here = [o.cid for o in self.account_orders[key].get(m.symbol, ()) if o.open and o is not r]
            if len(open_here) + 1 > m.cfg.max_num_orders:
                raise errors.filter_failure("MAX_NUM_ORDERS")
            if spec.cid and spec.cid in open_here:
                raise errors.order_rejected(errors.DUPLICATE)
            r.cancel_cid = cancel_cid or self._gen_cid()
            self._cancel_rec(m, r, now)
            cancel_resp, cancel_ok = r.cancel_response(now), True
        except errors.ApiError as e:
            if e.code == -1013:  # a filter refuses the request before anything happens
                raise
            cancel_resp = e.body()
        if not cancel_ok and mode == "STOP_ON_FAILURE":
            raise errors.ApiError(-2022, "Order cancel-replace failed.", 400, data={
                "cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED", "cancelResponse": cancel_resp,
                "newOrderResponse": None})
        new_ok = False
        try:
            new_resp, new_ok = self._place_parsed(key, m, spec, stp, resp_type, now), True
        except errors.ApiError as e:
            new_resp = e.body()
        body = {"cancelResult": "SUCCESS" if cancel_ok else "FAILURE",
                "newOrderResult": "SUCCESS" if new_ok else "FAILURE",
                "cancelResponse": cancel_resp, "newOrderResponse": new_resp}
        if cancel_ok and new_ok:
            return body
        if not cancel_ok and not new_ok:
            raise errors.ApiError(-2022, "Order cancel-replace failed.", 400, data=body)
        raise errors.ApiError(-2021, "Order cancel-replace partially failed.", 409, data=body)


def _legacy_oco(params: Mapping[str, str]) -> dict[str, str]:
    """The deprecated ``POST /api/v3/order/oco`` in the new form: a limit maker at ``price`` and a stop leg at
    ``stopPrice`` (a stop-limit at ``stopLimitPrice`` when given), above or below by side."""
    p = dict(params)
    for name in ("price", "stopPrice"):
        if not p.get(name):
            raise errors.mandatory(name)
    limit = {"Type": "LIMIT_MAKER", "Price": p.pop("price"), "ClientOrderId": p.pop("limitClientOrderId", "")}
    stop = {"Type": "STOP_LOSS", "StopPrice": p.pop("stopPrice"), "ClientOrderId": p.pop("stopClientOrderId", "")}
    slp = p.pop("stopLimitPrice", "")
    tif = p.pop("stopLimitTimeInForce", "")
    if slp:
        stop.update(Type="STOP_LOSS_LIMIT", Price=slp, TimeInForce=tif)
    elif tif:
        raise errors.not_required("stopLimitTimeInForce")
    above, below = (limit, stop) if p.get("side") == "SELL" else (stop, limit)
    for prefix, leg in (("above", above), ("below", below)):
        for k, v in leg.items():
            if v:
                p[prefix + k] = v
    return p
