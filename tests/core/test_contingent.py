"""Brackets and one-cancels-other pairs in a backtest: the exits are armed when the entry fills, the first
exit to fill cancels the other, and an impossible bracket is an invalid ticket, not an exception."""

from __future__ import annotations

from pathlib import Path

from leand import OrderStatus, Resolution, Strategy
from leand.engine import Engine

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"
S = OrderStatus


class Bracketed(Strategy):
    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 8)
        self.set_cash(100_000)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.bracket = None
        self.oco = None
        self.events: list = []

    def on_data(self, data) -> None:
        if self.bracket is None:
            px = self.securities[self.spy].price
            self.bracket = self.bracket_order(self.spy, 10, take_profit=round(px + 0.3, 2),
                                              stop_loss=round(px - 0.3, 2), tag="b")
            assert self.bracket.entry.status is S.FILLED and self.bracket.take_profit is not None
            self.bad = self.bracket_order(self.spy, 10, take_profit=px - 1, stop_loss=px + 1)
            a = self.limit_order(self.spy, 5, round(px - 0.4, 2))
            b = self.limit_order(self.spy, 5, round(px - 0.6, 2))
            assert self.one_cancels_other(a, b)
            self.oco = (a, b)

    def on_order_event(self, event) -> None:
        self.events.append(event)


def test_bracket_exits_cancel_each_other_and_oco_pairs_work_in_a_backtest() -> None:
    e = Engine(Bracketed(), DATA)
    e.run()
    s = e.strategy
    b = s.bracket
    exits = [b.take_profit, b.stop_loss]
    assert sorted(t.status for t in exits) == [S.CANCELED, S.FILLED]
    assert all(t.quantity == -10 for t in exits)
    filled = next(t for t in exits if t.status is S.FILLED)
    other = next(t for t in exits if t is not filled)
    ev = [x for x in s.events if x.order_id == other.order_id]
    assert ev[-1].status is S.CANCELED and "OCO" in ev[-1].message
    assert s.bad.entry.status is S.INVALID and s.bad.take_profit is None  # an invalid ticket that says why
    assert "wrong sides" in s.bad.entry.submit_request.response.error_message
    a, c = s.oco
    assert {a.status, c.status} <= {S.FILLED, S.CANCELED, S.SUBMITTED}
    assert not (a.status is S.FILLED and c.status is S.FILLED)
    assert e.portfolio.securities[s.spy].holdings.quantity == sum(t.quantity_filled for t in (a, c))


class Waiting(Strategy):
    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.set_cash(100_000)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.seen: list = []

    def on_data(self, data) -> None:
        if not self.seen:
            px = self.securities[self.spy].price
            self.far = self.bracket_order(self.spy, 1, take_profit=px + 1, stop_loss=px - 20, entry_limit=px - 10)
            self.now = self.bracket_order(self.spy, 1, take_profit=px + 0.3, stop_loss=px - 0.3)  # armed at once
        now = self.now
        live = any(t.status.is_open for t in (now.take_profit, now.stop_loss) if t is not None)
        self.seen.append((self.transactions.get_bracket_tickets(), live))


def test_bracket_tickets_are_every_live_bracket() -> None:
    """``transactions.get_bracket_tickets()``: every live bracket, as the very tickets bracket_order gave (how a
    restarted daemon's strategy gets back the brackets it restored): one waiting for its entry, and one armed
    while an exit of it is open; once both its exits have closed it is done and no longer listed."""
    e = Engine(Waiting(), DATA)
    e.run()
    s = e.strategy
    assert s.now.armed and not s.far.armed
    assert all(w == ([s.far, s.now] if live else [s.far]) for w, live in s.seen)
    assert any(live for _, live in s.seen) and not s.seen[-1][1]  # armed and listed, then done and gone
