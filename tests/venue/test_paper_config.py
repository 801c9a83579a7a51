"""The paper venue's ``order_types``: fewer than its book has makes the rest emulated, through the client's
capabilities and the re-simulated venue alike; a type the book does not have is one config error."""

from __future__ import annotations

import pytest

from leand.adapters.paper.config import PaperVenueConfig
from leand.adapters.paper.execution import PaperExecutionClient
from leand.live.config import ConfigError, parse_venue
from leand.model import Instrument, OrderType, Symbol
from leand.simulator.paper import PaperVenue

BTC = Symbol.crypto("BTCUSD")
INST = {BTC: Instrument(BTC, quote_currency="USD", base_currency="BTC")}


class _Store:
    def last_fill_id(self) -> int:
        return 0

    def open_intents(self) -> list:
        return []


def test_fewer_native_types_leave_the_rest_to_emulation() -> None:
    cfg = parse_venue({"order_types": ["market", "limit"]}, "test")
    assert isinstance(cfg, PaperVenueConfig)
    v = PaperVenue(None, INST, order_types=cfg.native_order_types())
    client = PaperExecutionClient(v, _Store())  # type: ignore[arg-type]
    assert client.capabilities.order_types == {OrderType.MARKET, OrderType.LIMIT}
    (r,) = v.submit("a", BTC, 1.0, "stop_market", None, 1, stop_price=100.0)
    assert r.reason == "UNSUPPORTED_ORDER_TYPE stop_market"
    full = PaperExecutionClient(PaperVenue(None, INST), _Store())  # type: ignore[arg-type]
    assert OrderType.TRAILING_STOP in full.capabilities.order_types


def test_a_type_the_book_has_not_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="limit_if_touched not among the book's"):
        parse_venue({"order_types": ["limit_if_touched"]}, "test")
