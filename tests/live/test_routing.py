"""One strategy on two venues, on the live stack (order manager, two paper venues, one journal), driven by quotes
on a virtual clock: each order goes to the venue of its symbol's market, each venue's fills land in the journal
in its own id range, an emulated stop is held and sent by the right venue's client and comes back armed on that
venue after a restart, and an order for a symbol no venue trades is refused by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from leand import Strategy
from leand.adapters.paper.config import PaperVenueConfig
from leand.adapters.paper.execution import PaperExecutionClient
from leand.clock import VirtualClock
from leand.engine import Engine
from leand.live.daemon import Daemon
from leand.live.execution import OrderRoutes
from leand.live.journal import Journal
from leand.live.reports import persist_report
from leand.live.venues import (
    FILL_ID_SPAN,
    RoutingClient,
    UnroutableOrder,
    Venue,
    VenueStore,
    strategy_brokerage,
)
from leand.model import Instrument, OrderStatus, OrderType, QuoteTick, Symbol
from leand.simulator.paper import PaperVenue

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"
CB = Symbol.crypto("BTCUSD", "coinbase")
BN = Symbol.crypto("BTCUSDT", "binance")
T0 = 1_700_000_000_000_000_000


class TwoLegs(Strategy):
    def initialize(self) -> None:
        self.cb = self.add_crypto("BTCUSD").symbol
        self.bn = self.add_crypto("BTCUSDT", market="binance").symbol
        self.eth = self.add_crypto("ETHUSD").symbol  # traded by no venue here


class Stack:
    def __init__(self, tmp: Path, boot: int = 1) -> None:
        self.journal = Journal(tmp / "journal.sqlite")
        self.venues: dict[str, Venue] = {}
        for slot, (vid, sym, quote) in enumerate((("cb", CB, "USD"), ("bn", BN, "USDT"))):
            inst = {sym: Instrument(symbol=sym, tick_size=0.01, lot_size=0.0001, base_currency="BTC",
                                    quote_currency=quote)}
            # market and limit only: stops are emulated by each venue's own client
            sim = PaperVenue(tmp / f"{vid}.sqlite", inst, starting_balances={quote: 100_000.0, "BTC": 10.0},
                             taker_fee=0.0, order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}))
            client = PaperExecutionClient(sim, VenueStore(self.journal, [sym.id], slot))
            self.venues[vid] = Venue(id=vid, config=PaperVenueConfig(name=vid), slot=slot, instruments=inst,
                                     execution=client, data=None,  # type: ignore[arg-type]
                                     session=OrderRoutes(client, self.journal, boot), balances_key=vid)
        self.t = T0 + boot * 1_000_000_000
        self.engine = Engine(TwoLegs(), DATA, live_mode=True, clock=VirtualClock(self.t),
                             brokerage=strategy_brokerage("s", self.venues))
        self.engine.strategy_id = "s"
        self.engine.client_id_prefix = f"s-{boot}-"
        self.engine.start_live()
        self.quote(100.0)

    @property
    def strategy(self) -> Any:
        return self.engine.strategy

    def client(self, vid: str) -> PaperExecutionClient:
        c = self.venues[vid].execution
        assert isinstance(c, PaperExecutionClient)
        return c

    def pump(self) -> None:
        """Each venue's order session, synchronously: journal each report (fill ids in the venue's range),
        then apply it."""
        for v in self.venues.values():
            while not v.execution.reports.empty():
                r = v.to_journal(v.execution.reports.get_nowait())
                fresh = persist_report(self.journal, r)
                route = v.session.routes.get(r.client_order_id)
                if route is not None and (fresh or not r.fill_quantity):
                    self.engine.order_manager.apply_report(route[1], r)

    def quote(self, mid: float) -> None:
        self.t += 1_000_000
        qs = tuple(QuoteTick(s, self.t, mid - 0.05, 5.0, mid + 0.05, 5.0) for s in (CB, BN))
        for q, vid in zip(qs, ("cb", "bn"), strict=True):
            self.client(vid).on_quote(q)
        self.pump()
        self.engine.on_live_slice(self.t, qs)
        self.pump()


def test_orders_route_to_the_venue_of_their_symbol(tmp_path: Path) -> None:
    st = Stack(tmp_path)
    s = st.strategy
    assert isinstance(st.engine.brokerage, RoutingClient)
    a, b = s.market_order(CB, 1.0), s.market_order(BN, 2.0)
    st.pump()
    assert a.order.status is OrderStatus.FILLED and b.order.status is OrderStatus.FILLED
    cb_orders = {o.client_order_id for o in st.client("cb").reconcile().orders.values() if o is not None}
    assert a.order.client_order_id in st.venues["cb"].session.routes
    assert b.order.client_order_id in st.venues["bn"].session.routes
    assert b.order.client_order_id not in st.venues["cb"].session.routes and not cb_orders - {a.order.client_order_id}
    fills = {f.client_order_id: f.trade_id for f in st.journal.fills()}
    assert fills[a.order.client_order_id] < FILL_ID_SPAN <= fills[b.order.client_order_id]
    assert st.client("cb").balances()["BTC"] == pytest.approx(11.0)
    assert st.client("bn").balances()["BTC"] == pytest.approx(12.0)
    with pytest.raises(UnroutableOrder, match="no venue of this strategy trades ETHUSD"):
        st.engine.brokerage.client_for(s.eth)
    st.journal.close()


def test_an_emulated_stop_is_held_and_rearmed_on_its_venue(tmp_path: Path) -> None:
    st = Stack(tmp_path)
    stop = st.strategy.stop_market_order(BN, 1.0, 105.0)
    st.pump()
    routing = st.engine.brokerage
    assert isinstance(routing, RoutingClient)
    assert stop.order.id in routing.clients["bn"].held and not routing.clients["cb"].held
    st.journal.sync()
    st.journal.close()
    again = Stack(tmp_path, boot=2)  # a restart: the journal brings the stop back, on the Binance leg's venue
    rearmed = Daemon.rearm_emulated(again.journal, again.engine,
                                    lambda sym: next(v.session for v in again.venues.values()
                                                     if sym in v.instruments), "s")
    assert [o.client_order_id for o in rearmed] == [stop.order.client_order_id]
    assert stop.order.client_order_id in again.venues["bn"].session.routes
    again.quote(106.0)  # through the trigger: sent once, to the venue that trades BTCUSDT
    order = rearmed[0]
    assert order.status is OrderStatus.FILLED
    assert again.client("bn").balances()["BTC"] == pytest.approx(11.0)
    assert again.client("cb").balances()["BTC"] == pytest.approx(10.0)
    again.journal.close()


def test_every_hook_of_an_execution_client_reaches_a_venue(tmp_path: Path) -> None:
    """The routing brokerage answers every public method the engine's execution clients have (explicitly or by
    forwarding), so a hook added to them later cannot crash a strategy on several venues."""
    from leand.execution import ExecutionClient

    st = Stack(tmp_path)
    routing = st.engine.brokerage
    for name in dir(ExecutionClient):
        if not name.startswith("_"):
            assert callable(getattr(routing, name)) or name == "name", name
    st.journal.close()


def test_cancel_all_of_one_account_leaves_the_other_venues_orders(tmp_path: Path) -> None:
    """``halt --account X --cancel-all`` cancels the strategy's orders on X's symbols only."""
    from leand.live.actions import apply_ctl

    st = Stack(tmp_path)
    a, b = st.strategy.limit_order(CB, 1.0, 90.0), st.strategy.limit_order(BN, 1.0, 90.0)
    st.pump()
    apply_ctl(st.engine, "cancel-all", {"symbols": [CB.id]})
    st.pump()
    assert a.order.status is OrderStatus.CANCELED and b.order.status is OrderStatus.ACCEPTED
    apply_ctl(st.engine, "cancel-all", {})
    st.pump()
    assert b.order.status is OrderStatus.CANCELED
    st.journal.close()


def test_brackets_on_two_venues_keep_their_exits_on_their_venue(tmp_path: Path) -> None:
    """A bracket per venue: each entry's take-profit and stop-loss are journaled and routed on the entry's venue,
    and a take-profit fill on one venue cancels its stop there, leaving the other venue's bracket alone."""
    st = Stack(tmp_path)
    s = st.strategy
    bc, bb = s.bracket_order(CB, 1.0, 101.0, 95.0), s.bracket_order(BN, 1.0, 103.0, 95.0)
    st.pump()
    st.quote(100.0)
    for t, vid, other in ((bc, "cb", "bn"), (bb, "bn", "cb")):
        assert t.entry.order.status is OrderStatus.FILLED
        for leg in (t.take_profit, t.stop_loss):
            assert leg is not None
            assert leg.order.client_order_id in st.venues[vid].session.routes
            assert leg.order.client_order_id not in st.venues[other].session.routes
    st.quote(102.0)  # through the Coinbase take-profit only
    st.quote(102.0)
    assert bc.take_profit.order.status is OrderStatus.FILLED and bc.stop_loss.order.status is OrderStatus.CANCELED
    assert bb.take_profit.order.status.is_open and bb.stop_loss.order.status.is_open
    assert st.client("cb").balances()["BTC"] == pytest.approx(10.0)
    assert st.client("bn").balances()["BTC"] == pytest.approx(11.0)
    st.journal.close()
