"""Indicators through the strategy API: helpers for any registry name, named selectors, warm-up from history,
auto-updates from the subscription."""

from __future__ import annotations

from pathlib import Path

import pytest

from leand import Resolution, Strategy
from leand.engine import Engine, EngineError

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"


class Uses(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 8)
        self.set_end_date(2013, 10, 8)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.warm = self.sma(self.spy, 10, warm_up=True)
        self.ready_at_start = self.warm.is_ready
        self.history_closes = [b.close for b in self.history(self.spy, 10)]
        self.start_value = self.warm.value
        self.mid = self.ema(self.spy, 5, selector="hl2")
        self.kama = self.kama(self.spy, 10)  # any registry name is a helper
        self.bars = []

    def on_data(self, data):
        bar = data.bars.get(self.spy)
        if bar is not None:
            self.bars.append(bar)


def test_helpers_selectors_and_warm_up():
    s = Uses()
    Engine(s, DATA).run()
    assert s.ready_at_start
    assert s.start_value == pytest.approx(sum(s.history_closes) / 10)
    # the hl2 EMA saw exactly the bars the strategy saw, as (high + low) / 2
    from leand.indicators import EMA
    ref = EMA(5)
    for b in s.bars:
        ref.update(b.end_time, (b.high + b.low) / 2)
    assert s.mid.samples == len(s.bars) and s.mid.value == pytest.approx(ref.value, rel=1e-12)
    assert s.kama.is_ready and s.warm.samples == 10 + len(s.bars)


class BadSelector(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 8)
        self.set_end_date(2013, 10, 8)
        spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.sma(spy, 10, selector="mid-ish")


def test_unknown_selector_is_a_clear_error():
    with pytest.raises(EngineError, match="unknown selector 'mid-ish'"):
        Engine(BadSelector(), DATA).run()
