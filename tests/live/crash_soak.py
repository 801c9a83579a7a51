"""The long crash run for the closing note: python tests/live/crash_soak.py --kills 200

``--faults N`` adds N rounds of deterministic kills at every point of leand.live.faults (LEAND_FAULT_KILL_AT)
in a state of their own, so recovered fills and never-sent intents are counted, not hoped for."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from crashlib import FAULT_PLAN, assert_clean, crash_cycles, fault_cycles


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--faults", type=int, default=0, help="rounds of kills at every fault-injection point")
    args = ap.parse_args()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        report = crash_cycles(Path(tmp), args.kills, args.seed)
    report["seconds"] = round(time.monotonic() - t0, 1)
    print(json.dumps(report, indent=2))
    assert_clean(report)
    print(f"OK: {args.kills} SIGKILLs, {report['orders']} orders, {report['fills']} fills, nothing lost or resent")
    if args.faults:
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            report = fault_cycles(Path(tmp), FAULT_PLAN * args.faults)
        report["seconds"] = round(time.monotonic() - t0, 1)
        print(json.dumps(report, indent=2))
        assert_clean(report)
        print(f"OK: {len(report['fault_kills'])} injected kills, {report['fills_recovered_at_restart']} fills "
              f"recovered at restart, {report['intents_never_sent']} intents never sent, nothing lost or resent")


if __name__ == "__main__":
    main()
