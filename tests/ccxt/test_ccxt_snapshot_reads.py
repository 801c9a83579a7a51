"""A snapshot of the exchange (at connect, on each reconnect, and on each poll without an order stream) reads
from the journal the intents still open and its answer about the trades fetched, not every intent and fill id
the journal has ever held."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("ccxt.pro")
pytest.importorskip("leand.simulator.binance")

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "live")]  # the shared helpers, whatever the import mode

from journal_reads import HISTORY, CountingJournal, add_history  # noqa: E402
from test_ccxt_faults import BTC, INST, settle, sim_in_process, submit, venue_cfg  # noqa: E402

from leand.adapters.ccxt.execution import TRADE_ID_SPAN, CcxtExecutionClient  # noqa: E402
from leand.live.reports import apply_view  # noqa: E402


async def test_snapshot_reads_open_orders_not_the_journal_history(tmp_path: Path) -> None:
    srv = await sim_in_process()
    j = CountingJournal(tmp_path / "journal.sqlite")
    j.next_boot()
    add_history(j, BTC, 5 * TRADE_ID_SPAN)
    c = CcxtExecutionClient(venue_cfg(srv), j, INST, {"api_key": srv.api_key, "api_secret": srv.api_secret})
    try:
        j.rows = 0
        await c.connect()
        apply_view(j, c.reconcile())
        assert j.rows < 10 < HISTORY
        bid = float(srv.exchange.depth({"symbol": "BTCUSDT", "limit": "5"})["bids"][0][0])
        submit(c, "t-1-1", 0.002, round(bid - 10.0, 2))  # rests
        submit(c, "t-1-2", 0.001)  # fills
        await settle(c, lambda out: any(r.client_order_id == "t-1-2" and r.status == "filled" for r, _ in out))
        j.rows = 0
        assert await c.reconcile_now() == 0  # the fill is journaled: nothing recovered twice
        assert 0 < j.rows < 10  # the open order, the fill's id: not the history
        assert [i["client_order_id"] for i in j.open_intents()] == ["t-1-1"]
    finally:
        await c.close()
        await srv.close()
        j.close()
