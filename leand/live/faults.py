"""Deterministic fault injection for the crash tests: ``LEAND_FAULT_KILL_AT=<point>:<n>`` makes the daemon
SIGKILL itself the n-th time it reaches ``<point>``, so each restart-recovery path is exercised on purpose
instead of hoped for by random kills.

Points (each placed where a crash loses the most):

* ``intent_journaled``   the intent is in the journal, the venue has not heard of it (restart: ``not_sent``)
* ``sent_unacked``       the venue has the order, the daemon has not processed its answer (restart: looked up)
* ``fill_unjournaled``   the venue filled, the daemon has not journaled the fill (restart: fill recovered)
* ``reconcile``          reconciliation is writing a recovered fill (restart: reconciled again, idempotently)

Unset (always, outside tests), a point costs one comparison of a module global with None.
"""

from __future__ import annotations

import os
import signal
import sys

POINTS = ("intent_journaled", "sent_unacked", "fill_unjournaled", "reconcile")


def _parse(spec: str | None) -> tuple[str, int] | None:
    if not spec:
        return None
    point, _, n = spec.partition(":")
    if point not in POINTS or not n.isdigit() or int(n) < 1:
        print(f"leand: ignoring LEAND_FAULT_KILL_AT={spec!r}: want <point>:<n> with point one of "
              f"{', '.join(POINTS)} and n >= 1", file=sys.stderr)
        return None
    return point, int(n)


_ARMED = _parse(os.environ.get("LEAND_FAULT_KILL_AT"))
_hits = 0
#: whether any point is armed in this process (fixed at import): the hot path tests it instead of calling
ARMED = _ARMED is not None


def kill_point(point: str) -> None:
    """SIGKILL this process if ``point`` is armed and this is its n-th hit."""
    global _hits
    if _ARMED is None or _ARMED[0] != point:
        return
    _hits += 1
    if _hits == _ARMED[1]:
        sys.stderr.write(f"leand: fault injection: SIGKILL at {point} (hit {_hits})\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
