"""The crash test with the ccxt venue: ``leand run`` (ccxt's binance class) is SIGKILLed at random points while it
trades against ``leand sim serve``, and restarted each time. Afterwards nothing is lost (every venue trade is
journaled), nothing is invented, no client order id reached the venue twice, no intent is left unresolved, and
the balances the journal implies equal the venue's."""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("ccxt.pro")
pytest.importorskip("leand.simulator.binance")

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "ccxt"), str(ROOT / "tests" / "binance"), str(ROOT / "tests" / "live")]

from daemon_util import Daemon, rows  # noqa: E402
from test_adapter_e2e import SimServer, wait_for  # noqa: E402
from test_ccxt_e2e import ENV, write_config  # noqa: E402

pytestmark = pytest.mark.slow


def test_sigkill_at_random_points_with_the_ccxt_venue(tmp_path: Path) -> None:
    sim = SimServer(tmp_path, seed=9)
    try:
        start = sim.balances()
        cfg = write_config(tmp_path, sim, every=1)
        rng = random.Random(20261203)
        kills = 5
        db = tmp_path / "state" / "journal.sqlite"

        def intents() -> int:
            return rows(db, "SELECT COUNT(*) FROM intents")[0][0] if db.exists() else 0
        for _ in range(kills):
            d = Daemon(cfg, env=ENV)
            d.wait_ready(30)
            n = intents()
            wait_for(lambda n=n: intents() > n, 30, "trading after the restart")  # kill while it trades
            time.sleep(rng.uniform(0.0, 0.8))
            d.kill()
        d = Daemon(cfg, env=ENV)
        d.wait_ready(30)

        def settled() -> bool:
            return {r[0] for r in rows(db, "SELECT venue_fill_id FROM fills")} == {t["id"] for t in sim.my_trades()}
        time.sleep(0.5)
        # how many trades the killed boots made depends on where the random kills landed; the final boot trades
        # on until there are enough for the checks below to mean something (bounded), then halts
        wait_for(lambda: len(sim.my_trades()) >= 5, 30, "at least 5 venue trades")
        from daemon_util import ctl

        ctl(d.sock, "halt", "--cancel-all")
        wait_for(settled, 20, "every venue trade journaled")
        assert d.stop() == 0, d.tail()
        trades = sim.my_trades()
        j_fills = {r[0]: r[1:] for r in rows(db, "SELECT venue_fill_id, quantity, price, fee, fee_currency "
                                                 "FROM fills")}
        lost = sorted({t["id"] for t in trades} - set(j_fills))
        phantom = sorted(set(j_fills) - {t["id"] for t in trades})
        assert not lost and not phantom, (lost, phantom)
        for t in trades:
            qty, px, fee, ccy = j_fills[t["id"]]
            assert qty == pytest.approx(float(t["qty"]) * (1 if t["isBuyer"] else -1), abs=1e-12)
            assert px == pytest.approx(float(t["price"])) and fee == pytest.approx(float(t["commission"]))
        orders = sim.get("/api/v3/allOrders", {"symbol": "BTCUSDT", "limit": 1000}, signed=True)
        twice = {c: n for c, n in Counter(o["clientOrderId"] for o in orders).items() if n > 1}
        assert not twice, twice
        boots = int(rows(db, "SELECT value FROM meta WHERE key='boot'")[0][0])
        unresolved = rows(db, "SELECT COUNT(*) FROM intents WHERE status IN ('intent', 'sent')")[0][0]
        assert boots == kills + 1 and unresolved == 0
        assert len(trades) >= 5
        implied = dict(start)
        for qty, px, fee, ccy in j_fills.values():
            implied["USDT"] = implied.get("USDT", 0.0) - qty * px
            implied["BTC"] = implied.get("BTC", 0.0) + qty
            implied[ccy] = implied.get(ccy, 0.0) - fee
        venue = sim.balances()
        for asset in ("USDT", "BTC"):
            assert implied[asset] == pytest.approx(venue[asset], abs=1e-6), (asset, implied, venue)
        starting = json.loads(rows(db, "SELECT value FROM meta WHERE key='starting_balances'")[0][0])
        assert starting["USDT"] == pytest.approx(start["USDT"])
    finally:
        sim.stop()
