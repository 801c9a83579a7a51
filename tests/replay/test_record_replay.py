"""Record a paper session with the real daemon, replay it, and check what the replay reports."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "live"))
from daemon_util import Daemon, write_config

from leand.replay.reader import read_frames
from leand.replay.records import Decision, Slice

pytestmark = pytest.mark.slow

THRESHOLD = '''
import os

from leand import Resolution, Strategy


class Nth(Strategy):
    """Buys once, on the n-th quote, with an order tag that (deliberately) carries a secret."""

    parameters = {"n": 10}

    def initialize(self):
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.seen = 0

    def on_data(self, data):
        self.seen += 1
        if self.seen == int(self.get_parameter("n", 10)):
            self.market_order(self.symbol, 0.001, tag="key=" + os.environ.get("LEAND_TEST_KEY", ""))
'''


def leand(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leand.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def record(tmp: Path, strategy: Path | None = None, seconds: float = 2.0, env: dict | None = None,
           venue: str = "") -> Path:
    cfg = write_config(tmp, rate_hz=50, strategy_file=strategy)
    if venue:
        cfg.write_text(cfg.read_text().replace("[venue]", "[venue]\n" + venue))
    d = Daemon(cfg, env=env)
    d.wait_ready()
    time.sleep(seconds)
    assert d.stop() == 0, d.tail()
    sessions = [p for p in (tmp / "state" / "recordings").iterdir() if p.is_dir()]
    assert len(sessions) == 1
    return sessions[0]


def test_replay_matches_every_decision_and_is_byte_identical(tmp_path: Path) -> None:
    session = record(tmp_path)
    decisions = [f for f in read_frames(session) if isinstance(f, Decision)]
    assert len(decisions) >= 3
    a = leand("replay", session.name, "--recordings", str(session.parent), cwd=tmp_path)
    b = leand("replay", str(session), cwd=tmp_path)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    assert "match rate: 100.00%" in a.stdout and "first divergence: none" in a.stdout
    assert f"recorded {len(decisions)}, replayed {len(decisions)}" in a.stdout
    listing = leand("sessions", "--recordings", str(session.parent), cwd=tmp_path)
    assert listing.returncode == 0 and session.name in listing.stdout and "BTCUSD" in listing.stdout


def test_changed_parameter_reports_the_right_first_divergence(tmp_path: Path) -> None:
    strat = tmp_path / "nth.py"
    strat.write_text(THRESHOLD)
    session = record(tmp_path, strat, seconds=1.0)
    frames = list(read_frames(session))
    slices = [f for f in frames if isinstance(f, Slice)]
    (decision,) = [f for f in frames if isinstance(f, Decision)]
    assert decision.recv_ns == slices[9].recv_ns  # the 10th quote
    out = leand("replay", str(session), "--param", "n=15", cwd=tmp_path)
    assert out.returncode == 1
    from leand.replay.replayer import _fmt_t

    assert f"first divergence: decision #1 at {_fmt_t(slices[9].recv_ns)}" in out.stdout
    assert f"recorded: submit scalper-1-1 BTCUSD +0.001 market gtc at {_fmt_t(slices[9].recv_ns)}" in out.stdout
    assert f"replayed: (none); next: submit scalper-1-1 BTCUSD +0.001 market gtc at {_fmt_t(slices[14].recv_ns)}" in out.stdout
    last_context = out.stdout.strip().splitlines()[-1]
    assert f"market data #{slices[9].md_seq}:" in last_context and _fmt_t(slices[9].recv_ns) in last_context
    # the unchanged code still matches
    assert "match rate: 100.00%" in leand("replay", str(session), cwd=tmp_path).stdout


def test_truncated_segment_replays_up_to_the_cut_with_a_warning(tmp_path: Path) -> None:
    session = record(tmp_path, seconds=1.5)
    seg = sorted(session.glob("segment-*.lrec"))[-1]
    data = seg.read_bytes()
    seg.write_bytes(data[: len(data) - 7])  # a crash mid-frame
    out = leand("replay", str(session), cwd=tmp_path)
    assert out.returncode in (0, 1), out.stderr
    assert "truncated frame" in out.stderr and "truncated frame" in out.stdout
    assert "inputs replayed:" in out.stdout


def test_no_configured_secret_in_any_recording_byte(tmp_path: Path) -> None:
    strat = tmp_path / "nth.py"
    strat.write_text(THRESHOLD)
    key = "sk-live-9f8e7d6c5b4a3210"
    # the venue loads the key as its credential, so it is a registered secret; the strategy even puts it in an
    # order tag: it must not reach the recording (nor the catalog)
    session = record(tmp_path, strat, seconds=1.0, env={"LEAND_TEST_KEY": key}, venue='api_key_env = "LEAND_TEST_KEY"')
    blobs = [p.read_bytes() for p in session.parent.rglob("*") if p.is_file()]
    assert blobs and not any(key.encode() in b for b in blobs)
    tags = [f.tag for f in read_frames(session) if isinstance(f, Decision)]
    assert tags == ["key=" + "*" * len(key)]


def test_what_if_and_import_session(tmp_path: Path) -> None:
    session = record(tmp_path, seconds=1.0)
    out = leand("replay", str(session), "--strategy", str(Path(__file__).resolve().parents[2] / "strategies" /
                                                         "paper_scalper.py"), "--param", "every=3",
                "--out", str(tmp_path / "whatif"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "what-if:" in out.stdout and "Total Orders" in out.stdout
    assert (tmp_path / "whatif" / "statistics.json").is_file()
    imp = leand("data", "import-session", str(session), "--out", str(tmp_path / "lean"), cwd=tmp_path)
    assert imp.returncode == 0 and "imported" in imp.stdout
    zips = list((tmp_path / "lean" / "crypto" / "coinbase" / "tick" / "btcusd").glob("*_quote.zip"))
    assert zips
