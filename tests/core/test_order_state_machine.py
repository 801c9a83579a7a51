"""The order state machine: legal paths work, illegal moves raise, no sequence escapes a terminal state."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leand.model import TRANSITIONS, IllegalTransition, Order, OrderStatus, Symbol

SPY = Symbol.equity("SPY")
TERMINAL = {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}


def make(qty: float = 10.0) -> Order:
    return Order(id=1, symbol=SPY, quantity=qty)


def test_happy_path_with_partial_fills() -> None:
    o = make(10)
    o.transition(OrderStatus.SUBMITTED)
    o.transition(OrderStatus.ACCEPTED)
    o.apply_fill(4, 100.0)
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.remaining == 6
    o.apply_fill(6, 101.0)
    assert o.status is OrderStatus.FILLED
    assert o.average_fill_price == pytest.approx(100.6)


def test_update_request_returns_to_open_state() -> None:
    o = make()
    o.transition(OrderStatus.SUBMITTED)
    o.transition(OrderStatus.ACCEPTED)
    o.transition(OrderStatus.PENDING_UPDATE)
    o.transition(OrderStatus.ACCEPTED)
    o.transition(OrderStatus.PENDING_CANCEL)
    o.transition(OrderStatus.CANCELED)
    assert o.status.is_terminal


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
def test_terminal_states_have_no_exit(terminal: OrderStatus) -> None:
    for dst in OrderStatus:
        o = make()
        o.status = terminal
        with pytest.raises(IllegalTransition, match=f"{terminal.value} -> {dst.value}"):
            o.transition(dst)


def test_new_cannot_fill_before_submission() -> None:
    with pytest.raises(IllegalTransition):
        make().apply_fill(10, 1.0)


def test_overfill_and_wrong_side_fill_raise() -> None:
    o = make(10)
    o.transition(OrderStatus.SUBMITTED)
    with pytest.raises(ValueError, match="overfill"):
        o.apply_fill(11, 1.0)
    with pytest.raises(ValueError, match="does not match"):
        o.apply_fill(-1, 1.0)


@given(st.lists(st.sampled_from(list(OrderStatus)), max_size=30))
def test_no_event_sequence_reaches_an_illegal_state(seq: list[OrderStatus]) -> None:
    """Apply arbitrary requested moves: each is accepted only if the table allows it, and once terminal the
    order never moves again."""
    o = make()
    was_terminal = False
    for dst in seq:
        src = o.status
        if dst in TRANSITIONS[src]:
            o.transition(dst)
            assert not was_terminal
        else:
            with pytest.raises(IllegalTransition):
                o.transition(dst)
            assert o.status is src
        was_terminal = o.status in TERMINAL
    assert o.status in TRANSITIONS
