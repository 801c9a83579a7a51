"""The LEAN API items of issue 20, each on real data (one day of SPY minutes unless said)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from leand import AccountType, OrderStatus, OrderType, Resolution, Strategy
from leand.backtest.runner import run_backtest
from leand.consolidators import (
    Calendar,
    QuoteBarConsolidator,
    RenkoConsolidator,
    TickConsolidator,
    TradeBarConsolidator,
    VolumeRenkoConsolidator,
)
from leand.engine import Engine
from leand.fees import BinanceFeeModel, BitfinexFeeModel, BrokerageName, BybitFeeModel, KrakenFeeModel
from leand.framework import PortfolioTarget
from leand.indicators import SMA
from leand.indicators.delay import Delay
from leand.indicators.lean_names import LEAN_INDICATORS, PythonIndicator
from leand.model import Order, Symbol, TradeBar, TradeTick
from leand.orders.moc import MarketOnCloseOrder

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"


def run(strategy: Strategy, **kw) -> Engine:
    e = Engine(strategy, DATA, **kw)
    e.run()
    return e


class OneDay(Strategy):
    ticker = "SPY"

    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.spy = self.add_equity(self.ticker, Resolution.MINUTE).symbol
        self.n = 0
        self.setup()

    def setup(self):
        pass

    def on_data(self, data):
        self.n += 1
        self.step(data)

    def step(self, data):
        pass


# ---- targets, shortcuts, portfolio ------------------------------------------------------------------------
class Targets(OneDay):
    def step(self, data):
        if self.n == 1:
            self.tickets = self.set_holdings([PortfolioTarget(self.spy, 0.5)])
            self.half = self.portfolio["SPY"].quantity
        if self.n == 2:
            self.quit("done")
            self.after_quit = self.n


def test_set_holdings_with_portfolio_targets_and_quit() -> None:
    e = run(Targets())
    s = e.strategy
    assert len(s.tickets) == 1 and s.tickets[0].status is OrderStatus.FILLED
    value = s.half * e.securities[s.spy].price
    assert 0.45 < value / e.portfolio.total_portfolio_value < 0.5
    assert s.n == 2  # quit stops the run after the slice it was called in
    assert e.securities["spy"] is e.securities[s.spy] and s.portfolio["SPY"] is s.portfolio[s.spy]


class CashLiquidate(Strategy):
    def initialize(self):
        self.set_start_date(2018, 4, 4)
        self.set_end_date(2018, 4, 4)
        self.set_brokerage_model(BrokerageName.GDAX, AccountType.CASH)
        self.set_cash(10000)
        self.set_cash("BTC", 1.0)  # base currency held apart from any position
        self.btc = self.add_crypto("BTCUSD", Resolution.MINUTE).symbol
        self.n = 0

    def on_data(self, data):
        self.n += 1
        if self.n == 1:
            self.buy(self.btc, 0.5)
        elif self.n == 2:
            self.tickets = self.liquidate(self.btc)


def test_liquidate_in_a_cash_account_sells_only_the_position() -> None:
    e = run(CashLiquidate())
    s = e.strategy
    assert [t.quantity for t in s.tickets] == [-0.5]
    assert e.portfolio.cash_book["BTC"].amount == pytest.approx(1.0)
    assert s.btc.market == "coinbase"  # the brokerage model's default crypto market


# ---- brokerage and fees ---------------------------------------------------------------------------------
class _Sec:
    def __init__(self, base: str = "BTC", quote: str = "USDT") -> None:
        self.base_currency, self.quote_currency = base, quote
        self.ask, self.bid, self.price = 101.0, 99.0, 100.0


def test_brokerage_name_and_crypto_fee_models() -> None:
    e = Engine(OneDay(), DATA)
    e.set_brokerage_model(BrokerageName.BINANCE, AccountType.CASH)
    assert e.default_crypto_market() == "binance"
    e.set_brokerage_model(BrokerageName.KRAKEN, AccountType.CASH)
    assert e.default_crypto_market() == "kraken"
    sec = _Sec()
    buy = Order(id=1, symbol=Symbol.crypto("BTCUSDT", "binance"), quantity=2.0, type=OrderType.MARKET)
    sell = Order(id=2, symbol=buy.symbol, quantity=-2.0, type=OrderType.MARKET)
    assert BinanceFeeModel().fee(sec, buy, 2.0, 101.0, 0) == (pytest.approx(0.002), "BTC")  # in the base bought
    assert BinanceFeeModel().fee(sec, sell, -2.0, 99.0, 0) == (pytest.approx(0.198), "USDT")
    assert BybitFeeModel().fee(sec, sell, -2.0, 99.0, 0) == (pytest.approx(0.198), "USDT")
    assert KrakenFeeModel().fee(sec, buy, 2.0, 101.0, 0) == (pytest.approx(202 * 0.0026), "USDT")
    resting = Order(id=3, symbol=buy.symbol, quantity=2.0, type=OrderType.LIMIT, limit_price=90.0,
                    submission_price=100.0)
    assert BitfinexFeeModel().fee(sec, resting, 2.0, 90.0, 0) == (pytest.approx(180 * 0.001), "USDT")
    assert KrakenFeeModel().fee(sec, resting, 2.0, 90.0, 0) == (pytest.approx(180 * 0.0016), "USDT")


# ---- market on close ------------------------------------------------------------------------------------
class Moc(OneDay):
    def step(self, data):
        if self.time.hour == 15 and self.time.minute == 50 and not hasattr(self, "t"):
            self.t = self.market_on_close_order(self.spy, 1)


def test_market_on_close_submission_buffer_is_settable() -> None:
    assert run(Moc()).strategy.t.status is OrderStatus.INVALID  # 10 minutes before the close: too late
    old = MarketOnCloseOrder.submission_time_buffer
    MarketOnCloseOrder.submission_time_buffer = timedelta(minutes=5)
    try:
        assert run(Moc()).strategy.t.status is OrderStatus.FILLED
    finally:
        MarketOnCloseOrder.submission_time_buffer = old


# ---- scheduling -----------------------------------------------------------------------------------------
class Rules(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 8)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.seen = {"today": [], "tomorrow": [], "midnight": [], "noon": [], "every": []}
        r, t = self.date_rules, self.time_rules
        self.schedule.on(r.today, t.at(10, 0), lambda: self.seen["today"].append(self.time))
        self.schedule.on(r.tomorrow, t.at(10, 0), lambda: self.seen["tomorrow"].append(self.time))
        self.schedule.on(r.every_day(), t.midnight, lambda: self.seen["midnight"].append(self.time))
        self.schedule.on(r.every_day(), t.noon, lambda: self.seen["noon"].append(self.time))
        self.schedule.on(r.today, t.every(timedelta(hours=6)), lambda: self.seen["every"].append(self.time))


def test_date_rules_today_tomorrow_and_time_rules() -> None:
    seen = run(Rules()).strategy.seen
    assert seen["today"] == [datetime(2013, 10, 7, 10)]
    assert seen["tomorrow"] == [datetime(2013, 10, 8, 10)]
    assert datetime(2013, 10, 8, 0, 0) in seen["midnight"]
    assert seen["noon"] == [datetime(2013, 10, 7, 12), datetime(2013, 10, 8, 12)]
    assert seen["every"] == [datetime(2013, 10, 7, h) for h in (0, 6, 12, 18)]


# ---- indicators ------------------------------------------------------------------------------------------
def test_delay_current_and_comparisons() -> None:
    d = Delay(2)
    out = []
    for i, v in enumerate([1.0, 2.0, 3.0, 4.0], 1):
        d.update(i * 60_000_000_000, v)
        out.append((d.current.value, d.is_ready))
    assert out == [(1.0, False), (1.0, False), (1.0, True), (2.0, True)]
    assert d.current.end_time == datetime(1970, 1, 1, 0, 4)
    assert d > 1.5 and d < 2.5 and d >= 2 and d <= 2 and d == 2.0 and d != 3
    sma = SMA(2)
    sma.update(1, 10.0)
    assert sma < d or sma > d  # indicator against indicator, by value


class Ticks(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.bac = self.add_equity("BAC", Resolution.TICK).symbol
        self.sma = self.sma(self.bac, 10)
        self.mid_sma = self.sma_mid = None
        self.last_trade = None

    def on_data(self, data):
        for t in data.ticks.get(self.bac, []):
            if isinstance(t, TradeTick) and not t.suspicious:
                self.last_trade = t.price


def test_indicator_helpers_update_from_ticks() -> None:
    e = run(Ticks())
    s = e.strategy
    assert s.sma.is_ready and s.sma.samples > 1000
    assert abs(s.sma.value - s.last_trade) / s.last_trade < 0.01


class MyIndicator(PythonIndicator):
    def __init__(self):
        super().__init__()
        self.warm_up_period = 5
        self.seen = []

    def update(self, input) -> bool:
        self.seen.append(input.value)
        self.value = sum(self.seen[-5:]) / len(self.seen[-5:])
        return len(self.seen) >= 5


class Registered(OneDay):
    def setup(self):
        self.mine = MyIndicator()
        self.warm = self.warm_up_indicator(self.spy, self.mine, Resolution.MINUTE)
        self.ready_after_warm_up = self.mine.is_ready
        self.register_indicator(self.spy, self.mine, Resolution.MINUTE)
        self.lean_sma = LEAN_INDICATORS["SimpleMovingAverage"]("hourly", 3)
        self.register_indicator(self.spy, self.lean_sma, timedelta(hours=1))


def test_register_and_warm_up_any_indicator() -> None:
    e = run(Registered())
    s = e.strategy
    assert s.ready_after_warm_up and s.mine.samples == 5 + 390
    assert s.mine.current.value == pytest.approx(sum(b.close for b in e.history(s.spy, 5)) / 5, rel=1e-9)
    assert s.lean_sma.name == "hourly" and s.lean_sma.samples == 7 and s.lean_sma.is_ready


def test_know_sure_thing_value_is_the_kst() -> None:
    from leand.indicators.oscillators import KnowSureThing

    k = KnowSureThing(2, 2, 3, 2, 4, 2, 5, 2, 2)
    for i in range(20):
        k.update(i, 100.0 + i * (-1) ** i)
    assert k.is_ready and k.value == k.kst.value != 0


# ---- consolidators ---------------------------------------------------------------------------------------
def _bar(minute: int, close: float, volume: float = 100.0) -> TradeBar:
    t0 = int(datetime(2013, 10, 7, 13, 30).timestamp() * 1e9) + minute * 60_000_000_000
    return TradeBar(Symbol.equity("SPY"), t0, t0 + 60_000_000_000, close, close + 1, close - 1, close, volume)


def test_trade_bar_count_time_and_calendar_consolidators() -> None:
    got = []
    by_count = TradeBarConsolidator(3)
    by_count.data_consolidated += lambda _s, b: got.append(("n", b.open, b.close, b.volume))
    by_time = TradeBarConsolidator(timedelta(minutes=5))
    by_time.data_consolidated += lambda _s, b: got.append(("t", b.time.minute, b.end_time.minute, b.volume))
    weekly = TradeBarConsolidator(Calendar.WEEKLY)
    for i in range(7):
        for c in (by_count, by_time, weekly):
            c.update(_bar(i, 100.0 + i))
    assert ("n", 100.0, 102.0, 300.0) in got and ("n", 103.0, 105.0, 300.0) in got
    assert ("t", 30, 35, 500.0) in got  # 09:30-09:35 (exchange time)
    assert weekly.working_data.time == datetime(2013, 10, 7) and weekly.working_data.volume == 700


def test_renko_and_volume_renko() -> None:
    bricks = []
    r = RenkoConsolidator(1.0)
    r.data_consolidated += lambda _s, b: bricks.append((b.open, b.close))
    for i, px in enumerate([100, 100.5, 102.2, 101.5, 99.5, 98.9]):
        r.update(_bar(i, px))
    assert bricks[:2] == [(100, 101), (101, 102)] and bricks[-1][1] < bricks[-1][0]
    vols = []
    v = VolumeRenkoConsolidator(250)
    v.data_consolidated += lambda _s, b: vols.append(b.volume)
    for i in range(6):
        v.update(_bar(i, 100 + i, 100))
    assert vols == [250, 250]


class QuoteAndTick(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.bac = self.add_equity("BAC", Resolution.TICK).symbol
        self.quotes, self.ticks, self.hours = [], [], []
        q = QuoteBarConsolidator(timedelta(minutes=30))
        q.data_consolidated += lambda _s, b: self.quotes.append(b)
        self.subscription_manager.add_consolidator(self.spy, q)
        t = TickConsolidator(timedelta(hours=1))
        t.data_consolidated += lambda _s, b: self.ticks.append(b)
        self.subscription_manager.add_consolidator(self.bac, t)
        self.consolidate(self.spy, timedelta(hours=1), lambda b: self.hours.append((self.time, b.end_time)))


def test_quote_tick_and_consolidate_through_the_engine() -> None:
    s = run(QuoteAndTick()).strategy
    assert len(s.quotes) == 13 and s.quotes[0].bid is not None and s.quotes[0].ask.high >= s.quotes[0].ask.low
    assert len(s.ticks) >= 6 and all(b.volume > 0 for b in s.ticks)
    assert s.hours[0] == (datetime(2013, 10, 7, 10), datetime(2013, 10, 7, 10)) and len(s.hours) == 7


# ---- charts and parameters -------------------------------------------------------------------------------
CHART_STRATEGY = '''
from leand import Resolution, Strategy


class Charted(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 8)
        self.set_parameter_defaults({"period": 7})
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.ma = self.sma(self.spy, int(self.get_parameter("period")))

    def on_data(self, data):
        if self.time.minute == 0:
            self.plot("Prices", "close", data[self.spy].close)
            self.plot_indicator("Prices", self.ma)
'''


def test_plot_and_parameter_defaults_reach_the_report(tmp_path) -> None:
    from leand.backtest.result import write_result
    from leand.report.html import write_report

    path = tmp_path / "charted.py"
    path.write_text(CHART_STRATEGY)
    engine, result = run_backtest(path, data_dir=DATA)
    assert engine.strategy.ma.name.startswith("SMA") and engine.strategy.ma.warm_up_period == 7
    assert set(result.charts["Prices"]) == {"close", engine.strategy.ma.name}
    assert len(result.charts["Prices"]["close"]) == 14
    html = write_report(write_result(result, tmp_path / "out")).read_text()
    assert 'id="plot-chart-Prices"' in html
    engine2, _ = run_backtest(path, data_dir=DATA, parameters={"period": 3})
    assert engine2.strategy.ma.warm_up_period == 3  # a given parameter wins over the default
    assert "period" not in type(engine.strategy).parameters  # no class-level dict shared between strategies
    assert date(2013, 10, 7) == engine.start_date


def test_tick_updater_takes_quote_mid_or_the_selectors_field() -> None:
    from leand.indicators.base import tick_updater
    from leand.model import QuoteTick

    sym = Symbol.equity("SPY")
    q = QuoteTick(sym, 1, 99.0, 5.0, 101.0, 7.0)
    mid, bid = SMA(1), SMA(1)
    tick_updater(mid, None)(q)
    tick_updater(bid, lambda t: t.bid_price)(q)
    assert mid.value == 100.0 and bid.value == 99.0
    trade = SMA(1)
    tick_updater(trade, None)(TradeTick(sym, 2, 100.5, 10.0))
    assert trade.value == 100.5
