"""The stale-feed halt: the watchdog halts every strategy when market data is older than the limit and lifts
that halt, and only that one, when data flows again (the load script measures it against a real venue)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "risk"))

from fakes import World

from leand.live.actions import STALE_FEED, apply_ctl
from leand.live.config import WatchdogConfig
from leand.live.daemon import Daemon
from leand.risk import RiskGate
from leand.risk.gate import TradingState


def _engine() -> SimpleNamespace:
    return SimpleNamespace(risk_gate=RiskGate({}, World()))


def test_feed_resume_lifts_only_the_stale_feed_halt():
    e = _engine()
    apply_ctl(e, "halt", {"reason": f"{STALE_FEED}: no market data for 2.1 s"})
    assert e.risk_gate.state is TradingState.HALTED
    apply_ctl(e, "feed-resume", {})
    assert e.risk_gate.state is TradingState.ACTIVE
    apply_ctl(e, "halt", {"reason": "kill switch (leand ctl halt)"})
    apply_ctl(e, "feed-resume", {})
    assert e.risk_gate.state is TradingState.HALTED  # an operator's halt stays


def test_watchdog_halts_once_when_stale_and_resumes_once():
    async def go() -> None:
        runners = {"a": SimpleNamespace(got=[], venues=("v",)), "b": SimpleNamespace(got=[], venues=("v",))}
        v = SimpleNamespace(id="v", last_quote_wall=100.0, stale_halted=False)
        d = SimpleNamespace(cfg=SimpleNamespace(watchdog=WatchdogConfig(max_feed_staleness_s=2.0)),
                            venues={"v": v}, runners=runners, deliver=lambda r, item: r.got.append(item))
        for now in (101.0, 101.9, 102.05, 102.5, 103.0):  # the limit passes at 102.0: one halt
            Daemon._stale_feed(d, now)  # type: ignore[arg-type]
        v.last_quote_wall = 103.1
        for now in (103.2, 103.3):  # data again: one resume
            Daemon._stale_feed(d, now)  # type: ignore[arg-type]
        for r in runners.values():
            got = r.got
            assert [g[1] for g in got] == ["halt", "feed-resume"]
            assert got[0][2]["reason"].startswith(STALE_FEED) and got[0][2]["cancel_all"] is False

    asyncio.run(go())


def test_stale_feed_on_one_venue_halts_only_its_strategies():
    """Two venues: a stale feed on one halts the strategies trading there; a strategy on both is resumed only
    when both flow again."""
    async def go() -> None:
        runners = {"p": SimpleNamespace(got=[], venues=("p",)),
                   "b": SimpleNamespace(got=[], venues=("b",)),
                   "pb": SimpleNamespace(got=[], venues=("p", "b"))}
        vp = SimpleNamespace(id="p", last_quote_wall=100.0, stale_halted=False)
        vb = SimpleNamespace(id="b", last_quote_wall=100.0, stale_halted=False)
        d = SimpleNamespace(cfg=SimpleNamespace(watchdog=WatchdogConfig(max_feed_staleness_s=2.0)),
                            venues={"p": vp, "b": vb}, runners=runners, deliver=lambda r, item: r.got.append(item))
        vp.last_quote_wall = 101.5
        Daemon._stale_feed(d, 102.5)  # type: ignore[arg-type]  # b stale, p fresh
        vb.last_quote_wall = 103.0
        Daemon._stale_feed(d, 103.1)  # type: ignore[arg-type]  # b back
        calls = {sid: [g[1] for g in r.got] for sid, r in runners.items()}
        for r in runners.values():
            r.got.clear()
        assert calls == {"p": [], "b": ["halt", "feed-resume"], "pb": ["halt", "feed-resume"]}
        Daemon._stale_feed(d, 104.0)  # type: ignore[arg-type]  # p stale (2.5 s), b fresh
        vb.last_quote_wall = 100.0
        Daemon._stale_feed(d, 104.1)  # type: ignore[arg-type]  # b stale as well
        vp.last_quote_wall = 104.2
        Daemon._stale_feed(d, 104.3)  # type: ignore[arg-type]  # p back, b still stale: pb stays halted
        calls = {sid: [g[1] for g in r.got] for sid, r in runners.items()}
        for r in runners.values():
            r.got.clear()
        assert calls == {"p": ["halt", "feed-resume"], "b": ["halt"], "pb": ["halt", "halt"]}

    asyncio.run(go())


def test_disabled_by_config():
    v = SimpleNamespace(id="v", last_quote_wall=1.0, stale_halted=False)
    d = SimpleNamespace(cfg=SimpleNamespace(watchdog=WatchdogConfig(max_feed_staleness_s=1.0,
                                                                     halt_on_stale_feed=False)),
                        venues={"v": v}, runners={})
    Daemon._stale_feed(d, 100.0)  # type: ignore[arg-type]
    assert v.stale_halted is False
