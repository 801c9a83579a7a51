"""The loop hands the previous step's Slice object over again when nothing kept it (leand.engine.loop): a
handler that keeps its slices, or what it read of them, must still hold exactly what it was given, on the
columnar bar path and on the general path alike."""

from __future__ import annotations

import copy
import pickle
import shutil
from pathlib import Path

import pytest

from leand import Resolution, Strategy
from leand.engine import Engine

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"


class Keeper(Strategy):
    """Keeps some slices whole, some of their ``bars`` views, reads the data of others and ignores the rest;
    notes what each kept thing showed when it was given."""

    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 8)
        self.set_cash(100_000)
        self.spy = self.add_equity("SPY", Resolution.SECOND, fill_forward=False).symbol
        self.n = 0
        self.kept: list[tuple] = []  # (slice, what it showed)
        self.views: list[tuple] = []  # (data.bars, what it held)
        self.read: list[tuple] = []
        self.copies: list[tuple] = []  # (copy.copy, copy.deepcopy or a pickled round trip, what it showed)
        self.ids: set[int] = set()
        self.untouched = 0

    @staticmethod
    def _show(data) -> tuple:
        bar = data[data.keys()[0]]
        return data.time, len(data), bar.end_time, bar.open, bar.high, bar.low, bar.close, bar.volume

    def on_data(self, data) -> None:
        self.n += 1
        if self.n % 1_000 == 0:
            self.kept.append((data, self._show(data)))
        elif self.n % 777 == 0:
            bars = data.bars
            self.views.append((bars, {s: (b.end_time, b.close) for s, b in bars.items()}))
        elif self.n % 555 == 0:
            kind = self.n // 555 % 3
            other = copy.copy(data) if kind == 0 else copy.deepcopy(data) if kind == 1 else \
                pickle.loads(pickle.dumps(data))
            self.copies.append((other, self._show(data)))
        elif self.n % 3 == 0:
            self.read.append(self._show(data))
        elif self.n > 100:
            self.ids.add(id(data))
            self.untouched += 1


@pytest.fixture(scope="module")
def trades_only(tmp_path_factory) -> Path:
    """The shipped SPY second trades without their quotes (one stream: the columnar bar path)."""
    root = tmp_path_factory.mktemp("lean")
    for sub in ("market-hours", "symbol-properties", "equity/usa/factor_files", "equity/usa/map_files"):
        shutil.copytree(DATA / sub, root / sub)
    out = root / "equity/usa/second/spy"
    out.mkdir(parents=True)
    for f in (DATA / "equity/usa/second/spy").glob("*_trade.zip"):
        shutil.copy(f, out / f.name)
    return root


def _run(root: Path, in_place: bool) -> Keeper:
    strategy = Keeper()
    engine = Engine(strategy, root)
    engine.columnar_bars = in_place
    engine.run()
    return strategy


@pytest.mark.parametrize("in_place", [True, False])
def test_kept_slices_and_views_hold_what_they_were_given(trades_only: Path, in_place: bool) -> None:
    s = _run(trades_only, in_place)
    assert s.n > 30_000 and len(s.kept) > 30 and len(s.views) > 30
    for sl, shown in s.kept:
        assert Keeper._show(sl) == shown
    assert len({id(sl) for sl, _ in s.kept}) == len(s.kept)  # each kept slice is its own object
    for bars, held in s.views:
        assert {sym: (b.end_time, b.close) for sym, b in bars.items()} == held
    assert len(s.copies) > 30
    for other, shown in s.copies:  # a copy of the slice holds its row, as the slice would
        assert Keeper._show(other) == shown
    times = [shown[0] for _, shown in s.kept]
    assert times == sorted(times) and len(set(times)) == len(times)
    # the slices nobody kept were one object handed over again, not one per step
    assert s.untouched > 10_000 and len(s.ids) < 50


def test_reuse_shows_the_same_data_on_both_paths(trades_only: Path) -> None:
    a, b = _run(trades_only, True), _run(trades_only, False)
    assert [x for _, x in a.kept] == [x for _, x in b.kept]
    assert a.read == b.read
    assert [h for _, h in a.views] == [h for _, h in b.views]
    assert [x for _, x in a.copies] == [x for _, x in b.copies]
