"""The fused live order path (``[hot_path] fused_orders``, :mod:`leand.orders.live_submit`) decides as the general
one: the same scripted scenario (fills, a resting order updated and canceled, refusals by the order manager and
the risk gate, orders only the general path takes) run in a real daemon with the paper venue once fused and once
not gives the same journal (intents, status events, fills), the same orders and tickets, the same order events and
the same recording (decisions, risk decisions, requests sent, reports). A strategy without an order-event handler,
whose fused orders record their decision and verdict after the request left, records the same too."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from leand.live.config import load_config
from leand.live.daemon import Daemon
from leand.replay.reader import read_frames
from leand.replay.records import Decision, Outbound, Report, RiskDecision

HERE = Path(__file__).parent


def _config(tmp: Path, fused: bool, cls: str) -> Path:
    cfg = tmp / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"
log_level = "error"
equity_interval_s = 0
[venue]
rate_hz = 400
seed = 7
volatility = 0.0005
[hot_path]
fused_orders = {str(fused).lower()}
conflate_after_ms = 1000000
[[strategies]]
id = "s"
file = "{HERE / 'strategies' / 'fused_scenario.py'}"
class = "{cls}"
isolation = "inline"
[risk.global]
max_order_quantity = 1.0
""")
    return cfg


def _run(tmp: Path, fused: bool, cls: str = "FusedScenario") -> dict[str, Any]:
    tmp.mkdir()
    d = Daemon(load_config(_config(tmp, fused, cls)))
    plain: list[str] = []

    async def main() -> None:
        task = asyncio.create_task(d.run())
        while d.state != "ready":
            await asyncio.sleep(0.01)
        e = d.runners["s"].engine
        send = e.brokerage.send_plain

        def counted(approved, order, now_ns, record=None):  # type: ignore[no-untyped-def]
            done = send(approved, order, now_ns, record)
            if done:
                plain.append(order.client_order_id)
            return done

        e.brokerage.send_plain = counted
        for _ in range(1000):
            if e.strategy.done and not e.order_manager.open_orders:
                break
            await asyncio.sleep(0.01)
        d.stop_event.set()
        await task

    asyncio.run(main())
    e = d.runners["s"].engine
    om = e.order_manager
    conn = sqlite3.connect(tmp / "state" / "journal.sqlite")
    conn.row_factory = sqlite3.Row

    def rows(q: str) -> list[dict]:
        return [dict(r) for r in conn.execute(q)]

    drop = {"created_ns", "updated_ns", "time_ns", "seq", "boot"}
    out = {
        "intents": [{k: v for k, v in r.items() if k not in drop} for r in rows(
            "SELECT * FROM intents ORDER BY client_order_id")],
        "events": [{k: v for k, v in r.items() if k not in drop} for r in rows(
            "SELECT * FROM events ORDER BY seq")],
        "fills": [{k: v for k, v in r.items() if k not in drop} for r in rows(
            "SELECT * FROM fills ORDER BY venue_fill_id")],
        "orders": [(o.id, o.symbol, o.quantity, o.type, o.status, o.time_in_force, o.limit_price, o.stop_price,
                    o.filled_quantity, o.average_fill_price, o.client_order_id, o.strategy_id, o.tag,
                    o.submission_price) for o in om.orders.values()],
        "tickets": [(t.order_id, t.status, t.submit_request.response.error_code, t.submit_request.response.error_message,
                     t.submit_request.limit_price, t.quantity_filled) for t in e.strategy.tickets],
        "order_events": e.strategy.events,
        "cash": {c: round(cash.amount, 9) for c, cash in e.portfolio.cash_book.items()},
        "gate_open": e.risk_gate.open_order_count,
    }
    conn.close()
    # the session's recording: what the strategy decided, what the gate answered, what was sent, what came back
    session = next(p for p in (tmp / "state" / "recordings").iterdir() if p.is_dir())
    out["recorded"] = [{k: v for k, v in msgspec.structs.asdict(f).items() if k != "recv_ns"}
                       for f in read_frames(session) if isinstance(f, (Decision, RiskDecision, Outbound, Report))]
    out["plain"] = plain
    return out


@pytest.mark.parametrize("cls", ["FusedScenario", "QuietScenario"])
def test_fused_and_general_paths_give_the_same_results(tmp_path: Path, cls: str) -> None:
    fused = _run(tmp_path / "fused", True, cls)
    general = _run(tmp_path / "general", False, cls)
    assert general["plain"] == []
    # every market or limit order of the scenario the fused path can take went its way: the two market orders, the
    # resting and crossing limits, the rounded limit, the 40 small market orders, set_holdings' and liquidate's
    assert len(fused["plain"]) == 48, fused["plain"]
    assert len(fused["orders"]) == len(general["orders"]) == 52  # (the quantity that rounds to zero: no order)
    assert len(fused["fills"]) > 40 and len(fused["recorded"]) > 150
    assert bool(fused["order_events"]) == (cls == "FusedScenario")
    for key in ("orders", "tickets", "order_events", "intents", "events", "fills", "recorded", "cash", "gate_open"):
        assert fused[key] == general[key], key
