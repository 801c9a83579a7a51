"""A trade of an order the client cannot name (its create answer lost) is held while the client looks the order
up; when every lookup fails, the held trade is not kept for ever: it goes, and a reconciliation recovers the
fill from the trade history, once."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ccxt.pro")
pytest.importorskip("leand.simulator.binance")

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ccxt
from test_ccxt_faults import BTC, settle, sim_in_process, started

from leand.adapters.ccxt.execution import LOOKUP_TRIES


async def test_held_trade_of_an_order_that_cannot_be_looked_up_is_bounded_and_recovered(tmp_path: Path) -> None:
    srv = await sim_in_process()
    c = await started(srv, tmp_path)
    failed: list[str] = []
    fetch_order = c.exchange.fetch_order

    async def no_lookup_by_venue_id(vid: str, symbol: str | None = None, params: Any = None) -> Any:
        if vid:  # by the exchange's order id: down; by client order id (the reconciliation's way): up
            failed.append(vid)
            raise ccxt.ExchangeNotAvailable("down")
        return await fetch_order(vid, symbol, params or {})

    c.exchange.fetch_order = no_lookup_by_venue_id  # type: ignore[method-assign]
    try:
        # journaled and sent, but the client never heard the answer: the stream's trade names an unknown order
        c.store.intent("t-9-1", "t", BTC, 0.001, "market", None, None, "gtc", "", 1, 1)
        srv.exchange.new_order(srv.api_key, {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                             "quantity": "0.001", "newClientOrderId": "t-9-1"})
        out = await settle(c, lambda out: any(r.client_order_id == "t-9-1" and r.status == "filled"
                                              for r, _ in out))
        assert len(failed) >= LOOKUP_TRIES and not c._trade_wait
        fills = [r for r, _ in out if r.client_order_id == "t-9-1" and r.fill_quantity]
        assert len(fills) == 1 and [f.client_order_id for f in c.store.fills()] == ["t-9-1"]
    finally:
        await c.close()
        await srv.close()
        c.store.close()
