"""Suite-wide settings.

Hypothesis runs without its per-example deadline: a deadline is a timing assertion, and on a shared 2-core
machine a slow example is load, not a bug (what a test checks is the property, never the speed).

Daemons a test started through ``daemon_util.Daemon`` and left running (it failed before stopping them) are
killed after the test, so a failure never leaves a trading process behind on the machine."""

import sys
from collections.abc import Iterator

import pytest
from hypothesis import settings

settings.register_profile("leand", deadline=None)
settings.load_profile("leand")


@pytest.fixture(autouse=True)
def _reap_daemons() -> Iterator[None]:
    yield
    util = sys.modules.get("daemon_util")
    if util is not None:
        util.reap()
