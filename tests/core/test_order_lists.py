"""Contingent orders on a venue with native order lists, through the order manager and the emulating client as
the daemon runs them (the venue's reports are delivered by the test): a bracket with a limit entry is one
one-triggers-one-cancels-other list whose exits wait at the venue; an entry that ends part-filled gets new exits
for what filled; a venue without such lists keeps the bracket's own arming."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leand import Strategy
from leand.clock import VirtualClock
from leand.engine import Engine
from leand.model import ExecReport, Order, OrderStatus, OrderType, QuoteTick, ReportKind, UpdateRequest
from leand.orders.emulation import EmulatingClient
from leand.venue import Capabilities, OrderListEntry

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"
T0 = 1_700_000_000_000_000_000
S = OrderStatus


class Sink:
    """Where the emulation's own reports go: applied at once, as the daemon's attached consumer does."""

    def __init__(self) -> None:
        self.engine: Engine | None = None

    def put_nowait(self, r: ExecReport) -> None:
        assert self.engine is not None
        apply(self.engine, r)


class ListVenue:
    """A venue client with Binance's order lists: it records what it is asked; the test answers."""

    def __init__(self, otoco: bool = True) -> None:
        self.capabilities = Capabilities(
            order_types=frozenset({OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_MARKET}), oco=True,
            otoco=otoco, cancel_replace=True)
        self.reports = Sink()
        self.sent: list[tuple] = []
        self.lists: set[str] = set()

    def submit(self, order: Order, now_ns: int) -> None:
        self.sent.append(("submit", order.client_order_id))

    def modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        self.sent.append(("modify", order.client_order_id))

    def cancel(self, order: Order, now_ns: int) -> None:
        self.sent.append(("cancel", order.client_order_id))

    def submit_oco(self, orders: tuple[Order, Order], now_ns: int) -> None:
        self.lists.update(o.client_order_id for o in orders)
        self.sent.append(("oco", *(o.client_order_id for o in orders)))

    def submit_otoco(self, orders: tuple[Order, Order, Order], now_ns: int) -> None:
        self.lists.update(o.client_order_id for o in orders)
        self.sent.append(("otoco", *(o.client_order_id for o in orders)))

    def in_order_list(self, client_order_id: str) -> bool:
        return client_order_id in self.lists


class Quiet(Strategy):
    def initialize(self) -> None:
        self.set_cash(1_000_000)
        self.btc = self.add_crypto("BTCUSD").symbol
        self.events: list = []

    def on_order_event(self, event) -> None:
        self.events.append(event)


def engine(venue: ListVenue) -> Engine:
    e = Engine(Quiet(), DATA, live_mode=True, clock=VirtualClock(T0),
               brokerage=lambda eng: EmulatingClient(eng, venue))
    e.start_live()
    venue.reports.engine = e
    sym = e.strategy.btc
    e.on_live_slice(T0 + 1, (QuoteTick(sym, T0 + 1, 100.0, 5.0, 100.5, 5.0),))
    return e


def apply(e: Engine, r: ExecReport) -> None:
    om = e.order_manager
    o = next(o for o in om.orders.values() if o.client_order_id == r.client_order_id)
    om.apply_report(o, r)


def report(order: Order, status: OrderStatus, qty: float = 0.0, fill_id: int = 0, reason: str = "") -> ExecReport:
    return ExecReport(client_order_id=order.client_order_id, status=status, symbol=order.symbol.id, time_ns=T0,
                      kind=ReportKind.STATUS, fill_quantity=qty, fill_price=100.0 if qty else 0.0, fill_id=fill_id,
                      fee=0.0, reason=reason)


def test_a_limit_bracket_is_one_otoco_list_whose_exits_the_venue_works() -> None:
    v = ListVenue()
    assert isinstance(v, OrderListEntry)
    e = engine(v)
    om = e.order_manager
    b = e.strategy.bracket_order(e.strategy.btc, 2.0, take_profit=110.0, stop_loss=90.0, entry_limit=99.0, tag="b")
    entry, tp, sl = b.entry.order, b.take_profit.order, b.stop_loss.order
    assert v.sent == [("otoco", entry.client_order_id, tp.client_order_id, sl.client_order_id)]
    assert (tp.type, tp.quantity, tp.limit_price, sl.type, sl.quantity, sl.stop_price) == \
        (OrderType.LIMIT, -2.0, 110.0, OrderType.STOP_MARKET, -2.0, 90.0)
    assert [(x.order_id, x.code) for x in e.strategy.events if x.code == "OTOCO"] == [(tp.id, "OTOCO"),
                                                                                     (sl.id, "OTOCO")]
    for o in (entry, tp, sl):
        om.apply_report(o, report(o, S.ACCEPTED))
    om.apply_report(entry, report(entry, S.FILLED, 2.0, fill_id=1))
    assert len(v.sent) == 1  # the venue places the exits: nothing more is sent
    om.apply_report(tp, report(tp, S.FILLED, -2.0, fill_id=2))
    assert sl.is_open and len(v.sent) == 1  # the venue ends the stop-loss itself
    om.apply_report(sl, report(sl, S.CANCELED, reason="OCO: the other order filled"))
    assert (entry.status, tp.status, sl.status) == (S.FILLED, S.FILLED, S.CANCELED)
    assert e.portfolio.securities[entry.symbol].holdings.quantity == 0.0
    assert not om.contingent.oco and not om.contingent.pending and not om.contingent.brackets


def test_an_entry_that_ends_part_filled_gets_new_exits_for_what_filled() -> None:
    v = ListVenue()
    e = engine(v)
    om = e.order_manager
    b = e.strategy.bracket_order(e.strategy.btc, 2.0, take_profit=110.0, stop_loss=90.0, entry_limit=99.0)
    entry, tp, sl = b.entry.order, b.take_profit.order, b.stop_loss.order
    om.apply_report(entry, report(entry, S.PARTIALLY_FILLED, 0.5, fill_id=1))
    b.entry.cancel()
    # the venue cancels the whole list: the pending exits first, then the entry
    om.apply_report(tp, report(tp, S.CANCELED))
    om.apply_report(sl, report(sl, S.CANCELED))
    om.apply_report(entry, report(entry, S.CANCELED))
    assert entry.filled_quantity == 0.5 and not tp.is_open and not sl.is_open
    new_tp, new_sl = b.take_profit.order, b.stop_loss.order
    assert new_tp is not tp and (new_tp.quantity, new_sl.quantity) == (-0.5, -0.5)
    assert v.sent[-1] == ("oco", new_tp.client_order_id, new_sl.client_order_id)


def test_without_otoco_the_bracket_arms_its_exits_itself() -> None:
    v = ListVenue(otoco=False)
    e = engine(v)
    om = e.order_manager
    b = e.strategy.bracket_order(e.strategy.btc, 1.0, take_profit=110.0, stop_loss=90.0, entry_limit=99.0)
    entry = b.entry.order
    assert v.sent == [("submit", entry.client_order_id)] and b.take_profit is None
    om.apply_report(entry, report(entry, S.FILLED, 1.0, fill_id=1))
    assert v.sent[-1] == ("oco", b.take_profit.order.client_order_id, b.stop_loss.order.client_order_id)


def test_one_cancels_other_on_two_open_orders_is_emulated_and_says_so() -> None:
    v = ListVenue()
    e = engine(v)
    om = e.order_manager
    a = e.strategy.limit_order(e.strategy.btc, 1.0, 99.0)
    b = e.strategy.limit_order(e.strategy.btc, -1.0, 102.0)
    assert e.strategy.one_cancels_other(a, b)
    assert [(x.order_id, x.code) for x in e.strategy.events if x.code == "OCO_EMULATED"] == [(a.order_id, "OCO_EMULATED"),
                                                                                            (b.order_id, "OCO_EMULATED")]
    oa, ob = a.order, b.order
    om.apply_report(oa, report(oa, S.PARTIALLY_FILLED, 0.25, fill_id=1))  # a partial fill cancels the other
    assert v.sent[-1] == ("cancel", ob.client_order_id) and ob.status is S.PENDING_CANCEL
    assert "0.25 of 1" in e.strategy.events[-1].message
    om.apply_report(oa, report(oa, S.FILLED, 0.75, fill_id=2))
    assert v.sent.count(("cancel", ob.client_order_id)) == 1
    # the venue filled the other leg before the cancel reached it: said so
    om.apply_report(ob, report(ob, S.FILLED, -1.0, fill_id=3))
    assert e.strategy.events[-1].code == "OCO_BOTH_FILLED" and e.strategy.events[-1].order_id == ob.id
    assert not om.contingent.oco and not om.contingent.canceled_for


_ACTIONS = st.lists(st.tuples(st.sampled_from((0, 1)), st.sampled_from(
    ("partial", "fill", "canceled", "expired", "rejected", "dup"))), max_size=14)


@given(_ACTIONS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_emulated_oco_property(actions: list[tuple[int, str]]) -> None:
    """Any order of venue reports (fills, partial fills, ends, duplicates) on two linked orders: the first fill of
    either while they are linked has leand cancel the other, once; a leg that ends first unlinks them with no
    cancel; a leg that fills after leand asked for its cancel says so (OCO_BOTH_FILLED); no leg overfills."""
    v = ListVenue()
    e = engine(v)
    om = e.order_manager
    legs = [e.strategy.limit_order(e.strategy.btc, 1.0, 99.0).order,
            e.strategy.limit_order(e.strategy.btc, -1.0, 102.0).order]
    assert e.strategy.one_cancels_other(om.tickets[legs[0].id], om.tickets[legs[1].id])
    fid = 0
    last: dict[int, ExecReport] = {}
    linked, target, both_filled = True, None, False
    for i, kind in actions:
        o = legs[i]
        if kind in ("partial", "fill"):
            rem = abs(o.quantity - o.filled_quantity)
            if rem <= 1e-9:
                continue
            fid += 1
            q = min(0.25, rem) if kind == "partial" else rem
            sign = 1.0 if o.quantity > 0 else -1.0
            r = report(o, S.FILLED if q >= rem else S.PARTIALLY_FILLED, sign * q, fill_id=fid)
            late = target == i and o.is_open
            om.apply_report(o, r)
            last[i] = r
            if linked:
                linked, target = False, 1 - i
            elif late:
                both_filled = True
        elif kind == "dup":
            if i in last:
                om.apply_report(o, last[i])
        else:
            if o.is_open:
                linked = False
            om.apply_report(o, report(o, {"canceled": S.CANCELED, "expired": S.EXPIRED,
                                          "rejected": S.REJECTED}[kind]))
        for j, leg in enumerate(legs):
            assert abs(leg.filled_quantity) <= abs(leg.quantity) + 1e-9
            assert v.sent.count(("cancel", leg.client_order_id)) == (1 if target == j else 0), (actions, v.sent)
        assert bool(om.contingent.oco) == linked
    if target is not None:
        codes = [x.code for x in e.strategy.events if x.order_id == legs[target].id]
        assert ("OCO_BOTH_FILLED" in codes) == both_filled
