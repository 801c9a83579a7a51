"""``leand run`` on the embedded default paper venue with strategies/every_order_type.py (every order type and
operation, each order tagged with its role): no strategy fails, and every order reaches the final status its
role has in the strategy's logic, the status a parity run of the same strategy gives it:

* market orders (and the bracket's market entry, and the flattening sale) fill;
* the limit updated and then canceled ends canceled, the far IOC limit ends canceled (nothing filled at once),
  the DAY limit is canceled when its round ends (its day does not end in the run);
* stops, stop-limits, trailing stops and limit-if-touched orders (held and triggered by leand's emulation)
  fill when triggered or are canceled at the round's end; each of them fills at least once in the run;
* of a one-cancels-other pair, and of a bracket's two exits, at most one fills and then the other is canceled;
  a bracket's exits exist only for an entry that filled;
* nothing is rejected and nothing is left open (shutdown cancels what was open, emulated orders included).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

#: role (the order's tag) -> (order type, the final statuses the strategy's logic allows)
EXPECTED: dict[str, tuple[str, frozenset[str]]] = {
    "market": ("market", frozenset({"filled"})),
    "bracket": ("market", frozenset({"filled"})),
    "flatten": ("market", frozenset({"filled"})),
    "limit": ("limit", frozenset({"canceled"})),
    "ioc": ("limit", frozenset({"canceled"})),
    "day": ("limit", frozenset({"canceled"})),
    "stop": ("stop_market", frozenset({"filled", "canceled"})),
    "stop_limit": ("stop_limit", frozenset({"filled", "canceled"})),
    "trail": ("trailing_stop", frozenset({"filled", "canceled"})),
    "trail_pct": ("trailing_stop", frozenset({"filled", "canceled"})),
    "lit": ("limit_if_touched", frozenset({"filled", "canceled"})),
    "oco limit": ("limit", frozenset({"filled", "canceled"})),
    "oco stop": ("stop_market", frozenset({"filled", "canceled"})),
    "bracket take-profit": ("limit", frozenset({"filled", "canceled"})),
    "bracket stop-loss": ("stop_market", frozenset({"filled", "canceled"})),
}
#: roles whose orders the run must see fill at least once (each emulated type triggers and fills)
MUST_FILL = ("market", "bracket", "stop", "stop_limit", "trail", "trail_pct", "lit")


def test_every_order_type_reaches_the_status_its_role_predicts(tmp_path: Path) -> None:
    cfg = tmp_path / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp_path / 'state'}"
log_format = "json"
[venue]
rate_hz = 50.0
volatility = 0.0005
starting_balances = {{ USD = 100000.0, BTC = 1.0 }}
[[strategies]]
id = "every"
file = "{ROOT / 'strategies' / 'every_order_type.py'}"
parameters = {{ every = 5 }}
""")
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--config", str(cfg), "--for", "10"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    out = p.stdout + p.stderr
    assert "strategy.failed" not in out and "task.failed" not in out and "Traceback" not in out, out[-3000:]
    assert "RISK_TICK_SIZE" not in out
    db = sqlite3.connect(tmp_path / "state" / "journal.sqlite")
    try:
        intents = db.execute("SELECT client_order_id, tag, type, status, filled, emulated FROM intents").fetchall()
        links = dict(db.execute("SELECT client_order_id, other FROM links").fetchall())
        times: dict[tuple[str, str], int] = {}
        for c, st, t_ns in db.execute("SELECT client_order_id, status, time_ns FROM events ORDER BY seq"):
            times.setdefault((c, st), t_ns)
    finally:
        db.close()
    by_cid = {c: (tag, t, st, filled) for c, tag, t, st, filled, _ in intents}
    seen: Counter[tuple[str, str]] = Counter()
    for cid, tag, t, st, filled, _ in intents:
        role = tag.split("~")[0]
        assert role in EXPECTED, f"{cid}: an order of no known role ({tag!r})"
        want_type, statuses = EXPECTED[role]
        assert t == want_type, f"{cid} ({role}) is a {t} order"
        assert st in statuses, f"{cid} ({role}, {t}) ended {st}; its role ends {sorted(statuses)}"
        assert (st == "filled") == (filled != 0), (cid, st, filled)
        seen[role, st] += 1
    for role in EXPECTED:
        if role != "flatten":
            assert sum(n for (r, _), n in seen.items() if r == role), f"no {role} order in the run: {seen}"
    for role in MUST_FILL:
        assert seen[role, "filled"], f"no {role} order filled in the run: {dict(seen)}"
    assert sum(e for *_, e in intents) >= 4  # stops, stop-limits, trailing stops, LIT: held by the emulation
    # one-cancels-other pairs and bracket exits: at most one fills, the other is canceled for it
    pairs = {tuple(sorted((a, b))) for a, b in links.items()}
    assert pairs and all(links.get(b) == a for a, b in links.items())
    kinds = Counter()
    for a, b in pairs:
        (ta, _, sa, _), (tb, _, sb, _) = by_cid[a], by_cid[b]
        assert {ta, tb} in ({"oco limit", "oco stop"}, {"bracket take-profit", "bracket stop-loss"}), (ta, tb)
        assert (sa, sb) != ("filled", "filled"), f"both legs of {a}/{b} filled"
        if "filled" in (sa, sb):  # the other was canceled once this one filled, not before
            one, other = (a, b) if sa == "filled" else (b, a)
            assert times[other, "canceled"] >= times[one, "filled"], (one, other)
        kinds[ta.split()[0]] += 1
    assert kinds["oco"] >= 1 and kinds["bracket"] >= 1
    exits = [c for c, (tag, *_) in by_cid.items() if tag.startswith("bracket ")]
    entries_filled = sum(1 for tag, _, st, _ in by_cid.values() if tag == "bracket" and st == "filled")
    assert len(exits) <= 2 * entries_filled  # exits exist only for an entry that filled
