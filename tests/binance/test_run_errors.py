"""`leand run` against a Binance venue that is not there: a clear one-line error and exit 2, no traceback,
nothing traded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_unreachable_venue_is_a_clean_error(tmp_path):
    cfg = (ROOT / "examples" / "binance-sim.toml").read_text()
    cfg = cfg.replace('"state-binance"', repr(str(tmp_path / "state")).replace("'", '"')).replace("8765", "9")
    cfg = cfg.replace('"../strategies/', f'"{ROOT}/strategies/')
    (tmp_path / "c.toml").write_text(cfg)
    env = dict(os.environ, BINANCE_API_KEY="k", BINANCE_API_SECRET="s")
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--config", str(tmp_path / "c.toml"), "--for", "5"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2, p.stderr[-2000:]
    assert "leand run: error: cannot connect to venue 'binance-sim'" in p.stderr
    assert "Traceback" not in p.stderr
