"""The fuzz targets, briefly (a few seconds each): see ``targets.py`` for the properties and
``run_long.py`` for the long run (>= 1M inputs)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from .targets import TARGETS, Target


def run_target(t: Target, examples: int, seed: int | None = None) -> None:
    """Run ``t.check`` on ``examples`` generated inputs (hypothesis shrinks and raises the first failure)."""

    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(t.strategy)
    def run(x: object) -> None:
        t.count += 1
        t.check(x)

    if seed is not None:
        from hypothesis import seed as hseed

        run = hseed(seed)(run)
    run()


@pytest.fixture(scope="module", autouse=True)
def _teardown():
    yield
    for t in TARGETS:
        if t.close is not None:
            t.close()


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_fuzz(target: Target) -> None:
    run_target(target, target.ci_examples)


# inputs the long run found (tests/fuzz/run_long.py), kept as regressions
FOUND = [
    ("data_import", ("trade_tick", "+1")),
    ("lean_reader", ("crypto_tick", b"nan")),
    ("toml_config", '"snapshot_interval_s" = inf\n'),
    ("sim_control", ("faults", {"\nlush": "x"})),
    ("adapter_user_frames", b'{"subscriptionId":0,"event":{"e":"eventStreamTermin\xf9ted","E":1}}'),
    ("adapter_md_frames", b'{"stream":"","data":{"e":"trade","E":0,"s":"BTCUSDT","t":0,"p":"0","q":"0","T":0,"m":true}}'),
    ("ctl_protocol", ("DELETE", "-", b"{}")),
]


@pytest.mark.parametrize("name,x", FOUND, ids=[f[0] for f in FOUND])
def test_found_by_the_long_run(name: str, x: object) -> None:
    target = next(t for t in TARGETS if t.name == name)
    target.check(x)
