"""The ``[venue] kind = "binance"`` section of the daemon config.

Secrets are names only (an environment variable or a systemd credential), resolved by the daemon.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from leand.venue import VenueConfig


class BinanceVenueConfig(VenueConfig, tag_field="kind", tag="binance"):
    name: str = "binance"
    #: the market name in leand Symbols (it also selects the symbol-properties rows)
    market: str = "binance"
    symbols: list[str] = msgspec.field(default_factory=lambda: ["BTCUSDT"])
    #: REST root (``/api/v3/...`` is appended), combined-stream root (``/stream?streams=`` is appended) and the
    #: full WebSocket API URL
    base_url: str = "https://api.binance.com"
    stream_url: str = "wss://stream.binance.com:9443"
    ws_api_url: str = "wss://ws-api.binance.com:443/ws-api/v3"
    recv_window_ms: int = 5000
    #: REST depth snapshot size (weight 5 up to 100, 25 up to 500, 50 up to 1000)
    depth_limit: int = 100
    depth_speed: Literal["100ms", "1000ms"] = "100ms"
    #: diffs a book keeps while it waits for a snapshot; past that the older ones are dropped and counted
    #: (``buffer_overflows``), and the book resyncs from the newest
    max_buffered_diffs: int = 1000
    #: also subscribe ``<symbol>@trade`` and emit TradeTicks (not recorded: the recorder stores quotes only)
    trades: bool = False
    #: the weight budget per minute and the share of it this client lets itself use before it waits
    weight_limit_1m: int = 6000
    weight_headroom: float = 0.9
    request_timeout_s: float = 10.0
    max_retries: int = 5
    reconnect_base_s: float = 0.2
    reconnect_cap_s: float = 10.0
    #: how often the server-time offset is refreshed
    time_sync_interval_s: float = 300.0
    #: new orders as WebSocket API ``order.place`` frames on the kept-alive user-data connection (REST when
    #: it is down or backed up), or always as REST ``POST /api/v3/order``
    order_entry: Literal["ws", "rest"] = "ws"
