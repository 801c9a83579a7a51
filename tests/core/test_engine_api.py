"""Strategy API on real data: schedules in data time, warm-up, history, order tickets, clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from leand import OrderStatus, Resolution, Strategy
from leand.clock import VirtualClock
from leand.engine import Engine

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"


def run(strategy: Strategy) -> Engine:
    e = Engine(strategy, DATA)
    e.run()
    return e


def test_virtual_clock_fires_timers_at_their_own_times_in_order() -> None:
    clock = VirtualClock(0)
    seen = []
    clock.set_timer("every10", 10, lambda t: seen.append(("r", t, clock.now_ns())), start_ns=10, stop_ns=30)
    clock.set_time_alert("once", 25, lambda t: seen.append(("a", t, clock.now_ns())))
    clock.advance_to(40)
    assert seen == [("r", 10, 10), ("r", 20, 20), ("a", 25, 25), ("r", 30, 30)]
    assert clock.now_ns() == 40
    with pytest.raises(ValueError, match="interval must be positive"):
        clock.set_timer("bad", 0, lambda t: None)


class Scheduled(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.fired = []
        self.every = []
        self.schedule.on(self.date_rules.every_day(self.spy), self.time_rules.before_market_close(self.spy, 10),
                         lambda: self.fired.append(self.time))
        self.schedule.on(self.date_rules.every_day(self.spy), self.time_rules.at(10, 0),
                         lambda: self.every.append(self.time))


def test_schedules_fire_in_data_time() -> None:
    s = run(Scheduled()).strategy
    assert s.fired == [datetime(2013, 10, d, 15, 50) for d in range(7, 12)]
    assert s.every == [datetime(2013, 10, d, 10, 0) for d in range(7, 12)]


class WarmUp(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 8)
        self.set_end_date(2013, 10, 8)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.sma = self.sma(self.spy, 60)
        self.set_warm_up(60)
        self.ready_at_first_bar = None
        self.warm_orders = None

    def on_data(self, data):
        if self.is_warming_up:
            self.warm_orders = self.market_order(self.spy, 1)
            return
        if self.ready_at_first_bar is None:
            self.ready_at_first_bar = self.sma.is_ready
            self.hist = self.history(self.spy, 5)


def test_warm_up_readies_indicators_and_blocks_orders() -> None:
    e = run(WarmUp())
    s = e.strategy
    assert s.ready_at_first_bar is True
    assert s.warm_orders.status is OrderStatus.INVALID and not e.orders
    assert len(s.hist) == 5 and s.hist[-1].end_time <= e.daily_samples[0][0] + 10**15
    assert e.start_equity == 100_000


class Tickets(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.events = []
        self.t = None

    def on_data(self, data):
        if self.t is None:
            self.t = self.limit_order(self.spy, 10, 100.0)
            self.t.update(limit_price=101.0)
        elif self.t.status is OrderStatus.SUBMITTED:
            self.t.cancel("changed my mind")

    def on_order_event(self, ev):
        self.events.append(ev.status)


def test_ticket_update_and_cancel() -> None:
    e = run(Tickets())
    o = e.orders[1]
    assert o.limit_price == 101.0 and o.status is OrderStatus.CANCELED
    assert e.strategy.events == [OrderStatus.SUBMITTED, OrderStatus.SUBMITTED, OrderStatus.CANCELED]
