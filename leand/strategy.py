"""The strategy API users write against: LEAN-familiar, snake_case, plain synchronous handlers.

A strategy never does I/O and never awaits: the same object runs in a backtest (the engine calls its handlers
on the virtual clock) and in the daemon (a task drains an inbox into the same handlers).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from leand.clock import ns_to_datetime
from leand.indicators import REGISTRY
from leand.model import (
    AccountType,
    DataNormalizationMode,
    Order,
    OrderEvent,
    OrderType,
    Resolution,
    Symbol,
    TimeInForce,
)
from leand.tickets import OrderTicket

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.orders.contingent import BracketTicket
    from leand.security import Security
    from leand.slice import Slice

#: the daemon's market order names its type as a module constant (``Enum.MEMBER`` goes through EnumType's
#: __getattr__ slot, an unspecialized attribute load on every order)
_MARKET = OrderType.MARKET


class Strategy:
    """Subclass this and override ``initialize`` and ``on_data`` (and any other ``on_*`` handler)."""

    #: parameters a user may override from the command line (``--param name=value``)
    parameters: dict[str, Any] = {}

    _engine: Engine

    def attach(self, engine: Engine) -> None:
        """The engine this strategy runs in (the engine calls this once, when it is made)."""
        self._engine = engine

    # ---- handlers (override) -----------------------------------------------------------------------
    def initialize(self) -> None:
        pass

    def on_data(self, data: Slice) -> None:
        pass

    def on_order_event(self, event: OrderEvent) -> None:
        pass

    def on_warmup_finished(self) -> None:
        pass

    def on_end_of_day(self, symbol: Symbol) -> None:
        pass

    def on_end_of_algorithm(self) -> None:
        pass

    def on_securities_changed(self, changes: Any) -> None:
        pass

    def on_splits(self, splits: Any) -> None:
        pass

    def on_dividends(self, dividends: Any) -> None:
        pass

    def on_delistings(self, delistings: Any) -> None:
        pass

    def on_symbol_changed_events(self, symbol_changed_events: Any) -> None:
        pass

    # ---- the algorithm framework (leand.framework) -----------------------------------------------------
    def _framework(self):
        fw = self.__dict__.get("_fw")
        if fw is None:
            from leand.framework.runner import FrameworkRunner

            fw = self.__dict__["_fw"] = FrameworkRunner(self)
        return fw

    @property
    def universe_settings(self):
        us = self.__dict__.get("_universe_settings")
        if us is None:
            from leand.framework.runner import UniverseSettings

            us = self.__dict__["_universe_settings"] = UniverseSettings()
        return us

    @property
    def settings(self):
        st = self.__dict__.get("_settings")
        if st is None:
            from leand.framework.runner import Settings

            st = self.__dict__["_settings"] = Settings(self)
        return st

    @property
    def insights(self):
        return self._framework().insights

    def set_universe_selection(self, model: Any) -> None:
        self._framework().add_universe_selection(model)

    add_universe_selection = set_universe_selection

    def add_universe(self, *args: Any) -> Any:
        """LEAN's user-defined universe: ``add_universe(name, selector)`` (US equities at the universe
        settings' resolution) or ``add_universe(security_type, name, resolution, market, universe_settings,
        selector)``; ``selector(time)`` answers tickers or Symbols. Other universes (coarse/fine fundamental,
        ETF constituents) read data leand does not have."""
        from leand.framework.universe import UserDefinedUniverse
        from leand.model import SecurityType

        def _security_type(x: Any) -> SecurityType:
            return SecurityType(x)

        if len(args) == 2 and isinstance(args[0], str) and callable(args[1]):
            return UserDefinedUniverse(self._engine, self, args[0], args[1])
        if len(args) == 6 and callable(args[5]):
            st, name, res, market, settings, selector = args
            return UserDefinedUniverse(self._engine, self, name, selector, security_type=_security_type(st),
                                       market=market, resolution=res, settings=settings)
        raise TypeError("add_universe: leand supports add_universe(name, selector) and add_universe(security_type, "
                        "name, resolution, market, universe_settings, selector); coarse/fine fundamental and ETF "
                        "universes need data leand does not have")

    def set_alpha(self, model: Any) -> None:
        self._framework().set_alpha(model)

    def add_alpha(self, model: Any) -> None:
        self._framework().add_alpha(model)

    def set_portfolio_construction(self, model: Any) -> None:
        self._framework().set_portfolio_construction(model)

    def set_execution(self, model: Any) -> None:
        self._framework().set_execution(model)

    def set_risk_management(self, model: Any) -> None:
        self._framework().set_risk_management(model)

    add_risk_management = set_risk_management

    def emit_insights(self, *insights: Any) -> list[Any]:
        """Record insights the strategy made itself (LEAN's EmitInsights)."""
        flat = [i for x in insights for i in (x if isinstance(x, (list, tuple)) else [x])]
        return self._framework().stamp(flat)

    # ---- setup ----------------------------------------------------------------------------------------
    def set_start_date(self, year: int | date | datetime, month: int = 1, day: int = 1) -> None:
        self._engine.set_start(_as_date(year, month, day))

    def set_end_date(self, year: int | date | datetime, month: int = 1, day: int = 1) -> None:
        self._engine.set_end(_as_date(year, month, day))

    def set_cash(self, amount_or_currency: float | str, amount: float | None = None,
                 conversion_rate: float | None = None) -> None:
        if isinstance(amount_or_currency, str):
            self._engine.set_cash(amount_or_currency, float(amount or 0.0), conversion_rate)
        else:
            self._engine.set_cash(self._engine.portfolio.account_currency, float(amount_or_currency))

    def set_account_currency(self, currency: str) -> None:
        self._engine.set_account_currency(currency)

    def set_time_zone(self, tz: str) -> None:
        self._engine.set_time_zone(tz)

    def set_brokerage_model(self, name: Any, account_type: AccountType | str = AccountType.MARGIN) -> None:
        """A brokerage by name (``BrokerageName.BINANCE``) or a brokerage model object (LEAN's
        ``DefaultBrokerageModel`` subclass with ``can_submit_order``/``can_update_order``)."""
        self._engine.set_brokerage_model(name, AccountType(account_type))

    @property
    def brokerage_model(self) -> Any:
        from leand.brokerage_models import DefaultBrokerageModel

        return self._engine.brokerage_model or DefaultBrokerageModel(self._engine.account_type)

    def add_book_data(self, ticker: str, path: str | None = None, security_type: str = "crypto",
                      market: str | None = None):
        """A security whose data is a recorded order book (leand's ``.l2d`` format, see ``leand.simulator.l2file``;
        without ``path``, the L2 deltas imported into the data catalogue): its orders rest in the replayed book,
        ``data.book_updates`` carries the changes, and the security's bid/ask follow the book's touch."""
        from leand.model import SecurityType

        st = SecurityType(security_type)
        mk = market or {"crypto": "coinbase", "equity": "usa", "forex": "oanda"}[st.value]
        return self._engine.add_book_data(Symbol(ticker.upper(), st, mk), path)

    def use_order_book(self, symbol: Symbol | str, *, queue: Any = "conservative", latency: Any = None,
                       maker_fee: float | None = None, taker_fee: float | None = None,
                       min_notional: float = 0.0) -> None:
        """Match this tick-data symbol's orders in the simulated exchange's replayed order book: queue model
        ``conservative``, ``prob_power[N]`` or ``prob_log``; ``latency`` a ``leand.simulator.models.Latency`` or
        ``RandomLatency``; maker/taker fee rates (default: the security's fee model)."""
        self._engine.use_order_book(symbol, queue=queue, latency=latency, maker_fee=maker_fee, taker_fee=taker_fee,
                                    min_notional=min_notional)

    def set_benchmark(self, benchmark: str | Symbol | float | None) -> None:
        self._engine.set_benchmark(benchmark)

    def set_warm_up(self, period: int | timedelta, resolution: Resolution | None = None) -> None:
        self._engine.set_warm_up(period, resolution)

    set_warmup = set_warm_up

    def set_parameter_defaults(self, defaults: dict[str, Any] | None = None, **more: Any) -> None:
        """Values ``get_parameter`` returns for names the run was not given (this strategy only)."""
        for k, v in {**(defaults or {}), **more}.items():
            self._engine.parameters.setdefault(k, v)

    def get_parameter(self, name: str, default: Any = None) -> Any:
        return self._engine.parameters.get(name, default)

    def set_risk_limits(self, config: Any) -> None:
        self._engine.set_risk_config(config)

    def set_summary_statistic(self, name: str, value: Any) -> None:
        self._engine.custom_statistics[name] = str(value)

    # ---- securities ---------------------------------------------------------------------------------
    def add_equity(self, ticker: str, resolution: Resolution = Resolution.MINUTE, market: str = "usa",
                   fill_forward: bool = True, leverage: float | None = None, extended_market_hours: bool = False,
                   data_normalization_mode: DataNormalizationMode = DataNormalizationMode.ADJUSTED) -> Security:
        return self._engine.add_security(Symbol.equity(ticker, market), resolution, fill_forward=fill_forward,
                                         leverage=leverage, extended_hours=extended_market_hours,
                                         normalization=data_normalization_mode)

    def add_crypto(self, ticker: str, resolution: Resolution = Resolution.MINUTE, market: str | None = None,
                   fill_forward: bool = True, leverage: float | None = None) -> Security:
        """A crypto pair; the market defaults to the brokerage model's (LEAN: Coinbase unless set)."""
        return self._engine.add_security(Symbol.crypto(ticker, market or self._engine.default_crypto_market()),
                                         resolution, fill_forward=fill_forward, leverage=leverage)

    def add_forex(self, ticker: str, resolution: Resolution = Resolution.MINUTE, market: str = "oanda",
                  fill_forward: bool = True, leverage: float | None = None) -> Security:
        return self._engine.add_security(Symbol.forex(ticker, market), resolution, fill_forward=fill_forward,
                                         leverage=leverage)

    def add_security(self, symbol_or_type: Any, ticker: str | None = None, resolution: Resolution = Resolution.MINUTE,
                     market: str | None = None, fill_forward: bool = True, leverage: float | None = None,
                     extended_market_hours: bool = False, **kw: Any) -> Security:
        """LEAN's ``add_security(symbol, resolution)`` or ``add_security(SecurityType.X, ticker, resolution)``."""
        from leand.model import SecurityType

        if isinstance(symbol_or_type, Symbol):
            sym = symbol_or_type
            if isinstance(ticker, Resolution):
                resolution = ticker
        else:
            st = SecurityType(symbol_or_type)
            mk = market or {"equity": "usa", "crypto": self._engine.default_crypto_market(),
                            "forex": "oanda"}[st.value]
            sym = Symbol.create(str(ticker), st, mk)
        if sym.security_type is SecurityType.EQUITY:
            return self._engine.add_security(sym, resolution, fill_forward=fill_forward, leverage=leverage,
                                             extended_hours=extended_market_hours)
        return self._engine.add_security(sym, resolution, fill_forward=fill_forward, leverage=leverage)

    def add_data(self, path: str, ticker: str, resolution: Resolution = Resolution.DAILY) -> Security:
        """A security whose bars come from a plain OHLCV CSV file."""
        return self._engine.add_csv_security(path, ticker, resolution)

    @property
    def securities(self) -> dict[Symbol, Security]:
        return self._engine.securities

    @property
    def portfolio(self):
        return self._engine.portfolio

    @property
    def transactions(self):
        t = self.__dict__.get("_transactions")
        if t is None:
            from leand.transactions import Transactions

            t = self.__dict__["_transactions"] = Transactions(self._engine)
        return t

    @property
    def schedule(self):
        return self._engine.schedule

    @property
    def date_rules(self):
        return self._engine.date_rules

    @property
    def time_rules(self):
        return self._engine.time_rules

    # ---- time ---------------------------------------------------------------------------------------------
    @property
    def time(self) -> datetime:
        """Algorithm time (naive, in the algorithm time zone — as LEAN's ``self.time``)."""
        return ns_to_datetime(self._engine.clock.now_ns(), self._engine.time_zone).replace(tzinfo=None)

    @property
    def utc_time(self) -> datetime:
        return ns_to_datetime(self._engine.clock.now_ns())

    @property
    def time_ns(self) -> int:
        """The clock's time in integer nanoseconds since the epoch (UTC): exact, for latency arithmetic."""
        return self._engine.clock.now_ns()

    @property
    def now_ns(self) -> int:
        return self._engine.clock.now_ns()

    @property
    def start_date(self) -> datetime:
        """Midnight of the first day (a datetime, as LEAN's ``StartDate``)."""
        return datetime.combine(self._engine.start_date, datetime.min.time())

    @property
    def end_date(self) -> datetime:
        """Midnight of the last day (a datetime, as LEAN's ``EndDate``)."""
        return datetime.combine(self._engine.end_date, datetime.min.time())

    @property
    def is_warming_up(self) -> bool:
        return self._engine.warming_up

    @property
    def live_mode(self) -> bool:
        return self._engine.live_mode

    # ---- orders -------------------------------------------------------------------------------------------
    def market_order(self, symbol: Symbol | str, quantity: float, asynchronous: bool | str = False, tag: str = "",
                     order_properties: Any = None) -> OrderTicket:
        """A market order. ``asynchronous=True`` returns at once; the order fills with the next data (LEAN)."""
        if asynchronous is not False and isinstance(asynchronous, str):  # leand's earlier (symbol, quantity, tag) order
            tag = asynchronous
            asynchronous = False
        if order_properties is None:  # straight to the order manager: this is a backtest's per-order path
            if not asynchronous:
                om = self._engine.order_manager
                if om.fused_live:  # the daemon's (leand.orders.live_submit)
                    return om.submit_live(symbol, quantity, _MARKET, None, tag)
                return om.submit_market(symbol, quantity, tag)
            return self._engine.order_manager.submit(symbol, quantity, OrderType.MARKET, tag=tag, asynchronous=True)
        return self._engine.submit(symbol, quantity, OrderType.MARKET, tag=tag, asynchronous=bool(asynchronous),
                                   **_props(order_properties))

    def order(self, symbol: Symbol | str, quantity: float, asynchronous: bool = False, tag: str = "",
              order_properties: Any = None) -> OrderTicket:
        """LEAN's ``Order``: a market order."""
        return self.market_order(symbol, quantity, asynchronous, tag, order_properties)

    def buy(self, symbol: Symbol | str, quantity: float) -> OrderTicket:
        return self.market_order(symbol, abs(quantity))

    def sell(self, symbol: Symbol | str, quantity: float) -> OrderTicket:
        return self.market_order(symbol, -abs(quantity))

    def limit_order(self, symbol: Symbol | str, quantity: float, limit_price: float, tag: str = "",
                    time_in_force: TimeInForce | None = None, expire: date | None = None,
                    post_only: bool = False, asynchronous: bool = False, order_properties: Any = None
                    ) -> OrderTicket:
        if order_properties is None and time_in_force is None and expire is None and not post_only and \
                not asynchronous:
            om = self._engine.order_manager
            if om.fused_live:  # the daemon's (leand.orders.live_submit)
                return om.submit_live(symbol, quantity, OrderType.LIMIT, limit_price, tag)
        return self._engine.submit(symbol, quantity, OrderType.LIMIT, limit_price=limit_price, tag=tag,
                                   time_in_force=time_in_force, expire=expire, post_only=post_only,
                                   asynchronous=asynchronous, **_props(order_properties))

    def bracket_order(self, symbol: Symbol | str, quantity: float, take_profit: float, stop_loss: float,
                      entry_limit: float | None = None, tag: str = "") -> BracketTicket:
        """An entry (market, or limit at ``entry_limit``) with a take-profit limit and a stop-loss stop armed
        when it fills; the exits cancel each other. Returns a ticket with ``.entry``, ``.take_profit`` and
        ``.stop_loss`` (the exits are None until the entry has filled)."""
        return self._engine.order_manager.bracket(symbol, quantity, take_profit, stop_loss, entry_limit, tag)

    def one_cancels_other(self, ticket_a: OrderTicket, ticket_b: OrderTicket) -> bool:
        """Link two open orders so that the first fill of either cancels the other."""
        return self._engine.order_manager.one_cancels_other(ticket_a, ticket_b)

    def stop_market_order(self, symbol: Symbol | str, quantity: float, stop_price: float, tag: str = "",
                          time_in_force: TimeInForce | None = None, expire: date | None = None,
                          asynchronous: bool = False, order_properties: Any = None) -> OrderTicket:
        return self._engine.submit(symbol, quantity, OrderType.STOP_MARKET, stop_price=stop_price, tag=tag,
                                   time_in_force=time_in_force, expire=expire, asynchronous=asynchronous,
                                   **_props(order_properties))

    def stop_limit_order(self, symbol: Symbol | str, quantity: float, stop_price: float, limit_price: float,
                         tag: str = "", time_in_force: TimeInForce | None = None, expire: date | None = None,
                         asynchronous: bool = False, order_properties: Any = None) -> OrderTicket:
        return self._engine.submit(symbol, quantity, OrderType.STOP_LIMIT, stop_price=stop_price,
                                   limit_price=limit_price, tag=tag, time_in_force=time_in_force, expire=expire,
                                   asynchronous=asynchronous, **_props(order_properties))

    def trailing_stop_order(self, symbol: Symbol | str, quantity: float, *args: Any, trailing_amount: float | None = None,
                            trailing_as_percentage: bool = False, stop_price: float | None = None,
                            asynchronous: bool = False, tag: str = "", order_properties: Any = None) -> OrderTicket:
        """LEAN's two overloads: ``(symbol, quantity, trailing_amount, trailing_as_percentage, ...)`` and
        ``(symbol, quantity, stop_price, trailing_amount, trailing_as_percentage, ...)``."""
        a = list(args)
        if len(a) >= 3 and isinstance(a[2], bool) and not isinstance(a[1], bool):
            stop_price, trailing_amount, trailing_as_percentage, *a = a
        else:
            if a:
                trailing_amount = a.pop(0)
            if a:
                trailing_as_percentage = a.pop(0)
        if a:
            asynchronous = a.pop(0)
        if a:
            tag = a.pop(0)
        return self._engine.submit(symbol, quantity, OrderType.TRAILING_STOP, stop_price=stop_price,
                                   trailing_amount=trailing_amount, trailing_as_percentage=trailing_as_percentage,
                                   tag=tag, asynchronous=asynchronous, **_props(order_properties))

    def limit_if_touched_order(self, symbol: Symbol | str, quantity: float, trigger_price: float, limit_price: float,
                               tag: str = "", asynchronous: bool = False, order_properties: Any = None
                               ) -> OrderTicket:
        """A limit order placed once the price touches ``trigger_price`` (LEAN's LimitIfTouchedOrder)."""
        return self._engine.submit(symbol, quantity, OrderType.LIMIT_IF_TOUCHED, limit_price=limit_price,
                                   trigger_price=trigger_price, tag=tag, asynchronous=asynchronous,
                                   **_props(order_properties))

    def market_on_open_order(self, symbol: Symbol | str, quantity: float, tag: str = "", asynchronous: bool = False,
                             order_properties: Any = None) -> OrderTicket:
        return self._engine.submit(symbol, quantity, OrderType.MARKET_ON_OPEN, tag=tag, asynchronous=asynchronous,
                                   **_props(order_properties))

    def market_on_close_order(self, symbol: Symbol | str, quantity: float, tag: str = "", asynchronous: bool = False,
                              order_properties: Any = None) -> OrderTicket:
        return self._engine.submit(symbol, quantity, OrderType.MARKET_ON_CLOSE, tag=tag, asynchronous=asynchronous,
                                   **_props(order_properties))

    def set_holdings(self, symbol: Any, percentage: float = 0.0, liquidate_existing_holdings: bool = False,
                     tag: str = "", asynchronous: bool = False, order_properties: Any = None) -> list[OrderTicket]:
        """``set_holdings(symbol, weight)``, or a list of ``PortfolioTarget`` / ``(symbol, weight)`` pairs."""
        if isinstance(symbol, (str, Symbol)) or (hasattr(symbol, "symbol") and not isinstance(symbol, (list, tuple))):
            targets = [(symbol, float(percentage))]
        else:
            targets = [(t.symbol, float(t.quantity)) if hasattr(t, "quantity") else (t[0], float(t[1]))
                       for t in symbol]
        return self._engine.set_holdings(targets, liquidate_existing_holdings, tag, asynchronous)

    def calculate_order_quantity(self, symbol: Symbol | str, target: float) -> float:
        return self._engine.calculate_order_quantity(symbol, target)

    def liquidate(self, symbol: Symbol | str | None = None, asynchronous: bool = False, tag: str = "Liquidated",
                  order_properties: Any = None) -> list[OrderTicket]:
        if isinstance(asynchronous, str):  # leand's earlier (symbol, tag) order
            asynchronous, tag = False, asynchronous
        return self._engine.liquidate(symbol, tag, asynchronous, **_props(order_properties))

    def quit(self, message: str = "") -> None:
        """Stop the algorithm after the current event (LEAN's ``Quit``)."""
        if message:
            self.debug(message)
        self._engine.quit_requested = True
        self._engine.clock.epoch += 1  # the columnar bar loop notices at the end of the row

    def cancel_order(self, order_id: int, tag: str = "") -> bool:
        return self._engine.cancel_order(order_id, tag)

    def get_open_orders(self, symbol: Symbol | str | None = None) -> list[Order]:
        return self._engine.get_open_orders(symbol)

    def cancel_open_orders(self, symbol: Symbol | str | None = None, tag: str = "") -> list[OrderTicket]:
        return self._engine.cancel_open_orders(symbol, tag)

    # ---- data -----------------------------------------------------------------------------------------------
    @property
    def history(self) -> _History:
        """``self.history(symbol, periods, resolution)``: the last bars before now, oldest first; also
        ``self.history[TradeBar](...)`` as in LEAN."""
        return _History(self._engine)

    # ---- consolidators ------------------------------------------------------------------------------------
    @property
    def subscription_manager(self) -> _SubscriptionManager:
        return _SubscriptionManager(self._engine)

    def consolidate(self, symbol: Any, period: Any, *args: Any, start_time: timedelta | None = None) -> Any:
        """Bars of ``period`` (timedelta, Resolution, bar count or ``Calendar`` function) from ``symbol``'s
        data, passed to ``handler(bar)``: ``consolidate(symbol, period, handler)`` or
        ``consolidate(symbol, period, tick_type, handler)``. Returns the consolidator."""
        from leand.model import QuoteBar as _QB
        from leand.model import TickType
        from leand.registration import consolidate

        handler = args[-1] if args else None
        data_type = _QB if len(args) == 2 and args[0] in (TickType.QUOTE, "quote") else None
        return consolidate(self._engine, symbol, period, handler, start_time, data_type)

    def register_indicator(self, symbol: Any, indicator: Any, resolution: Any = None, selector: Any = None) -> Any:
        """Keep any indicator object (leand's, LEAN-named, a PythonIndicator or duck-typed) updated from
        ``symbol``: at the security's resolution, a coarser ``Resolution``/timedelta, or a consolidator."""
        from leand.registration import register

        return register(self._engine, symbol, indicator, resolution, selector)

    def trin(self, symbols: Any, resolution: Resolution | None = None) -> Any:
        """LEAN's Arms index over ``symbols``, updated from each one's bars (at ``resolution``)."""
        from leand.indicators.breadth import ArmsIndex
        from leand.registration import register

        syms = [self._engine.resolve(s) for s in symbols]
        ind = ArmsIndex(syms)
        for s in syms:
            register(self._engine, s, ind, resolution)
        return ind

    arms = trin

    def resolve_consolidator(self, symbol: Any, resolution: Any = None) -> Any:
        """A consolidator from ``symbol``'s data to ``resolution`` (every bar as it is at its own resolution),
        not yet attached (LEAN's ResolveConsolidator)."""
        from leand.consolidators import consolidator_for
        from leand.registration import data_type_of

        sym = self._engine.resolve(symbol)
        sec = self._engine.securities[sym]
        if resolution is None or (isinstance(resolution, Resolution) and resolution <= sec.resolution):
            resolution = 1
        c = consolidator_for(resolution, data_type_of(self._engine, sym))
        hours = sec.exchange_hours
        if hours is not None:
            c.time_zone = hours.time_zone
        return c

    def unregister_indicator(self, indicator: Any) -> bool:
        from leand.registration import unregister

        return unregister(self._engine, indicator)

    def warm_up_indicator(self, symbol: Any, indicator: Any, resolution: Any = None, selector: Any = None) -> Any:
        """Feed ``indicator`` its ``warm_up_period`` bars of history now (LEAN's WarmUpIndicator)."""
        from leand.registration import warm_up

        return warm_up(self._engine, symbol, indicator, resolution, selector)

    # ---- indicators ----------------------------------------------------------------------------------------
    def indicator(self, name: str, symbol: Symbol | str, *args: Any, resolution: Resolution | None = None,
                  selector: Any = None, warm_up: bool = False, **kwargs: Any):
        """Create indicator ``name`` from the registry, auto-updated from ``symbol``'s data.

        ``selector`` picks the input from each bar ("close", "hl2", "hlc3", "ohlc4", "volume"... or a
        callable); ``warm_up=True`` feeds it its warm-up period from history before returning it."""
        return self._engine.register_indicator(name, symbol, args, kwargs, resolution, selector, warm_up)

    def sma(self, symbol, period: int, resolution: Resolution | None = None, selector: Any = None, warm_up: bool = False):
        return self.indicator("sma", symbol, period, resolution=resolution, selector=selector, warm_up=warm_up)

    def ema(self, symbol, period: int, resolution: Resolution | None = None, selector: Any = None, warm_up: bool = False):
        return self.indicator("ema", symbol, period, resolution=resolution, selector=selector, warm_up=warm_up)

    def rsi(self, symbol, period: int, moving_average_type: Any = None, resolution: Resolution | None = None,
            selector: Any = None, warm_up: bool = False):
        kw = {} if moving_average_type is None else {"moving_average_type": moving_average_type}
        return self.indicator("rsi", symbol, period, resolution=resolution, selector=selector, warm_up=warm_up, **kw)

    def macd(self, symbol, fast: int, slow: int, signal: int, moving_average_type: Any = None,
             resolution: Resolution | None = None, selector: Any = None, warm_up: bool = False):
        kw = {} if moving_average_type is None else {"moving_average_type": moving_average_type}
        return self.indicator("macd", symbol, fast, slow, signal, resolution=resolution, selector=selector, warm_up=warm_up, **kw)

    def bb(self, symbol, period: int, k: float, moving_average_type: Any = None,
           resolution: Resolution | None = None, selector: Any = None, warm_up: bool = False):
        kw = {} if moving_average_type is None else {"moving_average_type": moving_average_type}
        return self.indicator("bb", symbol, period, k, resolution=resolution, selector=selector, warm_up=warm_up, **kw)

    def atr(self, symbol, period: int, moving_average_type: Any = None, resolution: Resolution | None = None, warm_up: bool = False):
        kw = {} if moving_average_type is None else {"moving_average_type": moving_average_type}
        return self.indicator("atr", symbol, period, resolution=resolution, warm_up=warm_up, **kw)

    if TYPE_CHECKING:  # the registry's helpers (set on the class below) as the type checker sees them
        def __getattr__(self, name: str) -> Any: ...

    # ---- charts -------------------------------------------------------------------------------------------
    def plot(self, chart: str, series: Any, *values: Any) -> None:
        """``plot(chart, series, value)`` or ``plot(chart, indicator, ...)``: points drawn in the HTML report."""
        if isinstance(series, str):
            if len(values) != 1:
                raise TypeError("plot(chart, series, value) takes one value")
            self._sample(chart, series, values[0])
            return
        self.plot_indicator(chart, series, *values)

    def plot_indicator(self, chart: str, *indicators: Any) -> None:
        """One point per indicator at its current value, named by the indicator (LEAN's PlotIndicator)."""
        for ind in indicators:
            if getattr(ind, "is_ready", True):
                self._sample(chart, getattr(ind, "name", type(ind).__name__), ind)

    def _sample(self, chart: str, series: str, value: Any) -> None:
        v = getattr(value, "value", value)
        self._engine.charts.setdefault(chart, {}).setdefault(series, []).append((self._engine.clock.now_ns(),
                                                                                 float(v)))

    # ---- logging --------------------------------------------------------------------------------------------
    def debug(self, message: Any) -> None:
        self._engine.log("DEBUG", message)

    def log(self, message: Any) -> None:
        self._engine.log("LOG", message)

    def error(self, message: Any) -> None:
        self._engine.log("ERROR", message)


class _History:
    """``self.history``: callable, and subscriptable by data type as LEAN's ``self.history[TradeBar]``."""

    __slots__ = ("_engine", "_type")

    def __init__(self, engine: Engine, data_type: Any = None) -> None:
        self._engine, self._type = engine, data_type

    def __getitem__(self, data_type: Any) -> _History:
        return _History(self._engine, data_type)

    def __call__(self, symbol: Any, periods: int | timedelta, resolution: Resolution | None = None) -> list:
        from leand.model import QuoteBar as _QB
        from leand.model import TickType

        e = self._engine
        if isinstance(symbol, (list, tuple)):
            return self._many(list(symbol), periods, resolution)
        sym = e.resolve(symbol)
        if isinstance(periods, timedelta):
            res = resolution or e.securities[sym].resolution
            step = max(res.value, Resolution.MINUTE.value)
            periods = max(1, int(periods.total_seconds() * 1e9 // step))
        kind = TickType.QUOTE if self._type is _QB else None
        return e.history(sym, int(periods), resolution, tick_type=kind)

    def _many(self, symbols: list, periods: int | timedelta, resolution: Resolution | None) -> list[dict]:
        """History of several symbols as LEAN iterates it: one {symbol: bar} per time, oldest first."""
        by_time: dict[int, dict] = {}
        for s in symbols:
            for bar in self(s, periods, resolution):
                by_time.setdefault(bar.end_time, {})[bar.symbol] = bar
        return [by_time[t] for t in sorted(by_time)]


class _SubscriptionManager:
    """``self.subscription_manager``: consolidators on a symbol's data."""

    __slots__ = ("_engine",)

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_consolidator(self, symbol: Any, consolidator: Any, tick_type: Any = None) -> None:
        from leand.registration import add_consolidator

        add_consolidator(self._engine, symbol, consolidator)

    def remove_consolidator(self, symbol: Any, consolidator: Any) -> None:
        self._engine.consolidation.remove(self._engine.resolve(symbol), consolidator)


def _registry_helper(name: str) -> Any:
    def helper(self: Strategy, symbol: Any, *args: Any, resolution: Resolution | None = None, selector: Any = None,
               warm_up: bool = False, **kwargs: Any) -> Any:
        return self.indicator(name, symbol, *args, resolution=resolution, selector=selector, warm_up=warm_up,
                              **kwargs)

    helper.__name__ = helper.__qualname__ = name
    helper.__doc__ = f"The registry's ``{name}`` indicator, auto-updated from ``symbol``'s data (see ``indicator``)."
    return helper


# Every other registry indicator as a helper: self.kama(symbol, 10), self.adx(symbol, 14), ... These are methods
# on the class, not a ``__getattr__`` fallback: a class with ``__getattr__`` gets no specialized attribute loads
# from CPython, so every ``self.x`` in a handler (run on every bar) would cost about 30 ns more.
for _name in REGISTRY:
    if not hasattr(Strategy, _name):
        setattr(Strategy, _name, _registry_helper(_name))


def _props(order_properties: Any) -> dict[str, Any]:
    """LEAN's ``OrderProperties``: the time in force is the field leand honours."""
    tif = getattr(order_properties, "time_in_force", None)
    return {} if tif is None else {"time_in_force": tif}


def _as_date(year: int | date | datetime, month: int, day: int) -> date:
    if isinstance(year, datetime):
        return year.date()
    if isinstance(year, date):
        return year
    return date(year, month, day)
