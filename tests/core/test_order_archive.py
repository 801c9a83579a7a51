"""Closed orders packed by the order manager's archive (leand.orders.archive) answer exactly as live ones: a
backtest with thousands of orders sees the same orders, tickets, fills, events and statistics whether its closed
orders are packed every 8 orders or never."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

import leand.orders.archive as archive_mod
import leand.orders.manager as manager_mod
from leand import Resolution, Strategy
from leand.engine import Engine
from leand.model import OrderStatus

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"


class ManyOrders(Strategy):
    """Market orders every bar, limit orders canceled a bar later, orders refused for buying power, tag updates
    of long-closed orders, and one ticket kept by the strategy."""

    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.set_cash(100_000)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.n = 0
        self.resting: int | None = None
        self.kept = None
        self.events: list[tuple[int, int, str, float]] = []

    def on_data(self, data: Any) -> None:
        self.n += 1
        n = self.n
        self.market_order(self.spy, 10 if n % 2 else -10, tag=f"m{n}")
        if self.resting is not None:
            self.transactions.cancel_order(self.resting, tag="stale")
            self.resting = None
        if n % 3 == 0:
            self.resting = self.limit_order(self.spy, 5, self.securities[self.spy].price * 0.5).order_id
        if n % 7 == 0:
            self.market_order(self.spy, 1_000_000)  # refused: insufficient buying power
        if n % 11 == 0 and n > 50:
            t = self.transactions.get_order_ticket(n // 2)
            if t is not None:
                t.update_tag(f"late{n}")
        if n == 20:
            self.kept = self.market_order(self.spy, 1, tag="kept")

    def on_order_event(self, event: Any) -> None:
        self.events.append((event.order_id, event.id, event.status.value, event.fill_quantity))


class QuietOrders(ManyOrders):
    """ManyOrders without a handler of order events: its market orders that fill at once are quiet (kept as rows,
    see leand.orders.archive). During the run it reads (and changes) some of their tickets' submit requests, looks
    some of their orders up, cancels and updates some closed ones, and keeps one ticket."""

    on_order_event = Strategy.on_order_event  # (not overridden: no events are built)

    def initialize(self) -> None:
        super().initialize()
        self.reads: list[Any] = []

    def on_data(self, data: Any) -> None:
        super().on_data(data)
        n = self.n
        tx = self.transactions
        if n % 13 == 0 and n > 30:
            t = self.market_order(self.spy, 2, tag=f"r{n}")
            r = t.submit_request
            self.reads.append(msgspec.structs.asdict(r))
            r.tag = f"read{n}"  # what its ticket holds now is more than its order's row
        if n % 29 == 0 and n > 30:
            self.reads.append(self.market_order(self.spy, -2).cancel())
        if n % 17 == 0 and n > 30:
            o = tx.get_order_by_id(n - 3)
            self.reads.append(msgspec.structs.asdict(o) if o is not None else None)
        if n % 19 == 0 and n > 30:
            self.reads.append(tx.cancel_order(n - 7))
        if n % 23 == 0 and n > 30:
            t = tx.get_order_ticket(n - 2)
            if t is not None:
                self.reads.append(t.update_tag(f"q{n}"))


def _engine(mask: int, cls: type[Strategy] = ManyOrders, quiet: bool = True) -> Engine:
    """A run of ``cls`` asked to pack every ``mask + 1`` orders, when 16 closed orders are live, keeping the
    last 4 (``quiet=False``: no order is placed quiet)."""
    saved = manager_mod._COMPACT_MASK, archive_mod.PACK_AT, archive_mod.KEEP_RECENT, manager_mod._STOCK_FEE_MODELS
    manager_mod._COMPACT_MASK, archive_mod.PACK_AT, archive_mod.KEEP_RECENT = mask, 16, 4
    if not quiet:
        manager_mod._STOCK_FEE_MODELS = frozenset()
    try:
        e = Engine(cls(), DATA)
        e.run()
    finally:
        (manager_mod._COMPACT_MASK, archive_mod.PACK_AT, archive_mod.KEEP_RECENT,
         manager_mod._STOCK_FEE_MODELS) = saved
    return e


def _run(mask: int, cls: type[Strategy] = ManyOrders, quiet: bool = True) -> tuple[Engine, dict[str, Any]]:
    return _read(_engine(mask, cls, quiet))


def _read(e: Engine) -> tuple[Engine, dict[str, Any]]:
    s: Any = e.strategy
    tx = s.transactions
    b = msgspec.structs.asdict

    def ticket(t: Any) -> tuple:
        return (t.order_id, t.status, t.quantity, t.quantity_filled, t.average_fill_price, t.tag,
                b(t.submit_request) if t.submit_request is not None else None,
                [(u.fields, u.time, u.response) for u in t.update_requests], t.cancel_request, str(t))

    ids = [o.id for o in tx.get_orders()]
    seen = {  # reads that leave archived entries archived (copies) before the lookups that promote them
        "tickets": [ticket(t) for t in tx.get_order_tickets()],
        "orders": [b(o) for o in tx.get_orders()],
        "types": [tuple(map(type, msgspec.structs.astuple(o))) for o in tx.get_orders()],  # an int stays an int
        "by_id": [b(tx.get_order_by_id(i)) for i in ids],
        "filled": [o.id for o in tx.get_orders(lambda o: o.status is OrderStatus.FILLED)],
        "count": tx.orders_count,
        "ticket_by_id": [ticket(tx.get_order_ticket(i)) for i in ids],
        "fills": [b(f) for f in e.fills],
        "last_fill": b(e.fills[-1]),
        "first_fill": b(e.fills[0]),
        "n_fills": len(e.fills),
        "transactions": list(e.portfolio.transactions),
        "fees": e.portfolio.total_fees,
        "equity": list(e.equity_samples),
        "events": s.events,
        "kept": ticket(s.kept),
        "reads": getattr(s, "reads", None),
    }
    return e, seen


@pytest.fixture(scope="module")
def runs() -> tuple[Engine, dict[str, Any], Engine, dict[str, Any]]:
    plain, a = _run((1 << 62) - 1)
    packed, b = _run(7)
    return plain, a, packed, b


def test_packing_happened(runs: Any) -> None:
    plain, _, packed, _ = runs
    assert plain.order_manager.archive.count == 0
    assert len(packed.orders) > 2500
    # most closed orders are packed; whatever the final reads made live again is what is left
    assert packed.order_manager.archive.fills_packed > 0
    assert len(packed.fills) == len(plain.fills)


def test_same_answers_with_and_without_packing(runs: Any) -> None:
    _, a, _, b = runs
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k], k


def test_quiet_orders_answer_as_live_ones() -> None:
    """A strategy without an order-event handler sees the same orders, tickets (submit requests, updates, cancels),
    fills and statistics whether its orders that fill at once are kept as rows (packed every 8 orders, or never) or
    made live orders as any other."""
    general = _engine((1 << 62) - 1, QuietOrders, quiet=False)
    rows = _engine((1 << 62) - 1, QuietOrders)
    packed = _engine(7, QuietOrders)
    assert not general.order_manager.archive.quiet
    assert len(rows.order_manager.archive.quiet) > 1000, "kept as rows"
    assert packed.order_manager.archive.count > 1000, "rows packed"
    (_, g), (_, r), (_, p) = _read(general), _read(rows), _read(packed)
    assert g.keys() == r.keys() == p.keys()
    for k in g:
        assert g[k] == r[k], k
        assert g[k] == p[k], k
    assert len(g["reads"]) > 100
    kept = packed.strategy.kept
    assert packed.strategy.transactions.get_order_ticket(kept.order_id) is kept, "a held ticket stays the object"


def test_archived_orders_leave_memory_and_come_back_on_request() -> None:
    e = _engine(7)
    m = e.order_manager
    assert m.archive.count > len(m.orders) - 40, "packed as the run went"
    m.archive.compact()
    live = dict.__len__(m.orders)
    total = len(m.orders)
    assert m.archive.count > total - 50 and live < 50
    kept = e.strategy.kept
    assert dict.__contains__(m.tickets, kept.order_id), "a ticket the strategy holds is never packed"
    # a closed, packed order changed through its ticket keeps the change
    oid = next(i for i in range(1, 40) if m.archive.has(i))
    t = e.strategy.transactions.get_order_ticket(oid)
    assert t.update_tag("changed")
    del t
    m.archive.compact()
    assert m.archive.has(oid)
    assert e.strategy.transactions.get_order_by_id(oid).tag == "changed"
    assert [u.fields.tag for u in e.strategy.transactions.get_order_ticket(oid).update_requests][-1] == "changed"


def test_no_collection_runs_while_packing() -> None:
    """A garbage collection set off by packing's own allocations would walk the batch about to be freed: none
    starts inside ``compact`` however low the threshold, and the collector is left as it was found."""
    e = _engine((1 << 62) - 1, QuietOrders)  # nothing packed during the run: every closed order is packed below
    m = e.order_manager
    started: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    thresholds = gc.get_threshold()
    gc.callbacks.append(seen)
    try:
        gc.set_threshold(1, 1, 1)  # a collection on every new container, unless the collector is off
        packed = m.archive.compact(m.next_order_id - 4)
        assert gc.isenabled()
        gc.disable()
        m.archive.compact()
        assert not gc.isenabled()  # off before, off after
        gc.enable()
    finally:
        gc.set_threshold(*thresholds)
        gc.callbacks.remove(seen)
    assert packed > 100 and not started


def test_pnl_log_packs_exactly() -> None:
    """The portfolio's transaction record reads the same before and after its entries move into flat arrays; an
    entry that would not round-trip exactly (an int P&L) stays a tuple."""
    from leand.portfolio.pnl_log import PnlLog

    log = PnlLog()
    plain: list[tuple[int, float]] = []
    for i in range(50):
        entry = (i * 1_000_000_007, (-1) ** i * i / 7)
        log.append(entry)
        plain.append(entry)
        if i % 9 == 0:
            log.compact()
    log.append((99, 1))  # type: ignore[arg-type]
    plain.append((99, 1))  # type: ignore[arg-type]
    log.compact()
    assert list(log) == plain and len(log) == len(plain) and log == plain
    assert [log[i] for i in range(-len(plain), len(plain))] == plain + plain
    assert log[3:7] == plain[3:7] and type(log[-1][1]) is int


def test_fill_columns_round_trip_exactly() -> None:
    """Fills packed as columns come back equal and with the same number types (an int fee stays an int), whether
    a column is shared by every fill (stored once) or not."""
    from leand.model import Fill, LiquiditySide, Symbol

    spy, btc = Symbol.equity("SPY"), Symbol.crypto("BTCUSD", "coinbase")
    mixed = [Fill(order_id=i, symbol=spy if i % 3 else btc, time=10 * i, quantity=(-1) ** i * 1.5, price=100 + i,
                  fee=1 if i % 2 else 0.25, fee_currency="USD" if i % 4 else "BTC",
                  liquidity=LiquiditySide.MAKER if i % 5 else LiquiditySide.TAKER, trade_id=i,
                  client_order_id=f"L{i}") for i in range(1, 40)]
    shared = [Fill(order_id=i, symbol=spy, time=i, quantity=100.0, price=1.5, fee=0.5, trade_id=i) for i in range(9)]
    for fills in (mixed, shared, shared[:1]):
        back = archive_mod._unpack_fills(archive_mod._pack_fills(fills))
        assert back == fills
        assert [tuple(map(type, msgspec.structs.astuple(f))) for f in back] == \
            [tuple(map(type, msgspec.structs.astuple(f))) for f in fills]


def test_quiet_fill_columns_round_trip_exactly() -> None:
    """Quiet rows' fills packed straight from the rows come back as the Fills the rows stand for (``fill_of``), with
    the same number types, whether a column is shared by every row or not; a fill log of rows and Fills reads as
    Fills, whole, by index and by slice."""
    from leand.model import Fill, Symbol

    spy, btc = Symbol.equity("SPY"), Symbol.crypto("BTCUSD", "coinbase")
    mixed = [(i, spy if i % 3 else btc, 10, 100 * i, "L" if i % 4 else "P-", "s", "", 1.5, (-1) ** i * 2.0, 99.5,
              spy, 2, 100.0 + i, 1 if i % 2 else 0.25, "USD" if i % 5 else "BTC", i) for i in range(1, 30)]
    shared = [(i, spy, 1.0, 7 * i, "L", "s", "t", 1.5, 100.0, 1.5, "SPY", 100, 1.5, 0.5, "USD", i + 3)
              for i in range(9)]
    for rows in (mixed, shared, shared[:1]):
        back = archive_mod._unpack_quiet_fills(archive_mod._pack_quiet_fills(list(zip(*rows))))
        want = [archive_mod.fill_of(r) for r in rows]  # type: ignore[arg-type]
        assert back == want and want[0].client_order_id == f"{rows[0][4]}{rows[0][0]}"
        assert [tuple(map(type, msgspec.structs.astuple(f))) for f in back] == \
            [tuple(map(type, msgspec.structs.astuple(f))) for f in want]
    log = archive_mod.FillLog()
    other = Fill(order_id=99, symbol=spy, time=1, quantity=1.0, price=2.0, fee=0.0, trade_id=99)
    log.extend([shared[0], other, shared[1]])  # type: ignore[list-item]
    want = [archive_mod.fill_of(shared[0]), other, archive_mod.fill_of(shared[1])]  # type: ignore[arg-type]
    assert list(log) == want and log[1] is other and log[-1] == want[2] and log[0:2] == want[:2]


def test_quiet_order_rows_share_the_fills_columns_only_when_they_are_the_same_rows() -> None:
    """A compaction zips the quiet rows once: the orders' columns are the fills' where the rows are the very same
    (after the rows whose fills were packed earlier), and the rows' own otherwise; either way the orders' packing
    is what zipping the rows themselves gives."""
    from leand.model import Symbol

    spy = Symbol.equity("SPY")

    def row(i: int) -> tuple[Any, ...]:
        return (i, spy, 1.0, 7 * i, "L", "s", "", 1.5, 1.0, 1.5, "SPY", 1, 1.5, 0.5, "USD", i)

    made = [row(i) for i in range(20)]
    fills = made[5:]  # the fills of orders 5.. (those of 0..4 were packed at an earlier compaction)
    cols = list(zip(*fills))
    cases = {"old rows, then the fills' first": made[2:15], "the fills' first only": made[5:12],
             "all the fills": made[5:], "a fill's row skipped": made[3:8] + made[9:12],
             "equal rows, not the same": made[2:5] + [row(i) for i in range(5, 12)], "old rows only": made[:4]}
    for name, rows in cases.items():
        want = list(zip(*rows))
        got = archive_mod._order_columns(rows, fills, cols)  # type: ignore[arg-type]
        assert got == want, name
        assert archive_mod._pack_quiet(rows, (fills, cols)) == archive_mod._pack_quiet(rows), name  # type: ignore[arg-type]
    # shared: the order columns are slices of the fills' (no second zip)
    assert archive_mod._order_columns(made[5:], fills, cols)[3] is cols[3]  # type: ignore[arg-type]


class PlainNumbers(Strategy):
    """Orders whose quantities and prices are ``INT`` (integral) and ``REAL`` numbers: Python's int and float
    here, numpy's in ``_numpy(PlainNumbers)``. Market orders of both kinds every bar, a limit order updated (quantity and
    price) and canceled a bar later, a stop-market order, a bracket, a refused order and one kept ticket."""

    INT: Any = int
    REAL: Any = float

    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 9)
        self.set_cash(1_000_000)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.n = 0
        self.resting: Any = None
        self.kept = None
        self.events: list[tuple[int, int, str, float]] = []

    def on_data(self, data: Any) -> None:
        self.n += 1
        n, i, f = self.n, self.INT, self.REAL
        price = self.securities[self.spy].price
        self.market_order(self.spy, i(10) if n % 2 else f(-10.0), tag=f"m{n}")
        if self.resting is not None:
            self.resting.update(quantity=i(6), limit_price=f(price * 0.6))
            self.resting.cancel("stale")
            self.resting = None
        if n % 3 == 0:
            self.resting = self.limit_order(self.spy, i(5), f(price * 0.5))
        if n % 5 == 0:
            self.stop_market_order(self.spy, f(-3.0), f(price * 0.5)).cancel()
        if n % 7 == 0:
            self.market_order(self.spy, i(100_000_000))  # refused: insufficient buying power
        if n % 50 == 0:
            self.bracket_order(self.spy, i(2), take_profit=f(price * 1.5), stop_loss=f(price * 0.5), tag=f"b{n}")
        if n == 20:
            self.kept = self.market_order(self.spy, i(1), tag="kept")

    def on_order_event(self, event: Any) -> None:
        self.events.append((event.order_id, event.id, event.status.value, event.fill_quantity))


class QuietPlainNumbers(PlainNumbers):
    on_order_event = Strategy.on_order_event  # no handler: its market orders that fill at once are quiet rows


def _numpy(cls: type[PlainNumbers]) -> type[PlainNumbers]:
    """``cls`` with numpy's numbers, under the same name (an order's strategy id is its strategy's class name)."""
    return type(cls.__name__, (cls,), {"INT": np.int64, "REAL": np.float64})


@pytest.mark.parametrize("python", [PlainNumbers, QuietPlainNumbers])
def test_numpy_quantities_and_prices_give_the_same_run_as_python_numbers(python: type[PlainNumbers]) -> None:
    """A strategy computing its quantities and prices with numpy (np.int64, np.float64) gets what it gets with
    Python's int and float: the order manager takes them as Python numbers where they enter, so the archive packs
    its orders (every 8 orders here) and every order, ticket, fill and statistic is equal, number types too."""
    ne = _engine(7, _numpy(python))
    assert ne.order_manager.archive.count > 500, "orders packed"
    (_, p), (_, n) = _run(7, python), _read(ne)
    assert p.keys() == n.keys()
    for k in p:
        assert p[k] == n[k], k
    assert len(p["orders"]) > 1000 and p["fills"]
    assert {t for ts in n["types"] for t in ts} >= {int, float} and not any(
        t.__module__ == "numpy" for ts in n["types"] for t in ts)
