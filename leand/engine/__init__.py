"""The engine: wires clock, data, securities, strategy, risk gate, brokerage and portfolio.

One object serves backtests and the daemon. It is the strategy API's back end and delegates to named
collaborators, each with a small public API:

- :class:`~leand.engine.securities.SecurityManager` (``security_manager``): securities and subscriptions;
- :class:`~leand.engine.rates.ConversionRates` (``rates``): a conversion rate for every currency held;
- :class:`~leand.orders.manager.OrderManager` (``order_manager``): the only code that makes and changes orders;
- :class:`~leand.sizing.Sizing` (``sizing``): ``set_holdings``, ``calculate_order_quantity``, ``liquidate``;
- :class:`~leand.stats.sampler.StatisticsSampler` (``sampler``): equity, daily and exposure samples;
- :class:`~leand.engine.loop.EventLoop` (``loop``): each slice's steps, in LEAN's order (a backtest runs it as a
  plain ``for`` over merged data batches, with no ``await`` on that path).
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from leand.clock import VirtualClock, datetime_to_ns, ns_to_datetime
from leand.consolidators import ConsolidatorFeed
from leand.data.feed import Subscription
from leand.engine.errors import EngineError
from leand.engine.loop import EventLoop, reads_close_only  # noqa: F401 - reads_close_only re-exported
from leand.engine.rates import USD_STABLE_COINS, ConversionRates  # noqa: F401 - USD_STABLE_COINS re-exported
from leand.engine.securities import SecurityManager
from leand.engine_context import EngineRiskContext
from leand.execution import ExecutionClient, OrderBookMarket
from leand.model import (
    AccountType,
    DataNormalizationMode,
    Fill,
    Order,
    OrderType,
    Resolution,
    SecurityType,
    Symbol,
    TickType,
    TimeInForce,
)
from leand.orders.bar_brokerage import BarBrokerage
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

CRYPTO_BROKERAGES = {"coinbase", "gdax", "binance", "bitfinex", "bybit", "kraken", "ftx"}


class Engine:
    def __init__(self, strategy: Strategy, data_root: Path, *, parameters: dict[str, Any] | None = None,
                 start: date | None = None, end: date | None = None, cash: float | None = None,
                 live_mode: bool = False, risk_config: Any = None, log_sink: Callable[[str], None] | None = None,
                 seed: int = 0, clock: VirtualClock | None = None,
                 brokerage: Callable[[Engine], ExecutionClient] | None = None,
                 catalog: Path | None = None, data_source: Any = None,
                 order_books: OrderBookMarket | None = None) -> None:
        self.strategy = strategy
        strategy.attach(self)
        self.data_root = Path(data_root)
        #: a leand data catalogue read before the LEAN folder (``leand data``); None: the folder alone
        self.catalog_root = Path(catalog) if catalog is not None else None
        self.parameters = dict(parameters or {})
        self.live_mode = live_mode
        self.seed = seed
        self.clock = clock if clock is not None else VirtualClock(0)
        self.time_zone: ZoneInfo = NY
        self.portfolio = Portfolio()
        #: securities and subscriptions (add_security, resolve, history, the data feed); ``securities``,
        #: ``subscriptions``, ``internal_symbols`` and ``extra_streams`` are its collections
        self.security_manager = SecurityManager(self, self.data_root, self.catalog_root, data_source)
        self.securities: dict[Symbol, Security] = self.security_manager.securities
        self.subscriptions: list[Subscription] = self.security_manager.subscriptions
        #: securities the engine added for itself (conversion-rate feeds): their data never reaches on_data
        self.internal_symbols: set[Symbol] = self.security_manager.internal_symbols
        #: more data streams for the feed: callables (start_ns, end_ns) -> iterator of (times, events) chunks
        self.extra_streams: list[Callable[[int, int], Any]] = self.security_manager.extra_streams
        #: a rate source for every currency of the cash book
        self.rates = ConversionRates(self)
        #: the loop: each slice's steps, in LEAN's order; owns the indicator updaters
        self.loop = EventLoop(self)
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
        self.consolidation = ConsolidatorFeed(self.clock)
        #: indicator objects attached by ``register_indicator`` (leand.registration), by id
        self.indicator_registrations: dict[int, list[tuple]] = {}
        #: LEAN's Settings.MinimumOrderMarginPortfolioPercentage (set_holdings ignores smaller changes)
        self.min_order_margin_pct = MIN_ORDER_MARGIN_PCT
        #: called with the run's start once the strategy's initialize has run (a user-defined universe's
        #: first selection, the end-of-day events of the securities it starts with)
        self.after_initialize: list[Callable[[int], None]] = []
        #: the strategy's universes (leand.framework.universe): they may add its first securities after the start
        self.universes: list[Any] = []
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
        self.risk_gate: RiskGate = None  # type: ignore[assignment]  # set in initialize(), before any order
        self._risk_config = risk_config
        self.schedule = ScheduleManager(self.clock, self.time_zone)
        self.date_rules = DateRules(self.security_manager.hours_of,
                                    lambda: ns_to_datetime(self.clock.now_ns(), self.time_zone).date())
        self.time_rules = TimeRules(self.time_zone, self.security_manager.hours_of)
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
        #: verdict; the daemon records them, a replay compares them. The live fused path may call them once the
        #: order's request has left, when nothing else can record meanwhile (``OrderManager.submit_live``)
        self.decision_hook: Callable[[str, Order], None] | None = None
        self.risk_hook: Callable[[Order, Any], None] | None = None
        #: called with the gate's verdict right after ``risk_hook``, always before the order is sent (the daemon's
        #: counters and tick-to-order metric: the venue round trip starts there)
        self.gate_hook: Callable[[Order, Any], None] | None = None
        self.strategy_id = type(strategy).__name__
        self._live_start = self._live_end = 0
        #: consume one symbol's real trade bars from the day's columns (``EventLoop.bars_in_place``); off: build every
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

    def resolve(self, symbol: Symbol | str | Security) -> Symbol:
        return self.security_manager.resolve(symbol)

    def add_security(self, symbol: Symbol, resolution: Resolution, *, fill_forward: bool = True,
                     leverage: float | None = None, extended_hours: bool = False,
                     normalization: DataNormalizationMode = DataNormalizationMode.ADJUSTED) -> Security:
        return self.security_manager.add_security(symbol, resolution, fill_forward=fill_forward, leverage=leverage,
                                                  extended_hours=extended_hours, normalization=normalization)

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
        sm = self.security_manager
        paths: Path | list[Path] = Path(path) if path is not None else sm.catalogued_book(symbol)
        sec = self.add_security(symbol, Resolution.TICK, fill_forward=False, normalization=DataNormalizationMode.RAW)
        try:
            stream = books.book_stream(symbol, paths)
        except (OSError, ValueError) as e:  # a bad recording: say which and why, before the run starts
            raise EngineError(f"{symbol}: {e}") from None
        sm.replace_with_stream(symbol, stream)
        self.brokerage = books.feed_from_book(self, symbol)
        return sec

    def _order_books(self) -> OrderBookMarket:
        if self.order_books is None:
            raise EngineError("order books are matched in the simulated exchange, in a backtest only (this engine "
                              "was built without one)")
        return self.order_books

    def add_csv_security(self, path: str, ticker: str, resolution: Resolution) -> Security:
        """A US-equity-like security (NYSE hours, $0.01 ticks) whose trade bars come from an OHLCV CSV file."""
        return self.security_manager.add_csv_security(path, ticker, resolution)

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
        self.loop.updaters_for(sym).append(updater)
        return ind

    def indicator_updaters_for(self, symbol: Symbol) -> list[Callable[[Any], Any]]:
        """The callables fed each of ``symbol``'s bars (or ticks) in step 7 of a slice."""
        return self.loop.updaters_for(symbol)

    def history(self, symbol: Symbol | str, periods: int, resolution: Resolution | None = None,
                tick_type: TickType | None = None) -> list:
        return self.security_manager.history(symbol, periods, self.clock.now_ns(), resolution, tick_type)

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
    def refresh_rates(self) -> None:
        self.rates.refresh()

    # =============================================================================================
    # the run
    # =============================================================================================
    def initialize(self) -> None:
        if not self.live_mode:  # live, the clock is wall time already: schedules set up now start from now
            self.clock.set_time(self._start_ns())
        self.strategy.initialize()
        if self._cli_start is not None:
            self.start_date = self._cli_start
        if self._cli_end is not None:
            self.end_date = self._cli_end
        if type(self.strategy).on_end_of_day is not Strategy.on_end_of_day:  # LEAN's per-security events
            from leand.framework.universe import EndOfDayEvents

            EndOfDayEvents(self, self.strategy)
        for f in self.after_initialize:
            f(self._start_ns())
        if not self._cash_set:
            self.portfolio.cash_book.set_amount(self.portfolio.account_currency,
                                                self._cli_cash if self._cli_cash is not None else 100_000.0)
        if self.end_date < self.start_date:
            raise EngineError(f"end date {self.end_date} is before start date {self.start_date}")
        if not self.securities and not self.universes:
            raise EngineError("the strategy subscribed to no data: call add_equity/add_crypto/add_forex in "
                              "initialize()")
        if self.brokerage_name in CRYPTO_BROKERAGES:
            self.trading_days_per_year = 365
        else:
            self.trading_days_per_year = 252
        self.rates.setup()
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
            self.security_manager.add_internal(b, Resolution.HOUR)
        except KeyError:
            return

    def _setup_risk_gate(self) -> None:
        """The same gate as in the daemon, so a backtest shows what a live deployment would refuse."""
        self.risk_gate = RiskGate(self._risk_config, EngineRiskContext(self), on_state_change=self._on_risk_state)

    def _on_risk_state(self, state: TradingState, reason: str, cancel_all: bool) -> None:
        self.log("ERROR", f"trading state -> {state.value}: {reason}")
        if cancel_all:
            for o in list(self.open_orders.values()):
                self.cancel_order(o.id, "risk: cancel all on halt")

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
            self.begin_trading(start_ns, end_ns)
        # a backtest allocates containers by the million (a chunk's event list, its slices' tuples): with the
        # default threshold the young generation is collected every 700 of them, and each collection walks the
        # fresh chunk again (a sixth of a tick backtest's time). Nothing on this path makes cycles in bulk,
        # so the young generation is collected less often while the loop runs, and put back after.
        thresholds = gc.get_threshold()
        gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
        try:
            feed = self.security_manager.feed(warm_start, end_ns, self.columnar_bars)
            self.security_manager.start_feed(feed)  # securities added mid-run join it
            self.loop.run(feed.batches(), start_ns, end_ns, progress)
        finally:
            gc.set_threshold(*thresholds)
        self.finish()

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

    def begin_trading(self, start_ns: int, end_ns: int) -> None:
        """Trading starts (after warm-up): seed conversion rates from history, take the starting equity and arm
        the statistics sampling."""
        self.rates.seed()
        self.sampler.begin(start_ns, end_ns)

    def on_live_slice(self, t: int, events: tuple) -> None:
        """The daemon's entry: one slice through exactly the steps a backtest runs (the loop's one-tick step when
        it can take it, else its general run)."""
        if not self.loop.live_step(t, events):
            self.loop.run((([t], [events]),), self._live_start, self._live_end, None)

    def on_live_slices(self, times: list[int], slices: Iterator[tuple]) -> None:
        """Many live slices in one pass (a replay's run of market data): the same steps as one
        ``on_live_slice`` call per slice, without setting up the loop for each (``EventLoop.live_run``).
        ``slices`` is read one slice at a time, just before that slice runs, so what its producer does between
        two slices happens where it would between two calls; once the strategy quits it is read no further."""
        self.loop.live_run(times, slices, self._live_start, self._live_end)

    def start_live(self, restore: Callable[[Engine], None] | None = None) -> None:
        """Initialize for the daemon: no end date, sampling and timers in wall time. ``restore`` puts back
        the account (cash, fills) from the journal after the strategy's own setup and before trading."""
        self.initialize()
        if restore is not None:
            restore(self)
        now = self.clock.now_ns()
        self._live_start, self._live_end = now, now + 3650 * DAY_NS
        self.clock.set_time(now)
        self.begin_trading(now, self._live_end)

    def finish(self) -> None:
        """The run's end: the strategy's on_end_of_algorithm, then the last daily sample."""
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
