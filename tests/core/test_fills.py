"""Each LEAN fill rule on hand-built bars (docs/lean-statistics.md §A.3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leand.model import Bar, Instrument, Order, OrderType, QuoteBar, Resolution, Symbol, TradeBar
from leand.orders.fees import (
    CoinbaseFeeModel,
    ConstantFeeModel,
    InteractiveBrokersFeeModel,
    PercentFeeModel,
    PerShareFeeModel,
)
from leand.orders.fills import EquityFillModel, FillModel
from leand.security import Security

SPY = Symbol.equity("SPY")
BTC = Symbol.crypto("BTCUSD")
MIN = 60_000_000_000
T0 = 1_000 * MIN


def sec(resolution: Resolution = Resolution.MINUTE, symbol: Symbol = SPY) -> Security:
    s = Security(Instrument(symbol), None, resolution)
    s.subscribes_quotes = True
    return s


def trade(o: float, h: float, lo: float, c: float, end: int = T0 + MIN) -> TradeBar:
    return TradeBar(SPY, end - MIN, end, o, h, lo, c, 1000)


def quote(bid: tuple, ask: tuple, end: int = T0 + MIN, symbol: Symbol = SPY) -> QuoteBar:
    return QuoteBar(symbol, end - MIN, end, Bar(*bid), Bar(*ask), 100, 100)


def order(qty: float, type_: OrderType = OrderType.MARKET, limit: float | None = None,
          stop: float | None = None, created: int = T0) -> Order:
    return Order(id=1, symbol=SPY, quantity=qty, type=type_, limit_price=limit, stop_price=stop,
                 created_time=created)


def test_market_buys_at_ask_close_sells_at_bid_close() -> None:
    s = sec()
    s.last_quote_bar = quote((9, 10, 8, 9.5), (10, 11, 9, 10.5))
    s.last_trade_bar = trade(9, 10, 8, 10)
    m = EquityFillModel()
    assert m.fill(s, order(10), T0 + MIN) == 10.5
    assert m.fill(s, order(-10), T0 + MIN) == 9.5


def test_market_falls_back_to_trade_close_and_waits_on_stale_daily() -> None:
    s = sec()
    s.last_trade_bar = trade(9, 10, 8, 10)
    assert EquityFillModel().fill(s, order(10), T0 + MIN) == 10
    d = sec(Resolution.DAILY)
    d.price = 10
    d.last_trade_bar = trade(9, 10, 8, 10, end=T0 - 2 * 3600 * 10**9)
    assert EquityFillModel().fill(d, order(10), T0) is None


@pytest.mark.parametrize(("qty", "limit", "bar", "expected"), [
    (10, 9.5, (10, 10.5, 9.0, 10), 9.5),      # buy: low < limit -> limit
    (10, 10.5, (10, 11, 9.0, 10), 10),        # buy: open < limit -> open (favourable gap)
    (10, 8.0, (10, 11, 9.0, 10), None),       # buy: low never below limit
    (-10, 10.5, (10, 11, 9.0, 10), 10.5),     # sell: high > limit -> limit
    (-10, 9.5, (10, 11, 9.0, 10), 10),        # sell: open > limit -> open
])
def test_equity_limit_rule(qty, limit, bar, expected) -> None:
    s = sec()
    s.last_trade_bar = trade(*bar)
    assert EquityFillModel().fill(s, order(qty, OrderType.LIMIT, limit=limit), T0 + MIN) == expected


def test_non_market_order_never_fills_on_a_bar_that_ended_before_it() -> None:
    s = sec()
    s.last_trade_bar = trade(10, 11, 9, 10, end=T0)
    assert EquityFillModel().fill(s, order(10, OrderType.LIMIT, limit=10.5, created=T0), T0) is None


@pytest.mark.parametrize(("qty", "stop", "bar", "expected"), [
    (-10, 9.5, (10, 11, 9.0, 10), 9.5),   # sell stop: low <= stop -> stop
    (-10, 10.5, (10, 11, 9.0, 10), 10),   # sell stop: open <= stop -> open
    (10, 10.5, (10, 11, 9.0, 10), 10.5),  # buy stop: high >= stop -> stop
    (10, 9.5, (10, 11, 9.0, 10), 10),     # buy stop: open >= stop -> open
    (10, 12, (10, 11, 9.0, 10), None),
])
def test_equity_stop_market_rule(qty, stop, bar, expected) -> None:
    s = sec()
    s.last_trade_bar = trade(*bar)
    assert EquityFillModel().fill(s, order(qty, OrderType.STOP_MARKET, stop=stop), T0 + MIN) == expected


def test_stop_limit_triggers_then_fills_when_close_beyond_limit() -> None:
    s = sec(Resolution.DAILY)
    s.subscribes_quotes = False
    o = order(100, OrderType.STOP_LIMIT, stop=11, limit=12)
    s.last_trade_bar = trade(10, 10.5, 9, 10)
    assert EquityFillModel().fill(s, o, T0 + MIN) is None and not o.stop_triggered
    s.last_trade_bar = trade(10, 11.5, 9, 12.5, end=T0 + 2 * MIN)
    assert EquityFillModel().fill(s, o, T0 + 2 * MIN) is None and o.stop_triggered  # close >= limit
    s.last_trade_bar = trade(12, 12.4, 11, 11.8, end=T0 + 3 * MIN)
    assert EquityFillModel().fill(s, o, T0 + 3 * MIN) == 12  # min(high, limit)


def test_trailing_stop_trails_the_high_then_fills() -> None:
    s = sec()
    s.subscribes_quotes = False
    o = Order(id=1, symbol=SPY, quantity=-10, type=OrderType.TRAILING_STOP, stop_price=9.0, trailing_amount=1.0,
              created_time=T0)
    s.last_trade_bar = trade(10, 12, 10, 11.5)
    assert FillModel().fill(s, o, T0 + MIN) is None
    assert o.stop_price == 11.0
    s.last_trade_bar = trade(11, 11.2, 10.5, 10.8, end=T0 + 2 * MIN)
    assert FillModel().fill(s, o, T0 + 2 * MIN) == 10.8  # min(stop, close)


def test_base_model_limit_uses_ask_bar_for_buys() -> None:
    s = sec(symbol=BTC)
    s.last_quote_bar = quote((99, 100, 95, 99), (100, 101, 96, 100), symbol=BTC)
    o = Order(id=1, symbol=BTC, quantity=1, type=OrderType.LIMIT, limit_price=97, created_time=T0)
    assert FillModel().fill(s, o, T0 + MIN) == 97  # min(high, limit) on the ask bar


def test_interactive_brokers_fee_minimum_and_cap() -> None:
    s = sec()
    s.price = 100.0
    fee = InteractiveBrokersFeeModel()
    assert fee.fee(s, order(10), 10, 100.0, 0) == (1.0, "USD")
    assert fee.fee(s, order(688), 688, 100.0, 0) == (pytest.approx(3.44), "USD")
    s.price = 0.5  # penny stock: capped at 0.5 % of the order value
    assert fee.fee(s, order(10_000), 10_000, 0.5, 0)[0] == pytest.approx(25.0)


def test_coinbase_taker_fee_2018() -> None:
    s = Security(Instrument(BTC, quote_currency="USD", base_currency="BTC"), None, Resolution.MINUTE)
    s.ask, s.bid, s.price = 7000.0, 6999.0, 6999.5
    o = Order(id=1, symbol=BTC, quantity=1, type=OrderType.MARKET, created_time=1_522_800_000 * 10**9)
    assert CoinbaseFeeModel().fee(s, o, 1, 7000.0, 0) == (pytest.approx(21.0), "USD")


_T1, _T2 = 1_553_304_600 * 10**9, 1_570_494_600 * 10**9  # Coinbase's schedule changes (2019-03-23, 2019-10-08)


@given(qty=st.sampled_from([1, -1, 10, -10, 688, 10_000, -10_000, 2.5e-4, -0.3, 0.0]),
       fill_qty=st.sampled_from([1, -3, 688, 0.5, -2.5e-4]), fill_price=st.sampled_from([0.5, 100.0, 7000.0, 0.0]),
       price=st.sampled_from([0.5, 100.0, 6999.5]), bid=st.sampled_from([0.0, 6999.0]),
       ask=st.sampled_from([0.0, 7000.0]),
       created=st.sampled_from([0, _T1 - 1, _T1, _T2 - 1, _T2, 1_700_000_000 * 10**9]))
def test_market_fee_is_the_fee_of_a_market_order(qty: float, fill_qty: float, fill_price: float, price: float,
                                                 bid: float, ask: float, created: int) -> None:
    """Each stock model's ``market_fee`` (the quiet path's, without an Order) answers exactly what its ``fee``
    answers for the market order of those numbers."""
    s = Security(Instrument(BTC, quote_currency="USD", base_currency="BTC", multiplier=2.0), None, Resolution.MINUTE)
    s.ask, s.bid, s.price = ask, bid, price
    o = Order(id=1, symbol=BTC, quantity=qty, type=OrderType.MARKET, created_time=created)
    for model in (ConstantFeeModel(1.5, "EUR"), InteractiveBrokersFeeModel(), PerShareFeeModel(0.005),
                  PercentFeeModel(0.001, 0.002), CoinbaseFeeModel()):
        assert model.market_fee(s, qty, fill_qty, fill_price, created) == model.fee(s, o, fill_qty, fill_price, 7)


@pytest.mark.parametrize("model", [FillModel(), EquityFillModel()])
def test_market_price_for_is_market_price(model: FillModel) -> None:
    """``market_price_for`` (the quiet path's, without an Order) answers what ``market_price`` answers."""
    s = sec()
    s.last_quote_bar = quote((9, 11, 8, 10), (10, 12, 9, 11))
    s.last_trade_bar = trade(10, 11, 9, 10.5)
    s.price = 10.5
    for created in (T0, T0 + 10 * 60 * MIN, T0 + 70 * 60 * MIN):
        for qty in (5.0, -5.0):
            assert model.market_price_for(s, qty > 0, created) == model.market_price(s, order(qty, created=created),
                                                                                    created)


def test_a_noted_rows_close_is_the_market_price_while_fresh_as_the_same_bar_made() -> None:
    """A backtest consuming a day's bars in place only notes the row (``Security.note_rows``): a market fill reads
    the row's close and end time from the columns, and answers as it does with the row's TradeBar made, on both
    sides of the hour after which a bar is stale (then the security's price, not the bar's close)."""
    import numpy as np

    from leand.data.feed import BarBatch
    from leand.data.lean import Columns
    from leand.orders.fills import STALE_NS

    starts = np.array([T0, T0 + MIN, T0 + 5 * MIN], dtype=np.int64)
    cols = Columns("trade_bar", starts, starts + MIN,
                   {k: np.array(v) for k, v in {"open": [1.0, 2.0, 3.0], "high": [1.5, 2.5, 3.5],
                                                "low": [0.5, 1.5, 2.5], "close": [1.25, 2.25, 3.25],
                                                "volume": [10.0, 20.0, 30.0]}.items()})
    model = EquityFillModel()
    for row in range(3):
        end = int(starts[row]) + MIN
        for created in (end, end + STALE_NS, end + STALE_NS + 1):
            noted, made = sec(), sec()
            noted.price = made.price = 9.0
            noted.note_rows(BarBatch(SPY, cols))
            noted.bar_row = row
            made.last_trade_bar = trade(1.0, 1.0, 1.0, float(cols.cols["close"][row]), end)
            got = model.market_price_for(noted, True, created)
            assert got == model.market_price_for(made, True, created)
            assert got == (cols.cols["close"][row] if created - STALE_NS <= end else 9.0)
            assert noted.bar_rows is not None and noted._bar_taken != row  # (the bar was not made)
