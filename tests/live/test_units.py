"""Small pieces of the daemon: supervision backoff, the live clock, credentials and redaction."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from leand.clock import LiveClock
from leand.live.config import parse_config
from leand.live.secrets import SecretError, redact, scrub, secret


async def test_a_failing_task_restarts_with_growing_backoff(monkeypatch) -> None:
    from leand.live.daemon import Daemon

    d = Daemon(parse_config({}))
    starts: list[float] = []

    async def flaky() -> None:
        starts.append(time.monotonic())
        if len(starts) < 4:
            raise ConnectionError("feed dropped")

    monkeypatch.setattr("random.random", lambda: 0.5)  # jitter factor 1.0, so delays are exact
    await asyncio.wait_for(d._supervise("feed", flaky, base=0.02, cap=1.0), 5)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(starts) == 4
    assert gaps[0] >= 0.018 and gaps[1] >= 0.036 and gaps[2] >= 0.075  # 0.02, 0.04, 0.08


def test_live_clock_fires_timers_in_wall_time() -> None:
    c = LiveClock(time.time_ns())
    fired = []
    c.set_time_alert("soon", time.time_ns() + 50_000_000, lambda t: fired.append(t))
    assert c.tick() == 0
    time.sleep(0.06)
    assert c.tick() == 1 and fired
    assert abs(c.now_ns() - time.time_ns()) < 50_000_000


def test_secret_from_systemd_credentials_wins_over_env(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "api-key").write_text("cred-value-123\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    monkeypatch.setenv("MY_KEY", "env-value-456")
    assert secret(env="MY_KEY", credential="api-key") == "cred-value-123"
    assert secret(env="MY_KEY") == "env-value-456"
    with pytest.raises(SecretError, match=r"\$NOPE or credential 'nope'"):
        secret(env="NOPE", credential="nope")
    assert scrub("token cred-value-123 and env-value-456") == "token [REDACTED] and [REDACTED]"
    ev = redact(None, "info", {"event": "x", "nested": {"k": ["env-value-456"]}})
    assert ev["nested"]["k"] == ["[REDACTED]"]


def test_histogram_later_observations_count_when_read() -> None:
    """Values given to ``observe_later`` (the gate hook's tick-to-order samples) are in every reading, in the order they
    came: the same counts and the same float sum as observing each at once."""
    from leand.live.metrics import Histogram

    values = [1e-6 * (1 + i % 37) + 1e-4 * (i % 5) for i in range(3 * Histogram.LATER_MAX + 7)]
    now, later = Histogram(), Histogram()
    for v in values:
        now.observe(v)
        later.observe_later(v)
    assert later.quantile(0.5) == now.quantile(0.5) and later.quantile(0.99) == now.quantile(0.99)
    assert (later.count, later.sum, later.counts) == (now.count, now.sum, now.counts) and not later.later
    later.observe_later(2.0)
    fam = later.family("x", "y")
    assert later.count == now.count + 1 and fam.samples[-2].value == now.count + 1  # _count, then _sum
