"""The ``[venue] kind = "paper"`` section (the default when ``kind`` is left out)."""

from __future__ import annotations

from typing import Literal

import msgspec

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

    def __post_init__(self) -> None:
        if self.rate_hz <= 0:
            raise ValueError(f"rate_hz = {self.rate_hz}: expected a positive rate")
