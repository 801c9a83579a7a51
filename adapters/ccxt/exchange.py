"""Building the ccxt instance a venue talks through: the pro (WebSocket) class where there is one, the
``urls`` overrides deep-merged, credentials from the daemon (never from the config file), rate limiting on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leand.adapters.ccxt.config import CcxtVenueConfig


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` into a copy of ``base``, tables merged key by key, anything else replaced."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def make_exchange(cfg: CcxtVenueConfig, credentials: Mapping[str, str], *, pro: bool | None = None) -> Any:
    """A fresh async ccxt instance for ``cfg.exchange``: ``ccxt.pro`` when it exists for the exchange (unless
    ``pro`` is False), else ``ccxt.async_support``."""
    import ccxt.async_support as ccxt_async
    import ccxt.pro as ccxt_pro

    cls = None
    if pro is not False:
        cls = getattr(ccxt_pro, cfg.exchange, None)
    if cls is None:
        cls = getattr(ccxt_async, cfg.exchange)
    params: dict[str, Any] = {"enableRateLimit": cfg.rate_limit, "timeout": int(cfg.request_timeout_s * 1000)}
    if credentials.get("api_key"):
        params["apiKey"] = credentials["api_key"]
    if credentials.get("api_secret"):
        params["secret"] = credentials["api_secret"]
    if credentials.get("api_password"):
        params["password"] = credentials["api_password"]
    ex = cls(params)
    ex.options = deep_merge(ex.options, cfg.options)
    if cfg.sandbox:
        ex.set_sandbox_mode(True)
    if cfg.urls:
        ex.urls = deep_merge(ex.urls, cfg.urls)
    return ex


def has_ws(ex: Any, feature: str) -> bool:
    return ex.has.get(feature) is True
