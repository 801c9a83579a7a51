"""The columnar bar loop compares one int per row (the clock's ``epoch``) instead of checking, one by one,
whether the strategy quit, a security was added or removed, a timer was set, a consolidator was registered, a
symbol got its first indicator or the fed indicators' run broke. Each of those, done from on_data, from on_order_event (while resting orders are
scanned, before the bar's indicators) and from a scheduled event (between bars, and at a bar's own time), must
give exactly what the general path gives: a change the epoch missed would run bars on stale state."""

from __future__ import annotations

import shutil
import zipfile
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from leand import Resolution, Strategy
from leand.clock import datetime_to_ns
from leand.engine import Engine
from leand.engine.loop import EventLoop
from leand.indicators.core import SMA
from leand.model import OrderStatus
from leand.scheduling import TimeRule

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"
DAY = datetime(2013, 10, 7)
NY = ZoneInfo("America/New_York")


class Folded(Strategy):
    """Does ``action`` once, from ``where``, part way through the first day; logs what each bar sees."""

    def __init__(self, action: str, where: str) -> None:
        super().__init__()
        self.action, self.where = action, where

    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 8)
        self.set_cash(100_000)
        self.spy = self.add_equity("SPY", Resolution.SECOND, fill_forward=False).symbol
        if self.action == "indicator":  # no indicator until the action registers the first ones
            self.fast, self.slow = SMA(10), SMA(30)
        else:
            self.fast = self.sma(self.spy, 10)
            self.slow = self.sma(self.spy, 30)
        self.n = 0
        self.done = False
        self.log: list[tuple] = []
        self.minutes: list[tuple] = []
        # one-shot events (a periodic one sets its next timer as it fires, which would move the epoch anyway):
        # between two bars (fires before the next bar's prices) and at a bar's own time (after its scan)
        if self.where == "between":
            self.schedule.on(self.date_rules.on(DAY.date()), TimeRule("11:00:00.5", lambda d: [
                datetime_to_ns(datetime.combine(d, time(11, 0, 0, 500_000), NY))]), self._act)
        elif self.where == "at_bar":
            self.schedule.on(self.date_rules.on(DAY.date()), self.time_rules.at(11, 30), self._act)

    def _act(self) -> None:
        if self.done:
            return
        self.done = True
        self.acted_at = self.time
        a = self.action
        if a == "quit":
            self.quit()
        elif a == "add":  # second bars: they join from the next second
            self.add_equity("QQQ", Resolution.SECOND, fill_forward=False)
        elif a == "timer":  # due at this instant (before the next bar's prices) and at a later bar's
            for what, ns in (("now", self.time_ns), ("later", self.time_ns + 3_000_000_000)):
                self.schedule.on(self.date_rules.on(self.time.date()), TimeRule(what, lambda d, ns=ns: [ns]),
                                 lambda what=what: self.log.append((what, self.time, self.n, self.fast.value)))
        elif a == "consolidate":
            self.consolidate(self.spy, timedelta(minutes=1),
                             lambda bar: self.minutes.append((bar.end_time, bar.open, bar.high, bar.low, bar.close)))
        elif a == "indicator":  # the symbol's first indicators (an EMA: bar by bar; SMAs: fed from the column)
            self.fast = self.ema(self.spy, 10)
            self.slow = self.sma(self.spy, 30)
        elif a == "order":  # a resting limit order opened part way: later bars' scans must fill it
            price = self.securities[self.spy].price
            self.opened = self.limit_order(self.spy, 10, round(price - 0.02, 2)).order_id
        elif a == "poke":  # looks into a fed SMA: it leaves the run, and this bar's update must still reach it
            self.log.append(("poke", self.fast.window[1], self.slow.window[1]))

    def on_data(self, data) -> None:
        self.n += 1
        self.log.append((self.time, self.n, self.securities[self.spy].price, self.fast.value, self.slow.value,
                         self.fast.samples, tuple(sorted(ev.symbol.value for ev in data))))
        if self.where == "data" and self.n == 6_000:
            self._act()
        if self.where == "order" and self.n == 6_000:
            price = self.securities[self.spy].price
            self.limit_order(self.spy, 10, round(price - 0.01, 2))  # fills in the scan of a later bar

    def on_order_event(self, event) -> None:
        if self.where == "order" and event.status is OrderStatus.FILLED:
            self._act()


@pytest.fixture(scope="module")
def lean_root(tmp_path_factory) -> Path:
    """The shipped SPY second trades (no quotes: one stream, so the in-place path runs), and the same bars as
    "QQQ" (for a security added part way)."""
    root = tmp_path_factory.mktemp("lean")
    for sub in ("market-hours", "symbol-properties", "equity/usa/factor_files", "equity/usa/map_files"):
        shutil.copytree(DATA / sub, root / sub)
    for sym in ("spy", "qqq"):
        (root / f"equity/usa/second/{sym}").mkdir(parents=True)
    for f in (DATA / "equity/usa/second/spy").glob("2013100[78]_trade.zip"):
        shutil.copy(f, root / "equity/usa/second/spy" / f.name)
        with zipfile.ZipFile(f) as z:
            name = z.namelist()[0]
            body = z.read(name)
        with zipfile.ZipFile(root / "equity/usa/second/qqq" / f.name, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(name.replace("spy", "qqq"), body)
    return root


def _run(root: Path, action: str, where: str, in_place: bool) -> tuple:
    strategy = Folded(action, where)
    engine = Engine(strategy, root)
    engine.columnar_bars = in_place
    engine.run()
    assert strategy.done
    if where == "at_bar":  # the event fell on a bar's own time
        assert any(x[0] == strategy.acted_at for x in strategy.log)
    fills = [(f.order_id, f.time, f.quantity, f.price) for f in engine.fills]
    # (a quit's data_points differ: the general path counts its whole batch, the in-place one the rows it ran)
    return (strategy.log, strategy.minutes, fills, engine.equity_samples,
            engine.data_points if action != "quit" else None,
            strategy.fast.value, strategy.fast.samples, strategy.slow.value)


@pytest.mark.parametrize("where", ["data", "order", "between", "at_bar"])
@pytest.mark.parametrize("action", ["quit", "add", "timer", "consolidate", "poke", "indicator", "order"])
def test_a_change_part_way_is_noticed_at_once(lean_root: Path, monkeypatch, action: str, where: str) -> None:
    rows = []
    real = EventLoop.bars_in_place
    monkeypatch.setattr(EventLoop, "bars_in_place", lambda self, times, batch: rows.append(len(times)) or
                        real(self, times, batch))
    a = _run(lean_root, action, where, True)
    assert rows  # the in-place path ran
    if action == "order":  # it rested (opened by a timer, on_data or on_order_event) and a later bar filled it
        assert len({f[0] for f in a[2]}) == (2 if where == "order" else 1)
    rows.clear()
    b = _run(lean_root, action, where, False)
    assert not rows
    assert a == b
