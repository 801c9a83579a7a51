"""Issue 14: the daemon's memory does not grow with its order history. Closed orders beyond a small recent
window leave the strategy's order manager (packed) and the venue session's routes (pruned); they still answer:
the strategy's ``transactions``, the journal (what ``leand ctl orders/fills`` read), and a venue report that
trails an order's close (routed through the journal)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import leand.live.daemon as daemon_mod
from leand.live.config import load_config
from leand.live.daemon import Daemon
from leand.model import ExecReport, OrderStatus

ROOT = Path(__file__).resolve().parents[2]
WINDOW = 16


def _config(tmp: Path, isolation: str) -> Path:
    cfg = tmp / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"
log_level = "error"
equity_interval_s = 0
[venue]
rate_hz = 500
seed = 5
volatility = 0.0002
[[strategies]]
id = "taker"
file = "{ROOT / 'benchmarks' / 'strategies' / 'taker.py'}"
parameters = {{ every = 1 }}
isolation = "{isolation}"
[risk.global]
max_order_quantity = 1.0
""")
    return cfg


@pytest.mark.parametrize("isolation", ["inline", "thread"])
def test_closed_orders_leave_memory_and_still_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      isolation: str) -> None:
    monkeypatch.setattr(daemon_mod, "LIVE_ORDER_WINDOW", WINDOW)
    monkeypatch.setattr(daemon_mod, "LIVE_PACK_STEP", 64)
    d = Daemon(load_config(_config(tmp_path, isolation)))
    seen: dict[str, object] = {}

    async def main() -> None:
        task = asyncio.create_task(d.run())
        while d.state != "ready":
            await asyncio.sleep(0.01)
        r = d.runners["taker"]
        e = r.engine
        for _ in range(600):  # until a few hundred orders went through
            await asyncio.sleep(0.05)
            if len(e.orders) >= 300:
                break
        e.strategy.every = 10**9  # no more orders: let the last ones close, their routes go, the window settle
        await asyncio.sleep(2.5)
        v = next(iter(d.venues.values()))
        m = e.order_manager
        seen["total"] = len(e.orders)
        seen["live"] = dict.__len__(e.orders)
        seen["open"] = len(e.open_orders)
        seen["routes"] = len(v.session.routes)
        seen["packed"] = m.archive.count
        intents = d.journal.intents()
        seen["intents"] = intents
        # every order the journal has is still the strategy's, with the journal's status and fill
        seen["answers"] = [(i["client_order_id"], m.order_by_client_id(i["client_order_id"])) for i in intents]
        seen["fills"] = (len(d.journal.fill_rows("taker", limit=100_000)), len(e.fills))
        # a report that trails its order's close, long after its route was pruned, still reaches the strategy
        old = next(i for i in intents if i["status"] == "filled")
        cid = old["client_order_id"]
        assert cid not in v.session.routes
        route = d._closed_route(cid)
        assert route is not None and route[0] == "taker" and route[1].client_order_id == cid
        logs_before = len(e.logs)
        d._on_report(v, ExecReport(client_order_id=cid, status=OrderStatus.CANCELED, symbol=old["symbol"],
                                   time_ns=e.clock.now_ns()))
        await asyncio.sleep(0.1)
        seen["late_status"] = m.order_by_client_id(cid).status
        seen["late_log"] = [x for x in list(e.logs)[logs_before:] if cid[len(e.client_id_prefix):] in x]
        d.stop_event.set()
        await task

    asyncio.run(main())
    total = seen["total"]
    assert isinstance(total, int) and total >= 100
    assert seen["live"] <= WINDOW + seen["open"] + 64, seen  # type: ignore[operator]
    assert seen["packed"] >= total - WINDOW - 64 - seen["open"], seen  # type: ignore[operator]
    assert seen["routes"] <= seen["open"] + 5, seen  # type: ignore[operator]
    intents = seen["intents"]
    assert isinstance(intents, list) and len(intents) == total
    for (cid, order), it in zip(seen["answers"], intents, strict=True):  # type: ignore[call-overload]
        assert order is not None and order.client_order_id == cid
        assert order.status.value == it["status"] and order.quantity == pytest.approx(it["quantity"])
        assert order.filled_quantity == pytest.approx(it["filled"])
    journal_fills, engine_fills = seen["fills"]  # type: ignore[misc]
    assert journal_fills == engine_fills > 0
    assert seen["late_status"] is OrderStatus.FILLED  # a late cancel never reopens or changes a filled order
    assert seen["late_log"], "the late report reached the order manager (which logged and dropped it)"
