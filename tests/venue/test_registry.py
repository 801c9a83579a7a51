"""The venue registry: lookups, a clear error for an unknown kind, and a venue from outside the tree that plugs
into `leand run` (found through the ``leand.venues`` entry point) with no edit to the daemon."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sqlite3
import subprocess
import sys
import types
from collections.abc import Iterable
from pathlib import Path

import msgspec
import pytest

from leand import venue as venues
from leand.adapters.binance.config import BinanceVenueConfig
from leand.adapters.paper.config import PaperVenueConfig
from leand.live.config import ConfigError, parse_config
from leand.model import Instrument, Symbol

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def test_builtin_kinds_are_found_by_kind() -> None:
    assert {"paper", "binance"} <= set(venues.kinds())
    assert venues.venue("paper").config is PaperVenueConfig
    assert venues.venue("binance").config is BinanceVenueConfig
    assert venues.venue("paper").simulate is not None and venues.venue("binance").simulate is None


def test_config_sections_decode_as_their_kind() -> None:
    assert isinstance(parse_config({}).venue, PaperVenueConfig)  # no [venue]: the default kind
    assert isinstance(parse_config({"venue": {"rate_hz": 5}}).venue, PaperVenueConfig)
    cfg = parse_config({"venue": {"kind": "binance", "symbols": ["ETHUSDT"]}}).venue
    assert isinstance(cfg, BinanceVenueConfig) and cfg.kind == "binance" and cfg.symbols == ["ETHUSDT"]
    assert msgspec.to_builtins(cfg)["kind"] == "binance"  # recorded configs say which venue they were


def test_unknown_kind_is_one_clear_config_error() -> None:
    with pytest.raises(ConfigError) as e:
        parse_config({"venue": {"kind": "krakn"}}, "leand.toml")
    msg = str(e.value)
    assert msg.startswith("leand.toml: venue.kind = 'krakn': unknown venue kind 'krakn'")
    assert "'binance'" in msg and "'paper'" in msg and "\n" not in msg
    with pytest.raises(venues.UnknownVenueKind):
        venues.venue("krakn")


def test_a_key_of_another_venue_kind_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"venue\.depth_speed|unknown field `depth_speed`"):
        parse_config({"venue": {"kind": "paper", "depth_speed": "100ms"}})


def _load_toy() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("toyvenue", HERE / "toyvenue.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["toyvenue"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_a_registered_venue_is_configurable_and_opens_through_the_boundary(tmp_path: Path) -> None:
    toy = _load_toy()
    try:
        cfg = parse_config({"venue": {"kind": "toy", "price": 100.0}}).venue
        assert isinstance(cfg, toy.ToyVenueConfig) and cfg.price == 100.0
        btc = Symbol.crypto("BTCUSD")
        ctx = venues.VenueContext(config=cfg, instruments={btc: Instrument(btc, quote_currency="USD",
                                                                           base_currency="BTC")},
                                  store=_NoIntents(), credentials={}, state_path=tmp_path, data_path=tmp_path)
        clients = venues.venue("toy").open(ctx)
        assert isinstance(clients.execution, venues.ExecutionClient)
        assert isinstance(clients.data, venues.DataClient)
        # registering the same kind again with something else is refused; so is a config without the kind's tag
        with pytest.raises(ValueError, match="already registered"):
            venues.register(venues.VenueRegistration("toy", toy.ToyVenueConfig, lambda c: clients))
        with pytest.raises(ValueError, match="must be tagged"):
            venues.register(venues.VenueRegistration("other", toy.ToyVenueConfig, toy.open_toy))
    finally:
        venues.unregister("toy")
        sys.modules.pop("toyvenue", None)


class _NoIntents:
    def intents(self) -> list[dict]:
        return []

    def open_intents(self) -> list[dict]:
        return []

    def last_fill_id(self) -> int:
        return 0

    def max_fill_id(self, lo: int, hi: int) -> int | None:
        return None

    def fill_ids(self) -> set[int]:
        return set()

    def intents_of(self, cids: Iterable[str]) -> dict[str, dict]:
        return {}

    def journaled_fills(self, ids: Iterable[int]) -> set[int]:
        return set()

    def first_intent_ns(self, symbol: str) -> int | None:
        return None

    def fills_complete_through(self) -> int:
        return 0


def test_builtin_clients_satisfy_the_protocols(tmp_path: Path) -> None:
    from leand.live.journal import Journal

    btc = Symbol.crypto("BTCUSD")
    j = Journal(tmp_path / "journal.sqlite")
    cfg = parse_config({}).venue
    ctx = venues.VenueContext(config=cfg, instruments={btc: Instrument(btc, quote_currency="USD",
                                                                       base_currency="BTC")},
                              store=j, credentials={}, state_path=tmp_path, data_path=tmp_path)
    clients = venues.venue("paper").open(ctx)
    assert isinstance(clients.execution, venues.ExecutionClient)
    assert isinstance(clients.data, venues.DataClient)
    assert clients.execution.capabilities.async_cancel is False
    import asyncio

    asyncio.run(clients.execution.close())
    j.close()


def test_an_out_of_tree_venue_plugs_into_leand_run(tmp_path: Path) -> None:
    """A venue installed as a plugin (a module plus its ``leand.venues`` entry point, as pip would install
    it) runs under ``leand run`` by naming its kind in the config: orders go out, fills come back, the journal
    has them."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(HERE / "toyvenue.py", site / "toyvenue.py")
    dist = site / "toyvenue-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toyvenue\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[leand.venues]\ntoy = toyvenue\n")
    cfg = tmp_path / "leand.toml"
    cfg.write_text(f"""
state_dir = "{tmp_path / 'state'}"
log_format = "json"
[venue]
kind = "toy"
name = "toy-plugin"
rate_hz = 100.0
[[strategies]]
id = "scalper"
file = "{ROOT / 'strategies' / 'paper_scalper.py'}"
parameters = {{ every = 2, lookback = 5 }}
""")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    check = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--config", str(cfg), "--check"],
                           capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert check.returncode == 0 and "venue toy-plugin" in check.stdout, check.stderr
    p = subprocess.run([sys.executable, "-m", "leand.cli", "run", "--config", str(cfg), "--for", "3"],
                       capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "strategy.failed" not in p.stderr and "task.failed" not in p.stderr
    db = sqlite3.connect(tmp_path / "state" / "journal.sqlite")
    fills = db.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM intents GROUP BY status").fetchall())
    db.close()
    assert fills >= 1 and statuses.get("filled", 0) >= 1, (statuses, p.stderr[-2000:])
