"""The pairing of a streaming indicator with its vectorized twin, for the shared property tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np


class Twin(NamedTuple):
    name: str
    #: a fresh streaming indicator
    make: Callable[[], Any]
    #: the vectorized twin over {"open","high","low","close","volume"} arrays → the main output per row
    vec: Callable[[dict[str, np.ndarray]], np.ndarray]
    #: fed with update_bar (True) or update(time, close) (False)
    bars: bool
