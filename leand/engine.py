"""The engine: wires clock, data, securities, strategy, risk gate, brokerage and portfolio.

One object serves backtests and the daemon. In a backtest :meth:`Engine.run` is a plain ``for`` over merged
data batches: each slice fires due timers, updates prices, scans resting orders, updates indicators and
calls the strategy, with no ``await`` anywhere on that path. The order of steps is LEAN's (see
docs/lean-statistics.md §A.1) so results can be compared with LEAN's.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from leand.clock import VirtualClock, datetime_to_ns, ns_to_datetime
from leand.consolidators import ConsolidatorFeed
from leand.data.feed import BarBatch
from leand.engine_context import EngineRiskContext
from leand.execution import ExecutionClient, OrderBookMarket
from leand.fees import crypto_fee_model
from leand.model import (
    AccountType,
    BookDelta,
    BookSnapshot,
    DataNormalizationMode,
    Delisting,
    Dividend,
    Fill,
    Instrument,
    Order,
    OrderType,
    QuoteBar,
    QuoteTick,
    Resolution,
    SecurityType,
    Split,
    Symbol,
    TickType,
    TimeInForce,
    TradeBar,
    TradeTick,
)
from leand.orders.bar_brokerage import BarBrokerage
from leand.orders.fees import (
    ConstantFeeModel,
    InteractiveBrokersFeeModel,
)
from leand.orders.fills import EquityFillModel, FillModel
from leand.orders.manager import OrderManager
from leand.portfolio import Portfolio
from leand.risk.gate import RiskGate, TradingState
from leand.scheduling import DateRules, ScheduleManager, TimeRules
from leand.security import Security
from leand.sizing import FREE_PORTFOLIO_VALUE_PCT, MIN_ORDER_MARGIN_PCT, Sizing  # noqa: F401 - re-exported
from leand.slice import Slice
from leand.stats.sampler import StatisticsSampler
from leand.strategy import Strategy
from leand.tickets import (
    OrderResponse,
    OrderTicket,
    UpdateOrderFields,
)

NY = ZoneInfo("America/New_York")
DAY_NS = 86_400_000_000_000

#: how many strategy log lines an engine keeps in memory (LEAN caps a backtest's log too)
BACKTEST_LOG_LINES = 200_000
LIVE_LOG_LINES = 1_000

#: stable coins LEAN values at 1 USD when the algorithm has no pair pricing them
USD_STABLE_COINS = frozenset({"USDT", "USDC", "BUSD", "TUSD", "DAI", "USDP", "PAX", "GUSD", "SUSD", "UST", "FDUSD"})

CRYPTO_BROKERAGES = {"coinbase", "gdax", "binance", "bitfinex", "bybit", "kraken", "ftx"}


class EngineError(Exception):
    """A problem with the strategy's setup (bad symbol, missing data, bad dates): one clear message."""


class Engine:
    def __init__(self, strategy: Strategy, data_root: Path, *, parameters: dict[str, Any] | None = None,
                 start: date | None = None, end: date | None = None, cash: float | None = None,
                 live_mode: bool = False, risk_config: Any = None, log_sink: Callable[[str], None] | None = None,
                 seed: int = 0, clock: VirtualClock | None = None,
                 brokerage: Callable[[Engine], ExecutionClient] | None = None,
                 catalog: Path | None = None, data_source: Any = None,
                 order_books: OrderBookMarket | None = None) -> None:
        from leand.data.market_hours import MarketHoursDatabase
        from leand.data.symbol_properties import SymbolPropertiesDatabase

        self.strategy = strategy
        strategy.attach(self)
        self.data_root = Path(data_root)
        #: a leand data catalogue read before the LEAN folder (``leand data``); None: the folder alone
        self.catalog_root = Path(catalog) if catalog is not None else None
        if data_source is not None:  # a reader shared across runs (an optimizer's worker keeps one per process)
            self._lean_source = data_source
        self.parameters = dict(parameters or {})
        self.live_mode = live_mode
        self.seed = seed
        self.clock = clock if clock is not None else VirtualClock(0)
        self.time_zone: ZoneInfo = NY
        self.portfolio = Portfolio()
        self.securities: dict[Symbol, Security] = self.portfolio.securities
        self.subscriptions: list[Any] = []
        #: the only code that creates orders and changes their state; ``orders``, ``open_orders``, ``fills`` and
        #: ``tickets`` (one per order for the whole run) are its collections, read-only for everyone else
        self.order_manager = OrderManager(self)
        if type(strategy).on_order_event is Strategy.on_order_event:
            self.order_manager.set_event_handler(None)
        self.orders: dict[int, Order] = self.order_manager.orders
        self.open_orders: dict[int, Order] = self.order_manager.open_orders
        self.fills: list[Fill] = self.order_manager.fills
        self.tickets: dict[int, OrderTicket] = self.order_manager.tickets
        #: set_holdings / calculate_order_quantity / liquidate
        self.sizing = Sizing(self)
        #: consolidators attached to symbols (leand.consolidators): fed each event, scanned each time step
        self.consolidation = ConsolidatorFeed()
        #: indicator objects attached by ``register_indicator`` (leand.registration), by id
        self.indicator_registrations: dict[int, list[tuple]] = {}
        #: LEAN's Settings.MinimumOrderMarginPortfolioPercentage (set_holdings ignores smaller changes)
        self.min_order_margin_pct = MIN_ORDER_MARGIN_PCT
        #: called with each slice just before ``on_data`` (margin interest models, as LEAN applies them)
        self.before_data: list[Callable[[Slice], None]] = []
        #: called with each slice after ``on_data`` (the algorithm framework runs there, as in LEAN)
        self.after_data: list[Callable[[Slice], None]] = []
        #: the strategy's charts (``plot``): chart -> series -> [(time_ns, value)], drawn in the HTML report
        self.charts: dict[str, dict[str, list[tuple[int, float]]]] = {}
        #: a strategy's brokerage model object (leand.brokerage_models), asked before each submit and update
        self.brokerage_model: Any = None
        #: set by ``Strategy.quit``: the run stops after the current slice
        self.quit_requested = False
        self.custom_statistics: dict[str, str] = {}
        #: the strategy's log lines, newest last: bounded, so a long-lived strategy cannot grow it without end
        #: (the daemon sends every line to its structured log through ``log_hook`` as it is written)
        self.logs: deque[str] = deque(maxlen=LIVE_LOG_LINES if live_mode else BACKTEST_LOG_LINES)
        #: called with (level, message) for every line; the daemon logs it with the strategy's id
        self.log_hook: Callable[[str, Any], None] | None = None
        self._log_sink = log_sink
        self.brokerage_name = "default"
        self.account_type = AccountType.MARGIN
        self.benchmark: Symbol | float | None = Symbol.equity("SPY")
        self.brokerage: Any = brokerage(self) if brokerage is not None else BarBrokerage(self)
        #: the simulated exchange whose replayed books ``use_order_book``/``add_book_data`` match in (given by
        #: the backtest runner: the engine itself knows no exchange)
        self.order_books = order_books
        self.warming_up = False
        self._warmup: tuple[int | timedelta, Resolution | None] | None = None
        self._cli_start, self._cli_end, self._cli_cash = start, end, cash
        self.start_date: date = start or date(2013, 10, 7)
        self.end_date: date = end or self.start_date
        self._cash_set = False
        self._indicator_updaters: dict[Symbol, list[Callable[[Any], Any]]] = {}
        self.risk_gate: RiskGate = None  # type: ignore[assignment]  # set in initialize(), before any order
        self._risk_config = risk_config
        self._mhdb = MarketHoursDatabase.load(self.data_root / "market-hours" / "market-hours-database.json")
        self._spdb = SymbolPropertiesDatabase.load(
            self.data_root / "symbol-properties" / "symbol-properties-database.csv")
        self._rate_sources: dict[str, tuple[Security, bool]] = {}
        #: currencies priced through a pair into another currency: ccy -> (pair, the pair's quote currency)
        self._chained_rates: dict[str, tuple[Security, str]] = {}
        self._stable: set[str] = set()
        self.schedule = ScheduleManager(self.clock, self.time_zone)
        self.date_rules = DateRules(self._hours_of,
                                    lambda: ns_to_datetime(self.clock.now_ns(), self.time_zone).date())
        self.time_rules = TimeRules(self.time_zone, self._hours_of)
        #: statistics inputs: equity, daily and exposure samples on the clock
        self.sampler = StatisticsSampler(self)
        self.equity_samples = self.sampler.equity_samples
        self.daily_samples = self.sampler.daily_samples
        self.exposure_samples = self.sampler.exposure_samples
        self.first_data_ns: int | None = None
        self.last_data_ns: int | None = None
        self.data_points = 0
        #: client order ids are ``prefix + order id``; the daemon makes the prefix unique per strategy and boot
        self.client_id_prefix = "L"
        #: called with (kind, order) for every strategy decision (submit, cancel, modify) and with the gate's
        #: verdict; the daemon records them, a replay compares them
        self.decision_hook: Callable[[str, Order], None] | None = None
        self.risk_hook: Callable[[Order, Any], None] | None = None
        self.strategy_id = type(strategy).__name__
        self._live_start = self._live_end = 0
        self._csv_sources: dict[Symbol, Path] = {}
        #: securities the engine added for itself (conversion-rate feeds): their data never reaches on_data
        self.internal_symbols: set[Symbol] = set()
        #: more data streams for the feed: callables (start_ns, end_ns) -> iterator of (times, events) chunks
        self.extra_streams: list[Callable[[int, int], Any]] = []
        #: consume one symbol's real trade bars from the day's columns (``_bars_in_place``); off: build every
        #: TradeBar and Slice as the general path does (the results are the same; tests compare the two)
        self.columnar_bars = True
        #: LEAN's consolidators pass fill-forward bars on to indicators
        self.indicators_see_fill_forward = True

    # =============================================================================================
    # setup API (called from Strategy)
    # =============================================================================================
    def _start_ns(self) -> int:
        return datetime_to_ns(datetime.combine(self.start_date, time(0), self.time_zone))

    def _end_ns(self) -> int:
        return datetime_to_ns(datetime.combine(self.end_date + timedelta(days=1), time(0), self.time_zone)) - 1

    def set_start(self, d: date) -> None:
        if self._cli_start is None:
            self.start_date = d
            if self.end_date < d:
                self.end_date = d
        self.clock.set_time(self._start_ns())

    def set_end(self, d: date) -> None:
        if self._cli_end is None:
            self.end_date = d

    def set_cash(self, currency: str, amount: float, conversion_rate: float | None = None) -> None:
        if currency == self.portfolio.account_currency and self._cli_cash is not None:
            amount = self._cli_cash
        self.portfolio.cash_book.set_amount(currency, amount, conversion_rate)
        if currency == self.portfolio.account_currency:  # another currency leaves the default account cash
            self._cash_set = True

    def set_account_currency(self, currency: str) -> None:
        old = self.portfolio.cash_book
        amount = old[old.account_currency].amount
        from leand.portfolio import CashBook
        self.portfolio.cash_book = CashBook(currency)
        self.portfolio.cash_book.set_amount(currency, amount)

    def set_time_zone(self, tz: str) -> None:
        self.time_zone = ZoneInfo(tz)
        self.schedule.set_time_zone(self.time_zone)
        self.time_rules.set_time_zone(self.time_zone)
        self.clock.set_time(self._start_ns())

    def set_brokerage_model(self, name: Any, account_type: AccountType) -> None:
        if not isinstance(name, str):  # a brokerage model object (LEAN's DefaultBrokerageModel or a subclass)
            self.brokerage_model = name
            account_type = AccountType(getattr(name, "account_type", account_type))
            self.brokerage_name = "default"
            self.account_type = account_type
            self.portfolio.account_type = account_type
            return
        self.brokerage_name = str(name).lower().replace("_", "").removesuffix("brokerage") or "default"
        self.account_type = account_type
        self.portfolio.account_type = account_type
        if self.brokerage_name in ("coinbase", "gdax"):
            self.benchmark = Symbol.crypto("BTCUSD", "coinbase")

    def default_crypto_market(self) -> str:
        """The market a crypto pair is added on when none is given: the brokerage model's (LEAN)."""
        from leand.fees import default_crypto_market

        return default_crypto_market(self.brokerage_name)

    def set_benchmark(self, benchmark: Any) -> None:
        if isinstance(benchmark, str):
            benchmark = Symbol.equity(benchmark)
        elif isinstance(benchmark, Security):
            benchmark = benchmark.symbol
        self.benchmark = benchmark

    def set_warm_up(self, period: int | timedelta, resolution: Resolution | None) -> None:
        self._warmup = (period, resolution)

    def set_risk_config(self, config: Any) -> None:
        self._risk_config = config

    def _hours_of(self, symbol: Symbol | str):
        sym = self.resolve(symbol)
        sec = self.securities.get(sym)
        if sec is not None:
            return sec.exchange_hours
        return self._mhdb.get(sym.security_type, sym.market, sym.value)

    def resolve(self, symbol: Symbol | str | Security) -> Symbol:
        if isinstance(symbol, Symbol):
            return symbol
        if isinstance(symbol, Security):
            return symbol.symbol
        text = str(symbol).upper()
        for sym in self.securities:
            if sym.value == text:
                return sym
        raise EngineError(f"unknown symbol {symbol!r}: add it with add_equity/add_crypto/add_forex first")

    def add_security(self, symbol: Symbol, resolution: Resolution, *, fill_forward: bool = True,
                     leverage: float | None = None, extended_hours: bool = False,
                     normalization: DataNormalizationMode = DataNormalizationMode.ADJUSTED) -> Security:
        from leand.data.feed import Subscription

        if symbol in self.securities:
            return self.securities[symbol]
        hours = self._mhdb.get(symbol.security_type, symbol.market, symbol.value)
        instrument: Instrument = self._spdb.get(symbol)
        st = symbol.security_type
        if st is not SecurityType.EQUITY:
            normalization = DataNormalizationMode.RAW
        if leverage is None:
            leverage = {SecurityType.EQUITY: 2.0, SecurityType.CRYPTO: 1.0, SecurityType.FOREX: 50.0}[st]
            if self.account_type is AccountType.CASH:
                leverage = 1.0
        sec = Security(instrument, hours, resolution, leverage=leverage, normalization=normalization,
                       fill_forward=fill_forward, extended_hours=extended_hours)
        if st is SecurityType.EQUITY:
            sec.fill_model = EquityFillModel()
            sec.fee_model = InteractiveBrokersFeeModel()
            kinds = [TickType.TRADE] if resolution >= Resolution.HOUR else [TickType.TRADE, TickType.QUOTE]
        elif st is SecurityType.CRYPTO:
            sec.fill_model = FillModel()
            sec.fee_model = crypto_fee_model(self.brokerage_name, instrument.quote_currency)
            kinds = [TickType.TRADE, TickType.QUOTE]
        else:
            sec.fill_model = FillModel()
            sec.fee_model = ConstantFeeModel(0.0, instrument.quote_currency)
            kinds = [TickType.QUOTE]
        sec.subscribes_trades = TickType.TRADE in kinds
        sec.subscribes_quotes = TickType.QUOTE in kinds
        self.securities[symbol] = sec
        self.portfolio.cash_book.ensure(instrument.quote_currency)
        if instrument.base_currency and st is not SecurityType.EQUITY:
            self.portfolio.cash_book.ensure(instrument.base_currency)
        csv_path = self._csv_sources.get(symbol)
        if csv_path is not None:
            kinds = [TickType.TRADE]
            sec.subscribes_quotes = False
        for kind in kinds:
            self.subscriptions.append(Subscription(symbol, resolution, kind, normalization,
                                                   extended_hours=extended_hours, fill_forward=fill_forward,
                                                   csv_path=str(csv_path) if csv_path else None))
        return sec

    def use_order_book(self, symbol: Symbol | str, *, queue: Any = "conservative", latency: Any = None,
                       maker_fee: float | None = None, taker_fee: float | None = None,
                       min_notional: float = 0.0) -> None:
        """Match ``symbol``'s orders in the simulated exchange's replayed book (tick data) instead of the bar
        fill models: queue position, latency, maker/taker fees. Fees default to the security's fee model."""
        sym = self.resolve(symbol)
        sec = self.securities[sym]
        if sec.resolution is not Resolution.TICK:
            raise EngineError(f"{sym}: the order book needs tick data (subscribed at {sec.resolution.name.lower()})")
        try:
            self.brokerage = self._order_books().use_order_book(self, sym, queue=queue, latency=latency,
                                                                maker_fee=maker_fee, taker_fee=taker_fee,
                                                                min_notional=min_notional)
        except ValueError as e:
            raise EngineError(f"{sym}: {e}") from None

    def add_book_data(self, symbol: Symbol, path: str | Path | None = None) -> Security:
        """A security whose market data is a recorded order book (a ``.l2d`` file, or without ``path`` the
        catalogue's L2 deltas of the symbol, one file a day) instead of LEAN files; its orders match in the
        replayed book (``use_order_book`` afterwards changes the queue/latency models)."""
        books = self._order_books()
        paths: Path | list[Path] = Path(path) if path is not None else self._catalogued_book(symbol)
        sec = self.add_security(symbol, Resolution.TICK, fill_forward=False, normalization=DataNormalizationMode.RAW)
        self.subscriptions = [s for s in self.subscriptions if s.symbol != symbol]
        try:
            self.extra_streams.append(books.book_stream(symbol, paths))
        except (OSError, ValueError) as e:  # a bad recording: say which and why, before the run starts
            raise EngineError(f"{symbol}: {e}") from None
        self.brokerage = books.feed_from_book(self, symbol)
        return sec

    def _order_books(self) -> OrderBookMarket:
        if self.order_books is None:
            raise EngineError("order books are matched in the simulated exchange, in a backtest only (this engine "
                              "was built without one)")
        return self.order_books

    def _catalogued_book(self, symbol: Symbol) -> list[Path]:
        from leand.data.catalog import Catalog, DatasetKey
        from leand.data.catalog.l2 import L2_KIND, day_paths

        if self.catalog_root is None:
            raise EngineError(f"{symbol}: add_book_data without a path reads the data catalogue, and there is none")
        cat = Catalog(self.catalog_root)
        try:
            ds = cat.get(DatasetKey(symbol.security_type, symbol.market, symbol.value, L2_KIND, Resolution.TICK))
            if ds is None or not ds.rows:
                raise EngineError(f"{symbol}: no L2 deltas in the catalogue {self.catalog_root}")
            return day_paths(cat, ds)
        finally:
            cat.close()

    def add_csv_security(self, path: str, ticker: str, resolution: Resolution) -> Security:
        """A US-equity-like security (NYSE hours, $0.01 ticks) whose trade bars come from an OHLCV CSV file."""
        sym = Symbol.equity(ticker)
        p = Path(path)
        if not p.is_absolute() and not p.is_file():
            p = self.data_root / p
        if not p.is_file():
            raise EngineError(f"CSV data file not found: {path}")
        self._csv_sources[sym] = p
        return self.add_security(sym, resolution, normalization=DataNormalizationMode.RAW, fill_forward=False)

    # =============================================================================================
    # indicators and history
    # =============================================================================================
    def register_indicator(self, name: str, symbol: Symbol | str, args: tuple, kwargs: dict,
                           resolution: Resolution | None, selector: Any, warm_up: bool = False):
        from leand.indicators import REGISTRY
        from leand.indicators.base import selector_of

        try:
            factory = REGISTRY[name]
        except KeyError:
            raise EngineError(f"unknown indicator {name!r}") from None
        sym = self.resolve(symbol)
        ind = factory(*args, **kwargs)
        updater: Callable[[Any], Any]
        if selector is None:
            updater = ind.update_bar
        else:
            try:
                selector = selector_of(selector)
            except ValueError as e:
                raise EngineError(f"indicator {name!r}: {e}") from None

            def on_bar(bar: Any, _u: Callable[[int, float], Any] = ind.update, _s: Any = selector) -> Any:
                return _u(bar.end_time, _s(bar))

            updater = on_bar
        if self.securities[sym].resolution is Resolution.TICK:
            from leand.indicators.base import tick_updater

            updater = tick_updater(ind, selector)
        if warm_up:  # LEAN's WarmUpIndicator: feed the indicator its warm-up period from history first
            for bar in self.history(sym, max(ind.warm_up_period, 1), resolution):
                updater(bar)
        self._indicator_updaters.setdefault(sym, []).append(updater)
        return ind

    def indicator_updaters_for(self, symbol: Symbol) -> list[Callable[[Any], Any]]:
        """The callables fed each of ``symbol``'s bars (or ticks) in step 7 of a slice."""
        return self._indicator_updaters.setdefault(symbol, [])

    def history(self, symbol: Symbol | str, periods: int, resolution: Resolution | None = None,
                tick_type: TickType | None = None) -> list:
        from leand.data.feed import DataFeed, Subscription

        sym = self.resolve(symbol)
        sec = self.securities[sym]
        res = resolution or sec.resolution
        kind = tick_type or (TickType.TRADE if sec.subscribes_trades else TickType.QUOTE)
        sub = Subscription(sym, res, kind, sec.normalization, extended_hours=sec.extended_hours,
                           fill_forward=False)
        end = self.clock.now_ns()
        span = max(res.value, Resolution.MINUTE.value) * periods * 3
        if res >= Resolution.DAILY:
            span = DAY_NS * (periods * 2 + 10)
        for _ in range(6):
            feed = DataFeed(self._source(), [sub], end - span, end, {sym: sec.exchange_hours})
            bars = [ev for _, evs in _iter_slices(feed) for ev in evs if type(ev) in (TradeBar, QuoteBar)
                    and ev.end_time <= end]
            if len(bars) >= periods:
                return bars[-periods:]
            span *= 4
        return bars

    # =============================================================================================
    # orders: the order manager owns them; these are the strategy API's entry points
    # =============================================================================================
    def submit(self, symbol: Symbol | str, quantity: float, order_type: OrderType, *,
               limit_price: float | None = None, stop_price: float | None = None,
               trailing_amount: float | None = None, trailing_as_percentage: bool = False, tag: str = "",
               time_in_force: TimeInForce | None = None, expire: date | None = None,
               post_only: bool = False, asynchronous: bool = False,
               trigger_price: float | None = None) -> OrderTicket:
        return self.order_manager.submit(symbol, quantity, order_type, limit_price=limit_price,
                                         stop_price=stop_price, trailing_amount=trailing_amount,
                                         trailing_as_percentage=trailing_as_percentage, tag=tag,
                                         time_in_force=time_in_force, expire=expire, post_only=post_only,
                                         asynchronous=asynchronous, trigger_price=trigger_price)

    def cancel_order(self, order_id: int, tag: str = "") -> bool:
        return self.order_manager.cancel(order_id, tag)

    def cancel_order_response(self, order_id: int, tag: str = "") -> OrderResponse:
        return self.order_manager.cancel_response(order_id, tag)

    def update_order_response(self, order_id: int, fields: UpdateOrderFields) -> OrderResponse:
        return self.order_manager.update_response(order_id, fields)

    def update_order(self, order_id: int, *, quantity: float | None = None, limit_price: float | None = None,
                     stop_price: float | None = None, trailing_amount: float | None = None,
                     tag: str | None = None, trigger_price: float | None = None) -> bool:
        return self.order_manager.update(order_id, quantity=quantity, limit_price=limit_price,
                                         stop_price=stop_price, trailing_amount=trailing_amount, tag=tag,
                                         trigger_price=trigger_price)

    def get_open_orders(self, symbol: Symbol | str | None = None) -> list[Order]:
        return self.order_manager.get_open_orders(symbol)

    def get_order_by_id(self, order_id: int) -> Order | None:
        return self.orders.get(order_id)

    def cancel_open_orders(self, symbol: Symbol | str | None = None, tag: str = "") -> list[OrderTicket]:
        return self.order_manager.cancel_open_orders(symbol, tag)

    # ---- portfolio targets ------------------------------------------------------------------------
    def _open_market_quantity(self, sym: Symbol) -> float:
        return self.order_manager.open_market_quantity(sym)

    def calculate_order_quantity(self, symbol: Symbol | str, target: float) -> float:
        return self.sizing.calculate_order_quantity(symbol, target)

    def set_holdings(self, targets: list[tuple[Symbol | str, float]], liquidate_existing: bool,
                     tag: str, asynchronous: bool = False) -> list[OrderTicket]:
        return self.sizing.set_holdings(targets, liquidate_existing, tag, asynchronous)

    def liquidate(self, symbol: Symbol | str | None, tag: str, asynchronous: bool = False,
                  time_in_force: TimeInForce | None = None) -> list[OrderTicket]:
        return self.sizing.liquidate(symbol, tag, asynchronous, time_in_force)

    # =============================================================================================
    # conversion rates
    # =============================================================================================
    def _setup_rate_sources(self) -> None:
        """Find, for every currency in the cash book, a security that prices it in the account currency.

        As LEAN does, a currency with no such subscription gets an internal forex feed (Oanda) whose data
        moves the rate but never reaches the strategy."""
        acc = self.portfolio.account_currency
        unresolved: list[str] = []
        for ccy in list(self.portfolio.cash_book):
            if ccy == acc or ccy in self._rate_sources:
                continue
            for sec in list(self.securities.values()):
                base, quote = sec.base_currency, sec.quote_currency
                if base == ccy and quote == acc:
                    self._rate_sources[ccy] = (sec, False)
                    break
                if base == acc and quote == ccy:
                    self._rate_sources[ccy] = (sec, True)
                    break
            else:
                if acc == "USD" and ccy in USD_STABLE_COINS:  # LEAN: a stable coin with no pair is worth 1 USD
                    self.portfolio.cash_book[ccy].conversion_rate = 1.0
                    self._stable.add(ccy)
                    continue
                unresolved.append(ccy)
        for ccy in unresolved:  # two legs: a pair into a currency that itself has a rate (BTCUSDT, USDT = 1)
            for sec in list(self.securities.values()):
                via = sec.quote_currency
                if sec.base_currency == ccy and (via in self._rate_sources or via in self._stable):
                    self._chained_rates[ccy] = (sec, via)
                    break
            else:
                self._add_internal_rate_feed(ccy, acc)

    def _add_internal_rate_feed(self, ccy: str, acc: str) -> None:
        res = min((s.resolution for s in self.securities.values()), default=Resolution.MINUTE)
        res = max(res, Resolution.MINUTE)
        for pair, invert in ((f"{ccy}{acc}", False), (f"{acc}{ccy}", True)):
            sym = Symbol.forex(pair, "oanda")
            folder = self.data_root / "forex" / "oanda" / res.folder / pair.lower()
            catalogued = getattr(self._source(), "has", None)  # a data catalogue may hold the pair instead
            if not folder.is_dir() and not (catalogued is not None and catalogued(sym, res, TickType.QUOTE)):
                continue
            try:
                sec = self.add_security(sym, res)
            except KeyError:
                continue
            self.internal_symbols.add(sym)
            self._rate_sources[ccy] = (sec, invert)
            return
        self.log("ERROR", f"no conversion rate source for {ccy}: its cash counts as 0 {acc}")

    def refresh_rates(self) -> None:
        cb = self.portfolio.cash_book
        for ccy, (sec, invert) in self._rate_sources.items():
            p = sec.price
            if p:
                cb[ccy].conversion_rate = 1.0 / p if invert else p
        for ccy, (sec, via) in self._chained_rates.items():
            p = sec.price
            if p:
                cb[ccy].conversion_rate = p * cb[via].conversion_rate

    # =============================================================================================
    # the run
    # =============================================================================================
    def _source(self):
        from leand.data.lean import LeanDataSource

        if not hasattr(self, "_lean_source"):
            lean = LeanDataSource(self.data_root)
            if self.catalog_root is not None:
                from leand.data.catalog import Catalog, CatalogDataSource

                self._lean_source = CatalogDataSource(Catalog(self.catalog_root), lean)
            else:
                self._lean_source = lean
        return self._lean_source

    def initialize(self) -> None:
        if not self.live_mode:  # live, the clock is wall time already: schedules set up now start from now
            self.clock.set_time(self._start_ns())
        self.strategy.initialize()
        if self._cli_start is not None:
            self.start_date = self._cli_start
        if self._cli_end is not None:
            self.end_date = self._cli_end
        if not self._cash_set:
            self.portfolio.cash_book.set_amount(self.portfolio.account_currency,
                                                self._cli_cash if self._cli_cash is not None else 100_000.0)
        if self.end_date < self.start_date:
            raise EngineError(f"end date {self.end_date} is before start date {self.start_date}")
        if not self.securities:
            raise EngineError("the strategy subscribed to no data: call add_equity/add_crypto/add_forex in "
                              "initialize()")
        if self.brokerage_name in CRYPTO_BROKERAGES:
            self.trading_days_per_year = 365
        else:
            self.trading_days_per_year = 252
        self._setup_rate_sources()
        self._add_benchmark_feed()
        if any(sec.margin_interest_rate_model is not None for sec in self.securities.values()):
            self.before_data.append(self._apply_margin_interest)
        self._setup_risk_gate()

    def _apply_margin_interest(self, sl: Slice) -> None:
        from leand.lean_models import apply_margin_interest

        apply_margin_interest(self.securities, self.portfolio.cash_book,
                              ns_to_datetime(sl.time, self.time_zone).replace(tzinfo=None))

    def _add_benchmark_feed(self) -> None:
        """A benchmark symbol the strategy did not subscribe gets an internal hour feed (LEAN's), when the
        data folder has it; its data never reaches the strategy."""
        b = self.benchmark
        if not isinstance(b, Symbol) or b in self.securities or self.live_mode:
            return
        folder = self.data_root / b.security_type.value / b.market / "hour"
        name = f"{b.value.lower()}.zip" if b.security_type is SecurityType.EQUITY else f"{b.value.lower()}_trade.zip"
        if not (folder / name).is_file():
            return
        try:
            self.add_security(b, Resolution.HOUR)
        except KeyError:
            return
        self.internal_symbols.add(b)

    def _setup_risk_gate(self) -> None:
        """The same gate as in the daemon, so a backtest shows what a live deployment would refuse."""
        self.risk_gate = RiskGate(self._risk_config, EngineRiskContext(self), on_state_change=self._on_risk_state)

    def _on_risk_state(self, state: TradingState, reason: str, cancel_all: bool) -> None:
        self.log("ERROR", f"trading state -> {state.value}: {reason}")
        if cancel_all:
            for o in list(self.open_orders.values()):
                self.cancel_order(o.id, "risk: cancel all on halt")

    def _feed(self, start_ns: int, end_ns: int):
        from leand.data.feed import DataFeed

        hours = {s: sec.exchange_hours for s, sec in self.securities.items()}
        extra = [lambda make=make: make(start_ns, end_ns) for make in self.extra_streams]
        return DataFeed(self._source(), self.subscriptions, start_ns, end_ns, hours, extra=extra,
                        columnar=self.columnar_bars)

    @property
    def start_equity(self) -> float:
        return self.sampler.start_equity

    @property
    def peak_equity(self) -> float:
        return self.sampler.peak_equity

    def benchmark_value(self) -> float:
        b = self.benchmark
        if isinstance(b, Symbol):
            sec = self.securities.get(b)
            if sec is None:
                return 0.0
            return sec.price * self.portfolio.conversion(sec)
        if b is None:
            return 0.0
        if callable(b):  # LEAN's set_benchmark(lambda time: value)
            return float(b(ns_to_datetime(self.clock.now_ns(), self.time_zone).replace(tzinfo=None)))
        return float(b)

    def run(self, progress: Callable[[int, int, int, int], None] | None = None) -> None:
        """Initialize the strategy and run it over its data on the virtual clock."""
        self.initialize()
        start_ns, end_ns = self._start_ns(), self._end_ns()
        warm_start = start_ns
        if self._warmup is not None:
            period, res = self._warmup
            if isinstance(period, timedelta):
                warm_start = start_ns - int(period.total_seconds() * 1e9)
            else:
                warm_start = self._warmup_start(start_ns, int(period), res)
            self.warming_up = True
        self.clock.set_time(warm_start)
        self.refresh_rates()
        if self._warmup is None:
            self._begin_trading(start_ns, end_ns)
        self._loop(self._feed(warm_start, end_ns).batches(), start_ns, end_ns, progress)
        self._finish()

    def _seed_rate_prices(self) -> None:
        """Give conversion-rate securities a price from history before the first slice, as LEAN seeds its
        cash book, so the starting equity counts every currency."""
        for ccy, (sec, _) in self._rate_sources.items():
            if sec.price:
                continue
            try:
                quotes = sec.subscribes_quotes and sec.security_type is not SecurityType.EQUITY
                bars = self.history(sec.symbol, 1, tick_type=TickType.QUOTE if quotes else None)
            except Exception as e:
                self.log("ERROR", f"could not seed the {ccy} conversion rate from {sec.symbol}: {e}")
                continue
            if bars:
                sec.price = bars[-1].close

    def _warmup_start(self, start_ns: int, bars: int, res: Resolution | None) -> int:
        """Walk back through exchange sessions until ``bars`` bars of ``res`` fit before the start."""
        sec = min(self.securities.values(), key=lambda s: s.resolution)
        r = res or sec.resolution
        hours = sec.exchange_hours
        step = max(r.value, Resolution.SECOND.value)
        if hours is None or hours.always_open:
            return start_ns - bars * step
        d = ns_to_datetime(start_ns, hours.time_zone).date()
        need = bars
        for _ in range(bars + 3660):
            d -= timedelta(days=1)
            sess = hours.session(d)
            if sess is None:
                continue
            if r >= Resolution.DAILY:
                need -= 1
                if need <= 0:
                    return sess[0]
                continue
            n = (sess[1] - sess[0]) // step
            if n >= need:
                return sess[1] - need * step
            need -= n
        return start_ns - bars * step

    def _begin_trading(self, start_ns: int, end_ns: int) -> None:
        self._seed_rate_prices()
        self.sampler.begin(start_ns, end_ns)

    def on_live_slice(self, t: int, events: tuple) -> None:
        """The daemon's entry: one slice through exactly the steps a backtest runs."""
        self._loop((([t], [events]),), self._live_start, self._live_end, None)

    def on_live_slices(self, times: list[int], slices: Iterator[tuple]) -> None:
        """Many live slices in one pass (a replay's run of market data): the same steps as one
        ``on_live_slice`` call per slice, without setting up the loop for each. ``slices`` is read one
        slice at a time, just before that slice runs, so what its producer does between two slices
        happens where it would between two calls; once the strategy quits it is read to its end (the
        producer should stop yielding)."""
        seen = 0

        def counted() -> Iterator[tuple]:
            nonlocal seen
            for events in slices:
                seen += len(events)
                yield events

        before = self.data_points
        self._loop(((times, counted()),), self._live_start, self._live_end, None)
        self.data_points = before + seen

    def start_live(self, restore: Callable[[Engine], None] | None = None) -> None:
        """Initialize for the daemon: no end date, sampling and timers in wall time. ``restore`` puts back
        the account (cash, fills) from the journal after the strategy's own setup and before trading."""
        self.initialize()
        if restore is not None:
            restore(self)
        now = self.clock.now_ns()
        self._live_start, self._live_end = now, now + 3650 * DAY_NS
        self.clock.set_time(now)
        self._begin_trading(now, self._live_end)

    def _loop(self, batches, start_ns: int, end_ns: int, progress) -> None:
        clock = self.clock
        heap = clock._heap
        set_time = clock.set_time
        securities = self.securities
        strategy = self.strategy
        on_data = strategy.on_data
        updaters = self._indicator_updaters
        brokerage = self.brokerage
        on_slice = getattr(brokerage, "on_slice", None)  # a replayed book sees each slice first
        open_orders = self.open_orders
        TB, QB, TT, QT = TradeBar, QuoteBar, TradeTick, QuoteTick
        BD, BS = BookDelta, BookSnapshot
        warming = self.warming_up
        internal = self.internal_symbols
        ff_ind = self.indicators_see_fill_forward
        cfeed = self.consolidation
        after_data = self.after_data
        before_data = self.before_data
        aux_handlers = self._aux_handlers
        n = 0
        last_t = None
        # the security of the last symbol seen: a feed hands out one Symbol object per subscription and a
        # symbol's Security never changes once added, so an identity check saves a dict lookup per event
        last_sym: Symbol | None = None
        last_sec: Security = None  # type: ignore[assignment]  # read only once last_sym matched, so bound
        for times, slices in batches:
            if progress is not None and times:  # once per batch: (simulated time, start, end, events so far)
                progress(times[0], start_ns, end_ns, n)
            if slices.__class__ is BarBatch:  # one symbol's real trade bars as columns
                if warming or internal or on_slice is not None or cfeed.active:
                    slices = list(zip(slices.bars()))  # the general path below
                else:
                    done = self._bars_in_place(times, slices)
                    n += done
                    last_t = times[done - 1]
                    if self.quit_requested:
                        break
                    continue
            for t, events in zip(times, slices):
                if warming and t > start_ns:
                    warming = self.warming_up = False
                    set_time(start_ns)
                    self._begin_trading(start_ns, end_ns)
                    strategy.on_warmup_finished()
                # (1) timers scheduled before this instant fire at their own times
                if heap and heap[0][0] < t:
                    clock.advance_to(t - 1)
                set_time(t)
                aux = False
                # (3) prices
                for ev in events:
                    cls = ev.__class__
                    if cls is TB:
                        if not ev.fill_forward:
                            sym = ev.symbol
                            if sym is last_sym:
                                sec = last_sec
                            else:
                                sec = last_sec = securities[sym]
                                last_sym = sym
                            sec.last_trade_bar = ev
                            sec.price = ev.close
                            sec.volume = ev.volume
                    elif cls is QB:
                        if not ev.fill_forward:
                            sec = securities[ev.symbol]
                            sec.last_quote_bar = ev
                            b, a = ev.bid, ev.ask
                            if b is not None:
                                sec.bid = b.close
                                sec.bid_size = ev.last_bid_size
                            if a is not None:
                                sec.ask = a.close
                                sec.ask_size = ev.last_ask_size
                            if sec.security_type is not SecurityType.EQUITY:
                                sec.price = ev.close
                    elif cls is TT:
                        if not ev.suspicious:
                            sec = securities[ev.symbol]
                            sec.last_trade_tick = ev
                            sec.price = ev.price
                    elif cls is QT:
                        if not ev.suspicious:
                            sec = securities[ev.symbol]
                            sec.last_quote_tick = ev
                            if ev.bid_price:
                                sec.bid = ev.bid_price
                                sec.bid_size = ev.bid_size
                            if ev.ask_price:
                                sec.ask = ev.ask_price
                                sec.ask_size = ev.ask_size
                            if sec.security_type is not SecurityType.EQUITY or not sec.subscribes_trades:
                                sec.price = ev.price
                    elif cls is BD or cls is BS:
                        pass  # recorded book changes: the replayed book applies them and sets the touch
                    else:
                        aux = True
                if on_slice is not None:
                    on_slice(t, events)
                # (4) resting orders
                if open_orders:
                    brokerage.scan(t)
                # (5) timers due now
                if heap and heap[0][0] <= t:
                    clock.advance_to(t)
                # (6) corporate actions (raw mode moves cash/holdings), then LEAN's on_splits/on_dividends/...
                if aux:
                    self._corporate_actions(events)
                    aux_handlers(Slice(t, events))
                # (7) consolidators, then indicators
                if cfeed.active:
                    cfeed.on_slice(t, events)
                if updaters:
                    for ev in events:
                        ups = updaters.get(ev.symbol)
                        if ups is not None:
                            cls = ev.__class__
                            if (cls is TB or (cls is QB and not securities[ev.symbol].subscribes_trades)) \
                                    and (ff_ind or not ev.fill_forward):
                                for up in ups:
                                    up(ev)
                            elif (cls is TT and not ev.suspicious) or (
                                    cls is QT and not ev.suspicious and not securities[ev.symbol].subscribes_trades):
                                for up in ups:  # tick data: trade price, or the quote mid (or selector's field)
                                    up(ev)
                # (8)/(9) the strategy
                if internal:
                    events = tuple(e for e in events if e.symbol not in internal)
                    if not events:
                        if open_orders:
                            brokerage.end_of_step(t)
                        continue
                sl = Slice(t, events)
                if before_data:
                    for f in before_data:
                        f(sl)
                on_data(sl)
                if after_data:
                    for f in after_data:
                        f(sl)
                if open_orders:  # (10) LEAN's scans after OnData: the step's asynchronous orders fill here
                    brokerage.end_of_step(t)
                if self.quit_requested:
                    break
            if self.quit_requested:
                n += sum(map(len, slices))
                last_t = t
                break
            n += sum(map(len, slices))
            last_t = times[-1] if times else last_t
        self.data_points += n
        if warming:
            self.warming_up = False
            self._begin_trading(start_ns, end_ns)
        if last_t is not None:
            self.last_data_ns = last_t

    def _aux_handlers(self, sl: Slice) -> None:
        """LEAN's per-kind handlers, before on_data: on_splits, on_dividends, on_delistings,
        on_symbol_changed_events (each with that kind's events by symbol)."""
        st = self.strategy
        internal = self.internal_symbols
        for name, part in (("on_splits", sl.splits), ("on_dividends", sl.dividends),
                           ("on_delistings", sl.delistings), ("on_symbol_changed_events", sl.symbol_changed_events)):
            if internal:
                for sym in [k for k in part if k in internal]:
                    del part[sym]
            if part:
                getattr(st, name)(part)

    def _bars_in_place(self, times: list[int], batch: BarBatch) -> int:
        """The steps of ``_loop`` for slices that each hold one real trade bar of one symbol, read from the
        day's columns: no TradeBar, tuple or Slice contents are made unless something reads them (the
        security's ``last_trade_bar``, the slice's data, an indicator that needs more than the close).
        Returns how many rows ran (fewer than all when the strategy quits)."""
        clock = self.clock
        heap = clock._heap
        set_time = clock.set_time
        on_data = self.strategy.on_data
        after_data = self.after_data
        brokerage = self.brokerage
        open_orders = self.open_orders
        cfeed = self.consolidation
        updaters = self._indicator_updaters
        sym = batch.symbol
        sec = self.securities[sym]
        closes = batch.close
        volumes = batch.volume
        seen_ups: list | None = None
        seen_len = 0
        by_close = False
        row = _CloseRow()  # what the close-only indicator updaters read of a bar: its end time and close
        for i, t in enumerate(times):
            if heap and heap[0][0] < t:  # (1) timers scheduled before this instant
                clock.advance_to(t - 1)
            set_time(t)
            c = closes[i]
            sec.bar_rows = batch  # (3) prices; the TradeBar itself only if read
            sec.bar_row = i
            sec.price = c
            sec.volume = volumes[i]
            if open_orders:  # (4) resting orders
                brokerage.scan(t)
            if heap and heap[0][0] <= t:  # (5) timers due now
                clock.advance_to(t)
            if cfeed.active:  # (7) consolidators, then indicators
                cfeed.on_slice(t, (batch.bar(i),))
            ups = updaters.get(sym)
            if ups:
                if len(ups) != seen_len or ups is not seen_ups:
                    seen_ups, seen_len = ups, len(ups)
                    by_close = all(map(reads_close_only, ups))
                if by_close:
                    row.end_time = t
                    row.close = c
                    for up in ups:
                        up(row)
                else:
                    bar = batch.bar(i)
                    for up in ups:
                        up(bar)
            sl = Slice(t, None, batch, i)  # (8)/(9)
            on_data(sl)
            if after_data:
                for f in after_data:
                    f(sl)
            if open_orders:  # (10)
                brokerage.end_of_step(t)
            if self.quit_requested:
                return i + 1
        return len(times)

    def _corporate_actions(self, events: tuple) -> None:
        for ev in events:
            cls = ev.__class__
            if cls is Delisting:
                if ev.type == 1:  # delisted: no more trading; its open orders are canceled (LEAN)
                    sec = self.securities[ev.symbol]
                    sec.is_delisted, sec.is_tradable = True, False
                    for o in [o for o in self.open_orders.values() if o.symbol == ev.symbol]:
                        self.cancel_order(o.id, "delisted")
                continue
            if cls is Dividend:
                sec = self.securities[ev.symbol]
                if sec.normalization is DataNormalizationMode.RAW and sec.holdings.quantity:
                    self.portfolio.cash_book.add(sec.quote_currency, sec.holdings.quantity * ev.distribution)
            elif cls is Split and not ev.warning:
                sec = self.securities[ev.symbol]
                if sec.normalization is DataNormalizationMode.RAW and sec.holdings.quantity:
                    h = sec.holdings
                    new_q = h.quantity / ev.split_factor
                    whole = math.floor(new_q) if new_q > 0 else math.ceil(new_q)
                    self.portfolio.cash_book.add(sec.quote_currency,
                                                 (new_q - whole) * h.average_price * ev.split_factor)
                    h.average_price *= ev.split_factor
                    h.quantity = whole

    def _finish(self) -> None:
        end_t = self.clock.now_ns()
        self.strategy.on_end_of_algorithm()
        self.sampler.sample_daily(end_t)

    # ---- logging ---------------------------------------------------------------------------------
    def log(self, level: str, message: Any) -> None:
        t = ns_to_datetime(self.clock.now_ns(), self.time_zone).strftime("%Y-%m-%d %H:%M:%S")
        line = f"{t} {level} {message}"
        self.logs.append(line)
        if self._log_sink is not None:
            self._log_sink(line)
        if self.log_hook is not None:
            self.log_hook(level, message)


class _CloseRow:
    """A bar as a close-only indicator updater sees it (see ``reads_close_only``), reused row after row."""

    __slots__ = ("close", "end_time")

    def __init__(self) -> None:
        self.end_time = 0
        self.close = 0.0


def reads_close_only(updater: Callable[[Any], Any]) -> bool:
    """True when ``updater``, given a trade bar, reads only its end time and close: the bar updater of a
    value indicator whose selector is the close (so the engine need not make the TradeBar for it)."""
    from leand.indicators.base import BarIndicator, Indicator, close
    from leand.indicators.core import EMA, SMA

    ind = getattr(updater, "__self__", None)
    if not isinstance(ind, Indicator) or isinstance(ind, BarIndicator) or ind.selector is not close:
        return False
    fn = getattr(updater, "__func__", None)
    return fn is type(ind).update_bar and fn in (Indicator.update_bar, SMA.update_bar, EMA.update_bar)


def _iter_slices(feed) -> Iterable[tuple[int, tuple]]:
    for times, slices in feed.batches():
        yield from zip(times, slices)
