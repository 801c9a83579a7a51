"""Securities added and removed while a backtest runs: ``add_equity`` mid-run, LEAN's user-defined universe
(``add_universe(name, selector)``) and per-security ``on_end_of_day(symbol)`` events."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time
from pathlib import Path

from leand.algorithm_imports import QCAlgorithm, Resolution, Symbol
from leand.engine import Engine

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"


class AddsMidRun(QCAlgorithm):
    """Adds BAC at 12:00 on the first day, and drops it again at 12:00 on the third (through the security
    manager, as a universe removes one)."""

    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 9)
        self.add_equity("SPY", Resolution.MINUTE)
        self.seen: list[tuple[datetime, str]] = []
        self.bac: Symbol | None = None

    def on_data(self, data) -> None:
        for sym in data.bars:
            self.seen.append((self.time, sym.value))
        if self.bac is None and self.time.time() == time(12, 0):
            self.bac = self.add_equity("BAC", Resolution.MINUTE).symbol
        if self.bac is not None and self.time.day == 9 and self.time.time() == time(12, 0):
            self._engine.security_manager.remove_security(self.bac)


def test_a_security_added_mid_run_gets_its_data_from_the_next_bar_and_stops_when_removed() -> None:
    e = Engine(AddsMidRun(), DATA)
    e.run()
    seen = e.strategy.seen
    spy = [t for t, v in seen if v == "SPY"]
    bac = [t for t, v in seen if v == "BAC"]
    # SPY's minutes are all there, once each and in order, around the join
    assert len(spy) == len(set(spy)) == 3 * 390 and spy == sorted(spy)
    assert sorted(t for t, _ in seen) == [t for t, _ in seen]
    # BAC from the minute after it was added until the minute it was removed
    assert bac[0] == datetime(2013, 10, 7, 12, 1) and bac[-1] == datetime(2013, 10, 9, 12, 0)
    assert len(bac) == 390 - 151 + 390 + 151
    assert e.securities[e.strategy.bac].is_tradable is False


class Universe(QCAlgorithm):
    """LEAN's OnEndOfDayRegressionAlgorithm in small: a user-defined universe adds IBM on the 8th only."""

    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 10)
        self.add_universe("my_universe_name", self.selection)
        self.eod: list[tuple[datetime, str]] = []
        self.changes: list[tuple[datetime, list[str], list[str]]] = []
        self.asked: list[datetime] = []

    def selection(self, t: datetime) -> list[str]:
        self.asked.append(t)
        return ["SPY", "IBM"] if t.day == 8 else ["SPY"]

    def on_securities_changed(self, changes) -> None:
        self.changes.append((self.time, [s.symbol.value for s in changes.added_securities],
                             [s.symbol.value for s in changes.removed_securities]))

    def on_end_of_day(self, symbol) -> None:
        self.eod.append((self.time, symbol.value))
        if symbol.value == "SPY" and self.time.day == 7:
            self.add_equity("BAC")


def test_user_defined_universe_and_end_of_day_events_as_lean() -> None:
    e = Engine(Universe(), DATA)
    e.run()
    s = e.strategy
    # asked at the start, then every minute while the market is open
    assert s.asked[0] == datetime(2013, 10, 7)
    assert s.asked[1] == datetime(2013, 10, 7, 9, 30) and len(s.asked) == 1 + 4 * 390
    # on_end_of_day(symbol): 10 minutes before the close, from the day after a security is added (BAC was added
    # at the first day's event), and not once a universe removed it (IBM: in on the 8th, out on the 9th after its
    # minimum day in the universe)
    assert Counter(v for _, v in s.eod) == {"SPY": 4, "BAC": 3, "IBM": 1}
    assert {t.time() for t, _ in s.eod} == {time(15, 50)}
    assert [t.day for t, v in s.eod if v == "IBM"] == [8]
    # the changes reach the strategy with the next slice
    assert s.changes[0][1] == ["SPY"]
    assert [(c[0].day, c[1], c[2]) for c in s.changes[1:]] == [(8, ["IBM"], []), (9, [], ["IBM"])]
    assert e.security_manager.is_subscribed(Symbol.create("SPY", "equity", "usa"))


class InPlace(QCAlgorithm):
    """One symbol's trade bars only (the loop's in-place path): IBM is added by a scheduled event at 11:00:30
    (between two bars) and AIG from on_data at 12:00:00."""

    adds = True

    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.add_equity("SPY", Resolution.SECOND, fill_forward=False)
        if self.adds:
            self.schedule.on(self.date_rules.today, self.time_rules.at(11, 0, 30),
                             lambda: self.add_equity("IBM", Resolution.MINUTE))
        self.seen: dict[str, list[datetime]] = {}
        self.n = 0

    def on_data(self, data) -> None:
        self.n += 1
        for sym in data.bars:
            self.seen.setdefault(sym.value, []).append(self.time)
        if self.adds and self.time.time() == time(12, 0) and "AIG" not in self.seen:
            self.add_equity("AIG", Resolution.MINUTE)
            self.seen["AIG"] = []


def test_securities_join_the_in_place_path_at_their_time(tmp_path: Path) -> None:
    import shutil

    for sub in ("market-hours", "symbol-properties", "equity/usa/factor_files", "equity/usa/map_files",
                "equity/usa/minute/ibm", "equity/usa/minute/aig"):
        shutil.copytree(DATA / sub, tmp_path / sub)
    out = tmp_path / "equity/usa/second/spy"
    out.mkdir(parents=True)
    for f in (DATA / "equity/usa/second/spy").glob("20131007_trade.zip"):
        shutil.copy(f, out / f.name)
    alone = InPlace()
    alone.adds = False
    Engine(alone, tmp_path).run()
    e = Engine(InPlace(), tmp_path)
    e.run()
    seen = e.strategy.seen
    assert seen["SPY"] == alone.seen["SPY"]  # every SPY second, once, in order
    assert seen["IBM"][0] == datetime(2013, 10, 7, 11, 1) and len(seen["IBM"]) == 300
    assert seen["AIG"][0] == datetime(2013, 10, 7, 12, 1) and len(seen["AIG"]) == 240
