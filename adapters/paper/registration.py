"""Registers ``kind = "paper"`` with the venue registry (loaded by name by :func:`leand.venue.venue`)."""

from __future__ import annotations

from leand.adapters.paper.config import PaperVenueConfig
from leand.model import Instrument, Symbol
from leand.venue import SimulatedVenue, VenueClients, VenueConfig, VenueContext, VenueRegistration, register


def open_paper(ctx: VenueContext) -> VenueClients:
    from leand.adapters.paper.data import LeanTickReplay, PaperDataClient, SyntheticQuotes
    from leand.adapters.paper.execution import PaperExecutionClient
    from leand.simulator.paper import PaperVenue

    cfg = ctx.config
    assert isinstance(cfg, PaperVenueConfig)
    # the paper venue keeps its own store, apart from the daemon's, so it outlives a daemon crash
    venue = PaperVenue(ctx.state_path / "paper-venue.sqlite", ctx.instruments,
                       starting_balances=cfg.starting_balances, maker_fee=cfg.maker_fee, taker_fee=cfg.taker_fee,
                       order_types=cfg.native_order_types())
    execution = PaperExecutionClient(venue, ctx.store)
    source: SyntheticQuotes | LeanTickReplay = SyntheticQuotes(cfg, ctx.instruments) if cfg.source == "synthetic" \
        else LeanTickReplay(cfg, ctx.instruments, ctx.data_path)
    return VenueClients(execution=execution, data=PaperDataClient(source, execution))


def simulate_paper(cfg: VenueConfig, instruments: dict[Symbol, Instrument], balances: dict[str, float]) -> SimulatedVenue:
    from leand.simulator.paper import PaperVenue

    assert isinstance(cfg, PaperVenueConfig)
    return PaperVenue(None, instruments, starting_balances=dict(balances), maker_fee=cfg.maker_fee,
                      taker_fee=cfg.taker_fee, order_types=cfg.native_order_types())


REGISTRATION = register(VenueRegistration("paper", PaperVenueConfig, open_paper, simulate_paper,
                                          "the in-process simulator in real time (synthetic quotes or LEAN ticks)"))
