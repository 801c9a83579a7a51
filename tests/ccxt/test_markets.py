"""Another exchange's markets through ccxt's own parsing, offline: Kraken's AssetPairs and OKX's instruments as
their APIs answer them (shapes from the exchanges' API docs), loaded by an unmodified ccxt class whose HTTP
calls are answered from here. Checks precision, limits and what is native."""

from __future__ import annotations

from typing import Any

import pytest

from leand.adapters.ccxt.markets import OrderRefused, leand_ticker, rules_from_market
from leand.model import OrderType, TimeInForce

ccxt = pytest.importorskip("ccxt")

KRAKEN_PAIRS = {"error": [], "result": {
    "XXBTZUSD": {"altname": "XBTUSD", "wsname": "XBT/USD", "aclass_base": "currency", "base": "XXBT",
                 "aclass_quote": "currency", "quote": "ZUSD", "lot": "unit", "cost_decimals": 5, "pair_decimals": 1,
                 "lot_decimals": 8, "lot_multiplier": 1, "leverage_buy": [2, 3], "leverage_sell": [2, 3],
                 "fees": [[0, 0.4]], "fees_maker": [[0, 0.25]], "fee_volume_currency": "ZUSD", "margin_call": 80,
                 "margin_stop": 40, "ordermin": "0.0001", "costmin": "0.5", "tick_size": "0.1", "status": "online"},
    "XETHZEUR": {"altname": "ETHEUR", "wsname": "ETH/EUR", "aclass_base": "currency", "base": "XETH",
                 "aclass_quote": "currency", "quote": "ZEUR", "lot": "unit", "cost_decimals": 5, "pair_decimals": 2,
                 "lot_decimals": 8, "lot_multiplier": 1, "leverage_buy": [], "leverage_sell": [],
                 "fees": [[0, 0.4]], "fees_maker": [[0, 0.25]], "fee_volume_currency": "ZUSD", "margin_call": 80,
                 "margin_stop": 40, "ordermin": "0.002", "costmin": "0.45", "tick_size": "0.01",
                 "status": "cancel_only"},
}}

OKX_SPOT = {"code": "0", "msg": "", "data": [
    {"instType": "SPOT", "instId": "BTC-USDT", "uly": "", "instFamily": "", "baseCcy": "BTC", "quoteCcy": "USDT",
     "settleCcy": "", "ctValCcy": "", "optType": "", "ctVal": "", "ctMult": "", "ctType": "", "listTime": "1548133413000",
     "expTime": "", "lever": "10", "tickSz": "0.1", "lotSz": "0.00000001", "minSz": "0.00001", "maxLmtSz": "9999999999",
     "maxMktSz": "1000000", "state": "live", "ruleType": "normal", "maxLmtAmt": "20000000", "maxMktAmt": "1000000"},
]}


def kraken() -> Any:
    ex = ccxt.kraken({"enableRateLimit": False})
    ex.has["fetchCurrencies"] = False
    ex.publicGetAssetPairs = lambda params={}: KRAKEN_PAIRS
    ex.load_markets()
    return ex


def okx() -> Any:
    ex = ccxt.okx({"enableRateLimit": False, "options": {"fetchMarkets": {"types": ["spot"]}}})
    ex.has["fetchCurrencies"] = False
    ex.publicGetPublicInstruments = lambda params={}: OKX_SPOT if params.get("instType") == "SPOT" else \
        {"code": "0", "msg": "", "data": []}
    ex.load_markets()
    return ex


def test_kraken_precision_and_limits() -> None:
    ex = kraken()
    m = ex.markets["BTC/USD"]  # ccxt maps XXBT/ZUSD to BTC/USD
    assert leand_ticker(m) == "BTCUSD"
    r = rules_from_market(m, ex.precisionMode)
    assert (r.price_step, r.amount_step, r.min_amount, r.min_cost) == ("0.1", "1E-8", 0.0001, 0.5)
    assert r.venue_symbol == "XXBTZUSD" and r.active
    # prices round away from crossing; quantities must be on the lot grid and within limits
    assert r.price(30000.07, is_buy=True) == 30000.0 and r.price(30000.07, is_buy=False) == 30000.1
    assert r.price(30000.1, is_buy=False) == 30000.1
    assert r.amount(-0.5) == 0.5
    with pytest.raises(OrderRefused, match=r"below the minimum 0\.0001"):
        r.amount(0.00005)
    with pytest.raises(OrderRefused, match="not a multiple of the lot size"):
        r.amount(0.123456789)
    with pytest.raises(OrderRefused, match=r"notional 0\.3 USD is below the minimum 0\.5"):
        r.check_cost(0.0001, 3000.0)
    eth = rules_from_market(ex.markets["ETH/EUR"], ex.precisionMode)
    assert eth.price_step == "0.01" and not eth.active  # cancel_only is not trading


def test_okx_precision_and_limits() -> None:
    ex = okx()
    m = ex.markets["BTC/USDT"]
    r = rules_from_market(m, ex.precisionMode)
    assert (r.venue_symbol, r.price_step, r.amount_step, r.min_amount) == ("BTC-USDT", "0.1", "1E-8", 0.00001)
    assert r.price(65000.04, is_buy=True) == 65000.0 and r.price(65000.04, is_buy=False) == pytest.approx(65000.1)
    with pytest.raises(OrderRefused):
        r.price(-1.0, is_buy=True)


@pytest.mark.parametrize("make", [kraken, okx])
def test_capabilities_follow_has_and_features(make) -> None:
    from leand.adapters.ccxt.execution import capabilities

    ex = make()
    caps = capabilities(ex)
    assert {OrderType.MARKET, OrderType.LIMIT} <= caps.order_types
    assert OrderType.STOP_MARKET in caps.order_types and OrderType.STOP_LIMIT in caps.order_types
    assert OrderType.TRAILING_STOP not in caps.order_types  # emulated by the order manager
    assert {TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK} <= caps.time_in_force
    assert not caps.modify and not caps.oco  # cancel-replace and OCO are emulated


def test_config_defaults_and_secrets_by_reference(tmp_path) -> None:
    from leand.live.config import ConfigError, parse_config
    from leand.model import SecurityType

    cfg = parse_config({"venue": {"kind": "ccxt", "exchange": "kraken", "symbols": ["BTCUSD"],
                                  "api_key_env": "K", "api_secret_env": "S", "api_password_env": "P"}})
    v = cfg.venue
    assert (v.kind, v.market, v.name, v.security_type()) == ("ccxt", "kraken", "kraken", SecurityType.CRYPTO)
    assert set(v.secret_names()) == {"api_key", "api_secret", "api_password"}
    with pytest.raises(ConfigError, match="secrets may not be written"):
        parse_config({"venue": {"kind": "ccxt", "exchange": "okx", "api_password": "hunter2"}})
    with pytest.raises(ConfigError, match="not a ccxt exchange id"):
        parse_config({"venue": {"kind": "ccxt", "exchange": "nope"}})
    with pytest.raises(ConfigError, match="exchange id is required"):
        parse_config({"venue": {"kind": "ccxt"}})
