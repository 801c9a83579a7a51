"""A restart of the ccxt execution client after more trades than one page of ``fetch_my_trades``: its snapshot
walks the account's trade history forward (ccxt's since + limit pagination) from a window before the oldest
open intent, so a fill made long before the newest trades is recovered, once, and every other trade is
accounted for. Against the Binance-protocol simulator in this process, through ccxt's binance class."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import msgspec
import pytest

pytest.importorskip("ccxt.pro")
pytest.importorskip("leand.simulator.binance")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_ccxt_faults import BTC, INST, sim_in_process, venue_cfg

from leand.adapters.ccxt.execution import CcxtExecutionClient, fill_key
from leand.live.journal import Journal
from leand.live.reports import apply_view
from leand.model import OrderType

#: the venue's default page of myTrades (what a snapshot read before it walked the pages)
DEFAULT_PAGE = 500
FOREIGN = DEFAULT_PAGE + 60


async def test_restart_after_more_trades_than_a_page_recovers_the_older_fill(tmp_path: Path) -> None:
    srv = await sim_in_process()
    ex = srv.exchange
    key = srv.api_key
    j = Journal(tmp_path / "journal.sqlite")
    j.next_boot()
    c: CcxtExecutionClient | None = None
    try:
        # the daemon journaled t-1-1 and sent it; the venue filled it; the daemon died before hearing of it
        j.intent("t-1-1", "t", BTC, 0.001, "market", None, None, "gtc", "", time.time_ns(), 1)
        ex.new_order(key, {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001",
                           "newClientOrderId": "t-1-1"})
        # then, while it was down, another program on the account traded more than a page: a resting sell
        # that the market takes bit by bit
        ask = float(ex.depth({"symbol": "BTCUSDT", "limit": "5"})["asks"][0][0])
        ex.new_order(key, {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
                           "price": f"{ask - 0.01:.2f}", "quantity": f"{0.001 * FOREIGN:.5f}",
                           "newClientOrderId": "other-program-1"})
        for i in range(FOREIGN):
            ex.crowd_submit("BTCUSDT", 1, 0.001, 0.0, OrderType.MARKET, "")
            if i % 50 == 0:
                time.sleep(0.002)  # the trades span some milliseconds, several to one
        venue = ex.trades_of(key, {"symbol": "BTCUSDT", "limit": "1000"})
        assert len(venue) == FOREIGN + 1 > DEFAULT_PAGE
        mine = [t for t in venue if t["orderId"] == venue[0]["orderId"]]
        assert len(mine) == 1  # t-1-1's trade: the oldest, outside the newest page

        cfg = msgspec.structs.replace(venue_cfg(srv), trades_page_limit=100)
        c = CcxtExecutionClient(cfg, j, INST, {"api_key": srv.api_key, "api_secret": srv.api_secret})
        await c.connect()
        view = c.reconcile()
        assert [(r.client_order_id, r.fill_id, r.fill_quantity) for r in view.fills] == [
            ("t-1-1", fill_key(0, mine[0]["id"]), pytest.approx(0.001))]
        assert sum(1 for f in view.foreign if f["kind"] == "foreign_trade") == FOREIGN
        apply_view(j, view)
        assert [(f.client_order_id, f.trade_id) for f in j.fills()] == [("t-1-1", fill_key(0, mine[0]["id"]))]
        assert j.intents()[0]["status"] == "filled"
        # a reconnect's snapshot starts a window before this one, and recovers nothing twice
        n = await c.reconcile_now()
        assert n == 0 and len(j.fills()) == 1
    finally:
        if c is not None:
            await c.close()
        await srv.close()
        j.close()

