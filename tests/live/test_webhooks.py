"""`[[notify]]` webhooks against a local aiohttp receiver: every kind arrives once, in each format; a receiver
that answers 500 or hangs never holds up orders."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest
from daemon_util import ROOT, Daemon, ctl, rows
from webhook_receiver import Receiver

from leand.live.config import ConfigError, NotifyConfig, parse_config
from leand.live.webhooks import KINDS, Webhooks

FRAGILE = '''
from leand import Resolution, Strategy


class Fragile(Strategy):
    """One order the risk gate refuses, then an exception: a reject and a strategy failure, once each."""

    def initialize(self):
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.n = 0

    def on_data(self, data):
        self.n += 1
        if self.n == 3:
            self.market_order(self.symbol, 2.0)  # over max_order_quantity = 1
        if self.n == 6:
            raise RuntimeError("fragile by design")
'''


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


async def test_formats_retries_and_rate_limit(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAND_TEST_BOT", "123:secret-bot-token")
    base = receiver.url
    hooks = Webhooks([
        NotifyConfig(format="json", url=f"{base}/json", rate_per_minute=6000),
        NotifyConfig(format="slack", url=f"{base}/slack", rate_per_minute=6000, events=["halt", "fill"]),
        NotifyConfig(format="telegram", url=base, bot_token_env="LEAND_TEST_BOT", chat_id="-10042",
                     rate_per_minute=6000),
        NotifyConfig(format="json", url=f"{base}/fail", retries=2, timeout_s=1, rate_per_minute=6000),
        NotifyConfig(format="json", url=f"{base}/hang", retries=0, timeout_s=30, rate_per_minute=6000),
    ])
    await hooks.start()
    try:
        emit_s = 0.0
        for kind in KINDS:
            t0 = time.perf_counter()
            hooks.emit(kind, f"a {kind} happened", strategy="s1")
            emit_s += time.perf_counter() - t0
            # 6,000 a minute is 100 a second after a burst of 5: spaced so that none of the six is rate-limited
            # however fast the receiver answers (this test is about formats and retries; the next about the limit)
            await asyncio.sleep(0.02)
        tg = "/bot123:secret-bot-token/sendMessage"
        for _ in range(200):
            if len(receiver.bodies("/json")) == len(KINDS) and len(receiver.bodies(tg)) == len(KINDS) and \
                    len(receiver.bodies("/slack")) == 2 and receiver.failed >= 3:
                break
            await asyncio.sleep(0.05)
        got = receiver.bodies("/json")
        assert sorted(b["kind"] for b in got) == sorted(KINDS)  # each kind once, nothing twice
        assert all(b["source"] == "leand" and b["strategy"] == "s1" and b["text"] for b in got)
        slack = receiver.bodies("/slack")
        assert sorted(b["text"].split(":")[0] for b in slack) == ["*leand* fill", "*leand* halt"]
        tele = receiver.bodies(tg)
        assert len(tele) == len(KINDS) and all(b["chat_id"] == "-10042" and b["text"].startswith("leand: ")
                                              for b in tele)
        # the broken receiver: tried 1 + 2 retries for its first message, while the others went on
        assert receiver.failed >= 3 and hooks.counts[("3:json", "retried")] >= 2
        assert receiver.hanging == 1  # still held, and nothing above waited for it
        assert emit_s < 0.5  # emit only queues (a generous bound: a send would take >= the receiver's delay)
    finally:
        await hooks.stop(flush_s=0.2)


async def test_rate_limit_counts_and_summarises(receiver: Receiver) -> None:
    hooks = Webhooks([NotifyConfig(format="json", url=f"{receiver.url}/rl", rate_per_minute=120)])  # burst 5
    await hooks.start()
    try:
        for i in range(9):
            hooks.emit("fill", f"fill {i}")
        for _ in range(100):
            if hooks.counts.get(("0:json", "rate_limited"), 0) + hooks.counts.get(("0:json", "sent"), 0) >= 9:
                break
            await asyncio.sleep(0.02)
        assert hooks.counts[("0:json", "sent")] == 5 and hooks.counts[("0:json", "rate_limited")] == 4
        await asyncio.sleep(0.6)  # a token refills (2 a second)
        hooks.emit("halt", "halted")
        for _ in range(100):
            if len(receiver.bodies("/rl")) == 6:
                break
            await asyncio.sleep(0.02)
        last = receiver.bodies("/rl")[-1]
        assert last["kind"] == "halt" and last["suppressed"] == 4 and "4 earlier notifications" in last["text"]
    finally:
        await hooks.stop(flush_s=0.2)


def test_notify_config_errors() -> None:
    with pytest.raises(ConfigError, match="needs url"):
        parse_config({"notify": [{"format": "json"}]})
    with pytest.raises(ConfigError, match="chat_id"):
        parse_config({"notify": [{"format": "telegram", "bot_token_env": "X"}]})
    with pytest.raises(ConfigError, match="bot_token"):
        parse_config({"notify": [{"format": "telegram", "bot_token": "123:abc", "chat_id": "1"}]})
    with pytest.raises(ConfigError, match="expected an http"):
        parse_config({"notify": [{"url": "ftp://example.org/hook"}]})
    with pytest.raises(ConfigError, match="events"):
        parse_config({"notify": [{"url": "http://127.0.0.1:1/", "events": ["fills"]}]})


def _config(tmp: Path, receiver: Receiver, extra_venue: str = "", strategies: str = "", watchdog: str = "") -> Path:
    cfg = tmp / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp / 'state'}"
log_format = "json"
snapshot_interval_s = 0.5

[venue]
rate_hz = 100
seed = 11
volatility = 0.0005
{extra_venue}

[[strategies]]
id = "scalper"
file = "{ROOT / 'strategies' / 'paper_scalper.py'}"
parameters = {{ every = 2, lookback = 5 }}
{strategies}

[risk.global]
max_order_quantity = 1.0

[watchdog]
{watchdog}

[[notify]]
format = "json"
url = "{receiver.url}/ok"
rate_per_minute = 100000
queue = 100000

[[notify]]
format = "slack"
url = "{receiver.url}/fail"
retries = 5
timeout_s = 1

[[notify]]
format = "telegram"
url = "{receiver.url}/hang"
chat_id = "1"
retries = 0
timeout_s = 3600
""")
    return cfg


@pytest.mark.slow
def test_daemon_notifies_each_event_once_and_failing_receivers_do_not_delay_orders(tmp_path: Path,
                                                                                   receiver: Receiver) -> None:
    fragile = tmp_path / "fragile.py"
    fragile.write_text(FRAGILE)
    d = Daemon(_config(tmp_path, receiver, strategies=f'[[strategies]]\nid = "fragile"\nfile = "{fragile}"\n'))
    db = d.state / "journal.sqlite"
    try:
        d.wait_ready()
        # the hanging receiver holds a request open and the failing one answered 500: orders go on regardless
        receiver.wait(lambda: receiver.hanging >= 1 and receiver.failed >= 1)
        n0 = rows(db, "SELECT COUNT(*) FROM fills")[0][0]
        t0 = time.monotonic()
        receiver.wait(lambda: rows(db, "SELECT COUNT(*) FROM fills")[0][0] >= n0 + 5)
        assert receiver.hanging >= 1, "the hanging request was given up on: it did not prove anything"
        waited = time.monotonic() - t0
        receiver.wait(lambda: any(b["kind"] == "strategy_failed" for b in receiver.bodies("/ok")))
        assert ctl(d.sock, "halt", "--reason", "webhook test")[0] == 0
        receiver.wait(lambda: sum(b["kind"] == "halt" for b in receiver.bodies("/ok")) >= 2)
        assert ctl(d.sock, "halt", "--account", "paper", "--reason", "account test")[0] == 0
        receiver.wait(lambda: any(b["kind"] == "halt" and b.get("account") == "paper" for b in receiver.bodies("/ok")))
        time.sleep(1.5)
    finally:
        assert d.stop() == 0
    got = receiver.bodies("/ok")
    kinds = Counter((b["kind"], b.get("strategy")) for b in got)
    assert kinds[("strategy_failed", "fragile")] == 1
    assert kinds[("reject", "fragile")] == 1 and kinds[("halt", "fragile")] == 1 and kinds[("halt", "scalper")] == 1
    assert [b["reason"] for b in got if b["kind"] == "halt" and b.get("account") == "paper"] == ["account test"]
    reject = next(b for b in got if b["kind"] == "reject")
    assert reject["code"] == "RISK_MAX_ORDER_QUANTITY" or reject["code"].startswith("RISK_"), reject
    # every fill the journal holds was notified exactly once
    fills = {(r[0], round(abs(r[1]), 10), r[2]) for r in rows(db, "SELECT client_order_id, quantity, price FROM fills")}
    notified = [(b["client_order_id"], round(b["quantity"], 10), b["price"]) for b in got if b["kind"] == "fill"]
    assert len(notified) == len(set(notified)) and set(notified) == fills
    print(f"5 fills in {waited:.2f} s while a webhook hung and another answered 500")


@pytest.mark.slow
def test_feed_staleness_and_reconnect_storm(tmp_path: Path, receiver: Receiver) -> None:
    """A feed that keeps failing (a replay date with no data) is restarted again and again: stale, and a storm."""
    d = Daemon(_config(tmp_path, receiver, extra_venue='source = "lean-ticks"\nreplay_date = "2001-01-01"',
                       watchdog="max_feed_staleness_s = 1.0\nreconnect_storm_count = 3\n"
                                "reconnect_storm_window_s = 60\n"))
    try:
        d.wait_ready()
        receiver.wait(lambda: {b["kind"] for b in receiver.bodies("/ok")} >= {"feed_stale", "reconnect_storm"})
        time.sleep(1.5)
    finally:
        assert d.stop() == 0
    kinds = Counter(b["kind"] for b in receiver.bodies("/ok"))
    assert kinds["feed_stale"] == 1 and kinds["reconnect_storm"] == 1, kinds
    storm = next(b for b in receiver.bodies("/ok") if b["kind"] == "reconnect_storm")
    assert storm["reconnects"] >= 3 and storm["venue"] == "paper"
