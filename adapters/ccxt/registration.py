"""Registers ``kind = "ccxt"`` with the venue registry (loaded by name by :func:`leand.venue.venue`)."""

from __future__ import annotations

from leand.adapters.ccxt.config import CcxtVenueConfig
from leand.venue import VenueClients, VenueContext, VenueRegistration, register


def open_ccxt(ctx: VenueContext) -> VenueClients:
    from leand.adapters.ccxt.data import CcxtDataClient
    from leand.adapters.ccxt.execution import CcxtExecutionClient

    cfg = ctx.config
    assert isinstance(cfg, CcxtVenueConfig)
    cfg.validate()
    return VenueClients(execution=CcxtExecutionClient(cfg, ctx.store, ctx.instruments, ctx.credentials),
                        data=CcxtDataClient(cfg, ctx.instruments, ctx.credentials))


REGISTRATION = register(VenueRegistration("ccxt", CcxtVenueConfig, open_ccxt, None,
                                          "any of ccxt's exchanges (ccxt.pro WebSockets where it has them, REST "
                                          "otherwise); `urls` points it at a testnet or `leand sim serve`"))
