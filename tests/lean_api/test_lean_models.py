"""LEAN's model interfaces a strategy subclasses (fee, slippage, partial fills) and .NET's seeded Random."""

from __future__ import annotations

from pathlib import Path

import pytest

from leand.algorithm_imports import (
    CashAmount,
    FeeModel,
    FillModel,
    OrderFee,
    OrderStatus,
    OrderType,
    QCAlgorithm,
    Random,
    Resolution,
    SecurityType,
    SubmitOrderRequest,
)
from leand.engine import Engine

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"


def test_dotnet_random_matches_system_random() -> None:
    # the first Next() of System.Random(seed) as .NET prints it
    assert Random(1).next() == 534011718
    assert Random(0).next() == 1559595546
    assert Random(42).next() == 1434747710
    r = Random(7)
    draws = [r.next(0, 10) for _ in range(1000)]
    assert min(draws) == 0 and max(draws) == 9
    assert 0.0 <= Random(3).next_double() < 1.0
    with pytest.raises(ValueError):
        Random(3).next(5, 2)


class HalfFee(FeeModel):
    def get_order_fee(self, parameters):
        return OrderFee(CashAmount(0.5 * parameters.order.absolute_quantity, "USD"))


class CentSlippage:
    def get_slippage_approximation(self, asset, order):
        return 0.01


class TenAtATime(FillModel):
    def market_fill(self, asset, order):
        fill = super().market_fill(asset, order)
        remaining = abs(order.quantity) - abs(order.filled_quantity)
        fill.fill_quantity = min(10, remaining) * (1 if order.quantity > 0 else -1)
        fill.status = OrderStatus.FILLED if remaining <= 10 else OrderStatus.PARTIALLY_FILLED
        return fill


class Models(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        sec = self.add_equity("SPY", Resolution.MINUTE)
        self.spy = sec.symbol
        sec.set_fee_model(HalfFee())
        sec.set_slippage_model(CentSlippage())
        sec.set_fill_model(TenAtATime())
        self.events = []
        self.asks = []
        self.ticket = None

    def on_data(self, data):
        if self.ticket is None:
            self.ticket = self.market_order(self.spy, 25, asynchronous=True)
            self.placed_at = self.time

    def on_order_event(self, event):
        if event.fill_quantity:
            self.events.append((self.time, event.fill_quantity, event.fill_price, event.order_fee))
            self.asks.append(self.securities[self.spy].cache.ask_price)


def test_fee_slippage_and_partial_fills_as_lean() -> None:
    e = Engine(Models(), DATA)
    e.run()
    s = e.strategy
    times = [t for t, *_ in s.events]
    # LEAN scans twice per time step: two partial fills right after on_data returns, the rest at the next one
    assert [q for _, q, _, _ in s.events] == [10, 10, 5]
    assert times[0] == times[1] == s.placed_at and times[2] > s.placed_at
    # the fee model is asked once, for the whole order, on the fill that completes it (LEAN)
    fees = [e.order_manager.fills[i].fee for i in range(3)]
    assert fees == [0.0, 0.0, 12.5]
    # the slippage model's amount is added against the order
    assert [p for _, _, p, _ in s.events] == pytest.approx([a + 0.01 for a in s.asks])
    assert s.ticket.status is OrderStatus.FILLED


class LitRequest(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.ticket = None
        self.events = []

    def on_data(self, data):
        if self.ticket is None:
            px = data[self.spy].price
            # a sell whose trigger is already below the price: armed by the next bar, filled at the bid
            self.ticket = self.transactions.add_order(SubmitOrderRequest(
                OrderType.LIMIT_IF_TOUCHED, SecurityType.EQUITY, "SPY", -5, 0, px - 1, px - 0.5, self.utc_time,
                "lit"))
            self.zero = self.ticket.update_quantity(0)
            self.events_after_zero = len(self.events)

    def on_order_event(self, event):
        self.events.append(event)
        if event.fill_quantity:
            self.bid_at_fill = self.securities[self.spy].cache.bid_price


def test_submit_order_request_and_limit_if_touched_as_lean() -> None:
    e = Engine(LitRequest(), DATA)
    e.run()
    s = e.strategy
    assert s.ticket.order_type is OrderType.LIMIT_IF_TOUCHED and s.ticket.tag == "lit"
    # LEAN refuses a zero-quantity update with an error response and no order event; the order keeps -5
    assert s.zero.is_error and s.events_after_zero == 1 and s.ticket.quantity == -5
    fill = next(ev for ev in s.events if ev.fill_quantity)
    assert fill.fill_quantity == -5 and fill.fill_price == pytest.approx(s.bid_at_fill)
    assert " TriggerPrice: $" in str(fill) and f"EventID: {len(s.events)}" in str(fill)
