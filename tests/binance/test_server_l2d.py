"""leand sim serve driven by a leand book recording (.l2d): the served book follows the recording's mid."""

from __future__ import annotations

import aiohttp
import numpy as np
import pytest

from leand.simulator.binance import SimConfig, finalize, start_server
from leand.simulator.binance.config import ConfigError, GeneratorConfig
from leand.simulator.l2file import DELTA, RECORD, L2Header, L2Writer

MS = 1_000_000


def recording(path, mids: list[float]) -> None:
    recs, seq = [], 0
    for i, m in enumerate(mids):  # one two-sided touch per second around each mid
        for side, px in ((1, m - 0.5), (-1, m + 0.5)):
            seq += 1
            recs.append((i * 1000 * MS, seq, DELTA, side, px, 1.0))
            if i:
                seq += 1
                recs.append((i * 1000 * MS, seq, DELTA, side, mids[i - 1] + (-0.5 if side > 0 else 0.5), 0.0))
    with L2Writer(path, L2Header("BTCUSDT", 0.01, 1e-5, "test")) as w:
        w.write(np.array(recs, dtype=RECORD))


async def test_served_mid_follows_the_recording(tmp_path):
    p = tmp_path / "btc.l2d"
    recording(p, [60_000.0, 60_100.0, 60_400.0])
    gen = GeneratorConfig(source="l2d", l2d_files={"BTCUSDT": str(p)}, rate_hz=0, warmup_steps=0, lean_speed=1.0)
    cfg = SimConfig(generator=gen)
    cfg.symbols = [s for s in finalize(cfg).symbols if s.symbol == "BTCUSDT"]
    srv = await start_server(finalize(cfg))
    try:
        async with aiohttp.ClientSession() as s:
            mids = []
            for _ in range(3):
                srv.step(10)  # ten 100 ms steps: one second of the recording at real speed
                async with s.get(f"{srv.url}/api/v3/ticker/bookTicker", params={"symbol": "BTCUSDT"}) as r:
                    bt = await r.json()
                mids.append((float(bt["bidPrice"]) + float(bt["askPrice"])) / 2)
        assert abs(mids[0] - 60_100.0) < 5 and abs(mids[1] - 60_400.0) < 5  # one second per recorded mid
    finally:
        await srv.close()


def test_missing_recording_is_a_config_error(tmp_path):
    gen = GeneratorConfig(source="l2d", l2d_files={}, rate_hz=0)
    with pytest.raises(ConfigError, match="no recording for BTCUSDT"):
        from leand.simulator.binance.exchange import Exchange
        Exchange(finalize(SimConfig(generator=gen)))
