"""What a venue tells its client: execution reports and its view of an order.

These are the wire-neutral Structs every venue adapter produces and the daemon journals; they live in the
model so that adapters, the simulator and the daemon share them without importing one another.
"""

from __future__ import annotations

import msgspec

from leand.model.enums import OrderStatus, ReportKind


class ExecReport(msgspec.Struct, kw_only=True, frozen=True):
    """What a venue tells its client about one order, in leand's terms: every venue adapter turns its wire
    messages into these, and the order manager applies them through one path.

    ``status`` is the order's status at the venue after this report; a fill report has ``fill_quantity`` set
    (signed like the order). ``kind`` tells an answer to a cancel or update request from a status report.
    """

    client_order_id: str
    status: OrderStatus
    symbol: str
    time_ns: int
    kind: ReportKind = ReportKind.STATUS
    venue_order_id: int = 0
    fill_id: int = 0
    fill_quantity: float = 0.0
    fill_price: float = 0.0
    fee: float = 0.0
    fee_currency: str = ""
    liquidity: str = ""
    reason: str = ""
    #: an accepted update's new values (None: unchanged)
    quantity: float | None = None
    limit_price: float | None = None
    stop_price: float | None = None


#: the reason prefix of a report that refuses a cancel: an event for the order, not a new status
CANCEL_REJECTED = "CANCEL_REJECTED"


class VenueOrder(msgspec.Struct, kw_only=True):
    """An order as the venue holds it (signed quantities, as leand's)."""

    client_order_id: str
    venue_order_id: int
    symbol: str
    quantity: float
    type: str
    limit_price: float | None
    status: OrderStatus
    filled: float
