"""Registers ``kind = "binance"`` with the venue registry (loaded by name by :func:`leand.venue.venue`)."""

from __future__ import annotations

from leand.adapters.binance.config import BinanceVenueConfig
from leand.venue import VenueClients, VenueContext, VenueRegistration, register


def open_binance(ctx: VenueContext) -> VenueClients:
    from leand.adapters.binance.data import BinanceDataClient
    from leand.adapters.binance.execution import BinanceExecutionClient

    cfg = ctx.config
    assert isinstance(cfg, BinanceVenueConfig)
    execution = BinanceExecutionClient(cfg, ctx.store, ctx.instruments, ctx.credentials)
    # one REST client (and so one request-weight budget) for the account and its market data
    return VenueClients(execution=execution, data=BinanceDataClient(cfg, ctx.instruments, execution.rest))


REGISTRATION = register(VenueRegistration("binance", BinanceVenueConfig, open_binance, None,
                                          "Binance Spot (or its testnet, or `leand sim serve`) over REST and "
                                          "WebSockets"))
