"""Securities and subscriptions: what a strategy trades and which data streams feed it.

``add_security`` makes a :class:`~leand.security.Security` from the market-hours and symbol-properties databases,
with LEAN's default models for its type, and the data subscriptions the feed reads; ``resolve`` turns a ticker
into a subscribed Symbol; ``history`` and ``feed`` read the data source (a LEAN folder, or a data catalogue in
front of it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leand.data.feed import DataFeed, Subscription
from leand.data.market_hours import MarketHoursDatabase
from leand.data.symbol_properties import SymbolPropertiesDatabase
from leand.engine.errors import EngineError
from leand.fees import crypto_fee_model
from leand.model import (
    AccountType,
    DataNormalizationMode,
    Instrument,
    QuoteBar,
    Resolution,
    SecurityType,
    Symbol,
    TickType,
    TradeBar,
)
from leand.orders.fees import ConstantFeeModel, InteractiveBrokersFeeModel
from leand.orders.fills import EquityFillModel, FillModel
from leand.security import Security

if TYPE_CHECKING:
    from leand.engine import Engine

DAY_NS = 86_400_000_000_000


class SecurityManager:
    """The engine's securities-and-subscriptions collaborator. ``securities`` is the portfolio's dict (one
    Security per symbol for the run); ``subscriptions``, ``internal_symbols`` and ``extra_streams`` are what the
    data feed is built from. Reads the engine's brokerage name and account type for a new security's models."""

    def __init__(self, engine: Engine, data_root: Path, catalog_root: Path | None, data_source: Any = None) -> None:
        self.engine = engine
        self.data_root = data_root
        self.catalog_root = catalog_root
        self.securities: dict[Symbol, Security] = engine.portfolio.securities
        self.subscriptions: list[Subscription] = []
        #: securities the engine added for itself (conversion-rate feeds): their data never reaches on_data
        self.internal_symbols: set[Symbol] = set()
        #: more data streams for the feed: callables (start_ns, end_ns) -> iterator of (times, events) chunks
        self.extra_streams: list[Callable[[int, int], Any]] = []
        self._source_obj: Any = data_source  # a reader shared across runs (an optimizer's worker keeps one)
        #: the feed of the running backtest, once made: subscriptions added later join it mid-run
        self.running_feed: DataFeed | None = None
        #: securities added or removed since the running feed last took them in: the loop compares this count
        self.changes = 0
        self._added: list[Subscription] = []
        self._removed: set[Symbol] = set()
        #: called with each security added (a universe's or the strategy's, during the run too)
        self.added_hooks: list[Callable[[Security], None]] = []
        #: the subscriptions of securities removed from a universe, put back if one is added again
        self._unsubscribed: dict[Symbol, list[Subscription]] = {}
        self._csv_sources: dict[Symbol, Path] = {}
        self._mhdb = MarketHoursDatabase.load(data_root / "market-hours" / "market-hours-database.json")
        self._spdb = SymbolPropertiesDatabase.load(data_root / "symbol-properties" / "symbol-properties-database.csv")

    def hours_of(self, symbol: Symbol | str) -> Any:
        """The exchange hours of ``symbol``: its security's, or the market-hours database's entry."""
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
        if symbol in self.securities:
            sec = self.securities[symbol]
            subs = self._unsubscribed.pop(symbol, None)
            if subs is not None:  # removed from a universe earlier: subscribed again
                sec.is_tradable = True
                self._subscribe(symbol, sec.exchange_hours, subs)
                for hook in self.added_hooks:
                    hook(sec)
            return sec
        e = self.engine
        hours = self._mhdb.get(symbol.security_type, symbol.market, symbol.value)
        instrument: Instrument = self._spdb.get(symbol)
        st = symbol.security_type
        if st is not SecurityType.EQUITY:
            normalization = DataNormalizationMode.RAW
        if leverage is None:
            leverage = {SecurityType.EQUITY: 2.0, SecurityType.CRYPTO: 1.0, SecurityType.FOREX: 50.0}[st]
            if e.account_type is AccountType.CASH:
                leverage = 1.0
        sec = Security(instrument, hours, resolution, leverage=leverage, normalization=normalization,
                       fill_forward=fill_forward, extended_hours=extended_hours)
        if st is SecurityType.EQUITY:
            sec.fill_model = EquityFillModel()
            sec.fee_model = InteractiveBrokersFeeModel()
            kinds = [TickType.TRADE] if resolution >= Resolution.HOUR else [TickType.TRADE, TickType.QUOTE]
        elif st is SecurityType.CRYPTO:
            sec.fill_model = FillModel()
            sec.fee_model = crypto_fee_model(e.brokerage_name, instrument.quote_currency)
            kinds = [TickType.TRADE, TickType.QUOTE]
        else:
            sec.fill_model = FillModel()
            sec.fee_model = ConstantFeeModel(0.0, instrument.quote_currency)
            kinds = [TickType.QUOTE]
        sec.subscribes_trades = TickType.TRADE in kinds
        sec.subscribes_quotes = TickType.QUOTE in kinds
        self.securities[symbol] = sec
        cash_book = e.portfolio.cash_book
        cash_book.ensure(instrument.quote_currency)
        if instrument.base_currency and st is not SecurityType.EQUITY:
            cash_book.ensure(instrument.base_currency)
        csv_path = self._csv_sources.get(symbol)
        if csv_path is not None:
            kinds = [TickType.TRADE]
            sec.subscribes_quotes = False
        subs = [Subscription(symbol, resolution, kind, normalization, extended_hours=extended_hours,
                             fill_forward=fill_forward, csv_path=str(csv_path) if csv_path else None)
                for kind in kinds]
        self._subscribe(symbol, hours, subs)
        for hook in self.added_hooks:
            hook(sec)
        return sec

    def is_subscribed(self, symbol: Symbol) -> bool:
        """False once a universe removed ``symbol`` (until it is added again)."""
        return symbol in self.securities and symbol not in self._unsubscribed

    def _subscribe(self, symbol: Symbol, hours: Any, subs: list[Subscription]) -> None:
        self.subscriptions += subs
        if self.running_feed is not None:
            self.running_feed.hours[symbol] = hours
            self._added += subs
            self._removed.discard(symbol)
            self.changes += 1
            self.engine.clock.epoch += 1
            self.engine.rates.setup()  # a currency new to the cash book gets its rate source (LEAN's EnsureCurrencyDataFeeds)

    def remove_security(self, symbol: Symbol) -> None:
        """LEAN's removal from a universe: the security stays (its holdings and history), its data stops and it
        is no longer tradable; adding it again subscribes it again."""
        sec = self.securities.get(symbol)
        if sec is None:
            return
        sec.is_tradable = False
        self._unsubscribed[symbol] = [s for s in self.subscriptions if s.symbol == symbol]
        self.subscriptions[:] = [s for s in self.subscriptions if s.symbol != symbol]
        if self.running_feed is not None:
            self._added = [s for s in self._added if s.symbol != symbol]
            self._removed.add(symbol)
            self.changes += 1
            self.engine.clock.epoch += 1

    def start_feed(self, feed: DataFeed) -> None:
        """``feed`` is the running backtest's: later additions and removals join it (:meth:`join_feed`)."""
        self.running_feed = feed

    def join_feed(self, t_ns: int, rest_times: list[int], rest_slices: Any) -> None:
        """Hand the running feed what changed (the loop calls this after the step at ``t_ns``)."""
        feed = self.running_feed
        assert feed is not None
        added, self._added = self._added, []
        removed, self._removed = self._removed, set()
        feed.join(t_ns, added, removed, rest_times, rest_slices)

    def add_internal(self, symbol: Symbol, resolution: Resolution) -> Security:
        """A security the engine feeds for itself (a conversion rate, the benchmark): its data never reaches
        the strategy. Raises KeyError when the databases do not know the symbol."""
        sec = self.add_security(symbol, resolution)
        self.internal_symbols.add(symbol)
        return sec

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

    def replace_with_stream(self, symbol: Symbol, stream: Callable[[int, int], Any]) -> None:
        """Feed ``symbol`` from ``stream`` (a recorded book) instead of its LEAN subscriptions."""
        self.subscriptions[:] = [s for s in self.subscriptions if s.symbol != symbol]
        self.extra_streams.append(stream)

    def catalogued_book(self, symbol: Symbol) -> list[Path]:
        """The data catalogue's L2 delta files of ``symbol``, one a day."""
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

    def source(self) -> Any:
        """The data source: the LEAN folder, behind the data catalogue when there is one (made once)."""
        if self._source_obj is None:
            from leand.data.lean import LeanDataSource

            lean = LeanDataSource(self.data_root)
            if self.catalog_root is not None:
                from leand.data.catalog import Catalog, CatalogDataSource

                self._source_obj = CatalogDataSource(Catalog(self.catalog_root), lean)
            else:
                self._source_obj = lean
        return self._source_obj

    def has_data(self, symbol: Symbol, resolution: Resolution, tick_type: TickType, folder: Path) -> bool:
        """Whether ``folder`` exists or the data catalogue holds ``symbol``'s data at ``resolution``."""
        if folder.is_dir():
            return True
        catalogued = getattr(self.source(), "has", None)
        return catalogued is not None and bool(catalogued(symbol, resolution, tick_type))

    def feed(self, start_ns: int, end_ns: int, columnar: bool) -> DataFeed:
        """The merged data feed of every subscription and extra stream over [start_ns, end_ns]."""
        hours = {s: sec.exchange_hours for s, sec in self.securities.items()}
        extra = [lambda make=make: make(start_ns, end_ns) for make in self.extra_streams]
        return DataFeed(self.source(), self.subscriptions, start_ns, end_ns, hours, extra=extra, columnar=columnar)

    def history(self, symbol: Symbol | str, periods: int, end_ns: int, resolution: Resolution | None = None,
                tick_type: TickType | None = None) -> list:
        """The last ``periods`` bars of ``symbol`` ending at or before ``end_ns`` (fewer when the data has less)."""
        sym = self.resolve(symbol)
        sec = self.securities[sym]
        res = resolution or sec.resolution
        kind = tick_type or (TickType.TRADE if sec.subscribes_trades else TickType.QUOTE)
        sub = Subscription(sym, res, kind, sec.normalization, extended_hours=sec.extended_hours,
                           fill_forward=False)
        end = end_ns
        span = max(res.value, Resolution.MINUTE.value) * periods * 3
        if res >= Resolution.DAILY:
            span = DAY_NS * (periods * 2 + 10)
        for _ in range(6):
            feed = DataFeed(self.source(), [sub], end - span, end, {sym: sec.exchange_hours})
            bars = [ev for _, evs in _iter_slices(feed) for ev in evs if type(ev) in (TradeBar, QuoteBar)
                    and ev.end_time <= end]
            if len(bars) >= periods:
                return bars[-periods:]
            span *= 4
        return bars


def _iter_slices(feed: DataFeed) -> Iterable[tuple[int, tuple]]:
    for times, slices in feed.batches():
        yield from zip(times, slices)
