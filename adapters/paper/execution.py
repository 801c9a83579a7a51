"""The paper venue's execution client: orders to the in-process simulator's paper account, reports back on a
queue, and the account's own view for reconciliation after a restart."""

from __future__ import annotations

import msgspec

from leand.model import ExecReport, Order, QuoteTick, UpdateRequest
from leand.simulator.paper import PaperVenue
from leand.venue import Capabilities, OrderStore, ReportChannel, VenueView


class PaperExecutionClient:
    """One per paper account. The paper venue answers synchronously: a report is on the queue before
    ``submit``/``cancel`` return."""

    #: what the venue's book matches natively; limit-if-touched, market-on-open/close and DAY/GTD are emulated
    capabilities = Capabilities(order_types=PaperVenue.order_types, time_in_force=PaperVenue.time_in_force,
                                modify=True, async_cancel=False)

    def __init__(self, venue: PaperVenue, store: OrderStore) -> None:
        if venue.order_types != PaperVenue.order_types:  # configured to have fewer: the rest is emulated
            self.capabilities = msgspec.structs.replace(self.capabilities, order_types=venue.order_types)
        self.venue = venue
        self.store = store
        self.reports: ReportChannel = ReportChannel()
        self.sent = 0

    @property
    def inflight(self) -> int:
        return 0

    async def connect(self) -> None:
        """Nothing to connect: the venue is in this process."""

    async def close(self) -> None:
        self.venue.close()

    def push(self, reports: list[ExecReport]) -> None:
        for r in reports:
            self.reports.put_nowait(r)

    def on_quote(self, q: QuoteTick) -> None:
        """A quote reaches the venue's book; resting orders it crosses fill."""
        self.push(self.match(q))

    def match(self, q: QuoteTick) -> list[ExecReport]:
        """A quote reaches the venue's book; the reports of the resting orders it crosses, not yet pushed."""
        return self.venue.on_quote(q)

    def submit(self, order: Order, now_ns: int) -> None:
        self.push(self.venue.submit(order.client_order_id, order.symbol, order.quantity, order.type.value,
                                    order.limit_price, now_ns, stop_price=order.stop_price,
                                    trailing_amount=order.trailing_amount,
                                    trailing_as_percentage=order.trailing_as_percentage,
                                    time_in_force=order.time_in_force.value))
        self.sent += 1

    def cancel(self, order: Order, now_ns: int) -> None:
        self.push([self.venue.cancel(order.client_order_id, now_ns)])

    def modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        """Native: quantity, limit and stop price and trailing amount change in the venue's book; the venue
        answers at once (update accepted or rejected, and a fill if the new price crosses)."""
        self.push(self.venue.modify(order.client_order_id, update.quantity, update.limit_price, now_ns,
                                    stop_price=update.stop_price, trailing_amount=update.trailing_amount))

    def balances(self) -> dict[str, float]:
        return self.venue.balances()

    def reconcile(self) -> VenueView:
        """The account as the venue's store holds it: every fill after the journal's unbroken run of fill ids
        (not after its highest one: a fill journaled after a later one leaves a gap a crash can keep open; what
        the journal has past the gap comes again and is dropped by fill id), and every order the journal had
        open looked up by its client order id."""
        v = self.venue
        return VenueView(open_orders=v.open_orders(), fills=v.fills_since(self.store.fills_complete_through()),
                         orders={it["client_order_id"]: v.order_by_client_id(it["client_order_id"])
                                 for it in self.store.open_intents()},
                         balances=v.balances())
