"""Risk limits: what the gate enforces, set globally, per strategy and per instrument.

Every limit is optional (``None`` = off). The effective value of a limit for an order is the most specific one
set: instrument, then strategy, then global. Decoded from TOML/JSON with ``load_config``, whose errors name the
key path.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class RiskLimits(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    tradable: bool | None = None
    max_order_quantity: float | None = None
    max_order_notional: float | None = None
    #: fat-finger band around the reference price (last trade or mid)
    price_collar_pct: float | None = None
    price_collar_ticks: float | None = None
    collar_reference: Literal["last", "mid"] | None = None
    check_tick_grid: bool | None = None
    check_lot_size: bool | None = None
    max_position_quantity: float | None = None
    max_position_notional: float | None = None
    max_gross_exposure: float | None = None
    max_net_exposure: float | None = None
    max_open_orders_per_instrument: int | None = None
    max_open_orders: int | None = None
    #: token buckets: sustained orders (or cancels) per second and burst size
    order_rate_per_second: float | None = None
    order_burst: int | None = None
    cancel_rate_per_second: float | None = None
    cancel_burst: int | None = None
    venue_order_rate_per_second: float | None = None
    venue_order_burst: int | None = None
    check_buying_power: bool | None = None
    prevent_self_trade: bool | None = None
    #: realized + unrealized loss against start-of-day equity, in account currency or as a fraction
    daily_loss_limit: float | None = None
    daily_loss_limit_pct: float | None = None
    max_drawdown_pct: float | None = None
    on_daily_loss: Literal["reducing", "halted"] | None = None
    on_drawdown: Literal["reducing", "halted"] | None = None
    cancel_all_on_halt: bool | None = None


FIELDS = RiskLimits.__struct_fields__


class RiskConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    global_: RiskLimits = msgspec.field(default_factory=RiskLimits, name="global")
    per_strategy: dict[str, RiskLimits] = {}
    #: keyed by ``Symbol.id`` (``equity:usa:SPY``) or by plain ticker (``SPY``)
    per_instrument: dict[str, RiskLimits] = {}
    #: limits over every strategy sharing one venue account (order rate, open orders, exposure, daily loss,
    #: drawdown), keyed by the venue's name; ``account`` applies to every account without its own entry
    account: RiskLimits = msgspec.field(default_factory=RiskLimits)
    per_account: dict[str, RiskLimits] = {}


class RiskConfigError(ValueError):
    """A bad risk configuration; the message names the key path, the value and what was expected."""


def load_config(data: dict[str, Any] | RiskConfig | None) -> RiskConfig:
    if data is None:
        return RiskConfig()
    if isinstance(data, RiskConfig):
        return data
    try:
        cfg = msgspec.convert(data, RiskConfig)
    except msgspec.ValidationError as e:
        raise RiskConfigError(f"risk config: {e}") from None
    _validate(cfg)
    return cfg


def _validate(cfg: RiskConfig) -> None:
    sets = [("global", cfg.global_)]
    sets += [(f"per_strategy.{k}", v) for k, v in cfg.per_strategy.items()]
    sets += [(f"per_instrument.{k}", v) for k, v in cfg.per_instrument.items()]
    sets += [("account", cfg.account)] + [(f"per_account.{k}", v) for k, v in cfg.per_account.items()]
    for where, lim in sets:
        for name in FIELDS:
            v = getattr(lim, name)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
                raise RiskConfigError(f"risk config: {where}.{name} = {v}: expected a value >= 0")
        for pct in ("price_collar_pct", "daily_loss_limit_pct", "max_drawdown_pct"):
            v = getattr(lim, pct)
            if v is not None and v > 1:
                raise RiskConfigError(f"risk config: {where}.{pct} = {v}: expected a fraction (0.05 = 5 %)")


def effective(cfg: RiskConfig, strategy_id: str, symbol_id: str, ticker: str) -> RiskLimits:
    """Merge the sets: instrument overrides strategy overrides global."""
    layers = [cfg.global_, cfg.per_strategy.get(strategy_id)]
    layers.append(cfg.per_instrument.get(symbol_id) or cfg.per_instrument.get(ticker))
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer is None:
            continue
        for name in FIELDS:
            v = getattr(layer, name)
            if v is not None:
                merged[name] = v
    return RiskLimits(**merged)


def account_limits(cfg: RiskConfig, account: str) -> RiskLimits:
    """An account's limits: ``per_account[account]`` over ``account``."""
    merged: dict[str, Any] = {}
    for layer in (cfg.account, cfg.per_account.get(account)):
        if layer is None:
            continue
        for name in FIELDS:
            v = getattr(layer, name)
            if v is not None:
                merged[name] = v
    return RiskLimits(**merged)
