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
