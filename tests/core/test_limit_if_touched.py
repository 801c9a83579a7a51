"""Limit-if-touched in a backtest: armed when the price touches the trigger, then a limit order."""

from __future__ import annotations

from pathlib import Path

from leand import OrderStatus, Resolution, Strategy
from leand.engine import Engine

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"


class Touch(Strategy):
    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 8)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.t = None
        self.events: list = []

    def on_data(self, data) -> None:
        if self.t is None:
            px = self.securities[self.spy].price
            self.trigger, self.limit = round(px - 0.5, 2), round(px - 0.4, 2)
            self.t = self.limit_if_touched_order(self.spy, 10, self.trigger + 0.05, self.limit)
            assert self.t.update(trigger_price=self.trigger)
            assert not self.limit_order(self.spy, 1, px - 5).update(trigger_price=1.0)  # not a LIT order

    def on_order_event(self, event) -> None:
        self.events.append(event)


def test_limit_if_touched_fills_at_or_better_than_its_limit_after_the_touch() -> None:
    e = Engine(Touch(), DATA)
    e.run()
    s = e.strategy
    o = s.t.order
    assert o.trigger_price == s.trigger
    assert o.status is OrderStatus.FILLED and o.average_fill_price <= s.limit
    assert any(ev.code == "INVALID_UPDATE" for ev in s.events)
