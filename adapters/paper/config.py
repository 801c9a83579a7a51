"""The ``[venue] kind = "paper"`` section (the default when ``kind`` is left out)."""

from __future__ import annotations

from typing import Literal

import msgspec

from leand.model import OrderType
from leand.venue import VenueConfig


class PaperVenueConfig(VenueConfig, tag_field="kind", tag="paper"):
    """The in-process paper venue: the simulator in real time, fed seeded synthetic quotes or LEAN ticks."""

    name: str = "paper"
    market: str = "coinbase"
    symbols: list[str] = msgspec.field(default_factory=lambda: ["BTCUSD"])
    #: "synthetic": a seeded random walk; "lean-ticks": replay LEAN tick quotes from data_dir
    source: Literal["synthetic", "lean-ticks"] = "synthetic"
    rate_hz: float = 20.0
    seed: int = 7
    start_price: float = 20_000.0
    spread: float = 1.0
    volatility: float = 0.0002
    replay_date: str = ""
    replay_speed: float = 1.0
    starting_balances: dict[str, float] = msgspec.field(default_factory=lambda: {"USD": 100_000.0})
    maker_fee: float = 0.0
    taker_fee: float = 0.001
    #: the order types the venue's book takes natively (fewer stands in for a venue that lacks some: leand's
    #: order manager then emulates them)
    order_types: list[str] = msgspec.field(default_factory=lambda: [
        "market", "limit", "stop_market", "stop_limit", "trailing_stop"])

    def __post_init__(self) -> None:
        if self.rate_hz <= 0:
            raise ValueError(f"rate_hz = {self.rate_hz}: expected a positive rate")
        book = ("market", "limit", "stop_market", "stop_limit", "trailing_stop")
        bad = [t for t in self.order_types if t not in book]
        if bad:
            raise ValueError(f"order_types = {self.order_types}: {', '.join(bad)} not among the book's "
                             f"{', '.join(book)}")

    def native_order_types(self) -> frozenset[OrderType]:
        return frozenset(OrderType(t) for t in self.order_types)
