"""The ccxt execution client over a long session: its per-order state does not grow with the orders it has sent.
An order that ends (filled, canceled, rejected) leaves only a bounded window of recently ended client order ids
(with their venue order ids, so a late trade still finds its order); a late or duplicate report of one is still
known (its status dropped, its fill a duplicate the journal drops), and a reconciliation after many orders
pushes nothing for the ended ones. As tests/binance/test_adapter_memory.py does for the Binance client.

Runs the real adapter against the Binance-protocol simulator in this process (as test_ccxt_faults.py does)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("ccxt.pro")
pytest.importorskip("leand.simulator.binance")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_ccxt_faults import settle, sim_in_process, started, submit

from leand.adapters.ccxt.execution import CcxtExecutionClient
from leand.live.reports import persist_report
from leand.model import OrderType

WINDOW = 16


def per_order_state(c: CcxtExecutionClient) -> dict[str, int]:
    """The size of every map or set the client keeps per order (or per fill)."""
    return {name: len(getattr(c, name)) for name in ("_orders", "_stage", "_venue_ids", "_quantities", "_filled",
                                                      "_seen_fills", "_inflight", "_trade_wait")}


def status_of(out: list, cid: str) -> set[str]:
    return {str(r.status) for r, _ in out if r.client_order_id == cid}


async def test_per_order_state_is_bounded_and_late_reports_are_still_known(tmp_path: Path) -> None:
    srv = await sim_in_process()
    c = await started(srv, tmp_path)
    if hasattr(c, "_ended"):  # (the client before it had none: this test fails there on the sizes below)
        c._ended.size = WINDOW
    try:
        n = 0
        for i in range(24):  # market orders that fill at once
            cid = f"t-m-{i}"
            submit(c, cid, 0.001 if i % 2 == 0 else -0.001)
            await settle(c, lambda out, k=cid: "filled" in status_of(out, k))
            n += 1
        book = await c.exchange.fetch_order_book("BTC/USDT", 5)
        low = round(book["bids"][0][0] * 0.9, 2)
        for i in range(12):  # limit orders that rest, then are canceled
            cid = f"t-c-{i}"
            submit(c, cid, 0.001, low)
            await settle(c, lambda out, k=cid: "accepted" in status_of(out, k))
            c.cancel(c_order(cid, 0.001, low), 1)
            await settle(c, lambda out, k=cid: "canceled" in status_of(out, k))
            n += 1
        for i in range(4):  # refused by the venue (more than the account holds) or before it (rounds to zero)
            cid = f"t-r-{i}"
            submit(c, cid, 1000.0 if i % 2 else 0.0000001)
            await settle(c, lambda out, k=cid: "rejected" in status_of(out, k))
            n += 1
        # an order filled in part, then canceled: its trade's order id stays known in the window
        bid = round(book["bids"][0][0] + 0.01, 2)
        submit(c, "t-p-1", 0.002, bid)
        await settle(c, lambda out: "accepted" in status_of(out, "t-p-1"))
        srv.exchange.crowd_submit("BTCUSDT", -1, 0.001, 0.0, OrderType.MARKET, "")
        await settle(c, lambda out: "partially_filled" in status_of(out, "t-p-1"))
        c.cancel(c_order("t-p-1", 0.002, bid), 1)
        await settle(c, lambda out: "canceled" in status_of(out, "t-p-1"))
        n += 1
        await settle(c, lambda out: not c.inflight, timeout=5)

        sizes = per_order_state(c)
        assert sizes == dict.fromkeys(sizes, 0), f"per-order state left after {n} orders ended: {sizes}"
        assert len(c._ended) == WINDOW and "t-p-1" in c._ended
        assert len(c._order_cids) <= WINDOW, "venue order ids kept past the window"

        # the stream delivers the last orders' trades again: each is mapped to its order (not foreign) and goes on
        # as a fill, which the journal drops as one it has; nothing comes back to life
        trades = await c.exchange.fetch_my_trades("BTC/USDT")
        late = [t for t in trades if c._order_cids.get((t["symbol"], str(t["order"]))) is not None]
        assert any(c._order_cids[(t["symbol"], str(t["order"]))] == "t-p-1" for t in late)
        c._on_trades(late)
        reps = []
        while not c.reports.empty():
            r = c.reports.get_nowait()
            reps.append((r, persist_report(c.store, r)))
        assert len(reps) == len(late) and all(r.fill_quantity for r, _ in reps)
        assert not any(fresh for _, fresh in reps), "a duplicate fill was journaled twice"
        assert per_order_state(c) == sizes, "a late report brought an ended order's state back"

        # reconciliations (a reconnect's, or a poll's) report nothing for the ended orders, and stay bounded
        await c.reconcile_now()
        await c.reconcile_now()
        await asyncio.sleep(0.1)
        again = []
        while not c.reports.empty():
            again.append(c.reports.get_nowait())
        assert not again, f"reported again after the reconciliation: {again}"
        assert per_order_state(c) == sizes and len(c._ended) == WINDOW
        assert {i["status"] for i in c.store.intents()} <= {"filled", "canceled", "rejected"}
    finally:
        await c.close()
        await srv.close()


def c_order(cid: str, qty: float, price: float | None):
    """The Order a cancel names (as submit made it)."""
    from test_ccxt_faults import BTC

    from leand.model import Order

    return Order(id=1, symbol=BTC, quantity=qty, type=OrderType.LIMIT if price else OrderType.MARKET,
                 limit_price=price, client_order_id=cid)
