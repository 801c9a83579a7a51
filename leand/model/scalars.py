"""Numbers as Python's own: what a strategy computed with numpy becomes a plain int or float where it enters an
order, so everything after (the order manager, the journal, the recording, the order archive's msgpack columns)
sees the same values and types it would for ``10`` or ``10.0``."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

#: the classes that pass as they are (a check of ``x.__class__`` against these is the per-order cost)
PLAIN = frozenset({int, float, bool, type(None)})


def plain_number(x: Any) -> Any:
    """``x`` as an int (any integral number: ``np.int64``, ``np.uint8``, ...) or a float (any other real one:
    ``np.float64``, ``np.float32``, a float subclass); anything else (None, a plain int or float, a value that
    is not a number) unchanged, for the caller's own checks to judge."""
    cls = x.__class__
    if cls in PLAIN:
        return x
    if isinstance(x, Integral):
        return int(x)
    if isinstance(x, Real):
        return float(x)
    return x


def plain_numbers(*xs: Any) -> tuple[Any, ...]:
    """:func:`plain_number` of each."""
    return tuple(x if x.__class__ in PLAIN else plain_number(x) for x in xs)
