"""Brokerage names and the crypto fee models of LEAN's crypto brokerages.

``BrokerageName`` is LEAN's enum (``set_brokerage_model(BrokerageName.BINANCE, AccountType.CASH)``). A
brokerage model sets the market a crypto pair is added on when none is given and the fee model of crypto
securities, with LEAN's first-tier rates:

| brokerage | maker | taker | fee currency |
|---|---|---|---|
| Binance, Binance US | 0.1 % | 0.1 % | buys: base currency (quantity × rate); sells: quote |
| Bybit | 0.1 % | 0.1 % | as Binance |
| Kraken | 0.16 % | 0.26 % | quote |
| Bitfinex | 0.1 % | 0.2 % | quote |
| Coinbase (GDAX) | by date | by date | quote (``leand.orders.fees.CoinbaseFeeModel``) |

A limit order that was not marketable when placed (or post-only) pays the maker rate; the traded value is
priced at the limit for limit orders and at the ask (buys) or bid (sells) otherwise, as LEAN does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from leand.model import Order, OrderType
from leand.orders.fees import CoinbaseFeeModel, ConstantFeeModel, is_maker

if TYPE_CHECKING:
    from leand.security import Security


class BrokerageName(StrEnum):
    DEFAULT = "default"
    INTERACTIVE_BROKERS_BROKERAGE = "interactivebrokers"
    TRADIER_BROKERAGE = "tradier"
    OANDA_BROKERAGE = "oanda"
    FXCM_BROKERAGE = "fxcm"
    ALPACA = "alpaca"
    GDAX = "gdax"
    COINBASE = "coinbase"
    BINANCE = "binance"
    BINANCE_US = "binanceus"
    BITFINEX = "bitfinex"
    BYBIT = "bybit"
    KRAKEN = "kraken"


#: the market of ``add_crypto`` without one, by brokerage model (LEAN's DefaultMarkets)
CRYPTO_MARKETS = {"binance": "binance", "binanceus": "binanceus", "bitfinex": "bitfinex", "bybit": "bybit",
                  "kraken": "kraken", "coinbase": "coinbase", "gdax": "coinbase"}


def default_crypto_market(brokerage: str) -> str:
    return CRYPTO_MARKETS.get(brokerage, "coinbase")


def _unit_price(security: Security, order: Order) -> float:
    if order.type is OrderType.LIMIT and order.limit_price is not None:
        return order.limit_price
    if order.quantity > 0:
        return security.ask or security.price
    return security.bid or security.price


class BinanceFeeModel:
    """Binance spot: a buy pays its fee in the base currency it receives, a sell in the quote currency."""

    maker = 0.001
    taker = 0.001

    def __init__(self, maker: float | None = None, taker: float | None = None) -> None:
        if maker is not None:
            self.maker = maker
        if taker is not None:
            self.taker = taker

    def fee(self, security: Security, order: Order, fill_quantity: float, fill_price: float,
            now_ns: int) -> tuple[float, str]:
        rate = self.maker if is_maker(order) else self.taker
        if order.quantity > 0 and security.base_currency:
            return abs(fill_quantity) * rate, security.base_currency
        return _unit_price(security, order) * abs(fill_quantity) * rate, security.quote_currency


class BybitFeeModel(BinanceFeeModel):
    """Bybit spot, non-VIP: 0.1 % maker and taker, charged as Binance charges."""


class BinanceUSFeeModel(BinanceFeeModel):
    """Binance US: 0.1 % maker and taker."""


class QuoteCurrencyFeeModel:
    """Maker/taker rate of the order's value, in the quote currency."""

    maker = 0.0
    taker = 0.0

    def __init__(self, maker: float | None = None, taker: float | None = None) -> None:
        if maker is not None:
            self.maker = maker
        if taker is not None:
            self.taker = taker

    def fee(self, security: Security, order: Order, fill_quantity: float, fill_price: float,
            now_ns: int) -> tuple[float, str]:
        rate = self.maker if is_maker(order) else self.taker
        return _unit_price(security, order) * abs(fill_quantity) * rate, security.quote_currency


class KrakenFeeModel(QuoteCurrencyFeeModel):
    """Kraken, first tier: 0.16 % maker, 0.26 % taker."""

    maker = 0.0016
    taker = 0.0026


class BitfinexFeeModel(QuoteCurrencyFeeModel):
    """Bitfinex: 0.1 % maker, 0.2 % taker."""

    maker = 0.001
    taker = 0.002


def crypto_fee_model(brokerage: str, quote_currency: str) -> Any:
    """The fee model a crypto security gets under ``brokerage`` (zero for a brokerage without crypto fees)."""
    if brokerage in ("coinbase", "gdax"):
        return CoinbaseFeeModel()
    model = {"binance": BinanceFeeModel, "binanceus": BinanceUSFeeModel, "bybit": BybitFeeModel,
             "kraken": KrakenFeeModel, "bitfinex": BitfinexFeeModel}.get(brokerage)
    return model() if model is not None else ConstantFeeModel(0.0, quote_currency)
