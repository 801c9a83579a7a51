"""LEAN's order-ticket, transactions and order-event API (issue 20), on one day of SPY minute data."""

from __future__ import annotations

from pathlib import Path

from leand import OrderStatus, OrderType, Resolution, Strategy
from leand.engine import Engine
from leand.tickets import OrderField, UpdateOrderFields

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"


def run(strategy: Strategy) -> Engine:
    e = Engine(strategy, DATA)
    e.run()
    return e


class TicketApi(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.events = []
        self.done = False

    def on_data(self, data):
        if self.done:
            return
        self.done = True
        px = self.securities["SPY"].price
        self.invalid = self.market_order("NOPE", 1)
        self.limit = self.limit_order(self.spy, 10, round(px * 0.9, 2))
        self.update_resp = self.limit.update(UpdateOrderFields(limit_price=round(px * 0.8, 2), quantity=20))
        self.limit_after_update = self.limit.get(OrderField.LIMIT_PRICE)
        self.open_tickets = list(self.transactions.get_open_order_tickets())
        self.remaining = self.transactions.get_open_orders_remaining_quantity(self.spy)
        self.cancel_resp = self.limit.cancel()
        self.cancel_again = self.limit.cancel()
        self.tag_resp = self.limit.update(UpdateOrderFields(tag="after cancel"))
        self.trail = self.trailing_stop_order(self.spy, -5, 1.5, False)
        self.trail_update = self.trail.update(UpdateOrderFields(trailing_amount=2.5))
        self.bought = self.buy(self.spy, 3)
        self.sold = self.sell("SPY", 1)
        self.async_ticket = self.market_order(self.spy, 2, asynchronous=True)
        self.async_status_at_return = self.async_ticket.status

    def on_order_event(self, event):
        self.events.append(event)


def test_tickets_requests_responses_and_transactions() -> None:
    e = run(TicketApi())
    s = e.strategy
    # refused before it became an order: an invalid ticket with the reason, not None; no order recorded
    assert s.invalid.status is OrderStatus.INVALID and s.invalid.order_id == 0
    assert "NOPE" in s.invalid.submit_request.response.error_message and s.invalid.submit_request.response.is_error
    # update with UpdateOrderFields, read back with get(OrderField); update_requests kept
    assert s.update_resp.is_success and s.limit_after_update == s.limit.order.limit_price
    assert s.limit.quantity == 20 and len(s.limit.update_requests) == 2
    assert s.limit.update_requests[0].response.is_success
    assert s.remaining == 20 and [t.order_id for t in s.open_tickets] == [s.limit.order_id]
    # cancel returns a response; a second cancel is an error; a closed order's tag may still change (LEAN)
    assert s.cancel_resp.is_success and s.cancel_again.is_error and s.tag_resp.is_success
    assert s.limit.status is OrderStatus.CANCELED and s.limit.tag == "after cancel"
    # trailing stop in LEAN's argument order; trailing amount updated
    assert s.trail.order_type is OrderType.TRAILING_STOP and s.trail.get(OrderField.TRAILING_AMOUNT) == 2.5
    assert s.bought.quantity == 3 and s.sold.quantity == -1 and s.sold.status is OrderStatus.FILLED
    assert s.limit.time.year == 2013
    # asynchronous: the call returns before the fill; as in LEAN, the fill comes when the handler has returned,
    # in the same time step (LEAN's scan after OnData), not with the next data
    assert s.async_status_at_return is OrderStatus.SUBMITTED and s.async_ticket.status is OrderStatus.FILLED
    fill = next(ev for ev in s.events if ev.order_id == s.async_ticket.order_id and ev.fill_quantity)
    assert fill.time == s.async_ticket.order.created_time
    assert s.events.index(fill) > s.events.index(next(ev for ev in s.events if ev.order_id == s.sold.order_id
                                                         and ev.fill_quantity))
    # transactions: filters and counts
    t = s.transactions
    assert t.orders_count == 5
    assert [o.id for o in t.get_orders(lambda o: o.type is OrderType.LIMIT)] == [s.limit.order_id]
    assert [x.order_id for x in t.get_order_tickets(lambda x: x.order_type == OrderType.MARKET)] == [
        s.bought.order_id, s.sold.order_id, s.async_ticket.order_id]
    # order events carry the order's fields and the same ticket object
    ev = next(ev for ev in s.events if ev.order_id == s.limit.order_id)
    assert ev.ticket is s.limit and ev.quantity == 10 and ev.limit_price is not None and ev.stop_price is None


def test_order_event_prints_as_lean() -> None:
    s = run(TicketApi()).strategy
    fill = next(ev for ev in s.events if ev.order_id == s.bought.order_id and ev.status is OrderStatus.FILLED)
    text = str(fill)
    assert text.startswith(f"Time: 10/07/2013 13:31:00 OrderID: {s.bought.order_id} EventID: 2 Symbol: SPY "
                           "Status: Filled Quantity: 3 FillQuantity: 3 FillPrice: $")
    assert text.endswith("OrderFee: 1 USD")
