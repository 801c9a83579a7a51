"""The long crash run for the closing note: python tests/live/crash_soak.py --kills 200"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from crashlib import assert_clean, crash_cycles


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        report = crash_cycles(Path(tmp), args.kills, args.seed)
    report["seconds"] = round(time.monotonic() - t0, 1)
    print(json.dumps(report, indent=2))
    assert_clean(report)
    print(f"OK: {args.kills} SIGKILLs, {report['orders']} orders, {report['fills']} fills, nothing lost or resent")


if __name__ == "__main__":
    main()
