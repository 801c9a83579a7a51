"""A subscribed security: its instrument, exchange hours, latest data and models.

The engine writes the cache fields directly on every event (plain attribute stores on a ``__slots__``
object), so keeping the latest price costs a few nanoseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leand.model import (
    DataNormalizationMode,
    Instrument,
    QuoteBar,
    QuoteTick,
    Resolution,
    SecurityType,
    Symbol,
    TradeBar,
    TradeTick,
)
from leand.portfolio.holding import Holding

if TYPE_CHECKING:
    from leand.orders.fills import FillModel


class Security:
    __slots__ = (
        "_bar_taken",
        "_last_trade_bar",
        "ask",
        "ask_size",
        "bar_row",
        "bar_rows",
        "base_currency",
        "bid",
        "bid_size",
        "buying_power_model",
        "exchange_hours",
        "extended_hours",
        "fee_model",
        "fill_forward",
        "fill_model",
        "holdings",
        "instrument",
        "is_delisted",
        "is_tradable",
        "last_data_time",
        "last_quote_bar",
        "last_quote_tick",
        "last_trade_tick",
        "leverage",
        "margin_interest_rate_model",
        "normalization",
        "price",
        "quote_currency",
        "resolution",
        "security_type",
        "slippage_model",
        "subscribes_quotes",
        "subscribes_trades",
        "symbol",
    )

    def __init__(self, instrument: Instrument, exchange_hours: Any, resolution: Resolution, *,
                 leverage: float = 1.0, normalization: DataNormalizationMode = DataNormalizationMode.RAW,
                 fill_forward: bool = True, extended_hours: bool = False) -> None:
        self.instrument = instrument
        self.symbol: Symbol = instrument.symbol
        self.security_type: SecurityType = instrument.symbol.security_type
        self.quote_currency = instrument.quote_currency
        self.base_currency = instrument.base_currency
        self.exchange_hours = exchange_hours
        self.resolution = resolution
        self.leverage = leverage
        self.normalization = normalization
        self.fill_forward = fill_forward
        self.extended_hours = extended_hours
        self.holdings = Holding(instrument.multiplier)
        self.price = 0.0
        self.bid = 0.0
        self.ask = 0.0
        self.bid_size = 0.0
        self.ask_size = 0.0
        self._last_trade_bar: TradeBar | None = None
        #: while the latest trade bar is still a row of a day's columns (a backtest consuming them in place):
        #: the columns (a ``leand.data.feed.BarBatch``, noted once per run of rows: ``note_rows``) and the row
        #: (written at each row); the TradeBar is made when first read
        self.bar_rows: Any = None
        self.bar_row = 0
        #: the row ``_last_trade_bar`` stands for while ``bar_rows`` is set (made from it when read, or written):
        #: at any other row the bar is that row's
        self._bar_taken = -1
        self.last_quote_bar: QuoteBar | None = None
        self.last_trade_tick: TradeTick | None = None
        self.last_quote_tick: QuoteTick | None = None
        self.last_data_time = 0
        self.is_tradable = True
        self.is_delisted = False
        self.buying_power_model: Any = None
        self.margin_interest_rate_model: Any = None
        self.subscribes_trades = True
        self.subscribes_quotes = False
        #: set by the engine when the security is added (LEAN's models by default, or the strategy's own)
        self.fee_model: Any = None
        self.fill_model: FillModel | None = None
        self.slippage_model: Any = None

    def note_rows(self, rows: Any) -> None:
        """A backtest consumes ``rows`` (a day's ``BarBatch``) in place from here: it writes ``bar_row`` at each
        row, and from its first the latest trade bar is that row's (made only when read). Until then it is
        the one before (made now if it was a row of other columns)."""
        old = self.bar_rows
        if rows is not old:
            if old is not None and self.bar_row != self._bar_taken:
                self._last_trade_bar = old.bar(self.bar_row)
            self.bar_rows = rows
            self.bar_row = self._bar_taken = -1

    @property
    def last_trade_bar(self) -> TradeBar | None:
        """The latest real trade bar. A backtest consuming a day of bars in place only notes the row
        (``note_rows``, ``bar_row``); the TradeBar is made here, the first time something reads it."""
        rows = self.bar_rows
        if rows is not None:
            i = self.bar_row
            if i != self._bar_taken:
                self._last_trade_bar = rows.bar(i)
                self._bar_taken = i
        return self._last_trade_bar

    @last_trade_bar.setter
    def last_trade_bar(self, bar: TradeBar | None) -> None:
        """(The engine's general path, at each bar.) While a day's rows are noted, the bar stands for the
        row the backtest is at; the next row's is that row's again."""
        self._last_trade_bar = bar
        self._bar_taken = self.bar_row

    def trade_close_since(self, oldest: int) -> float | None:
        """The latest real trade bar's close if it ended at ``oldest`` or later, else None: what a market fill
        reads of it. A bar the backtest has only noted (``bar_rows``) is read from its row, not made."""
        rows = self.bar_rows
        if rows is not None:
            i = self.bar_row
            if i != self._bar_taken:
                # (the end times' view: a Python int, without a numpy scalar made and compared)
                return rows.close[i] if rows.end_time[i] >= oldest else None
        tb = self._last_trade_bar
        return tb.close if tb is not None and tb.end_time >= oldest else None

    @property
    def volume(self) -> float:
        """The latest real trade bar's volume (LEAN's ``Security.Volume``), read from the bar itself (a row of
        a day's columns while a backtest consumes them in place), so the engine writes nothing for it."""
        rows = self.bar_rows
        if rows is not None:
            i = self.bar_row
            if i != self._bar_taken:
                return rows.volume_at(i)
        bar = self._last_trade_bar
        return bar.volume if bar is not None else 0.0

    # LEAN-familiar read-only views -------------------------------------------------------------
    @property
    def has_data(self) -> bool:
        return self.price != 0.0

    @property
    def close(self) -> float:
        return self.price

    @property
    def open(self) -> float:
        b = self.last_trade_bar or self.last_quote_bar
        return b.open if b is not None else self.price

    @property
    def high(self) -> float:
        b = self.last_trade_bar or self.last_quote_bar
        return b.high if b is not None else self.price

    @property
    def low(self) -> float:
        b = self.last_trade_bar or self.last_quote_bar
        return b.low if b is not None else self.price

    @property
    def invested(self) -> bool:
        return self.holdings.quantity != 0

    @property
    def multiplier(self) -> float:
        return self.instrument.multiplier

    @property
    def cache(self) -> Any:
        """LEAN's security cache (``get_data(TradeBar)``, ``ask_price``, ``bid_price``)."""
        from leand.lean_models import SecurityCache

        return SecurityCache(self)

    @property
    def exchange(self) -> Any:
        """LEAN's ``security.exchange``: its ``time_zone`` and hours."""
        from types import SimpleNamespace

        return SimpleNamespace(time_zone=self.exchange_hours.time_zone, hours=self.exchange_hours)

    # -- LEAN's model setters ---------------------------------------------------------------------------
    def set_fee_model(self, model: Any) -> None:
        self.fee_model = model

    def set_fill_model(self, model: Any) -> None:
        self.fill_model = model

    def set_slippage_model(self, model: Any) -> None:
        self.slippage_model = model

    def set_leverage(self, leverage: float) -> None:
        self.leverage = float(leverage)

    def set_margin_interest_rate_model(self, model: Any) -> None:
        """A model whose ``apply_margin_interest_rate(parameters)`` the engine calls at each time step."""
        self.margin_interest_rate_model = model

    def set_buying_power_model(self, model: Any) -> None:
        """A margin model's leverage becomes the security's (LEAN's SecurityMarginModel(leverage))."""
        self.buying_power_model = model
        lev = getattr(model, "leverage", None)
        if lev:
            self.leverage = float(lev)

    def __repr__(self) -> str:
        return f"Security({self.symbol.value}, price={self.price})"
