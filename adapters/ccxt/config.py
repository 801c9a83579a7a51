"""The ``[venue] kind = "ccxt"`` section of the daemon config.

Secrets are names only (an environment variable or a systemd credential), resolved by the daemon.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from leand.model import SecurityType
from leand.venue import VenueConfig


class CcxtVenueConfig(VenueConfig, tag_field="kind", tag="ccxt"):
    #: the ccxt exchange id (``kraken``, ``okx``, ``binance`` ...): required
    exchange: str = ""
    name: str = ""
    #: the market name in leand Symbols (it also selects the symbol-properties rows); default: the exchange id
    market: str = ""
    #: leand tickers (base and quote joined, ``BTCUSDT``); each is matched to the exchange's spot market
    symbols: list[str] = msgspec.field(default_factory=lambda: ["BTCUSDT"])
    #: deep-merged into the ccxt instance's ``urls``: a testnet, or ``leand sim serve`` for tests and paper
    urls: dict[str, Any] = msgspec.field(default_factory=dict)
    #: merged into the ccxt instance's ``options`` (for example ``fetchMarkets = { types = ["spot"] }``)
    options: dict[str, Any] = msgspec.field(default_factory=dict)
    #: ccxt's own switch to the exchange's testnet URLs (do not combine with ``urls``)
    sandbox: bool = False
    #: a third secret some exchanges need (OKX, Coinbase...): by reference, as the other two
    api_password_env: str = ""
    api_password_credential: str = ""
    #: ccxt's client-side rate limiter (the exchange's documented limits); leave on against real venues
    rate_limit: bool = True
    #: market data: ccxt.pro WebSockets where the exchange has them, else REST polling every poll_interval_s
    data: Literal["auto", "websocket", "rest"] = "auto"
    poll_interval_s: float = 1.0
    #: also watch public trades and emit TradeTicks
    trades: bool = False
    #: order book depth to watch (None: the exchange's default)
    depth: int | None = None
    request_timeout_s: float = 10.0
    #: retries of a request the exchange refused for load (429, 418, 5xx before execution), with backoff
    max_retries: int = 5
    reconnect_base_s: float = 0.2
    reconnect_cap_s: float = 10.0
    #: own orders: the exchange's order stream where it has one (``watch_orders``/``watch_my_trades``), else
    #: REST polling of open orders and trades every poll_interval_s
    user_data: Literal["auto", "websocket", "rest"] = "auto"
    #: how long connect() waits for the order stream before trading
    connect_timeout_s: float = 20.0
    #: trades per page when reconciliation walks the trade history (``fetch_my_trades`` since + limit); None:
    #: the exchange's documented maximum (ccxt's ``features``), or its default page where that is not known
    trades_page_limit: int | None = None

    def __post_init__(self) -> None:
        # the exchange id names the venue and its market unless the section says otherwise
        if not self.market:
            self.market = self.exchange
        if not self.name:
            self.name = self.exchange or "ccxt"

    def security_type(self) -> SecurityType:
        return SecurityType.CRYPTO  # ccxt's exchanges trade crypto spot markets here

    def validate(self) -> None:
        """Raise ValueError naming the key on a value that cannot work."""
        if not self.exchange:
            raise ValueError("venue.exchange: the ccxt exchange id is required (for example \"kraken\")")
        import ccxt

        if self.exchange not in ccxt.exchanges:
            raise ValueError(f"venue.exchange = {self.exchange!r}: not a ccxt exchange id")
        if self.sandbox and self.urls:
            raise ValueError("venue.sandbox and venue.urls both change the URLs: use one")
        for key in ("poll_interval_s", "request_timeout_s", "reconnect_base_s", "reconnect_cap_s",
                    "connect_timeout_s"):
            v = getattr(self, key)
            if not 0 < v <= 3600:
                raise ValueError(f"venue.{key} = {v!r}: expected seconds in (0, 3600]")
        if not 0 <= self.max_retries <= 100:
            raise ValueError(f"venue.max_retries = {self.max_retries!r}: expected 0..100")
        if self.trades_page_limit is not None and not 1 <= self.trades_page_limit <= 100_000:
            raise ValueError(f"venue.trades_page_limit = {self.trades_page_limit!r}: expected 1..100000")
        if not self.symbols:
            raise ValueError("venue.symbols: at least one symbol is needed")

