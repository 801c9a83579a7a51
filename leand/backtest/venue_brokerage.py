"""A backtest that matches in a simulated venue: the venue's own code (the paper venue is the simulator's L3 book)
and the order manager's emulation of what it lacks, exactly as the daemon runs them, on recorded quotes.

This is the backtest's fill model for quote data when the question is "what would the live stack have done":
the same venue, the same emulation, and the venue's reports applied in the same places as the daemon applies
them (``leand/live/hotpath.py``, ``adapters/paper/data.py``): the venue's book sees a slice's quotes before the
strategy does; what the strategy's handler sends (and what the emulation triggers on the slice) is answered
right after the handler, in order; then the fills the quotes caused, each followed by what it set off (a
bracket's exits, say), as the paper data client pushes them after the quote. So a strategy's order
events in this backtest are those of ``leand run`` on the paper venue fed the same quotes
(``tests/parity/``). The default backtest keeps LEAN's bar and quote fill models (``leand.orders.fills``):
LEAN's regressions pin them, and they fill on bars, which no venue matches.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from leand.model import ExecReport, Instrument, Order, QuoteTick, Symbol, UpdateRequest
from leand.orders.emulation import EmulatingClient
from leand.venue import Capabilities, SimulatedVenue

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.slice import Slice

#: (instruments, starting balances) -> the venue: a registration's ``simulate`` with its config bound
VenueFactory = Callable[[dict[Symbol, Instrument], dict[str, float]], SimulatedVenue]


class _Entry:
    """The simulated venue seen through the venue boundary's order-entry surface; its answers wait in
    ``pending`` for the brokerage to apply them."""

    def __init__(self, owner: VenueBrokerage) -> None:
        self.owner = owner
        self.capabilities = Capabilities()
        self.pending: deque[ExecReport] = deque()
        self.reports = self

    def put_nowait(self, r: ExecReport) -> None:
        self.pending.append(r)

    def submit(self, order: Order, now_ns: int) -> None:
        self.owner.routes[order.client_order_id] = order
        self.pending.extend(self.owner.sim.submit(
            order.client_order_id, order.symbol, order.quantity, order.type.value, order.limit_price, now_ns,
            stop_price=order.stop_price, trailing_amount=order.trailing_amount,
            trailing_as_percentage=order.trailing_as_percentage, time_in_force=order.time_in_force.value))

    def cancel(self, order: Order, now_ns: int) -> None:
        self.pending.append(self.owner.sim.cancel(order.client_order_id, now_ns))

    def modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        self.pending.extend(self.owner.sim.modify(order.client_order_id, update.quantity, update.limit_price,
                                                  now_ns, stop_price=update.stop_price,
                                                  trailing_amount=update.trailing_amount))


class VenueBrokerage(EmulatingClient):
    """The engine's execution client in a venue backtest (``Engine(brokerage=VenueBrokerage.factory(...))``):
    the emulation in front of the simulated venue (``sim``), as the daemon's journaled client is in front of
    the live one."""

    name = "venue"

    def __init__(self, engine: Engine, make_venue: VenueFactory) -> None:
        self.entry = _Entry(self)
        super().__init__(engine, self.entry)
        self._make_venue = make_venue
        self._sim: SimulatedVenue | None = None
        #: client order id -> order, for the venue's reports
        self.routes: dict[str, Order] = {}
        #: the fills the slice's quotes caused, applied after the strategy's handler (as live)
        self.quote_reports: deque[ExecReport] = deque()
        engine.after_data.append(self._after_handler)

    @classmethod
    def factory(cls, make_venue: VenueFactory) -> Callable[[Engine], VenueBrokerage]:
        return lambda engine: cls(engine, make_venue)

    @property
    def sim(self) -> SimulatedVenue:
        """The simulated venue, opened at first use on the strategy's securities and its cash then."""
        if self._sim is None:
            e = self.engine
            cb = e.portfolio.cash_book
            self._sim = v = self._make_venue({s: sec.instrument for s, sec in e.securities.items()},
                                             {c: cb[c].amount for c in cb})
            self.entry.capabilities = Capabilities(order_types=v.order_types, time_in_force=v.time_in_force,
                                                   modify=True, async_cancel=True)
        return self._sim

    @property
    def venue_name(self) -> str:
        return type(self.sim).__name__

    def _submit(self, order: Order, now_ns: int) -> None:
        self.routes[order.client_order_id] = order
        _ = self.sim  # opened, so the entry's capabilities are the venue's
        super()._submit(order, now_ns)

    def async_cancel(self, order: Order) -> bool:
        """A cancel is answered when the reports are applied (after the handler), as live."""
        return True

    # -- data and reports ----------------------------------------------------------------------------------
    def on_slice(self, t: int, events: tuple) -> None:
        """The venue's book sees the slice's quotes before the strategy; their fills wait for its handler."""
        self.apply_reports()  # a slice the strategy did not see (internal data) left some: they go first
        v = self.sim
        for ev in events:
            if ev.__class__ is QuoteTick and not ev.suspicious:
                self.quote_reports.extend(v.on_quote(ev))

    def _after_handler(self, _sl: Slice) -> None:
        self.apply_reports()

    def apply_reports(self) -> None:
        """The answers to what the handler sent, in order (with what they set off); then each fill the quotes
        caused, followed by what it set off; all through the order manager's one path."""
        self._answer()
        quote_reports = self.quote_reports
        while quote_reports:
            self._apply(quote_reports.popleft())
            self._answer()

    def _answer(self) -> None:
        pending = self.entry.pending
        while pending:
            self._apply(pending.popleft())

    def _apply(self, r: ExecReport) -> None:
        order = self.routes.get(r.client_order_id)
        if order is not None:
            self.engine.order_manager.apply_report(order, r)
