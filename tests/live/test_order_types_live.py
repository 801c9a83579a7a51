"""Every order type and update on the live stack (order manager, paper venue, journal), driven by quotes on a
virtual clock: stops and trailing stops are emulated by the order manager, updates are native on the paper venue,
and an emulated stop comes back armed after a restart."""

from __future__ import annotations

from pathlib import Path

import msgspec

from leand import Strategy
from leand.adapters.paper.execution import PaperExecutionClient
from leand.clock import VirtualClock
from leand.engine import Engine
from leand.live.execution import OrderRoutes
from leand.live.journal import Journal
from leand.live.reports import apply_view, persist_report
from leand.model import Instrument, OrderStatus, OrderType, QuoteTick, Symbol, TimeInForce
from leand.simulator.paper import PaperVenue

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"
BTC = Symbol.crypto("BTCUSD", "coinbase")
T0 = 1_700_000_000_000_000_000
S = OrderStatus


class Recorder(Strategy):
    def initialize(self) -> None:
        self.btc = self.add_crypto("BTCUSD").symbol
        self.events: list = []

    def on_order_event(self, event) -> None:
        self.events.append(event)


class Stack:
    """``emulate``: the paper venue's client declares only market and limit orders and GTC, so the order
    manager's emulation is what these tests exercise (the paper venue's book has stops of its own)."""

    def __init__(self, tmp: Path, boot: int = 1, emulate: bool = True, offset_ns: int = 0) -> None:
        inst = {BTC: Instrument(symbol=BTC, tick_size=0.01, lot_size=0.0001, base_currency="BTC",
                                quote_currency="USD")}
        self.venue = PaperVenue(tmp / "venue.sqlite", inst, starting_balances={"USD": 100_000.0, "BTC": 10.0},
                                taker_fee=0.0)
        self.journal = Journal(tmp / "journal.sqlite")
        self.client = PaperExecutionClient(self.venue, self.journal)
        if emulate:
            self.client.capabilities = msgspec.structs.replace(
                self.client.capabilities, order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}),
                time_in_force=frozenset({TimeInForce.GTC}))
        self.session = OrderRoutes(self.client, self.journal, boot)
        self.t = T0 + boot * 1_000_000_000 + offset_ns
        self.engine = Engine(Recorder(), DATA, live_mode=True, clock=VirtualClock(self.t),
                             brokerage=self.session.client("s"))
        self.engine.strategy_id = "s"
        self.engine.client_id_prefix = f"s-{boot}-"
        self.engine.start_live()
        self.quote(100.0)

    @property
    def strategy(self) -> Recorder:
        return self.engine.strategy  # type: ignore[return-value]

    def pump(self) -> None:
        """The daemon's order session, synchronously: journal each report, then apply it."""
        s = self.session
        while not self.client.reports.empty():
            r = self.client.reports.get_nowait()
            fresh = persist_report(self.journal, r)
            route = s.routes.get(r.client_order_id)
            if route is not None and (fresh or not r.fill_quantity):
                self.engine.order_manager.apply_report(route[1], r)

    def quote(self, mid: float) -> None:
        self.t += 1_000_000
        q = QuoteTick(BTC, self.t, mid - 0.05, 5.0, mid + 0.05, 5.0)
        self.client.on_quote(q)
        self.pump()
        self.engine.on_live_slice(self.t, (q,))
        self.pump()


def test_emulated_stops_trigger_once_and_updates_work_on_paper(tmp_path: Path) -> None:
    st = Stack(tmp_path)
    s = st.strategy
    stop = s.stop_market_order(BTC, 1.0, 105.0)
    trail = s.trailing_stop_order(BTC, -1.0, 2.0)
    limit = s.limit_order(BTC, 1.0, 90.0)
    st.pump()
    assert stop.status is S.ACCEPTED and trail.status is S.ACCEPTED
    assert [e.code for e in s.events if e.order_id == stop.order_id] == ["", "EMULATED"]
    # updates: native on the paper venue, local for an emulated order
    assert limit.update(limit_price=91.0)
    assert trail.update(trailing_amount=3.0)
    st.pump()
    assert limit.order.limit_price == 91.0 and trail.order.trailing_amount == 3.0
    st.quote(101.0)  # the trailing stop follows the price up
    assert trail.order.stop_price == 98.0
    st.quote(104.0)
    assert stop.status is S.ACCEPTED and trail.order.stop_price == 101.0
    st.quote(105.5)  # crosses the buy stop: sent as a market order, filled
    assert stop.status is S.FILLED and stop.order.average_fill_price == 105.55
    st.quote(106.0)
    st.quote(100.0)  # below the trailing stop (103.0): sells
    assert trail.status is S.FILLED
    st.quote(106.0)
    st.quote(95.0)
    assert st.venue.submission_counts() == {limit.order.client_order_id: 1, stop.order.client_order_id: 1,
                                            trail.order.client_order_id: 1}
    assert limit.update(limit_price=200.0)  # marketable now: fills at the ask
    st.pump()
    assert limit.status is S.FILLED
    codes = [(e.order_id, e.code) for e in s.events if e.code]
    assert (stop.order_id, "EMULATED_TRIGGERED") in codes and (trail.order_id, "EMULATED_TRIGGERED") in codes
    j = st.journal.intents()
    assert {r["client_order_id"]: r["status"] for r in j} == {o.order.client_order_id: "filled"
                                                               for o in (stop, trail, limit)}


def test_an_unsupported_type_and_an_impossible_update_are_rejected_events(tmp_path: Path) -> None:
    st = Stack(tmp_path)
    s = st.strategy
    t = s.limit_order(BTC, 1.0, 90.0)
    st.pump()
    assert not t.update(quantity=-3.0)
    assert s.events[-1].code == "INVALID_UPDATE_QUANTITY"
    t.cancel()
    st.pump()
    assert t.status is S.CANCELED
    assert not t.update(limit_price=1.0)  # not open: logged, no exception


def test_an_emulated_stop_survives_a_restart_armed_and_fires_once(tmp_path: Path) -> None:
    st = Stack(tmp_path)
    st.strategy.stop_market_order(BTC, -1.0, 95.0, tag="protect")
    st.strategy.trailing_stop_order(BTC, -1.0, 0.05, trailing_as_percentage=True)
    st.pump()
    st.quote(102.0)
    st.journal.close()
    st.venue.close()  # the daemon dies here: nothing was sent for either order
    again = Stack(tmp_path, boot=2)
    assert apply_view(again.journal, again.client.reconcile()) == []
    from leand.live.daemon import Daemon  # the daemon's restart path re-arms emulated orders from the journal

    rearmed = Daemon.rearm_emulated(again.journal, again.engine, again.session, "s")
    assert sorted((o.type.value, o.stop_price, o.tag) for o in rearmed) == [
        ("stop_market", 95.0, "protect"), ("trailing_stop", 96.9, "")]
    again.quote(96.0)  # below the trailing stop: that one fires
    again.quote(94.0)  # below the stop too
    again.quote(93.0)
    counts = again.venue.submission_counts()
    assert sorted(counts.values()) == [1, 1]
    assert all(o.status is S.FILLED for o in rearmed)


def test_a_bracket_on_paper_arms_its_exits_and_they_survive_a_restart_linked(tmp_path: Path) -> None:
    st = Stack(tmp_path)
    b = st.strategy.bracket_order(BTC, 1.0, take_profit=104.0, stop_loss=97.0, tag="br")
    st.pump()
    assert b.entry.status is S.FILLED and b.take_profit is not None and b.stop_loss is not None
    st.pump()
    assert b.take_profit.status is S.ACCEPTED and b.stop_loss.status is S.ACCEPTED  # limit at venue, stop held
    tp_cid, sl_cid = b.take_profit.order.client_order_id, b.stop_loss.order.client_order_id
    st.journal.close()
    st.venue.close()  # the daemon dies with the exits open
    again = Stack(tmp_path, boot=2)
    from leand.live.daemon import Daemon

    view = again.client.reconcile()
    apply_view(again.journal, view)
    for vo in view.open_orders:  # what the daemon adopts from the venue
        it = {i["client_order_id"]: i for i in again.journal.intents()}[vo.client_order_id]
        from leand.model import Order, OrderType

        o = Order(id=0, symbol=BTC, quantity=vo.quantity, type=OrderType(it["type"]), limit_price=vo.limit_price,
                  status=S.ACCEPTED, client_order_id=vo.client_order_id, strategy_id="s")
        again.engine.order_manager.adopt(o)
        again.session.routes[o.client_order_id] = ("s", o)
    rearmed = Daemon.rearm_emulated(again.journal, again.engine, again.session, "s")
    assert [o.client_order_id for o in rearmed] == [sl_cid]
    assert Daemon.relink(again.journal, again.engine) == 1
    again.quote(96.0)  # the stop-loss fires; the take-profit is canceled as its other half
    again.quote(95.0)
    orders = {o.client_order_id: o for o in again.engine.orders.values()}
    assert orders[sl_cid].status is S.FILLED and orders[tp_cid].status is S.CANCELED
    assert again.venue.submission_counts()[sl_cid] == 1


def test_time_in_force_and_limit_if_touched_are_emulated_on_paper(tmp_path: Path) -> None:
    st = Stack(tmp_path)
    s = st.strategy
    ioc_rest = s.limit_order(BTC, 1.0, 90.0, time_in_force=TimeInForce.IOC)
    ioc_fill = s.limit_order(BTC, 1.0, 101.0, time_in_force=TimeInForce.IOC)
    day = s.limit_order(BTC, 1.0, 90.0, time_in_force=TimeInForce.DAY)
    lit = s.limit_if_touched_order(BTC, 1.0, trigger_price=98.0, limit_price=98.5)
    st.pump()
    assert ioc_rest.status is S.CANCELED and ioc_fill.status is S.FILLED
    assert day.status is S.ACCEPTED and lit.status is S.ACCEPTED
    assert lit.update(trigger_price=97.5)
    st.pump()
    assert lit.order.trigger_price == 97.5
    st.quote(97.8)  # above the new trigger: still held
    assert lit.status is S.ACCEPTED and st.venue.order_by_client_id(lit.order.client_order_id) is None
    st.quote(97.4)  # touched: sent as a limit at 98.5, which the ask crosses
    assert lit.status is S.FILLED and lit.order.average_fill_price == 97.45
    st.t += 3 * 3600 * 1_000_000_000  # past midnight UTC: the DAY order expires
    st.quote(97.0)
    assert day.status is S.EXPIRED
    events = {r[0] for r in st.journal.conn.execute("SELECT code FROM events")}
    assert "EMULATED_TRIGGERED" in events


def test_update_on_a_venue_without_modify_is_a_cancel_replace_tracked_across_both_orders(tmp_path: Path) -> None:
    import msgspec

    st = Stack(tmp_path)
    st.client.capabilities = msgspec.structs.replace(st.client.capabilities, modify=False)
    s = st.strategy
    t = s.limit_order(BTC, 2.0, 95.0)
    st.pump()
    first = t.order.client_order_id
    assert t.update(limit_price=96.0, quantity=3.0)
    st.pump()
    o = t.order
    assert o.client_order_id == f"{first}:1" and (o.limit_price, o.quantity) == (96.0, 3.0)
    assert o.status is S.ACCEPTED and len(st.engine.open_orders) == 1
    assert st.venue.order_by_client_id(first).status is S.CANCELED
    assert st.venue.order_by_client_id(o.client_order_id).limit_price == 96.0
    st.quote(95.5)  # the ask crosses the new limit: the replacement fills, and it is the same order
    assert t.status is S.FILLED and t.quantity_filled == 3.0
    codes = [e.message for e in s.events if e.order_id == t.order_id]
    assert any(m.startswith("updated") or m.startswith("REPLACED") for m in codes)
    # an update of a filled order is refused, and a cancel-replace whose cancel is refused refuses the update
    t2 = s.limit_order(BTC, 1.0, 90.0)
    st.pump()
    st.client.on_quote(QuoteTick(BTC, st.t + 1, 88.95, 5.0, 89.05, 5.0))  # it fills at the venue meanwhile...
    assert t2.update(limit_price=91.0)  # ...so the cancel half of this update is refused
    st.pump()
    assert t2.status is S.FILLED and t2.order.limit_price == 90.0
    assert any(e.code == "UPDATE_REJECTED" for e in s.events if e.order_id == t2.order_id)


def test_the_paper_venues_book_has_stops_trailing_stops_and_ioc_natively(tmp_path: Path) -> None:
    """Without emulation: the venue's book holds the stops, trails the trailing stop on its touch (its amount
    updated in the book) and triggers them; IOC is the book's."""
    st = Stack(tmp_path, emulate=False)
    s = st.strategy
    stop = s.stop_market_order(BTC, 1.0, 105.0)
    trail = s.trailing_stop_order(BTC, -1.0, 2.0)
    ioc = s.limit_order(BTC, 1.0, 90.0, time_in_force=TimeInForce.IOC)
    st.pump()
    assert stop.status is S.ACCEPTED and trail.status is S.ACCEPTED and ioc.status is S.CANCELED
    assert not any(e.code == "EMULATED" for e in s.events)
    assert {stop.order.client_order_id, trail.order.client_order_id} <= set(
        o.client_order_id for o in st.venue.open_orders())
    assert trail.update(trailing_amount=3.0)
    st.pump()
    assert trail.order.trailing_amount == 3.0 and trail.order.stop_price == 96.95  # from the bid, 99.95
    st.quote(104.0)  # the venue trails it up to 103.95 - 3
    st.quote(105.5)  # the ask crosses the buy stop: it fills at the ask
    assert stop.status is S.FILLED and stop.order.average_fill_price == 105.55
    st.quote(100.0)  # the bid (99.95) is below the trailing stop (105.45 - 3): it sells at the bid
    assert trail.status is S.FILLED and trail.order.average_fill_price == 99.95
