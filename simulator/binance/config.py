"""Server configuration: TOML decoded into msgspec Structs, defaults that serve a usable venue with no file.

Money amounts and filter values are strings (decimal text, as on the wire) so nothing is lost to floats.
"""

from __future__ import annotations

import os
import tomllib
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

import msgspec

from leand.bundled import SAMPLE_DATA

DEFAULT_API_KEY = "leandSimKey0000000000000000000000000000000000000000000000000001"
DEFAULT_API_SECRET = "leandSimSecret000000000000000000000000000000000000000000000000001"
DEFAULT_PORT = 8765
DEFAULT_LEAN_DIR = SAMPLE_DATA / "crypto" / "coinbase" / "minute"


class ConfigError(ValueError):
    """Names the file, the key and what was expected."""


class SymbolConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    symbol: str
    base: str
    quote: str
    tick_size: str = "0.01"
    min_price: str = "0.01"
    max_price: str = "1000000.00"
    step_size: str = "0.00001"
    min_qty: str = "0.00001"
    max_qty: str = "9000.00000000"
    min_notional: str = "5.00"
    max_notional: str = "9000000.00"
    max_num_orders: int = 200
    #: synthetic generator: starting mid price, half spread and level spacing in ticks, per-step volatility
    start_price: float = 100.0
    half_spread_ticks: int = 1
    level_ticks: int = 1
    levels: int = 25
    level_qty: float = 1.0
    volatility: float = 0.00002


class AccountConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    api_key: str
    api_secret: str
    balances: dict[str, str] = msgspec.field(default_factory=dict)


class GeneratorConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: "synthetic": seeded random walk with a market maker and random takers; "lean": replay LEAN minute quotes;
    #: "l2d": replay the touch of leand book recordings (``l2d_files``: symbol -> .l2d path; LEAN ticks of any
    #: asset convert with ``leand data l2-from-lean``), at ``lean_speed`` times real time
    source: Literal["synthetic", "lean", "l2d"] = "synthetic"
    #: generator steps per second per symbol (0: only on demand, e.g. ``SimServer.step()`` in tests)
    rate_hz: float = 10.0
    #: probability per step that a synthetic taker trades
    trade_prob: float = 0.3
    #: tape prints per second per symbol on top of the matched trades: trades reported at the touch without
    #: touching the book, a load source for rates the matching cannot reach (see ``simulator/binance/tape.py``)
    tape_rate_hz: float = 0.0
    #: the tape's pacing: the prints due are written every this many milliseconds, each batch in one write per
    #: subscriber. A real venue sends each trade as it happens; 1 ms is the finest an event loop's timers pace
    #: (5 was the pacing before: a reader then gets ~50 frames in one read at 10k prints/s)
    tape_interval_ms: float = 1.0
    #: steps run at start-up so trades, tickers and klines are not empty
    warmup_steps: int = 50
    lean_dir: str = ""
    lean_date: str = ""
    lean_speed: float = 60.0
    l2d_files: dict[str, str] = msgspec.field(default_factory=dict)
    #: seeded synthetic 1-minute klines served before the live ones, for history downloads (``leand data
    #: download``): this many minutes, ending at ``history_end`` (ISO-8601 UTC; default the start-up minute)
    history_minutes: int = 0
    history_end: str = ""


class LimitsConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    weight_per_minute: int = 6000
    #: 429s answered to one IP in a minute before it is banned with 418
    ban_after_429s: int = 20
    ban_seconds: int = 120
    orders_per_10s: int = 100
    orders_per_day: int = 200000


class FaultConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: answer ``http_status`` (429 or 503) to the next ``http_count`` REST requests
    http_status: int = 0
    http_count: int = 0
    #: "before": refuse without executing; "after": execute, then lose the answer (status unknown)
    http_mode: Literal["before", "after"] = "before"
    #: delay the next ``delay_count`` REST responses by ``delay_ms`` (-1: every response)
    delay_ms: int = 0
    delay_count: int = -1
    #: the next depth diff of every symbol skips this many update ids (a gap the client must detect)
    skip_depth_ids: int = 0
    #: the next ``drop_http`` REST requests have their TCP connection aborted without an answer
    drop_http: int = 0


class SimConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    seed: int = 1
    maker_fee: str = "0.001"
    taker_fee: str = "0.001"
    #: "EXPIRE_TAKER" | "EXPIRE_MAKER" | "EXPIRE_BOTH" | "NONE": self-trade prevention of every book
    stp_mode: Literal["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "NONE"] = "EXPIRE_TAKER"
    #: allow the /_sim/* control endpoints (loopback callers with a known API key only)
    control: bool = True
    symbols: list[SymbolConfig] = msgspec.field(default_factory=lambda: default_symbols())
    accounts: list[AccountConfig] = msgspec.field(default_factory=list)
    generator: GeneratorConfig = msgspec.field(default_factory=GeneratorConfig)
    limits: LimitsConfig = msgspec.field(default_factory=LimitsConfig)
    faults: FaultConfig = msgspec.field(default_factory=FaultConfig)


def default_symbols() -> list[SymbolConfig]:
    return [
        SymbolConfig(symbol="BTCUSDT", base="BTC", quote="USDT", tick_size="0.01", step_size="0.00001",
                     min_qty="0.00001", min_notional="5.00", start_price=60000.0, level_ticks=50,
                     level_qty=0.5, half_spread_ticks=1),
        SymbolConfig(symbol="ETHUSDT", base="ETH", quote="USDT", tick_size="0.01", step_size="0.0001",
                     min_qty="0.0001", min_notional="5.00", start_price=3000.0, level_ticks=10,
                     level_qty=5.0, half_spread_ticks=1),
        SymbolConfig(symbol="ETHBTC", base="ETH", quote="BTC", tick_size="0.00001", min_price="0.00001",
                     max_price="922327.00000000", step_size="0.0001", min_qty="0.0001", min_notional="0.0001",
                     max_notional="9000000.00", start_price=0.05, level_ticks=1, level_qty=5.0),
    ]


def default_account() -> AccountConfig:
    return AccountConfig(api_key=os.environ.get("LEAND_SIM_API_KEY", DEFAULT_API_KEY),
                         api_secret=os.environ.get("LEAND_SIM_API_SECRET", DEFAULT_API_SECRET),
                         balances={"USDT": "100000", "BTC": "1", "ETH": "10"})


def _check(cfg: SimConfig, where: str) -> SimConfig:
    if not 0 <= cfg.port <= 65535:
        raise ConfigError(f"{where}: port: {cfg.port} is not a TCP port (0-65535; 0 picks a free one)")
    if not cfg.host:
        raise ConfigError(f"{where}: host: must not be empty")
    if not 0 <= cfg.seed < 2**63:
        raise ConfigError(f"{where}: seed: {cfg.seed} must be in 0..2**63-1")
    names = set()
    for i, s in enumerate(cfg.symbols):
        if s.symbol != s.symbol.upper() or not s.symbol.isalnum():
            raise ConfigError(f"{where}: symbols[{i}].symbol: {s.symbol!r} must be uppercase letters/digits")
        if s.symbol in names:
            raise ConfigError(f"{where}: symbols[{i}].symbol: {s.symbol!r} appears twice")
        names.add(s.symbol)
        for field in ("tick_size", "min_price", "max_price", "step_size", "min_qty", "max_qty", "min_notional",
                      "max_notional"):
            v = getattr(s, field)
            try:
                d = Decimal(v)
            except InvalidOperation:
                raise ConfigError(f"{where}: symbols[{i}].{field}: {v!r} is not a decimal number") from None
            if d < 0 or (field in ("tick_size", "step_size") and d <= 0):
                raise ConfigError(f"{where}: symbols[{i}].{field}: {v!r} must be positive")
        if not (0 < s.start_price < 1e12) or not 1 <= s.levels <= 1000:
            raise ConfigError(f"{where}: symbols[{i}]: start_price must be in (0, 1e12) and levels in 1..1000")
        if not (0 < s.level_qty < 1e9) or not (0 <= s.volatility < 1) or not 1 <= s.max_num_orders <= 100_000:
            raise ConfigError(f"{where}: symbols[{i}]: level_qty must be in (0, 1e9), volatility in [0, 1), "
                              "max_num_orders in 1..100000")
        if not 0 <= s.half_spread_ticks <= 1_000_000 or not 1 <= s.level_ticks <= 1_000_000:
            raise ConfigError(f"{where}: symbols[{i}]: half_spread_ticks must be in 0..1e6, level_ticks in 1..1e6")
    keys = set()
    for i, a in enumerate(cfg.accounts):
        if not a.api_key or not a.api_secret:
            raise ConfigError(f"{where}: accounts[{i}]: api_key and api_secret must be non-empty")
        if a.api_key in keys:
            raise ConfigError(f"{where}: accounts[{i}].api_key appears twice")
        keys.add(a.api_key)
        for asset, amt in a.balances.items():
            try:
                Decimal(amt)
            except InvalidOperation:
                raise ConfigError(f"{where}: accounts[{i}].balances.{asset}: {amt!r} is not a decimal") from None
    for name in ("maker_fee", "taker_fee"):
        try:
            Decimal(getattr(cfg, name))
        except InvalidOperation:
            raise ConfigError(f"{where}: {name}: {getattr(cfg, name)!r} is not a decimal") from None
    g = cfg.generator
    for name, v, lo, hi in (("rate_hz", g.rate_hz, 0, 100_000), ("trade_prob", g.trade_prob, 0, 1),
                            ("tape_rate_hz", g.tape_rate_hz, 0, 1_000_000),
                            ("tape_interval_ms", g.tape_interval_ms, 1, 1000),
                            ("warmup_steps", g.warmup_steps, 0, 1_000_000), ("lean_speed", g.lean_speed, 1e-6, 1e6)):
        if not lo <= v <= hi:  # also false for nan
            raise ConfigError(f"{where}: generator.{name}: {v!r} must be in {lo}..{hi}")
    if not 0 <= g.history_minutes <= 10_000_000:
        raise ConfigError(f"{where}: generator.history_minutes: {g.history_minutes} must be in 0..10000000")
    if g.history_end:
        try:
            datetime.fromisoformat(g.history_end.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{where}: generator.history_end: {g.history_end!r} is not an ISO-8601 time") from None
    lim = cfg.limits
    for name in ("weight_per_minute", "ban_after_429s", "ban_seconds", "orders_per_10s", "orders_per_day"):
        v = getattr(lim, name)
        if not 1 <= v <= 1_000_000_000:
            raise ConfigError(f"{where}: limits.{name}: {v} must be in 1..1000000000")
    if cfg.faults.http_status not in (0, 429, 418, 500, 502, 503, 504):
        raise ConfigError(f"{where}: faults.http_status: {cfg.faults.http_status} (want 0, 429, 418 or 5xx)")
    return cfg


def finalize(cfg: SimConfig, where: str = "config") -> SimConfig:
    """Validate, add the default account when none is configured, apply the env-var key overrides."""
    if not cfg.accounts:
        cfg.accounts = [default_account()]
    else:
        env_key, env_secret = os.environ.get("LEAND_SIM_API_KEY"), os.environ.get("LEAND_SIM_API_SECRET")
        if env_key:
            cfg.accounts[0].api_key = env_key
        if env_secret:
            cfg.accounts[0].api_secret = env_secret
    return _check(cfg, where)


def load_config(path: Path | str | None) -> SimConfig:
    """Read a TOML file (None: the defaults). Raises ConfigError with the file and key on any bad value."""
    if path is None:
        return finalize(SimConfig(), "defaults")
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from None
    try:
        cfg = msgspec.convert(raw, SimConfig)
    except msgspec.ValidationError as e:
        raise ConfigError(f"{p}: {e}") from None
    return finalize(cfg, str(p))
