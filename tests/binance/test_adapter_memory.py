"""The Binance execution client over a long session: its per-order state does not grow with the orders it has
sent. An order that ends (filled, canceled, rejected) leaves only a bounded window of recently ended client
order ids, which still knows a late or duplicate report of one (its status dropped, its fill a duplicate the
journal drops), and a reconnect's reconciliation after many orders pushes nothing for the ended ones.

Runs the real adapter against the Binance-protocol simulator in this process (as tests/binance/
test_adapter_faults.py does)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import msgspec
import pytest

pytest.importorskip("leand.simulator.binance", reason="the Binance-protocol server (leand.simulator.binance) is not "
                                                "importable: `leand sim serve` is needed for these tests")

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "live")]

from test_adapter_faults import (  # noqa: E402
    best_bid,
    bracket_legs,
    journal_legs,
    order,
    settle,
    sim_in_process,
    started_session,
    submit,
)

from leand.adapters.binance.execution import BinanceExecutionClient  # noqa: E402
from leand.live.reports import persist_report  # noqa: E402
from leand.model import OrderType  # noqa: E402

WINDOW = 16


def per_order_state(s: BinanceExecutionClient) -> dict[str, int]:
    """The size of every map or set the client keeps per order (whatever it calls the venue-id map)."""
    out = {name: len(getattr(s, name)) for name in ("_orders", "_stage", "_list_cids", "_held", "_ws_pending",
                                                     "_ws_calls", "_inflight")}
    out["venue ids"] = len(getattr(s, "_venue_ids", getattr(s, "_order_cids", {})))
    return out


def status_of(out: list, cid: str) -> set[str]:
    return {str(r.status) for r, _ in out if r.client_order_id == cid}


async def test_per_order_state_is_bounded_and_late_reports_are_still_known(tmp_path: Path) -> None:
    srv = await sim_in_process()
    s = await started_session(srv, tmp_path)
    s._ended.size = WINDOW
    frames: dict[str, list[str | bytes]] = {}  # client order id -> its user-data frames, as they came
    on_frame = s._on_user_frame

    def recording(raw: str | bytes) -> bool:
        text = raw.decode() if isinstance(raw, bytes) else raw
        if '"executionReport"' in text:
            cid = text.split('"c":"', 1)[1].split('"', 1)[0]
            frames.setdefault(cid, []).append(raw)
        return on_frame(raw)

    s._on_user_frame = recording  # type: ignore[method-assign]
    try:
        n = 0
        for i in range(24):  # market orders that fill at once
            cid = f"t-m-{i}"
            submit(s, order(cid, 0.001 if i % 2 == 0 else -0.001))
            await settle(s, lambda out, c=cid: "filled" in status_of(out, c))
            n += 1
        bid = await best_bid(s)
        for i in range(12):  # limit orders that rest, then are canceled
            cid = f"t-c-{i}"
            o = order(cid, 0.001, round(bid * 0.9, 2))
            submit(s, o)
            await settle(s, lambda out, c=cid: "accepted" in status_of(out, c))
            s.cancel(o, 1)
            await settle(s, lambda out, c=cid: "canceled" in status_of(out, c))
            n += 1
        for i in range(4):  # refused: off the lot-size grid, and past the notional filter
            cid = f"t-r-{i}"
            submit(s, order(cid, 0.0000101 if i % 2 else 1000.0))
            await settle(s, lambda out, c=cid: "rejected" in status_of(out, c))
            n += 1
        # a bracket whose entry fills (a leg of a venue order list), then its exits are canceled
        bid = await best_bid(s)
        legs = bracket_legs(bid, prefix="t-b")
        legs = (msgspec.structs.replace(legs[0], limit_price=round(bid + 0.01, 2)), legs[1], legs[2])
        journal_legs(s, legs)
        s.submit_otoco(legs, 1)
        await settle(s, lambda out: "accepted" in status_of(out, "t-b-1"))
        srv.exchange.crowd_submit("BTCUSDT", -1, 0.001, 0.0, OrderType.MARKET, "")  # fills the entry
        await settle(s, lambda out: "filled" in status_of(out, "t-b-1"))
        s.cancel(legs[1], 1)  # the venue cancels the list: both exits
        await settle(s, lambda out: "canceled" in status_of(out, "t-b-2") and "canceled" in status_of(out, "t-b-3"))
        n += 3
        await settle(s, lambda out: not s.inflight, timeout=5)

        sizes = per_order_state(s)
        assert sizes == dict.fromkeys(sizes, 0), f"per-order state left after {n} orders ended: {sizes}"
        assert len(s._ended) == WINDOW and "t-b-3" in s._ended

        # a late duplicate of the last orders' reports: a status is dropped (the order stays ended), a fill goes
        # on and the journal drops it as one it has
        late = [f for cid in ("t-b-1", "t-b-2", "t-b-3") for f in frames[cid]]
        assert late
        for raw in late:
            s._on_user_frame(raw)
        reps = []
        while not s.reports.empty():
            r = s.reports.get_nowait()
            reps.append((r, persist_report(s.store, r)))
        assert all(r.fill_quantity for r, _ in reps), f"a status of an ended order reported again: {reps}"
        assert any(r.client_order_id == "t-b-1" for r, _ in reps)  # the entry's trade came again
        assert not any(fresh for _, fresh in reps), "a duplicate fill was journaled twice"
        assert per_order_state(s) == sizes, "a late report brought an ended order's state back"

        # a reconnect reconciles: nothing is pushed for the ended orders, and the state stays bounded
        before = s.stats["reconciles"]
        await s.drop_user_stream()
        await settle(s, lambda out: s.stats["reconciles"] > before, timeout=10)
        await asyncio.sleep(0.1)
        again = []
        while not s.reports.empty():
            again.append(s.reports.get_nowait())
        assert not again, f"reported again after the reconnect: {again}"
        assert per_order_state(s) == sizes and len(s._ended) == WINDOW
        assert {i["status"] for i in s.store.intents()} <= {"filled", "canceled", "rejected"}
    finally:
        await s.close()
        await srv.close()
