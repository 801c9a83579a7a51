"""The parity test: one strategy that uses every order type and operation runs (1) as a backtest on recorded
quotes, matched in the paper venue's book through the order manager's emulation (``VenueBrokerage``), and
(2) through the live stack (order manager, journaled execution client, paper venue on its SQLite store, risk
gate, journal) driven by the same recording on a virtual clock, the way the daemon's order session applies
the venue's reports. The order events (time, order, type, status, quantities, prices, code, in order) are
identical: the two share the one matching engine and the one emulation rather than two fill models."""

from __future__ import annotations

import os
from pathlib import Path

from leand import venue as venues
from leand.adapters.paper.config import PaperVenueConfig
from leand.adapters.paper.execution import PaperExecutionClient
from leand.backtest.venue_brokerage import VenueBrokerage
from leand.bundled import SAMPLE_DATA
from leand.clock import VirtualClock
from leand.engine import Engine
from leand.live.execution import OrderRoutes
from leand.live.journal import Journal
from leand.live.reports import apply_report, persist_report
from leand.model import Instrument, QuoteTick, Symbol
from leand.simulator.paper import PaperVenue
from tests.parity.parity_strategy import EveryOrderTypeParity

HERE = Path(__file__).resolve().parent
CASH = {"USD": 100_000.0}
CFG = PaperVenueConfig(taker_fee=0.001, maker_fee=0.0)


def data_root(tmp: Path) -> Path:
    """The shipped sample's databases with the small recording (``data/``) as BAC's tick data."""
    root = tmp / "data"
    for p in SAMPLE_DATA.iterdir():
        if p.name != "equity":
            (root / p.name).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(p, root / p.name)
    usa = root / "equity" / "usa"
    usa.mkdir(parents=True)
    for p in (SAMPLE_DATA / "equity" / "usa").iterdir():
        if p.name != "tick":
            os.symlink(p, usa / p.name)
    os.symlink(HERE / "data" / "equity" / "usa" / "tick", usa / "tick")
    return root


def backtest(root: Path) -> tuple[EveryOrderTypeParity, list[tuple[int, tuple]], dict[Symbol, Instrument]]:
    def make_venue(instruments: dict[Symbol, Instrument], balances: dict[str, float]):
        reg = venues.venue("paper")
        assert reg.simulate is not None
        return reg.simulate(CFG, instruments, CASH)

    strat = EveryOrderTypeParity()
    engine = Engine(strat, root, brokerage=VenueBrokerage.factory(make_venue))
    slices: list[tuple[int, tuple]] = []
    engine.before_data.append(lambda sl: slices.append((sl.time, sl.events)))
    engine.run()
    return strat, slices, {s: sec.instrument for s, sec in engine.securities.items()}


def live(tmp: Path, root: Path, slices: list[tuple[int, tuple]], instruments: dict[Symbol, Instrument]
         ) -> EveryOrderTypeParity:
    venue = PaperVenue(tmp / "paper-venue.sqlite", instruments, starting_balances=CASH, maker_fee=CFG.maker_fee,
                       taker_fee=CFG.taker_fee)
    journal = Journal(tmp / "journal.sqlite")
    client = PaperExecutionClient(venue, journal)
    routes = OrderRoutes(client, journal, 1)
    strat = EveryOrderTypeParity()
    clock = VirtualClock(slices[0][0] - 1)
    engine = Engine(strat, root, live_mode=True, clock=clock, brokerage=routes.client("s"))
    engine.strategy_id = "s"
    engine.client_id_prefix = "s-1-"
    engine.start_live()

    def pump() -> None:
        """The daemon's report consumer: each report journaled, then applied through the order manager, in
        order (what applying one sets off comes after the ones already waiting, as in leand/live/hotpath.py)."""
        while not client.reports.empty():
            r = client.reports.get_nowait()
            fresh = persist_report(journal, r)
            route = routes.routes.get(r.client_order_id)
            if route is not None and (fresh or not r.fill_quantity):
                apply_report(engine, route[1], r)

    for t, events in slices:
        nxt = clock.next_timer_ns
        if nxt is not None and nxt < t:
            clock.advance_to(t - 1)
        clock.set_time(t)
        # the paper data client: each quote reaches the venue's book first, then the strategy (whose handler's
        # reports are applied right after it); the fills the quote caused are pushed after it, each applied
        # with what it sets off before the next
        caused = [r for ev in events if ev.__class__ is QuoteTick and not ev.suspicious for r in client.match(ev)]
        engine.on_live_slice(t, events)
        pump()
        for r in caused:
            client.push([r])
            pump()
    statuses = {r["status"] for r in journal.intents()}
    assert statuses <= {"filled", "canceled", "rejected", "expired", "accepted", "partially_filled"}
    journal.close()
    venue.close()
    return strat


def test_backtest_and_live_stack_give_the_same_order_events(tmp_path: Path) -> None:
    root = data_root(tmp_path)
    bt, slices, instruments = backtest(root)
    lv = live(tmp_path, root, slices, instruments)
    # the strategy did what it is for: every type, fills, updates, cancels and emulated triggers
    types = {e[2] for e in bt.events}
    assert types >= {"market", "limit", "stop_market", "stop_limit", "trailing_stop", "limit_if_touched",
                     "market_on_open", "market_on_close"}, types
    assert {e[3] for e in bt.events} >= {"submitted", "accepted", "filled", "canceled", "pending_cancel"}
    assert {e[10] for e in bt.events} >= {"EMULATED", "EMULATED_TRIGGERED"}
    assert any(e[2] == "market_on_open" and e[3] == "filled" for e in bt.events)
    assert any(e[2] == "market_on_close" and e[3] == "filled" for e in bt.events)
    assert len(bt.events) == len(lv.events)
    for i, (a, b) in enumerate(zip(bt.events, lv.events, strict=True)):
        assert a == b, f"event {i} differs:\nbacktest {a}\nlive     {b}"


def test_leand_backtest_venue_paper_is_that_backtest(tmp_path: Path) -> None:
    """``leand backtest --venue paper`` runs the same path: the same events; a venue leand cannot simulate, or
    none of that name, is one clear error."""
    import pytest

    from leand.backtest.runner import BacktestError, run_backtest

    root = data_root(tmp_path)
    bt, _, _ = backtest(root)
    engine, result = run_backtest(HERE / "parity_strategy.py", data_dir=root, venue="paper")
    assert engine.strategy.events == bt.events  # type: ignore[attr-defined]
    with pytest.raises(BacktestError, match="cannot simulate"):
        run_backtest(HERE / "parity_strategy.py", data_dir=root, venue="binance")
    with pytest.raises(BacktestError, match="unknown venue kind 'nope'"):
        run_backtest(HERE / "parity_strategy.py", data_dir=root, venue="nope")
