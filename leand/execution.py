"""Execution clients: the only way orders reach a venue, and only with the risk gate's approval.

``submit`` and ``modify`` are final: subclasses implement ``_submit`` / ``_modify`` / ``_cancel`` and cannot
override the public methods (``__init_subclass__`` refuses the class). The public methods spend the gate's
:class:`~leand.risk.gate.Approved` for exactly this order and these values, or raise ``UnapprovedOrderError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from leand.model import Fill, Order, Symbol, UpdateRequest
from leand.risk.gate import Approved, UnapprovedOrderError

if TYPE_CHECKING:
    from leand.engine import Engine

_FINAL = ("submit", "modify")


class ReconcileReport(msgspec.Struct, kw_only=True):
    """The venue's view after a (re)connect: open orders, fills since a point, balances."""

    open_orders: list[Order] = []
    fills: list[Fill] = []
    balances: dict[str, float] = {}
    positions: dict[str, float] = {}


class ExecutionClient:
    name = "execution"

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for name in _FINAL:
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__} may not override {name}(): implement _{name}() instead, so "
                                "every order keeps passing the risk gate")

    def submit(self, approved: Approved, order: Order, now_ns: int) -> None:
        if not isinstance(approved, Approved):
            raise UnapprovedOrderError(f"order {order.id}: submit needs the risk gate's approval, got "
                                       f"{type(approved).__name__}")
        approved.consume(order, "new")
        self._submit(order, now_ns)

    def modify(self, approved: Approved, order: Order, update: UpdateRequest, now_ns: int) -> None:
        if not isinstance(approved, Approved):
            raise UnapprovedOrderError(f"order {order.id}: modify needs the risk gate's approval")
        new = (update.quantity if update.quantity is not None else order.quantity,
               update.limit_price if update.limit_price is not None else order.limit_price,
               update.stop_price if update.stop_price is not None else order.stop_price)
        if new != (approved.quantity, approved.limit_price, approved.stop_price):
            raise UnapprovedOrderError(f"order {order.id}: the modification differs from what the gate approved")
        probe = msgspec.structs.replace(order, quantity=new[0], limit_price=new[1], stop_price=new[2])
        approved.consume(probe, "modify")
        self._modify(order, update, now_ns)

    def cancel(self, order: Order, now_ns: int) -> bool:
        """Cancels need no approval: they only ever reduce risk (the gate throttles them upstream)."""
        return self._cancel(order, now_ns)

    def reconcile(self) -> ReconcileReport:
        return ReconcileReport()

    def async_cancel(self, order: Order) -> bool:
        """True when a cancel of ``order`` is only a request (the venue confirms later, fills may still come):
        the engine then marks it pending-cancel instead of canceled. Live venues always are."""
        return False

    def on_venue_canceled(self, order: Order, now_ns: int) -> bool:
        """The venue canceled ``order``: True if this client takes it from there (a cancel-replace in progress),
        so the order stays open. Simulated brokerages modify in place and never need to."""
        return False

    def on_cancel_refused(self, order: Order) -> bool:
        """The venue refused to cancel ``order``: True if the cancel was this client's (a cancel-replace), so the
        strategy's update is what was refused."""
        return False

    def on_adopted(self, order: Order, now_ns: int) -> None:
        """``order`` is tracked again after a restart: a live client keeps its time in force from here (a DAY
        or GTD order whose time ran out while leand was down expires at the first step)."""

    def collect_oco(self, entry: Order) -> bool:
        """Start collecting the next two submits (``entry``'s exits, on its symbol) as one one-cancels-other
        pair, if the venue places such pairs natively (then :meth:`send_oco` sends them); False: submits go
        out one by one as usual."""
        return False

    def send_oco(self, entry: Order, now_ns: int) -> None:
        """Send what :meth:`collect_oco` collected (a pair as one venue order list; anything else one by one)."""

    def collect_otoco(self, symbol: Symbol) -> bool:
        """Start collecting the next three submits on ``symbol`` (a bracket's limit entry, take-profit and
        stop-loss) as one one-triggers-one-cancels-other list, if the venue places such lists natively (then
        :meth:`send_otoco` sends them); False: the bracket arms its exits itself when the entry fills."""
        return False

    def send_otoco(self, symbol: Symbol, now_ns: int) -> bool:
        """Send what :meth:`collect_otoco` collected: True when it went as one venue list; False when it could
        not (a leg refused before it was sent): the entry, if it was collected, then goes out alone and any
        collected exit is refused."""
        return False

    def venue_links(self, order: Order) -> bool:
        """True when the venue itself ends ``order`` once its one-cancels-other partner works (leand then does
        not cancel it, it waits for the venue's report)."""
        return False

    def on_update_answered(self, order: Order, accepted: bool) -> None:
        """The venue accepted or refused an update of ``order`` (a live client that replaced the venue order
        natively puts the old client order id back on a refusal)."""

    def on_linked(self, a: Order, b: Order) -> None:
        """Two orders now cancel each other (one-cancels-other): a live client journals it; simulated ones need
        nothing."""

    def on_bracket(self, entry: Order, take_profit: float, stop_loss: float, tag: str,
                   exits: tuple[Order, Order] | None = None) -> None:
        """A bracket now waits for ``entry`` to fill (``exits``: its exits, sent with it as one venue order list):
        a live client journals it, so a restart brings it back; simulated ones need nothing."""

    def on_bracket_armed(self, entry: Order) -> None:
        """``entry``'s bracket no longer waits: its exits are being placed (a live client journals it first, so a
        restart never arms them twice)."""

    def on_bracket_exits(self, entry: Order, take_profit: Order, stop_loss: Order) -> None:
        """``entry``'s bracket was armed with these exits: a live client journals them, so a restarted strategy
        gets the bracket back while either is open; simulated ones need nothing."""

    def async_modify(self, order: Order) -> bool:
        """True when an update of ``order`` is only a request the venue answers later (update accepted or
        rejected): the order keeps its values until then. Simulated brokerages apply updates at once."""
        return False

    def scan(self, now_ns: int) -> None:
        """Called on every slice with open orders. A real venue fills on its own; the simulated bar
        brokerage overrides this to match resting orders against the slice's data."""

    def end_of_step(self, now_ns: int) -> None:
        """Called after the strategy's handlers of a slice when orders are open: the simulated bar brokerage
        places the step's asynchronous orders and scans again, as LEAN does after ``OnData``."""

    # -- for subclasses ---------------------------------------------------------------------------------
    def _submit(self, order: Order, now_ns: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def _cancel(self, order: Order, now_ns: int) -> bool:  # pragma: no cover
        raise NotImplementedError


class OrderBookMarket(Protocol):
    """A simulated exchange that matches chosen symbols' orders in replayed order books (the backtest gives
    the engine one; see :mod:`leand.backtest.book_brokerage`). Each call returns the engine's brokerage from
    then on; a bad argument or recording raises ``ValueError`` or ``OSError``."""

    def use_order_book(self, engine: Engine, symbol: Symbol, *, queue: Any, latency: Any, maker_fee: float | None,
                       taker_fee: float | None, min_notional: float) -> ExecutionClient: ...

    def book_stream(self, symbol: Symbol, path: Path | Sequence[Path]) -> Callable[[int, int], Iterator[Any]]:
        """A factory for the feed: ``(start_ns, end_ns) -> chunks of events`` (several files: in time order)."""
        ...

    def feed_from_book(self, engine: Engine, symbol: Symbol) -> ExecutionClient: ...
