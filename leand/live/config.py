"""Daemon configuration: TOML decoded into msgspec Structs, with one clear error per bad value.

Secrets never live here in clear: a key that looks like a secret must name an environment variable or a
systemd credential (``*_env`` / ``*_credential``), resolved by :mod:`leand.live.secrets`.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

from leand import venue as venues
from leand.bundled import SAMPLE_DATA, STRATEGIES
from leand.risk.limits import RiskConfig, _validate
from leand.venue import VenueConfig

DEFAULT_DATA = SAMPLE_DATA


class ConfigError(ValueError):
    """Names the file, the key path, the value and what was expected (one line per problem)."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


class StrategyConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    file: str
    class_name: str | None = msgspec.field(default=None, name="class")
    parameters: dict[str, Any] = {}
    #: what happens to a strategy's orders when it raises: keep them, cancel them, or flatten its positions
    on_error: Literal["keep", "cancel", "flatten"] = "cancel"
    enabled: bool = True
    #: this strategy's share of the venue account: a fraction (0.5) or amounts per currency ({ USD = 40000 });
    #: none: an equal share of what the strategies with an allocation leave
    allocation: float | dict[str, float] | None = None
    #: the venues (their ids) this strategy trades on; empty: every venue. Orders go to the venue of the
    #: symbol's market
    venues: list[str] = []
    #: per venue account, its allocation (as ``allocation``), for the accounts where it differs from ``allocation``
    allocations: dict[str, float | dict[str, float]] = {}
    #: where its handlers run: inline on the hot path, moved to a worker thread of its own once a handler
    #: overruns ``[hot_path] handler_budget_ms`` (auto), or on its worker thread from the start
    isolation: Literal["auto", "inline", "thread"] = "auto"


class HotPathConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[hot_path]``: how long a strategy's handler may take inline before it is moved to its own thread
    (see :mod:`leand.live.hotpath`)."""

    handler_budget_ms: float = 5.0
    #: overruns of the budget in a row before an ``isolation = "auto"`` strategy is moved (one slow call, a
    #: garbage collection or the machine taking the core away, is no reason)
    strikes: int = 3
    #: an inline strategy whose handlers took more than this of one saturated run of the loop (messages queued
    #: behind each other, the loop never waiting for its socket), its longest call not counted, has the rest of
    #: that run's market data conflated to the latest per symbol, handled when the feed yields. Catching up after
    #: the machine stalled the loop a few ms costs less inline than through the slot (the handled quote waits for
    #: the feed to yield): at 1 ms the benchmark's taker fell behind after ordinary stalls, tens of times a second
    #: on a loaded machine, and its orders' latency doubled
    conflate_after_ms: float = 5.0
    #: market and limit orders of inline strategies take the order manager's fused path
    #: (:mod:`leand.orders.live_submit`), which decides as the general one; off: every order goes the general way
    fused_orders: bool = True


class WatchdogConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    max_loop_lag_ms: float = 500.0
    max_feed_staleness_s: float = 10.0
    #: halt trading (new orders refused, as ``leand ctl halt``) while market data is older than
    #: max_feed_staleness_s; lifted when it flows again (an operator's halt is never lifted by this)
    halt_on_stale_feed: bool = True
    #: this many reconnects (feeds and order streams) within the window is a storm worth an alert
    reconnect_storm_count: int = 5
    reconnect_storm_window_s: float = 60.0


class RecordConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Session recording (on by default): segment files under ``dir`` (default: <state_dir>/recordings)."""

    enabled: bool = True
    dir: str = ""
    rotate_mb: float = 64.0
    fsync: Literal["always", "interval", "never"] = "interval"
    fsync_interval_s: float = 1.0


class HttpConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[http]``: metrics, the JSON API and the dashboard (:mod:`leand.live.http`). The bearer token comes from
    ``$token_env``, the systemd credential ``token_credential``, or a file generated in the state directory."""

    listen: str = "127.0.0.1:8780"
    token_env: str = "LEAND_HTTP_TOKEN"
    token_credential: str = "leand-http-token"
    #: seconds between the dashboard's live updates (server-sent events)
    push_interval_s: float = 1.0


class NotifyConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One ``[[notify]]`` webhook (:mod:`leand.live.webhooks`). ``url`` may carry a secret (Slack's hook path,
    Telegram's bot token), so it can come from ``url_env`` / ``url_credential`` instead."""

    format: Literal["json", "telegram", "slack"] = "json"
    url: str = ""
    url_env: str = ""
    url_credential: str = ""
    #: Telegram: the chat to post to; the bot token by reference (the URL is then api.telegram.org's)
    chat_id: str = ""
    bot_token_env: str = ""
    bot_token_credential: str = ""
    events: list[Literal["fill", "reject", "halt", "strategy_failed", "feed_stale", "reconnect_storm"]] = \
        msgspec.field(default_factory=lambda: ["fill", "reject", "halt", "strategy_failed", "feed_stale",
                                               "reconnect_storm"])
    #: at most this many messages a minute (a token bucket); what is over is counted and summarised later
    rate_per_minute: float = 20.0
    timeout_s: float = 5.0
    retries: int = 3
    #: queued messages kept while the receiver is slow; older ones are dropped first
    queue: int = 200


class ShutdownConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    cancel_all: bool = True


class JournalConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How the intent log reaches the disk (see :mod:`leand.live.intentlog` for what each policy costs)."""

    #: never: safe against a process crash; interval: fdatasync every fsync_interval_s; always: per intent
    fsync: Literal["never", "interval", "always"] = "never"
    fsync_interval_s: float = 0.1
    #: how often the intent log is absorbed into journal.sqlite (readers absorb first anyway)
    absorb_interval_s: float = 0.05


class DaemonConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    state_dir: str = ""
    runtime_dir: str = ""
    data_dir: str = ""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    account_currency: str = "USD"
    snapshot_interval_s: float = 10.0
    #: seconds between equity and position samples per strategy and per account (0: none)
    equity_interval_s: float = 5.0
    journal: JournalConfig = msgspec.field(default_factory=JournalConfig)
    hot_path: HotPathConfig = msgspec.field(default_factory=HotPathConfig)
    #: ``[venue]``: its shape is the registered config of its ``kind`` (default "paper"), decoded by
    #: :func:`parse_config` through the venue registry
    venue: VenueConfig = msgspec.field(default_factory=VenueConfig)
    #: ``[[venues]]``: every venue of the daemon, each with its ``id`` (the one-``[venue]`` form is one of them);
    #: filled by :func:`parse_config`, never empty after it
    venues: list[VenueConfig] = []
    strategies: list[StrategyConfig] = []
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    watchdog: WatchdogConfig = msgspec.field(default_factory=WatchdogConfig)
    shutdown: ShutdownConfig = msgspec.field(default_factory=ShutdownConfig)
    record: RecordConfig = msgspec.field(default_factory=RecordConfig)
    http: HttpConfig | None = None
    notify: list[NotifyConfig] = []

    @property
    def recordings_path(self) -> Path:
        return Path(self.record.dir) if self.record.dir else self.state_path / "recordings"

    # -- resolved paths ----------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return Path(self.state_dir or os.environ.get("STATE_DIRECTORY", "") or "state")

    @property
    def runtime_path(self) -> Path:
        return Path(self.runtime_dir or os.environ.get("RUNTIME_DIRECTORY", "") or self.state_path)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir) if self.data_dir else DEFAULT_DATA


_SECRET_KEY = re.compile(r"(secret|password|passphrase|api_key|apikey|token|private_key)$", re.I)
_PATH = re.compile(r"at `\$(.*?)`")


def _no_clear_secrets(node: Any, path: str, source: str) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else k
            if _SECRET_KEY.search(k) and isinstance(v, str) and v:
                raise ConfigError(f"{source}: {p}: secrets may not be written in the config file; name an "
                                  f"environment variable ({k}_env = \"VAR\") or a systemd credential "
                                  f"({k}_credential = \"name\") instead")
            _no_clear_secrets(v, p, source)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _no_clear_secrets(v, f"{path}[{i}]", source)


def _lookup(raw: Any, path: str) -> Any:
    node = raw
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
        key, idx = part
        try:
            node = node[int(idx)] if idx else node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _convert(raw: Any, type_: type[Any], source: str, prefix: str = "") -> Any:
    try:
        return msgspec.convert(raw, type_)
    except msgspec.ValidationError as e:
        text = str(e)
        m = _PATH.search(text)
        where = prefix + (m.group(1).lstrip(".") if m else "")
        reason = _PATH.sub("", text).rstrip(" -")
        value = _lookup(raw, m.group(1)) if m else None
        shown = f" = {value!r}" if value is not None else ""
        raise ConfigError(f"{source}: {where.rstrip('.') or '(top level)'}{shown}: {reason}") from None


def parse_venue(raw: Any, source: str = "config", where: str = "venue") -> VenueConfig:
    """The ``[venue]`` section (or one ``[[venues]]`` table, ``where`` naming it) as its kind's registered config
    (``kind`` defaults to the paper venue)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {where} = {raw!r}: expected a table")
    kind = raw.get("kind", venues.DEFAULT_KIND)
    try:
        reg = venues.venue(kind) if isinstance(kind, str) else None
    except venues.UnknownVenueKind as e:
        raise ConfigError(f"{source}: {where}.kind = {kind!r}: {e}") from None
    if reg is None:
        raise ConfigError(f"{source}: {where}.kind = {kind!r}: expected a string")
    cfg: VenueConfig = _convert({**raw, "kind": kind}, reg.config, source, f"{where}.")
    try:
        cfg.validate()
    except ValueError as e:
        raise ConfigError(f"{source}: {e}") from None
    return cfg


def parse_venues(raw: dict[str, Any], source: str) -> list[VenueConfig]:
    """``[[venues]]`` (each with an ``id``) or the one ``[venue]`` (its id is its name). Every problem found is
    one line of the ConfigError: duplicate ids, a symbol on two venues, an unknown kind, a bad key."""
    if "venues" not in raw:
        return [parse_venue(raw.get("venue", {}), source)]
    if "venue" in raw:
        raise ConfigError(f"{source}: venue and venues: use [[venues]] tables or one [venue], not both")
    tables = raw["venues"]
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{source}: venues: expected one or more [[venues]] tables")
    out: list[VenueConfig] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    owner: dict[tuple[str, str], str] = {}
    for i, t in enumerate(tables):
        where = f"venues[{i}]"
        if not isinstance(t, dict):
            problems.append(f"{source}: {where} = {t!r}: expected a table")
            continue
        vid = t.get("id")
        if not isinstance(vid, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", vid):
            problems.append(f"{source}: {where}.id = {vid!r}: every venue needs an id (letters, digits, _ . -)")
            continue
        if vid in seen:
            problems.append(f"{source}: {where}.id = {vid!r}: used twice (also venues[{seen[vid]}])")
            continue
        seen[vid] = i
        if t.get("name", vid) != vid:
            problems.append(f"{source}: {where}.name = {t['name']!r}: a venue's name is its id ({vid!r}); "
                            "leave name out")
            continue
        try:
            v = parse_venue({**{k: x for k, x in t.items() if k != "id"}, "name": vid}, source, where)
        except ConfigError as e:
            problems.extend(e.lines)
            continue
        for ticker in v.symbols:
            key = (v.market, ticker.upper())
            if key in owner:
                problems.append(f"{source}: {where}.symbols: {ticker.upper()} ({v.market}) is on venue "
                                f"{owner[key]!r} already; a symbol trades on one venue")
            else:
                owner[key] = vid
        out.append(v)
    if problems:
        raise ConfigError(*problems)
    return out


def strategy_venue_problems(cfg: DaemonConfig) -> list[str]:
    """Strategies naming venues the config does not have, and allocations per venue that do not parse."""
    from leand.live.accounts import Allocation, AllocationError

    have = [v.name for v in cfg.venues]
    out = []
    for i, sc in enumerate(cfg.strategies):
        for vid in sc.venues:
            if vid not in have:
                out.append(f"strategies[{i}].venues: strategy {sc.id!r} names unknown venue {vid!r} "
                           f"(have: {', '.join(have)})")
        for vid, raw in sc.allocations.items():
            if vid not in have:
                out.append(f"strategies[{i}].allocations.{vid}: strategy {sc.id!r} names unknown venue {vid!r} "
                           f"(have: {', '.join(have)})")
            elif sc.venues and vid not in sc.venues:
                out.append(f"strategies[{i}].allocations.{vid}: strategy {sc.id!r} does not trade on {vid!r} "
                           f"(its venues: {', '.join(sc.venues)})")
            try:
                Allocation.parse(raw, f"strategies[{i}].allocations.{vid}")
            except AllocationError as e:
                out.append(str(e))
    return out


_UNIT_SUFFIXES = ("_s", "_ms", "_hz", "_mb", "_pct", "_bytes", "_count", "_size")


def _check_numbers(node: Any, path: str, source: str) -> None:
    """Every number finite (TOML allows nan and inf), and durations, rates, sizes and percentages not negative.
    Strategy parameters are the strategy's own business and are left alone."""
    if isinstance(node, dict):
        for k, v in node.items():
            if path == "strategies[]" and k == "parameters":
                continue
            _check_numbers(v, f"{path}.{k}" if path else str(k), source)
    elif isinstance(node, list):
        for v in node:
            _check_numbers(v, f"{path}[]" if not path.endswith("[]") else path, source)
    elif isinstance(node, float) and not math.isfinite(node):
        raise ConfigError(f"{source}: {path} = {node}: expected a finite number")
    elif isinstance(node, int | float) and not isinstance(node, bool) and node < 0 \
            and path.rsplit(".", 1)[-1].endswith(_UNIT_SUFFIXES):
        raise ConfigError(f"{source}: {path} = {node}: expected a number >= 0")


def parse_config(raw: dict[str, Any], source: str = "config") -> DaemonConfig:
    _no_clear_secrets(raw, "", source)
    if isinstance(raw.get("log_level"), str):  # "INFO" and "info" mean the same to an operator
        raw = {**raw, "log_level": raw["log_level"].lower()}
    parsed = parse_venues(raw, source)
    cfg: DaemonConfig = _convert({k: v for k, v in raw.items() if k not in ("venue", "venues")}, DaemonConfig,
                                 source)
    cfg.venues = parsed
    cfg.venue = parsed[0]
    _check_numbers(msgspec.to_builtins(cfg), "", source)
    try:
        _validate(cfg.risk)
    except ValueError as e:
        raise ConfigError(f"{source}: {e}") from None
    from leand.live.accounts import Allocation, AllocationError

    for i, sc in enumerate(cfg.strategies):
        if sc.allocation is not None:
            try:
                Allocation.parse(sc.allocation, f"strategies[{i}].allocation")
            except AllocationError as e:
                raise ConfigError(f"{source}: {e}") from None
    ids = [s.id for s in cfg.strategies]
    if len(ids) != len(set(ids)):
        raise ConfigError(f"{source}: strategies: ids must be unique, got {ids}")
    problems = strategy_venue_problems(cfg)
    if problems:
        raise ConfigError(*(f"{source}: {p}" for p in problems))
    for key in ("fsync_interval_s", "absorb_interval_s"):
        v = getattr(cfg.journal, key)
        if not 0 < v <= 60:
            raise ConfigError(f"{source}: journal.{key} = {v}: expected seconds in (0, 60]")
    if cfg.equity_interval_s < 0 or cfg.equity_interval_s != cfg.equity_interval_s:
        raise ConfigError(f"{source}: equity_interval_s = {cfg.equity_interval_s}: expected seconds >= 0")
    if cfg.http is not None:
        _check_listen(cfg.http.listen, source)
    for i, n in enumerate(cfg.notify):
        if not (n.url or n.url_env or n.url_credential or n.bot_token_env or n.bot_token_credential):
            raise ConfigError(f"{source}: notify[{i}]: needs url (or url_env / url_credential; for telegram "
                              "bot_token_env / bot_token_credential and chat_id)")
        if n.url and not n.url.startswith(("http://", "https://")):
            raise ConfigError(f"{source}: notify[{i}].url = {n.url!r}: expected an http:// or https:// URL")
        if n.format == "telegram" and not n.chat_id:
            raise ConfigError(f"{source}: notify[{i}].chat_id: a telegram notifier needs the chat id")
        if n.rate_per_minute <= 0 or n.timeout_s <= 0 or n.retries < 0 or n.queue < 1:
            raise ConfigError(f"{source}: notify[{i}]: rate_per_minute, timeout_s and queue must be positive, "
                              "retries not negative")
    return cfg


def split_listen(listen: str) -> tuple[str, int]:
    """``"host:port"`` (``"[::1]:port"`` for IPv6) -> (host, port); ValueError with what was expected."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535 or not host:
        raise ValueError(f"expected \"host:port\", e.g. \"127.0.0.1:8780\", got {listen!r}")
    return host.strip("[]"), int(port)


def _check_listen(listen: str, source: str) -> None:
    try:
        split_listen(listen)
    except ValueError as e:
        raise ConfigError(f"{source}: http.listen = {listen!r}: {e}") from None


def load_config(path: Path | None) -> DaemonConfig:
    if path is None:
        return default_config()
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    cfg = parse_config(raw, str(path))
    base = path.parent
    for s in cfg.strategies:
        p = Path(s.file)
        if not p.is_absolute() and not p.is_file() and (base / p).is_file():
            s.file = str(base / p)
    return cfg


def default_config() -> DaemonConfig:
    """The embedded default: the paper venue with synthetic BTCUSD quotes and the example scalper."""
    return parse_config({"strategies": [{"id": "scalper", "file": str(STRATEGIES / "paper_scalper.py")}]},
                        "default config")
