"""Closed orders kept compactly: a long run's order history costs bytes on disk, not Python objects in memory.

An order manager keeps every order, ticket and fill of its run (LEAN's ``Transactions`` answers for all of them),
but a backtest with 200k orders held 1 kB of Python objects per order. Here the open orders, and the orders closed
since the last compaction, stay live objects; every few thousand orders the closed ones are packed, a batch at a
time, into columns (one msgpack array per field, a constant field stored once) and appended to an unlinked
temporary file. What stays in memory per closed order is 8 bytes of index.

An archived order comes back on request:

* ``orders[id]`` / ``orders.get(id)`` (and the same on ``tickets``) unpack it and make it live again, so whatever
  the caller changes (a closed order's tag, a late fill) is kept; it is packed again at a later compaction;
* iterating ``orders``, ``tickets`` or ``fills`` yields the archived ones, in id (fill) order, as fresh copies
  without making them live, so reading a whole history does not bring it back into memory.

An order or ticket still referenced outside the manager (a strategy keeping its tickets, a brokerage holding an
order) is never packed: whoever holds it keeps seeing the object the manager changes.

A quiet order (a backtest's synchronous market order that filled at once, for a strategy without an order-event
handler, under leand's own fee model: see ``OrderManager.submit_market``) never becomes a live ``Order`` at all,
nor its fill a ``Fill``. The fields of both that differ from order to order are one row (``quiet``, by id) the
moment it fills, which is also its entry in the fill log (a ``Fill`` made from it when read), and its ticket a
``QuietTicket`` whose submit request is built only if read; rows are packed as columns (the order's, and the
fill's with the other fills). Looking the order up makes it a live ``Order`` like any other, so nothing a strategy
reads is lost, only made when asked for. Its client order id is not kept either: it is the prefix and the id.
"""

from __future__ import annotations

import gc
import operator
import os
import sys
import tempfile
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from enum import Enum
from itertools import islice, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar, Union, cast, get_args, get_origin

import msgspec
import numpy as np

from leand.model import Fill, LiquiditySide, Order, OrderStatus, OrderType, Symbol, TimeInForce
from leand.tickets import OrderResponse, OrderTicket, SubmitRequest, UpdateRequest

if TYPE_CHECKING:
    from leand.engine import Engine

#: the order manager asks ``maybe_compact`` every this many orders (a power of two: one ``&`` per order)
COMPACT_EVERY = 4096
#: ... which packs when this many closed orders are live objects (so a short run never pays for packing) ...
PACK_AT = 8192
#: ... all of them but those of the most recent this many orders, which stay live objects
KEEP_RECENT = 1024
_TICKET_BIT = 62
_ROW = 0xFFFFFFFF
_BATCH = (1 << 30) - 1

_TERMINAL = frozenset(s._name_ for s in OrderStatus if not s.is_open)
_enc = msgspec.msgpack.Encoder()
_astuple = msgspec.structs.astuple
T = TypeVar("T", bound=msgspec.Struct)
V = TypeVar("V")


def _needs_convert(tp: Any) -> bool:
    """Whether values of annotation ``tp`` must be converted back after msgpack (enums, Structs); plain numbers,
    strings and None come back as they were encoded (an int stays an int, a float a float)."""
    if isinstance(tp, type):
        return issubclass(tp, (Enum, msgspec.Struct))
    origin = get_origin(tp)
    if origin is Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        return any(_needs_convert(a) for a in get_args(tp))
    return False


class _Codec:
    """Encodes a list of one Struct type as msgpack in one C call, and decodes it back exactly: numbers come back
    as the type they had (an int in a float field stays an int; the digests tell them apart), enums and nested
    Structs as themselves."""

    def __init__(self, cls: type[T], types: dict[str, Any] | None = None, item_bytes: int = 256) -> None:
        self.cls = cls
        #: room for one item in an encoding buffer at first (it grows if short)
        self.item_bytes = item_bytes
        fields = msgspec.structs.fields(cls)
        spec: list[Any] = []
        for f in fields:
            tp = (types or {}).get(f.name, f.type)
            if not _needs_convert(tp):
                tp = Any
            if f.default is not msgspec.NODEFAULT:
                spec.append((f.name, tp, f.default))
            elif f.default_factory is not msgspec.NODEFAULT:
                spec.append((f.name, tp, msgspec.field(default_factory=f.default_factory)))
            else:
                spec.append((f.name, tp))
        #: what one item decodes to (a Struct of the same fields, without conversion where none is needed)
        self.row: Any = msgspec.defstruct(f"_Packed{cls.__name__}", spec, kw_only=True)
        self._dec = msgspec.msgpack.Decoder(list[self.row])  # type: ignore[name-defined]
        self._asdict = msgspec.structs.asdict

    def encode(self, items: list[Any]) -> bytearray:
        return _encode(items, self.item_bytes * len(items))

    def decode(self, blob: bytes | bytearray) -> list[Any]:
        return self.rebuild(self._dec.decode(blob))

    def rebuild(self, rows: list[Any]) -> list[Any]:
        """The items of decoded ``rows``."""
        cls = self.cls
        asdict = self._asdict
        return [cls(**asdict(r)) for r in rows]


def _encode(obj: Any, size: int) -> bytearray:
    """``obj`` as msgpack, into a buffer made ``size`` bytes at first: a batch's message is written once instead of
    being grown (reallocated and copied) several times on its way to a few megabytes."""
    buf = bytearray(size)
    _enc.encode_into(obj, buf)
    return buf


#: room for one order in a batch's buffer at first (it grows if short): with its submit request, about 650 bytes
_ORDER_BYTES = 768


_ORDERS = _Codec(Order)
_REQUESTS = _Codec(SubmitRequest, {"time_in_force": TimeInForce | None})
_FILL_FIELDS = msgspec.structs.fields(Fill)
_FILL_NAMES = tuple(f.name for f in _FILL_FIELDS)
#: the fill fields that need converting back after msgpack (a Symbol, an enum), by column
_FILL_TYPES = {i: f.type for i, f in enumerate(_FILL_FIELDS) if _needs_convert(f.type)}
#: the fill columns stored once when every fill of a run has the same (symbol, fee currency, liquidity)
_FILL_SHARED = tuple(_FILL_NAMES.index(n) for n in ("symbol", "fee_currency", "liquidity"))
_Extras = dict[int, tuple[list[UpdateRequest], OrderResponse | None]]
#: one packed batch: its orders, their tickets' submit requests (None: none had one), per order whether it has a
#: ticket and a request (``kinds``), its event count, and the tickets' update and cancel requests (None: none)
_BATCH_DEC = msgspec.msgpack.Decoder(tuple[list[_ORDERS.row], list[_REQUESTS.row] | None,  # type: ignore[name-defined]
                                           list[int], list[int], _Extras | None])

# ---- quiet orders: one row each ----------------------------------------------------------------------------------
#: a quiet order's row: what differs between such orders (the rest is a filled GTC market order's and its taker
#: fill's defaults): (id, symbol, quantity, time (created, last update and fill), client order id prefix (the id is
#: the prefix and the order id), strategy id, tag, submission price, filled quantity (the fill's quantity too),
#: average fill price, the symbol and the quantity as the strategy passed them (its submit request); then its
#: fill's: price, fee, fee currency, trade id)
QuietRow = tuple[int, Symbol, float, int, str, str, str, float, float, float, Any, Any, float, float, str, int]
_MARKET, _GTC, _FILLED, _TAKER = OrderType.MARKET, TimeInForce.GTC, OrderStatus.FILLED, LiquiditySide.TAKER
#: the row's columns packed with the order (the rest are its fill's, packed with the fills)
_ORDER_COLUMNS = 12
#: the order columns that hold objects (the rest hold numbers or distinct strings): stored once when all equal
_SHARED_COLUMNS = (1, 4, 5, 6, 10)
#: a run of quiet rows' fills as columns: order id, symbol, time, quantity, price, fee, fee currency, trade id and
#: client order id prefix, by the row's columns ...
_QUIET_FILL_COLUMNS = (0, 1, 3, 8, 12, 13, 14, 15, 4)
#: ... of which these are stored once when all equal (symbol, fee currency, prefix)
_QUIET_FILL_SHARED = (1, 6, 8)
_QUIET_DEC = msgspec.msgpack.Decoder(list[list[Any]])


def order_of(r: QuietRow) -> Order:
    """The live ``Order`` of a quiet row: the fields ``OrderManager.submit_market`` gives it, filled."""
    o = Order(id=r[0], symbol=r[1], quantity=r[2], type=_MARKET, time_in_force=_GTC, created_time=r[3],
              last_update_time=r[3], client_order_id=f"{r[4]}{r[0]}", strategy_id=r[5], tag=r[6],
              submission_price=r[7])
    o.filled_quantity = r[8]
    o.average_fill_price = r[9]
    o.status = _FILLED
    return o


def fill_of(r: QuietRow) -> Fill:
    """The ``Fill`` of a quiet row's order, as ``submit_market`` would have made it (a taker's whole fill)."""
    return Fill(order_id=r[0], symbol=r[1], time=r[3], quantity=r[8], price=r[12], fee=r[13], fee_currency=r[14],
                liquidity=_TAKER, trade_id=r[15], client_order_id=f"{r[4]}{r[0]}")


def _fill(f: Fill | QuietRow) -> Fill:
    """A fill log entry as a ``Fill``."""
    return fill_of(f) if f.__class__ is tuple else f  # type: ignore[return-value]


def request_of(r: QuietRow) -> SubmitRequest:
    """The submit request of a quiet row's order, as ``submit_market`` makes it."""
    return SubmitRequest(_MARKET, r[10], r[11], None, None, None, r[6], False, r[3], OrderResponse(r[0]), None)


class QuietTicket(OrderTicket):
    """The ticket of an order placed quiet (see the module docstring): its submit request is made from the order's
    row the first time something reads it, its list of update requests when something first asks for it. Otherwise
    an ``OrderTicket`` like any other (its order is looked up by id, as every ticket's is). (It keeps both in slots
    of its own: the base class's stay unset.)"""

    __slots__ = ("_request", "_row", "_updates")

    def __init__(self, engine: Engine, order_id: int, row: QuietRow | None = None) -> None:
        self._engine = engine
        self.order_id = order_id
        self.cancel_request = None
        self._invalid = None
        self._request: SubmitRequest | None = None
        self._updates: list[UpdateRequest] | None = None
        #: the order's row, once it has filled as a quiet order
        self._row = row

    @property
    def submit_request(self) -> SubmitRequest | None:
        req = self._request
        if req is None:
            r = self._row
            if r is None:
                return None
            req = self._request = request_of(r)
        return req

    @submit_request.setter
    def submit_request(self, request: SubmitRequest | None) -> None:
        self._request = request

    @property
    def update_requests(self) -> list[UpdateRequest]:
        u = self._updates
        if u is None:
            u = self._updates = []
        return u

    @update_requests.setter
    def update_requests(self, requests: list[UpdateRequest]) -> None:
        self._updates = requests


def _share_columns(cols: list[Any], shared: tuple[int, ...]) -> list[Any]:
    """Each listed column whose items are all equal becomes a one-item tuple: stored once, not once per row."""
    for i in shared:
        c = cols[i]
        first = c[0]
        if c.count(first) == len(c):
            cols[i] = (first,)
    return cols


def _unshare_columns(cols: list[Any], shared: tuple[int, ...], n: int) -> None:
    """Undo :func:`_share_columns` in place for ``n`` rows."""
    for i in shared:
        if len(cols[i]) == 1 and n != 1:
            cols[i] = repeat(cols[i][0], n)


def _pack_quiet(rows: list[QuietRow], packed: tuple[list[Any], list[Any]] | None = None) -> bytearray:
    """Rows' order columns (a column of equal objects stored once, as a one-item list): a few numbers per order.
    ``packed``: the rows whose fills were just packed and their columns (``_pack_quiet_fills``), shared where they
    are the same rows (``_order_columns``)."""
    cols = _order_columns(rows, *packed) if packed is not None else list(zip(*rows, strict=True))
    del cols[_ORDER_COLUMNS:]
    return _encode(_share_columns(cols, _SHARED_COLUMNS), 64 * len(rows) + 256)


def _order_columns(rows: list[QuietRow], fill_rows: list[Any], fill_cols: list[Any]) -> list[Any]:
    """The columns of quiet ``rows``, sharing those of ``fill_rows`` (zipped for their fills): a compaction packs
    the orders' rows and the fills' (every fill since the last packing) from mostly the same rows, and zipping
    them once instead of twice saves about 5 ms of a 1M-bar SMA backtest's 40k orders. Both are in id order: the
    rows whose fills were packed at an earlier compaction (the last ``KEEP_RECENT`` orders then) come first, then
    usually the first of ``fill_rows``, which are shared when they are the very same rows (checked, in C);
    otherwise every row is zipped."""
    k = bisect_left(rows, fill_rows[0][0], key=itemgetter(0))
    m = len(rows) - k
    if m == 0 or m > len(fill_rows) or not all(map(operator.is_, islice(rows, k, None), fill_rows)):
        return list(zip(*rows, strict=True))
    if k == 0:
        return [c[:m] for c in fill_cols]
    return [a + c[:m] for a, c in zip(zip(*rows[:k], strict=True), fill_cols, strict=True)]


def _unpack_quiet(blob: bytes | bytearray) -> list[QuietRow]:
    cols: list[Any] = _QUIET_DEC.decode(blob)
    n = len(cols[0])
    cols[1] = msgspec.convert(cols[1], list[Symbol])
    cols[10] = msgspec.convert(cols[10], list[Symbol | str])
    _unshare_columns(cols, _SHARED_COLUMNS, n)
    return cast(list[QuietRow], list(zip(*cols)))


def _pack_fills(fills: list[Fill]) -> bytearray:
    """Fills as columns (``astuple`` and ``zip`` in C; a symbol, fee currency or liquidity that every fill shares
    stored once): about 60 % of the cost of packing each Fill with its field names, symbol and enum."""
    return _encode(_share_columns(list(zip(*map(_astuple, fills), strict=True)), _FILL_SHARED), 64 * len(fills) + 256)


def _pack_quiet_fills(cols: list[Any]) -> bytearray:
    """The fills of quiet rows, from the rows' columns (``_QUIET_FILL_COLUMNS`` of them): no ``Fill`` made, and
    their client order ids stored as the prefix, once."""
    return _encode(_share_columns([cols[i] for i in _QUIET_FILL_COLUMNS], _QUIET_FILL_SHARED), 48 * len(cols[0]) + 256)


def _unpack_quiet_fills(blob: bytes | bytearray) -> list[Fill]:
    cols: list[Any] = _QUIET_DEC.decode(blob)
    n = len(cols[0])
    cols[1] = msgspec.convert(cols[1], list[Symbol])
    _unshare_columns(cols, _QUIET_FILL_SHARED, n)
    return [Fill(order_id=oid, symbol=sym, time=t, quantity=q, price=p, fee=fee, fee_currency=ccy, liquidity=_TAKER,
                 trade_id=tid, client_order_id=f"{prefix}{oid}") for oid, sym, t, q, p, fee, ccy, tid, prefix in zip(*cols)]


def _unpack_fills(blob: bytes | bytearray) -> list[Fill]:
    cols: list[Any] = _QUIET_DEC.decode(blob)
    n = len(cols[0])
    for i, tp in _FILL_TYPES.items():
        cols[i] = msgspec.convert(cols[i], list[tp])  # type: ignore[valid-type]
    _unshare_columns(cols, _FILL_SHARED, n)
    names = _FILL_NAMES
    return [Fill(**dict(zip(names, r, strict=True))) for r in zip(*cols)]


class _Spill:
    """Append-only blobs in an unlinked temporary file (its pages are the kernel's cache, not this process's
    memory); in memory if no temporary file can be made."""

    def __init__(self) -> None:
        self._fd: int | None = None
        self._mem: list[bytes | bytearray] | None = None
        self._end = 0

    def put(self, blob: bytes | bytearray) -> tuple[int, int]:
        if self._fd is None and self._mem is None:
            try:
                with tempfile.TemporaryFile(prefix="leand-orders-") as f:
                    self._fd = os.dup(f.fileno())
            except OSError:
                self._mem = []
        if self._mem is not None:
            self._mem.append(blob)
            return len(self._mem) - 1, len(blob)
        assert self._fd is not None
        os.pwrite(self._fd, blob, self._end)
        h = (self._end, len(blob))
        self._end += len(blob)
        return h

    def get(self, h: tuple[int, int]) -> bytes | bytearray:
        if self._mem is not None:
            return self._mem[h[0]]
        assert self._fd is not None
        return os.pread(self._fd, h[1], h[0])

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()


class _Batch(msgspec.Struct, gc=False):
    """One compaction's closed orders, as unpacked: orders, their tickets' requests, event counts, extras."""

    orders: list[Order]
    requests: list[SubmitRequest | None]
    event_ids: list[int]
    extras: dict[int, tuple[list[UpdateRequest], OrderResponse | None]]


class OrderArchive:
    """The closed orders, tickets and fills of one order manager that are no longer live objects."""

    def __init__(self, engine: Engine, orders: OrderStore, tickets: TicketStore, fills: FillLog,
                 event_ids: dict[int, int], open_orders: dict[int, Order], fill_ids: set[int] | None = None) -> None:
        self.engine = engine
        self.open_orders = open_orders
        self.fill_ids: set[int] = fill_ids if fill_ids is not None else set()
        self.orders = orders
        self.tickets = tickets
        self.fills = fills
        self.event_ids = event_ids
        self._spill = _Spill()
        self._batches: list[tuple[int, int]] = []
        #: the batches packed from quiet rows (the rest are packed Order objects)
        self._quiet_batches: set[int] = set()
        #: quiet orders not packed yet, by id (see the module docstring): written by the order manager as they fill;
        #: their tickets are live in ``tickets``
        self.quiet: dict[int, QuietRow] = {}
        #: by order id: batch << 32 | row (| 1 << _TICKET_BIT when it has a ticket), or -1 (live or unknown)
        self._loc = np.full(1024, -1, dtype=np.int64)
        #: orders (and tickets) archived now
        self.count = 0
        self.ticket_count = 0
        self.fills_packed = 0
        self._cache: OrderedDict[int, _Batch] = OrderedDict()
        #: fills packed so far, as (blob handle, count, whether packed from quiet rows) runs in fill order
        self._fill_runs: list[tuple[tuple[int, int], int, bool]] = []
        orders._archive = self
        tickets._archive = self
        fills._archive = self

    # ---- packing --------------------------------------------------------------------------------------
    def maybe_compact(self, next_id: int) -> int:
        """Pack (``compact``) when ``PACK_AT`` closed orders are live, keeping the last ``KEEP_RECENT`` orders."""
        if dict.__len__(self.orders) + len(self.quiet) - len(self.open_orders) < PACK_AT:
            return 0
        return self.compact(next_id - KEEP_RECENT)

    def trim(self, window: int, limit: int) -> int:
        """Pack at most ``limit`` closed orders older than the last ``window`` orders, if more than ``window``
        closed orders are live: the daemon calls this between events, in small steps, so no order waits for a
        whole packing."""
        if dict.__len__(self.orders) + len(self.quiet) - len(self.open_orders) <= window:
            return 0
        return self.compact(self.engine.order_manager.next_order_id - window, limit)

    def compact(self, below: int | None = None, limit: int | None = None) -> int:
        """Pack the closed orders (with ids below ``below``, all if None; at most ``limit``, the oldest first)
        nobody else holds, with their tickets, and every fill so far; returns how many orders were packed.

        No garbage collection starts while it packs: packing makes no reference cycles, and one set off by its
        temporaries (a batch's columns) would walk the thousands of rows, tickets and fills about to be freed,
        to find nothing (one took 14 ms of a 1M-bar SMA backtest). Freeing them brings the young generation's
        count back down, so usually none is due afterwards either."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._compact(below, limit)
        finally:
            if was_enabled:
                gc.enable()

    def _compact(self, below: int | None, limit: int | None) -> int:
        orders, tickets, eids = self.orders, self.tickets, self.event_ids
        getrc = sys.getrefcount
        terminal = _TERMINAL
        dget = dict.get
        top = below if below is not None else 1 << 62
        rows: list[QuietRow] = []
        quiet = self.quiet
        if quiet:
            touched: list[int] = []
            for oid, r in quiet.items():
                if oid >= top:
                    continue
                t = dget(tickets, oid)
                # references: the store, ``t`` and getrefcount's argument; anything more is someone else's
                if t.__class__ is QuietTicket:
                    if getrc(t) > 3:
                        continue
                    if t._request is None and t._updates is None and t.cancel_request is None:  # nothing made
                        rows.append(r)
                        continue
                elif t is not None and getrc(t) > 3:
                    continue
                touched.append(oid)
            for oid in touched:  # something asked more of it than its row holds: packed (below) as a live order
                dict.__setitem__(orders, oid, order_of(quiet.pop(oid)))
            if limit is not None:
                del rows[limit:]
        batch: list[Order] = []
        tks: list[OrderTicket | None] = []
        room = None if limit is None else limit - len(rows)
        for oid in [k for k, o in dict.items(orders) if k < top and o.status._name_ in terminal] if room != 0 else ():
            o = dict.__getitem__(orders, oid)
            if getrc(o) > 3:
                continue
            t = dget(tickets, oid)
            if t is not None and getrc(t) > 3:
                continue
            batch.append(o)
            tks.append(t)
            if room is not None and len(batch) >= room:
                break
        packed = self._pack_fills()
        self.engine.portfolio.compact_history()
        if not batch and not rows:
            return 0
        ids: list[int] = []
        if batch:
            # per order: 0 no ticket, 1 a ticket without a submit request (an adopted order), 2 with one
            kinds = [0 if t is None else 1 if t.submit_request is None else 2 for t in tks]
            requests = [t.submit_request for t in tks if t is not None and t.submit_request is not None]
            extras = {t.order_id: (t.update_requests, t.cancel_request) for t in tks
                      if t is not None and (t.update_requests or t.cancel_request is not None)}
            ids = [o.id for o in batch]
            counts = [eids.pop(i, 0) for i in ids]
            blob = _encode((batch, requests or None, kinds, counts, extras or None), _ORDER_BYTES * len(batch))
            self._index(self._spill.put(blob), ids, np.asarray(kinds, dtype=np.int64) > 0)
            # (the stores do not override deletion: ``del`` is the dict's own, without a call through its slot
            # wrapper)
            for i, t in zip(ids, tks, strict=True):
                del orders[i]
                if t is not None:
                    del tickets[i]
        if rows:
            qids = [r[0] for r in rows]
            self._index(self._spill.put(_pack_quiet(rows, packed)), qids, np.ones(len(qids), dtype=bool))
            self._quiet_batches.add(len(self._batches) - 1)
            for i in qids:
                del quiet[i]
                del tickets[i]
            ids += qids
        forget = getattr(self.engine.brokerage, "forget_orders", None)
        if forget is not None:  # an execution client's per-order state (emulation's replacement counters)
            forget(ids)
        return len(ids)

    def _index(self, handle: tuple[int, int], ids: list[int], has_ticket: np.ndarray) -> None:
        """Record a packed batch (its blob's ``handle``) and where each of its orders ``ids`` is in it."""
        b = len(self._batches)
        self._batches.append(handle)
        top = max(ids)
        if top >= len(self._loc):
            grown = np.full(max(top + 1, 2 * len(self._loc)), -1, dtype=np.int64)
            grown[: len(self._loc)] = self._loc
            self._loc = grown
        self._loc[np.asarray(ids, dtype=np.int64)] = ((b << 32) | np.arange(len(ids), dtype=np.int64)
                                                      | (has_ticket.astype(np.int64) << _TICKET_BIT))
        self.count += len(ids)
        self.ticket_count += int(has_ticket.sum())

    def _pack_fills(self) -> tuple[list[Any], list[Any]] | None:
        """Pack every fill so far; when they were all quiet rows, return the rows and their columns (for the
        orders' packing to share: ``_pack_quiet``)."""
        fills = self.fills
        n = list.__len__(fills)
        fids = self.fill_ids
        if len(fids) > n:  # keep the venue fill ids of the fills since the last packing only
            fids.intersection_update([_fill(f).trade_id for f in list.__iter__(fills)])
        if not n:
            return None
        items: list[Any] = list.__getitem__(fills, slice(0, n))
        quiet = set(map(type, items)) == {tuple}  # only quiet rows: packed from the rows
        cols = list(zip(*items, strict=True)) if quiet else None
        blob = _pack_quiet_fills(cols) if cols is not None else _pack_fills([_fill(f) for f in items])
        self._fill_runs.append((self._spill.put(blob), n, quiet))
        list.__delitem__(fills, slice(0, n))
        self.fills_packed += n
        return (items, cols) if cols is not None else None

    # ---- unpacking ------------------------------------------------------------------------------------
    def _batch(self, b: int) -> _Batch:
        got = self._cache.get(b)
        if got is not None:
            self._cache.move_to_end(b)
            return got
        blob = self._spill.get(self._batches[b])
        if b in self._quiet_batches:
            rows = _unpack_quiet(blob)
            got = _Batch([order_of(r) for r in rows], [request_of(r) for r in rows], [0] * len(rows), {})
        else:
            po, pr, kinds, counts, extras = _BATCH_DEC.decode(blob)
            orders = _ORDERS.rebuild(po)
            reqs = iter(_REQUESTS.rebuild(pr)) if pr is not None else iter(())
            requests = [next(reqs) if k == 2 else None for k in kinds]
            got = _Batch(orders, requests, counts, extras if extras is not None else {})
        self._cache[b] = got
        if len(self._cache) > 4:
            self._cache.popitem(last=False)
        return got

    def has(self, oid: int) -> bool:
        """Whether order ``oid`` is archived: packed, or a quiet row (not a live Order)."""
        return oid in self.quiet or self._packed(oid)

    def _packed(self, oid: int) -> bool:
        return 0 <= oid < len(self._loc) and self._loc[oid] >= 0

    def has_ticket(self, oid: int) -> bool:
        """Whether order ``oid``'s ticket is packed (a quiet row's ticket is live)."""
        return 0 <= oid < len(self._loc) and self._loc[oid] >= 0 and bool(self._loc[oid] >> _TICKET_BIT & 1)

    def _where(self, oid: int) -> tuple[_Batch, int] | None:
        if not self._packed(oid):
            return None
        loc = int(self._loc[oid])
        return self._batch(loc >> 32 & _BATCH), loc & _ROW

    def order_copy(self, oid: int) -> Order | None:
        """A fresh copy of an archived order (None if it is not archived)."""
        r = self.quiet.get(oid)
        if r is not None:
            return order_of(r)
        w = self._where(oid)
        return msgspec.structs.replace(w[0].orders[w[1]]) if w is not None else None

    def ticket_copy(self, oid: int) -> OrderTicket | None:
        """A fresh copy of an archived order's ticket (None if it is not archived or had none)."""
        if not self.has_ticket(oid):
            return None
        w = self._where(oid)
        assert w is not None
        batch, row = w
        req = batch.requests[row]
        ticket = OrderTicket(self.engine, oid, msgspec.structs.replace(req) if req is not None else None)
        ex = batch.extras.get(oid)
        if ex is not None:
            ticket.update_requests = list(ex[0])
            ticket.cancel_request = ex[1]
        return ticket

    def promote(self, oid: int) -> bool:
        """Make an archived order (and its ticket) live again; False if it is not archived."""
        r = self.quiet.pop(oid, None)
        if r is not None:  # (its ticket is live already)
            dict.__setitem__(self.orders, oid, order_of(r))
            return True
        w = self._where(oid)
        if w is None:
            return False
        batch, row = w
        ticket = self.ticket_copy(oid)
        dict.__setitem__(self.orders, oid, msgspec.structs.replace(batch.orders[row]))
        if ticket is not None:
            dict.__setitem__(self.tickets, oid, ticket)
            self.ticket_count -= 1
        eid = batch.event_ids[row]
        if eid:
            self.event_ids[oid] = eid
        self._loc[oid] = -1
        self.count -= 1
        return True

    def archived_ids(self) -> np.ndarray:
        packed = np.flatnonzero(self._loc >= 0)
        if not self.quiet:
            return packed
        return np.concatenate((packed, np.fromiter(self.quiet, dtype=np.int64, count=len(self.quiet))))

    def archived_count(self) -> int:
        """Orders archived now: packed, or quiet rows."""
        return self.count + len(self.quiet)

    def archived_ticket_ids(self) -> np.ndarray:
        loc = self._loc
        return np.flatnonzero((loc >= 0) & ((loc >> _TICKET_BIT) & 1 == 1))

    def fill_count(self) -> int:
        """Fills packed so far (what ``iter_fills`` yields)."""
        return self.fills_packed

    def iter_fills(self) -> Iterator[Fill]:
        for h, _, quiet in self._fill_runs:
            blob = self._spill.get(h)
            yield from _unpack_quiet_fills(blob) if quiet else _unpack_fills(blob)

    def close(self) -> None:
        self._spill.close()


class _ArchiveBacked(dict[int, V]):
    """A dict of the live entries by order id that also answers for the archived ones (``OrderArchive``):
    a lookup brings an archived entry back as a live object, iteration yields archived ones as copies."""

    _archive: OrderArchive | None = None

    # what differs between orders and tickets
    def _archived(self, a: OrderArchive, oid: int) -> bool:
        raise NotImplementedError

    def _archived_count(self, a: OrderArchive) -> int:
        raise NotImplementedError

    def _archived_ids(self, a: OrderArchive) -> np.ndarray:
        raise NotImplementedError

    def _copy_of(self, a: OrderArchive, oid: int) -> V | None:
        raise NotImplementedError

    def __missing__(self, oid: int) -> V:
        a = self._archive
        if a is not None and a.promote(oid) and dict.__contains__(self, oid):
            return dict.__getitem__(self, oid)
        raise KeyError(oid)

    def get(self, oid: int, default: Any = None) -> Any:
        v = dict.get(self, oid)
        if v is not None:
            return v
        a = self._archive
        if a is not None and a.promote(oid):
            return dict.get(self, oid, default)
        return default

    def __contains__(self, oid: object) -> bool:
        if dict.__contains__(self, oid):
            return True
        a = self._archive
        return a is not None and isinstance(oid, int) and self._archived(a, oid)

    def __len__(self) -> int:
        a = self._archive
        return dict.__len__(self) + (self._archived_count(a) if a is not None else 0)

    def __bool__(self) -> bool:
        return len(self) > 0

    def _ids(self) -> list[int]:
        a = self._archive
        live = list(dict.__iter__(self))
        if a is None or not self._archived_count(a):
            return sorted(live)
        return sorted(live + self._archived_ids(a).tolist())

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids())

    def keys(self) -> list[int]:  # type: ignore[override]
        return self._ids()

    def values(self) -> Iterator[V]:  # type: ignore[override]
        """Every entry in order id order; archived ones as copies (they stay archived)."""
        a = self._archive
        dget = dict.get
        for oid in self._ids():
            v = dget(self, oid)
            if v is None and a is not None:
                v = self._copy_of(a, oid)
            if v is not None:
                yield v

    def items(self) -> Iterator[tuple[int, V]]:  # type: ignore[override]
        a = self._archive
        dget = dict.get
        for oid in self._ids():
            v = dget(self, oid)
            if v is None and a is not None:
                v = self._copy_of(a, oid)
            if v is not None:
                yield oid, v

    __hash__ = None


class OrderStore(_ArchiveBacked[Order]):
    """Every order by id: a dict of the live ones that also answers for the archived ones (``OrderArchive``)."""

    def _archived(self, a: OrderArchive, oid: int) -> bool:
        return a.has(oid)

    def _archived_count(self, a: OrderArchive) -> int:
        return a.archived_count()

    def _archived_ids(self, a: OrderArchive) -> np.ndarray:
        return a.archived_ids()

    def _copy_of(self, a: OrderArchive, oid: int) -> Order | None:
        return a.order_copy(oid)

    def copy(self) -> dict[int, Order]:
        return {o.id: o for o in self.values()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict) and dict(self.items()) == dict(other.items())

    def __repr__(self) -> str:
        return f"OrderStore({dict.__len__(self)} live, {len(self) - dict.__len__(self)} archived)"


class TicketStore(_ArchiveBacked[OrderTicket]):
    """Every order's ticket by order id: the live ones, and the archived ones on request (``OrderArchive``)."""

    def _archived(self, a: OrderArchive, oid: int) -> bool:
        return a.has_ticket(oid)

    def _archived_count(self, a: OrderArchive) -> int:
        return a.ticket_count

    def _archived_ids(self, a: OrderArchive) -> np.ndarray:
        return a.archived_ticket_ids()

    def _copy_of(self, a: OrderArchive, oid: int) -> OrderTicket | None:
        return a.ticket_copy(oid)

    def __repr__(self) -> str:
        return f"TicketStore({dict.__len__(self)} live)"


class FillLog(list[Fill]):
    """Every fill in the order it happened: the recent ones as a list, the older ones packed (``OrderArchive``).
    ``append`` is the list's own; reading it whole or by index sees them all, as ``Fill``s (a quiet order's fill is
    its row in the list: see the module docstring)."""

    _archive: OrderArchive | None = None

    def _packed(self) -> int:
        a = self._archive
        return a.fill_count() if a is not None else 0

    def __len__(self) -> int:
        return self._packed() + list.__len__(self)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self) -> Iterator[Fill]:
        a = self._archive
        if a is not None and a.fill_count():
            yield from a.iter_fills()
        yield from map(_fill, list.__iter__(self))

    def __reversed__(self) -> Iterator[Fill]:
        return reversed(list(self))

    def __getitem__(self, i: Any) -> Any:
        packed = self._packed()
        if not packed:
            got = list.__getitem__(self, i)
            return [_fill(f) for f in got] if isinstance(i, slice) else _fill(got)
        if isinstance(i, int):
            n = len(self)
            j = i + n if i < 0 else i
            if packed <= j < n:
                return _fill(list.__getitem__(self, j - packed))
            if not 0 <= j < n:
                raise IndexError("fill index out of range")
            for k, f in enumerate(self):
                if k == j:
                    return f
        return list(self)[i]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, list) and list(self) == list(other)

    def __contains__(self, fill: object) -> bool:
        return any(f == fill for f in self)

    __hash__ = None

    def __repr__(self) -> str:
        return repr(list(self))

    def copy(self) -> list[Fill]:
        return list(self)

    def __add__(self, other: Iterable[Fill]) -> list[Fill]:  # type: ignore[override]
        return list(self) + list(other)


__all__ = ["COMPACT_EVERY", "FillLog", "OrderArchive", "OrderStore", "QuietRow", "QuietTicket", "TicketStore"]
