"""A backtest on one symbol's trade bars consumes the day's columns in place (no TradeBar, tuple or Slice
contents unless read): the orders, fills, equity and indicator values must be exactly those of the general
path that builds every object."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from leand import Resolution, Strategy
from leand.engine import Engine
from leand.engine.loop import EventLoop
from leand.model import OrderStatus, TradeBar

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"


class Mixed(Strategy):
    """Close-only indicators (taken from the columns), a bar indicator (needs the TradeBar), reads of the
    slice and of the security's last bar, market and limit orders (fills read the bar), a consolidator
    registered part way (switches the rest of the day to the general path)."""

    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 8)
        self.set_cash(100_000)
        self.spy = self.add_equity("SPY", Resolution.SECOND, fill_forward=False).symbol
        self.fast = self.sma(self.spy, 10)
        self.slow = self.ema(self.spy, 30)
        self.atr = None
        self.n = 0
        self.seen: list[tuple] = []
        self.minutes: list[tuple] = []

    def on_data(self, data) -> None:
        self.n += 1
        if self.n == 5_000:
            self.atr = self.indicator("atr", self.spy, 14)  # a bar indicator from here on
        if self.n == 20_000:  # a consolidator from here on
            self.consolidate(self.spy, timedelta(minutes=1),
                             lambda bar: self.minutes.append((bar.end_time, bar.open, bar.high, bar.low, bar.close)))
        if self.n % 997 == 0:
            bar = data[self.spy]
            sec = self.securities[self.spy]
            self.seen.append((bar.time, bar.end_time, bar.open, bar.high, bar.low, bar.close, bar.volume,
                              sec.last_trade_bar.close, sec.high, sec.volume, self.fast.value, self.slow.value,
                              self.atr.value if self.atr else 0.0))
        if not self.slow.is_ready:
            return
        held = self.portfolio[self.spy].quantity
        if self.fast.value > self.slow.value and held == 0:
            self.market_order(self.spy, 100)
            self.limit_order(self.spy, -100, round(self.securities[self.spy].price + 0.02, 2))
        elif self.fast.value < self.slow.value and held > 0:
            self.liquidate(self.spy)


@pytest.fixture(scope="module")
def trades_only(tmp_path_factory) -> Path:
    """The shipped SPY second trades without their quotes (quotes would merge a second stream)."""
    root = tmp_path_factory.mktemp("lean")
    for sub in ("market-hours", "symbol-properties", "equity/usa/factor_files", "equity/usa/map_files"):
        shutil.copytree(DATA / sub, root / sub)
    out = root / "equity/usa/second/spy"
    out.mkdir(parents=True)
    for f in (DATA / "equity/usa/second/spy").glob("*_trade.zip"):
        shutil.copy(f, out / f.name)
    return root


def _run(root: Path, in_place: bool) -> tuple:
    strategy = Mixed()
    engine = Engine(strategy, root)
    if not in_place:
        engine.columnar_bars = False
    engine.run()
    orders = [(o.id, o.quantity, o.type, o.status, o.filled_quantity, o.average_fill_price, o.created_time)
              for o in engine.orders.values()]
    fills = [(f.order_id, f.time, f.quantity, f.price, f.fee) for f in engine.fills]
    return (orders, fills, engine.equity_samples, engine.daily_samples, strategy.seen, strategy.minutes,
            engine.data_points, strategy.fast.value, strategy.slow.value, strategy.atr.value)


def test_in_place_bars_give_exactly_the_general_paths_results(trades_only: Path, monkeypatch) -> None:
    rows = []
    real = EventLoop.bars_in_place
    monkeypatch.setattr(EventLoop, "bars_in_place", lambda self, times, batch: rows.append(len(times)) or
                        real(self, times, batch))
    a = _run(trades_only, True)
    assert sum(rows) > 20_000  # the in-place path ran (until the consolidator switched it off)
    rows.clear()
    b = _run(trades_only, False)
    assert not rows
    assert a[1] and a[4] and a[5]  # fills, slice reads and consolidated bars happened
    assert any(o[3] is OrderStatus.FILLED for o in a[0]) and any(o[3] is not OrderStatus.FILLED for o in a[0])
    assert a == b


class Pokes(Strategy):
    """SMAs of the close fed from the columns: every bar records what a handler can read of them, and now
    and then something looks into one (its window), changes it (an update, a reset), composes on it or
    registers another, each of which must give what the bar-by-bar path gives."""

    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 8)
        self.set_cash(100_000)
        self.spy = self.add_equity("SPY", Resolution.SECOND, fill_forward=False).symbol
        self.fast = self.sma(self.spy, 10)
        self.slow = self.sma(self.spy, 30)
        self.late = None
        self.ema_of = None
        self.n = 0
        self.fed_bars = 0
        self.trace: list[int] = []

    def on_data(self, data) -> None:
        from leand.indicators.fed import FedSMA

        self.n += 1
        n = self.n
        f, s = self.fast, self.slow
        self.fed_bars += type(f) is FedSMA
        read = (f.value, f.is_ready, f.samples, f.current.end_time, s.value, s.samples, float(s.current),
                self.late.value if self.late else None, self.ema_of.value if self.ema_of else None)
        self.trace.append(hash(read))
        if n == 3_000:
            self.trace.append(hash((f.window[0], f.window[1], s.window[1])))
        elif n == 9_000:
            f.update(data.time, 150.0)  # a manual update part way
        elif n == 14_000:
            s.reset()
        elif n == 20_000:
            self.late = self.sma(self.spy, 50)  # registered part way: warms up bar by bar, then fed
        elif n == 26_000:
            self.ema_of = self.ema(self.spy, 5).of(self.slow)  # composed on a fed SMA
        if s.is_ready and f.value > s.value and not self.portfolio.invested:
            self.market_order(self.spy, 10)
        elif s.is_ready and f.value < s.value and self.portfolio.invested:
            self.liquidate(self.spy)


def test_fed_indicators_show_the_bar_by_bar_values_at_every_bar(trades_only: Path) -> None:
    runs = []
    for in_place in (True, False):
        strategy = Pokes()
        engine = Engine(strategy, trades_only)
        engine.columnar_bars = in_place
        engine.run()
        fills = [(f.order_id, f.time, f.quantity, f.price) for f in engine.fills]
        w = strategy.fast.window
        runs.append((strategy.trace, fills, strategy.fast.samples, strategy.slow.samples, strategy.late.samples,
                     [w[i] for i in range(len(w))], strategy.fed_bars > 20_000, type(strategy.fast).__name__))
    a, b = runs
    assert a[6] and not b[6]  # the in-place run fed the SMAs from the columns most of the time
    assert a[1] and a[:6] == b[:6] and a[7] == b[7] == "SMA"


class Timers(Strategy):
    """Scheduled events between bars and at a bar's own time, and ones set by handlers (on_data, and
    on_order_event while resting orders are scanned) for the current instant and for a later bar: each must
    fire at the same step with the same state as on the general path."""

    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 8)
        self.set_cash(100_000)
        self.spy = self.add_equity("SPY", Resolution.SECOND, fill_forward=False).symbol
        self.fast = self.sma(self.spy, 10)
        self.n = 0
        self.log: list[tuple] = []
        # every 6.5 s: every other one falls on a bar's end time, the rest between two bars
        self.schedule.on(self.date_rules.every_day(), self.time_rules.every(timedelta(milliseconds=6500)),
                         lambda: self._note("every"))

    def _note(self, what: str) -> None:
        sec = self.securities[self.spy]
        bar = sec.last_trade_bar  # a timer before a day's first bar sees the day before's last
        self.log.append((what, self.time, self.n, sec.price, self.fast.value, sec.volume,
                         bar and (bar.end_time, bar.close, bar.volume)))

    def _at(self, when, what: str) -> None:
        self.schedule.on(self.date_rules.on(when.date()),
                         self.time_rules.at(when.hour, when.minute, when.second), lambda: self._note(what))

    def on_data(self, data) -> None:
        self.n += 1
        sec = self.securities[self.spy]
        if self.n % 1_100 == 0:  # a bar written by the handler stands for this bar only
            bar = sec.last_trade_bar
            sec.last_trade_bar = TradeBar(bar.symbol, bar.time, bar.end_time, 1.0, 2.0, 0.5, 1.5, 7.0)
            self._note("written")
        elif self.n % 1_100 == 1:
            self._note("after")
        if self.n % 1_500 == 0:
            self._at(self.time, "now")  # this instant: fires before the next bar
            self._at(self.time + timedelta(seconds=3), "later")  # a later bar's own time
        if self.n % 2_000 == 0 and not self.transactions.get_open_orders():
            price = self.securities[self.spy].price
            self.limit_order(self.spy, 10, round(price + 0.01, 2))  # fills in the scan of a later bar
            self.limit_order(self.spy, -10, round(price - 0.01, 2))

    def on_order_event(self, event) -> None:
        if event.status is OrderStatus.FILLED:
            self._at(self.time, "fill")  # set while the scan runs: due at this bar's time


def test_timers_fire_where_the_general_path_fires_them(trades_only: Path) -> None:
    runs = []
    for in_place in (True, False):
        strategy = Timers()
        engine = Engine(strategy, trades_only)
        engine.columnar_bars = in_place
        engine.run()
        runs.append((strategy.log, [(f.order_id, f.time, f.quantity, f.price) for f in engine.fills],
                     engine.equity_samples))
    a, b = runs
    kinds = {x[0] for x in a[0]}
    assert kinds == {"every", "now", "later", "fill", "written", "after"}
    assert a == b


def test_the_loop_copies_only_8_byte_number_columns_to_arrays_bit_for_bit() -> None:
    """``_rows`` iterates its columns as ``array.array`` copies: a float64 or int64 view is copied with the same
    bits (a NaN's, a -0.0's, an int near 2**63); anything else (another item size, a strided view, a list) is
    iterated as it is, never reinterpreted."""
    from array import array

    import numpy as np

    from leand.engine.loop import _array

    f = np.array([1.5, -0.0, np.nan, 1e300, 5e-324])
    a = _array(memoryview(f)[1:])
    assert isinstance(a, array) and a.typecode == "d" and a.tobytes() == f[1:].tobytes()
    n = np.array([1, -2, 2**63 - 1], dtype=np.int64)
    b = _array(memoryview(n))
    assert isinstance(b, array) and b.typecode == "q" and list(b) == [1, -2, 2**63 - 1]
    for other in (memoryview(np.array([1.5], dtype=np.float32)), memoryview(f)[::2],
                  memoryview(np.array([1, -2], dtype=np.int32)),
                  memoryview(np.array([1, 2], dtype=np.uint64)), [1.0, 2.0]):
        assert _array(other) is other
