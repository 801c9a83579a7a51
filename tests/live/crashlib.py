"""Kill the daemon with SIGKILL at random points while it trades, restart it, and check nothing was lost."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from daemon_util import Daemon, rows, write_config


def crash_cycles(tmp: Path, kills: int, seed: int = 1234) -> dict:
    cfg = write_config(tmp, rate_hz=200, every=1)
    rng = random.Random(seed)
    for _ in range(kills):
        d = Daemon(cfg)
        d.wait_ready()
        time.sleep(rng.uniform(0.02, 0.5))
        d.kill()
    d = Daemon(cfg)
    d.wait_ready()
    time.sleep(0.3)
    assert d.stop() == 0, d.tail()
    return verify(d.state)


#: the CI plan: every kill point of leand.live.faults, each reached at least once, in an order that leaves the
#: next boot something to recover (a fill the venue has and the journal lacks before the reconcile kill)
FAULT_PLAN = ["intent_journaled:3", "sent_unacked:2", "fill_unjournaled:2", "reconcile:1"]


def fault_cycles(tmp: Path, plan: list[str], timeout: float = 60.0, isolation: str = "auto") -> dict:
    """One boot per entry of ``plan`` with ``LEAND_FAULT_KILL_AT`` set; each must die by its own SIGKILL at that
    point (within ``timeout``); then a clean boot and stop, and the same checks as :func:`crash_cycles`.
    The report's ``fault_kills`` says which points were hit. ``isolation = "thread"``: the strategy runs on a
    worker thread from the start (as an ``auto`` one does after overruns, on a loaded machine)."""
    import signal

    cfg = write_config(tmp, rate_hz=200, every=1)
    if isolation != "auto":
        cfg.write_text(cfg.read_text().replace('id = "scalper"\n', f'id = "scalper"\nisolation = "{isolation}"\n'))
    hit: list[str] = []
    for spec in plan:
        d = Daemon(cfg, env={"LEAND_FAULT_KILL_AT": spec})
        try:
            code = d.proc.wait(timeout)
        except Exception:
            d.kill()
            raise AssertionError(f"{spec}: the daemon never reached its kill point: {d.tail()}") from None
        d.log.close()
        assert code == -signal.SIGKILL, f"{spec}: exited {code}, not by its own SIGKILL: {d.tail()}"
        assert f"SIGKILL at {spec.split(':')[0]}" in d.tail(), d.tail()
        hit.append(spec)
    d = Daemon(cfg)
    d.wait_ready()
    time.sleep(0.3)
    assert d.stop() == 0, d.tail()
    report = verify(d.state)
    report["fault_kills"] = hit
    return report


def verify(state: Path) -> dict:
    journal, venue = state / "journal.sqlite", state / "paper-venue.sqlite"
    j_fills = {r[0]: r[1:] for r in rows(journal, "SELECT venue_fill_id, client_order_id, quantity, price, fee "
                                                  "FROM fills")}
    v_fills = {r[0]: r[1:] for r in rows(venue, "SELECT fill_id, client_order_id, quantity, price, fee FROM fills")}
    lost = sorted(set(v_fills) - set(j_fills))
    phantom = sorted(set(j_fills) - set(v_fills))
    differ = [k for k in v_fills if k in j_fills and v_fills[k] != j_fills[k]]
    resent = rows(venue, "SELECT client_order_id, COUNT(*) c FROM submissions GROUP BY client_order_id HAVING c > 1")
    unresolved = rows(journal, "SELECT COUNT(*) FROM intents WHERE status IN ('new', 'intent')")[0][0]
    starting = json.loads(rows(journal, "SELECT value FROM meta WHERE key='starting_balances'")[0][0])
    implied = dict(starting)
    for _cid, qty, price, fee in j_fills.values():
        implied["USD"] = implied.get("USD", 0.0) - qty * price - fee
        implied["BTC"] = implied.get("BTC", 0.0) + qty
    venue_bal = dict(rows(venue, "SELECT asset, amount FROM balances"))
    balance_diff = {a: implied.get(a, 0.0) - venue_bal.get(a, 0.0) for a in set(implied) | set(venue_bal)}
    boots = int(rows(journal, "SELECT value FROM meta WHERE key='boot'")[0][0])
    recovered = rows(journal, "SELECT COUNT(*) FROM fills WHERE recovered = 1")[0][0]
    not_sent = rows(journal, "SELECT COUNT(DISTINCT client_order_id) FROM events WHERE code = 'RECOVERED_UNSENT'")[0][0]
    orders = rows(journal, "SELECT COUNT(*) FROM intents")[0][0]
    return {"boots": boots, "orders": orders, "fills": len(v_fills), "lost_fills": lost, "phantom_fills": phantom,
            "differing_fills": differ, "orders_sent_twice": resent, "unresolved_intents": unresolved,
            "balance_diff": balance_diff, "fills_recovered_at_restart": recovered,
            "intents_never_sent": not_sent}


def assert_clean(report: dict) -> None:
    assert report["lost_fills"] == [], report
    assert report["phantom_fills"] == [] and report["differing_fills"] == [], report
    assert report["orders_sent_twice"] == [], report
    assert report["unresolved_intents"] == 0, report
    assert all(abs(v) < 1e-6 for v in report["balance_diff"].values()), report

