"""``[[venues]]``: several venues in one config, each problem one clear line (at load and in ``run --check``),
and the journal kept apart per venue (fill-id slots, what each venue reconciles against)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from leand.live.config import ConfigError, load_config, parse_config
from leand.live.journal import Journal
from leand.live.venues import FILL_ID_SPAN, VenueStore, venue_slots
from leand.model import OrderStatus, OrderType, Symbol, TimeInForce

ROOT = Path(__file__).resolve().parents[2]
SCALPER = str(ROOT / "strategies" / "paper_scalper.py")

TWO = {
    "venues": [
        {"id": "paper", "kind": "paper", "symbols": ["BTCUSD"]},
        {"id": "bnx", "kind": "binance", "symbols": ["BTCUSDT"], "api_key_env": "K", "api_secret_env": "S"},
    ],
    "strategies": [{"id": "a", "file": SCALPER, "venues": ["paper"], "allocation": 0.5},
                   {"id": "b", "file": SCALPER, "allocations": {"bnx": {"USDT": 100.0}}}],
}


def test_two_venues_parse_with_ids_as_names() -> None:
    cfg = parse_config(TWO)
    assert [(v.name, v.kind) for v in cfg.venues] == [("paper", "paper"), ("bnx", "binance")]
    assert cfg.venue is cfg.venues[0]
    assert cfg.strategies[0].venues == ["paper"]


def test_one_venue_form_is_one_venue() -> None:
    cfg = parse_config({"venue": {"kind": "paper", "name": "pv"}})
    assert [v.name for v in cfg.venues] == ["pv"]


def _errors(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(raw, "t.toml")
    return e.value.lines


def test_every_venue_problem_is_one_line() -> None:
    lines = _errors({"venues": [
        {"id": "a", "kind": "paper", "symbols": ["BTCUSD"]},
        {"id": "a", "kind": "paper", "symbols": ["ETHUSD"]},
        {"id": "b", "kind": "paper", "symbols": ["btcusd"]},
        {"id": "c", "kind": "nosuch"},
        {"kind": "paper"},
    ]})
    assert len(lines) == 4, lines
    assert all("\n" not in ln and ln.startswith("t.toml: venues[") for ln in lines)
    assert "venues[1].id = 'a': used twice (also venues[0])" in lines[0]
    assert "venues[2].symbols: BTCUSD (coinbase) is on venue 'a' already" in lines[1]
    assert "venues[3].kind = 'nosuch': unknown venue kind" in lines[2]
    assert "venues[4].id = None: every venue needs an id" in lines[3]


def test_strategies_naming_unknown_venues() -> None:
    raw = {**TWO, "strategies": [{"id": "a", "file": SCALPER, "venues": ["paper", "nope"]},
                                 {"id": "b", "file": SCALPER, "allocations": {"gone": 0.5}}]}
    lines = _errors(raw)
    assert len(lines) == 2, lines
    assert "strategies[0].venues: strategy 'a' names unknown venue 'nope' (have: paper, bnx)" in lines[0]
    assert "strategies[1].allocations.gone: strategy 'b' names unknown venue 'gone'" in lines[1]


def test_venue_and_venues_together_is_an_error() -> None:
    assert "use [[venues]] tables or one [venue], not both" in _errors({**TWO, "venue": {"kind": "paper"}})[0]


def test_run_check_prints_each_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "leand.toml"
    cfg.write_text(f"""
[[venues]]
id = "p"
symbols = ["BTCUSD"]

[[venues]]
id = "p"
symbols = ["ETHUSD"]

[[venues]]
id = "q"
kind = "wat"

[[strategies]]
id = "s"
file = "{SCALPER}"
venues = ["zzz"]
""")
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--check", "--config", str(cfg)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 2, p.stderr  # venues are checked first: strategies are checked once they parse
    assert "venues[1].id = 'p': used twice" in lines[0] and lines[0].startswith("leand run --check: error: ")
    assert "venues[2].kind = 'wat'" in lines[1]


def test_run_check_accepts_the_two_venue_example() -> None:
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--check", "--config",
                        str(ROOT / "examples" / "two-venues.toml")], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "venues paper, binance-sim" in p.stdout


def test_over_allocation_is_checked_per_account(tmp_path: Path) -> None:
    from leand.live.check import check_config

    raw = {**TWO, "strategies": [{"id": "a", "file": SCALPER, "allocation": 0.6},
                                 {"id": "b", "file": SCALPER, "allocations": {"paper": 0.5, "bnx": 0.1}}]}
    problems = check_config(parse_config(raw))
    assert [p for p in problems if "allocations" in p] == [
        "allocations of account 'paper' add up to more than all of it (a 0.6, b 0.5)"]


def test_each_venue_reads_only_its_part_of_the_journal(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.sqlite")
    try:
        assert venue_slots(j, ["paper", "bnx"]) == {"paper": 0, "bnx": 1}
        assert venue_slots(j, ["bnx", "new", "paper"]) == {"bnx": 1, "new": 2, "paper": 0}  # kept across starts
        btc, bnx = Symbol.crypto("BTCUSD"), Symbol.crypto("BTCUSDT", "binance")
        for cid, sym in (("a-1", btc), ("b-1", bnx)):
            j.intent(cid, "s", sym, 1.0, OrderType.LIMIT, 1.0, None, TimeInForce.GTC, "", 1, 1)
        j.fill(3, "a-1", btc.id, 0.5, 1.0, 0.0, "USD", "maker", 2, OrderStatus.PARTIALLY_FILLED)
        j.fill(FILL_ID_SPAN + 3, "b-1", bnx.id, 0.5, 1.0, 0.0, "USDT", "maker", 2, OrderStatus.PARTIALLY_FILLED)
        paper, binance = VenueStore(j, [btc.id], 0), VenueStore(j, [bnx.id], 1)
        assert [i["client_order_id"] for i in paper.open_intents()] == ["a-1"]
        assert [i["client_order_id"] for i in binance.intents()] == ["b-1"]
        assert paper.fill_ids() == {3} and binance.fill_ids() == {3}
        assert paper.last_fill_id() == 3 and binance.last_fill_id() == 3
        assert binance.max_fill_id(0, 10) == 3 and binance.max_fill_id(4, 10) is None
    finally:
        j.close()


def test_example_loads() -> None:
    cfg = load_config(ROOT / "examples" / "two-venues.toml")
    assert [v.kind for v in cfg.venues] == ["paper", "binance"]


def test_one_venue_renamed_keeps_its_slot(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.sqlite")
    try:
        assert venue_slots(j, ["paper"]) == {"paper": 0}
        assert venue_slots(j, ["pv"]) == {"pv": 0}  # the one venue renamed: the same fill ids
        assert venue_slots(j, ["pv", "bnx"]) == {"pv": 0, "bnx": 1}
        assert venue_slots(j, ["bnx"]) == {"bnx": 1}  # the second venue alone keeps its own range
    finally:
        j.close()


def test_a_venue_secret_written_inline_is_refused() -> None:
    raw = {"venues": [{"id": "b", "kind": "binance", "symbols": ["BTCUSDT"], "api_secret": "abc"}]}
    (line,) = _errors(raw)
    assert "venues[0].api_secret: secrets may not be written in the config file" in line
