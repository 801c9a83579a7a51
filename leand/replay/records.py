"""What a recording holds: tagged msgspec Structs, one per frame, each with its receive time in nanoseconds.

A strategy's inputs are recorded exactly as its task consumed them (``Input``), so a replay can feed the same
sequence to the same code; decisions (intents, cancels, modifications), risk decisions, outbound requests,
execution reports, ctl commands and timer firings are recorded beside them for comparison and audit.

The per-message frames hold only scalars, bytes and the model's untracked events, so they cannot be part of a
reference cycle: ``gc=False`` keeps the garbage collector from tracking them (a replay holds every frame of a
session; the collector's full passes would walk all of them, during the load and the run).
"""

from __future__ import annotations

from typing import Any

import msgspec

from leand.model import QuoteTick, TradeTick


class Header(msgspec.Struct, tag="header", kw_only=True):
    session: str
    started_ns: int
    leand_version: str
    config: dict[str, Any]
    venues: list[str]
    symbols: list[str]


class StrategySource(msgspec.Struct, tag="strategy", kw_only=True):
    strategy: str
    class_name: str
    sha256: str
    source: str
    parameters: dict[str, Any]
    client_id_prefix: str
    starting_balances: dict[str, float]
    #: the account as restored from the journal when the session started (cash, positions, strategy state)
    restored: dict[str, Any] = {}
    start_ns: int = 0


class MarketData(msgspec.Struct, tag="mdq", gc=False):
    """An inbound quote: the decoded event (its ``time`` is the receive time) and, for network feeds, the raw
    payload as received."""

    recv_ns: int
    event: QuoteTick
    raw: bytes | None = None


class TradeData(msgspec.Struct, tag="mdt", gc=False):
    recv_ns: int
    event: TradeTick
    raw: bytes | None = None


class Report(msgspec.Struct, tag="report", kw_only=True, gc=False):
    """A venue execution report as the strategy received it (after it was journaled)."""

    recv_ns: int
    strategy: str
    client_order_id: str
    status: str
    kind: str = "status"
    fill_id: int = 0
    fill_quantity: float = 0.0
    fill_price: float = 0.0
    fee: float = 0.0
    fee_currency: str = ""
    liquidity: str = ""
    reason: str = ""


class Tick(msgspec.Struct, tag="tick", gc=False):
    """The strategy's clock advanced to ``recv_ns`` (timers due by then fire)."""

    recv_ns: int
    strategy: str
    fired: int = 0


class Slice(msgspec.Struct, tag="slice", gc=False):
    """Market data delivered to a strategy: indexes into the session's MarketData frames."""

    recv_ns: int
    strategy: str
    md_seq: int


class Decision(msgspec.Struct, tag="decision", kw_only=True, gc=False):
    recv_ns: int
    strategy: str
    kind: str  # submit | cancel | modify
    client_order_id: str
    symbol: str = ""
    quantity: float = 0.0
    order_type: str = ""
    limit_price: float | None = None
    stop_price: float | None = None
    time_in_force: str = ""
    tag: str = ""

    def key(self) -> tuple:
        """Equal keys = the same decision at the same input (receive time) with the same terms."""
        return (self.recv_ns, self.kind, self.client_order_id, self.symbol, self.quantity, self.order_type,
                self.limit_price, self.stop_price, self.time_in_force)


class RiskDecision(msgspec.Struct, tag="risk", kw_only=True, gc=False):
    recv_ns: int
    strategy: str
    client_order_id: str
    approved: bool
    code: str = ""
    message: str = ""


class Outbound(msgspec.Struct, tag="out", kw_only=True, gc=False):
    recv_ns: int
    client_order_id: str
    kind: str  # submit | cancel | modify


class Ctl(msgspec.Struct, tag="ctl", kw_only=True):
    recv_ns: int
    who: str
    command: str
    args: dict[str, Any] = {}
    strategy: str = ""


Frame = (Header | StrategySource | MarketData | TradeData | Report | Tick | Slice | Decision | RiskDecision | Outbound
         | Ctl)


