"""What a venue tells its client: execution reports and its view of an order.

These are the wire-neutral Structs every venue adapter produces and the daemon journals; they live in the
model so that adapters, the simulator and the daemon share them without importing one another.
"""

from __future__ import annotations

import msgspec


class ExecReport(msgspec.Struct, kw_only=True, frozen=True):
    """What the venue tells its client about an order."""

    client_order_id: str
    status: str  # accepted | filled | partially_filled | canceled | rejected
    symbol: str
    time_ns: int
    venue_order_id: int = 0
    fill_id: int = 0
    fill_quantity: float = 0.0
    fill_price: float = 0.0
    fee: float = 0.0
    fee_currency: str = ""
    liquidity: str = ""
    reason: str = ""


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
    status: str
    filled: float
