"""Two real processes: ``leand sim serve`` (a Binance-protocol venue) and ``leand run`` with two venues (the
in-process paper venue and the Binance one) and two strategies that both trade on both. Each strategy's fills,
positions and allocation-limited cash add up exactly to each venue's account; an account-wide order rate holds
across both strategies and a per-account halt stops both on that venue only; a SIGKILL and restart reconciles
each venue on its own and rebuilds the allocations."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("leand.simulator.binance", reason="`leand sim serve` (leand.simulator.binance) is needed")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "binance"))

from daemon_util import Daemon, ctl_json, rows, wait_for  # noqa: E402
from test_adapter_e2e import ENV, SimServer  # noqa: E402

from leand.live.venues import FILL_ID_SPAN  # noqa: E402

pytestmark = pytest.mark.slow
BNX = "binance-sim"
PSYM, BSYM = "crypto:coinbase:BTCUSD", "crypto:binance:BTCUSDT"


def write_config(tmp: Path, srv: SimServer, *, risk: str = "") -> Path:
    cfg = tmp / "leand.toml"
    scalper = ROOT / "strategies" / "two_venue_scalper.py"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"
snapshot_interval_s = 0.5
equity_interval_s = 0.5

[[venues]]
id = "paper"
kind = "paper"
symbols = ["BTCUSD"]
rate_hz = 20
seed = 11
volatility = 0.0005

[[venues]]
id = "{BNX}"
kind = "binance"
symbols = ["BTCUSDT"]
{srv.venue_toml()}
[[strategies]]
id = "a"
file = "{scalper}"
parameters = {{ every = 2, lookback = 4, clip = 0.001, max_position = 0.004 }}
allocations = {{ paper = 0.6, {BNX} = {{ USDT = 30000, BTC = 0.25 }} }}

[[strategies]]
id = "b"
file = "{scalper}"
parameters = {{ every = 3, lookback = 3, clip = 0.002, max_position = 0.006 }}

[risk.global]
max_order_quantity = 0.01
{risk}
""")
    return cfg


@pytest.fixture
def sim(tmp_path: Path):
    srv = SimServer(tmp_path)
    yield srv
    srv.stop()


def fills_by(db: Path) -> dict[tuple[str, str], list[tuple]]:
    """(strategy, symbol id) -> its fills (quantity, price, fee, fee currency), from the journal."""
    out: dict[tuple[str, str], list[tuple]] = {}
    for sid, sym, q, p, fee, ccy in rows(db, "SELECT i.strategy, f.symbol, f.quantity, f.price, f.fee, "
                                             "f.fee_currency FROM fills f JOIN intents i "
                                             "ON i.client_order_id = f.client_order_id ORDER BY f.venue_fill_id"):
        out.setdefault((sid, sym), []).append((q, p, fee, ccy))
    return out


def settle(d: Daemon, srv: SimServer) -> None:
    """Halt everything with cancel-all, then wait until every Binance trade is journaled and the daemon's view
    of both accounts has stopped moving."""
    ctl_json(d.sock, "halt", "--reason", "test: compare books", "--cancel-all")
    wait_for(lambda: ctl_json(d.sock, "status")["open_orders"] == 0, 15, "no open orders")
    db = d.state / "journal.sqlite"

    def caught_up() -> bool:
        journaled = {r[0] - FILL_ID_SPAN for r in rows(db, "SELECT venue_fill_id FROM fills WHERE symbol = ?",
                                                        (BSYM,))}
        if journaled != {t["id"] for t in srv.my_trades()}:
            return False
        venue = srv.balances()
        held = ctl_json(d.sock, "balances")["accounts"][BNX]["balances"]
        return all(abs(held.get(a, 0.0) - venue.get(a, 0.0)) < 1e-9 for a in ("USDT", "BTC"))
    wait_for(caught_up, 20, "the Binance venue's trades and balances in the daemon")
    time.sleep(0.5)  # the strategies' tasks apply the last reports a moment after they are journaled


def assert_accounts_add_up(d: Daemon, srv: SimServer) -> None:
    db = d.state / "journal.sqlite"
    bal = ctl_json(d.sock, "balances")
    fills = fills_by(db)
    accounts = bal["accounts"]
    assert set(accounts) == {"paper", BNX}
    # each venue's balances as the venue itself has them (Binance asked over REST with the key)
    venue = {"paper": accounts["paper"]["balances"], BNX: srv.balances()}
    for acct, sym, quote in (("paper", PSYM, "USD"), (BNX, BSYM, "USDT")):
        a = accounts[acct]
        assert set(a["allocations"]) == {"a", "b"}
        for sid in ("a", "b"):  # a strategy's share: its allocation plus its own fills on this venue, no more
            share, alloc = a["strategies"][sid], a["allocations"][sid]
            own = fills.get((sid, sym), [])
            spent = sum(q * px for q, px, _, _ in own) + sum(f for _, _, f, c in own if c in (quote, ""))
            assert share[quote] == pytest.approx(alloc.get(quote, 0.0) - spent, abs=1e-6), (acct, sid)
            base_fee = sum(f for _, _, f, c in own if c == "BTC")
            assert share.get("BTC", 0.0) == pytest.approx(alloc.get("BTC", 0.0) + sum(q for q, *_ in own) - base_fee,
                                                          abs=1e-9), (acct, sid)
        for ccy in (quote, "BTC"):  # and the shares together are the whole account (allocations cover all of it)
            total = sum(a["strategies"][sid].get(ccy, 0.0) for sid in ("a", "b"))
            assert total == pytest.approx(venue[acct].get(ccy, 0.0), abs=1e-6), (acct, ccy)
    # each strategy's buying power is its shares of the two accounts and nothing else
    for sid, cash in bal["strategies"].items():
        assert cash["USD"] == pytest.approx(accounts["paper"]["strategies"][sid]["USD"], abs=1e-6)
        assert cash["USDT"] == pytest.approx(accounts[BNX]["strategies"][sid]["USDT"], abs=1e-6)
        assert cash.get("BTC", 0.0) == pytest.approx(sum(accounts[x]["strategies"][sid].get("BTC", 0.0)
                                                         for x in ("paper", BNX)), abs=1e-9)
    # positions are attributed to the strategy and the account they were made on
    pos = {(r["strategy"], r["account"], r["symbol"]): r["quantity"] for r in ctl_json(d.sock, "positions")}
    for sid in ("a", "b"):
        for acct, sym, ticker in (("paper", PSYM, "BTCUSD"), (BNX, BSYM, "BTCUSDT")):
            assert pos.get((sid, acct, ticker), 0.0) == pytest.approx(sum(q for q, *_ in fills.get((sid, sym), [])),
                                                                      abs=1e-12)
    # the Binance venue's trades are the journal's fills on its symbol, one for one (ids in the venue's slot)
    trades = {t["id"]: t for t in srv.my_trades()}
    mine = rows(db, "SELECT venue_fill_id, quantity, price FROM fills WHERE symbol = ?", (BSYM,))
    assert sorted(f[0] - FILL_ID_SPAN for f in mine) == sorted(trades)
    for fid, q, px in mine:
        t = trades[fid - FILL_ID_SPAN]
        assert q == pytest.approx(float(t["qty"]) * (1 if t["isBuyer"] else -1), abs=1e-12)
        assert px == pytest.approx(float(t["price"]))
    assert all(f[0] < FILL_ID_SPAN for f in rows(db, "SELECT venue_fill_id FROM fills WHERE symbol = ?", (PSYM,)))


def test_two_venues_two_strategies_add_up_to_each_account(tmp_path: Path, sim: SimServer) -> None:
    d = Daemon(write_config(tmp_path, sim), env=ENV)
    try:
        d.wait_ready(30)
        db = d.state / "journal.sqlite"
        st = ctl_json(d.sock, "status")
        assert set(st["venues"]) == {"paper", BNX} and st["accounts"] == {"paper": "active", BNX: "active"}
        assert st["mismatches_at_start"] == 0
        wait_for(lambda: all(len(fills_by(db).get((sid, sym), [])) >= 2 for sid in ("a", "b")
                             for sym in (PSYM, BSYM)), 40, "two fills of each strategy on each venue")
        h = ctl_json(d.sock, "status")
        assert all(v["feed_age_s"] is not None and v["feed_age_s"] < 5 for v in h["venues"].values()), h["venues"]
        assert set(h["feed_ages_s"]) == {"paper", BNX}
        # the Binance venue drops every WebSocket: that venue alone reconnects and reconciles, trading goes on
        n = len(fills_by(db).get(("a", BSYM), [])) + len(fills_by(db).get(("b", BSYM), []))
        assert sim.fault(drop_ws=True)["dropped"] >= 2
        wait_for(lambda: ctl_json(d.sock, "status")["venues"][BNX]["feed"].get("connects", 0) >= 2, 20,
                 "the Binance venue's market data reconnected")
        wait_for(lambda: len(fills_by(db).get(("a", BSYM), [])) + len(fills_by(db).get(("b", BSYM), [])) > n + 1,
                 30, "fills on the Binance venue after its reconnect")
        assert ctl_json(d.sock, "status")["venues"]["paper"]["feed"].get("connects", 1) <= 1
        settle(d, sim)
        assert_accounts_add_up(d, sim)
        equity = ctl_json(d.sock, "equity", "--account", BNX, "--limit", "5")
        assert equity and all(e["owner"] == BNX for e in equity)
        d.kill()  # SIGKILL: the restart reconciles each venue against its own part of the journal
        d = Daemon(write_config(tmp_path, sim), env=ENV)
        d.wait_ready(30)
        st = ctl_json(d.sock, "status")
        assert st["mismatches_at_start"] == 0, st
        settle(d, sim)  # the restarted strategies trade on: compare once halted and settled
        assert_accounts_add_up(d, sim)
    finally:
        if d.proc.poll() is None:
            d.stop()


def test_account_rate_and_halt_per_account_on_two_venues(tmp_path: Path, sim: SimServer) -> None:
    d = Daemon(write_config(tmp_path, sim, risk="[risk.per_account.paper]\norder_rate_per_second = 2.0\n"
                                                "order_burst = 1"), env=ENV)
    try:
        d.wait_ready(30)
        db = d.state / "journal.sqlite"

        def count(sym: str) -> dict[str, int]:
            return dict(rows(db, "SELECT strategy, COUNT(*) FROM intents WHERE symbol = ? GROUP BY strategy",
                             (sym,)))
        wait_for(lambda: all(count(PSYM).get(s) for s in ("a", "b")), 20, "both strategies ordering on paper")
        time.sleep(2.0)
        created = sorted(r[0] for r in rows(db, "SELECT created_ns FROM intents WHERE symbol = ?", (PSYM,)))
        for i, t0 in enumerate(created):  # both strategies together keep the paper account's rate
            n = sum(1 for t in created[i:] if t - t0 <= 1_000_000_000)
            assert n <= 1 + 2.0 * 1.0 + 1e-9, (n, created)
        assert "RISK_ACCOUNT_ORDER_RATE" in (tmp_path / "daemon.log").read_text()
        # the Binance account has no such limit: it may go faster
        st = ctl_json(d.sock, "halt", "--account", "paper", "--cancel-all")
        assert st["level"] == "account" and st["name"] == "paper"
        assert ctl_json(d.sock, "status")["accounts"] == {"paper": "halted", BNX: "active"}
        time.sleep(0.5)
        n_paper, n_bnx = sum(count(PSYM).values()), count(BSYM)
        wait_for(lambda: all(count(BSYM).get(s, 0) > n_bnx.get(s, 0) for s in ("a", "b")), 20,
                 "both strategies still ordering on the Binance venue")
        assert sum(count(PSYM).values()) == n_paper  # neither sends anything to the halted account
        ctl_json(d.sock, "resume", "--account", "paper")
        wait_for(lambda: sum(count(PSYM).values()) > n_paper, 15, "trading on paper again")
    finally:
        d.stop()


def test_a_stale_feed_is_named_by_its_venue(tmp_path: Path, sim: SimServer) -> None:
    """The Binance venue stops (SIGSTOP): health names that venue and only it, the stale-feed halt covers the
    strategies trading there, and when it runs again its feed recovers and the halt is lifted."""
    import signal

    cfg = write_config(tmp_path, sim)
    cfg.write_text(cfg.read_text() + "\n[watchdog]\nmax_feed_staleness_s = 1.5\n")
    d = Daemon(cfg, env=ENV)
    try:
        d.wait_ready(30)
        wait_for(lambda: ctl_json(d.sock, "status")["ok"], 20, "healthy")
        sim.proc.send_signal(signal.SIGSTOP)
        try:
            st = wait_for(lambda: (s := ctl_json(d.sock, "status"))["venues"][BNX]["stale"] and s, 15,
                          "the Binance venue's feed stale")
            assert not st["ok"] and st["venues"]["paper"]["stale"] is False
            stale = [p for p in st["problems"] if "feed stale" in p]
            assert stale and all(p.startswith(f"venue {BNX}: feed stale for") for p in stale), st["problems"]
            assert st["feed_ages_s"]["paper"] < 1.5
            wait_for(lambda: all(s["trading_state"] == "halted" for s in ctl_json(d.sock, "strategies")), 10,
                     "the strategies trading there halted")
        finally:
            sim.proc.send_signal(signal.SIGCONT)
        wait_for(lambda: not ctl_json(d.sock, "status")["venues"][BNX]["stale"], 30, "the feed recovered")
        wait_for(lambda: all(s["trading_state"] == "active" for s in ctl_json(d.sock, "strategies")), 10,
                 "the stale-feed halt lifted")
        log = (tmp_path / "daemon.log").read_text()
        assert f'"venue": "{BNX}"' in log and "feed.stale_halt" in log
    finally:
        d.stop()
