"""Bar and quote fill models with LEAN's semantics (``EquityFillModel`` and the base ``FillModel``).

A model looks at the security's cached data and an order and answers with a fill price, or ``None`` when the
order does not fill on this data. Rules (see docs/lean-statistics.md §A.3): quotes when present, else trades;
limit and stop triggers on bar high/low; a non-market order fills only on a bar that ends after the order was
placed; stale data does not fill hour/daily subscriptions.

Why this is not the simulator's matching engine (``simulator/book.py``), which every simulated venue shares (the
paper venue, the replayed book of ``use_order_book``, ``leand sim serve``, and backtests matched in a venue,
``leand.backtest.venue_brokerage``): these models fill on bars, which no venue matches, with LEAN's rules, and
LEAN's own regression statistics (``tests/regressions``) pin them. A strategy whose backtest should fill as
the paper venue would live runs through ``VenueBrokerage`` instead.
"""

from __future__ import annotations

from typing import Any

from leand.model import Order, OrderType, Resolution
from leand.security import Security

STALE_NS = 3_600_000_000_000  # LEAN's StalePriceTimeSpan: 1 hour
# members the per-order path compares with, as module constants (``Enum.MEMBER`` costs about 150 ns on CPython 3.11:
# EnumType's __getattr__ slot)
_MARKET, _LIMIT, _STOP_MARKET, _STOP_LIMIT = OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_MARKET, OrderType.STOP_LIMIT
_TRAILING_STOP, _LIMIT_IF_TOUCHED = OrderType.TRAILING_STOP, OrderType.LIMIT_IF_TOUCHED
_MARKET_ON_OPEN, _MARKET_ON_CLOSE = OrderType.MARKET_ON_OPEN, OrderType.MARKET_ON_CLOSE
_HOUR = Resolution.HOUR


class FillModel:
    """LEAN's base model (crypto, forex): quote bars' ask/bid sides for buys/sells, trade bars as fallback."""

    equity = False
    #: not a strategy's LEAN-style model (leand.lean_models): the brokerages ask ``getattr(model, "lean_style",
    #: False)`` of every fill model, and an attribute found on the class answers that fastest
    lean_style = False

    def __init__(self, slippage: float = 0.0) -> None:
        self.slippage = slippage  # fraction of price, applied against the order

    # -- price sources ------------------------------------------------------------------------------
    def market_price(self, sec: Security, order: Order, now_ns: int) -> float | None:
        return self.market_price_for(sec, order.quantity > 0, order.created_time)

    def market_price_for(self, sec: Security, buy: bool, created_ns: int) -> float | None:
        """``market_price`` of a buy (or sell) market order created at ``created_ns``: all it reads of the order,
        so the order manager's quiet path asks it before it has made an ``Order``."""
        oldest = created_ns - STALE_NS
        qb = sec.last_quote_bar
        if qb is not None and qb.end_time >= oldest:
            side = qb.ask if buy else qb.bid
            if side is not None and side.close:
                return side.close
        qt = sec.last_quote_tick
        if qt is not None and qt.time >= oldest:
            p = qt.ask_price if buy else qt.bid_price
            if p:
                return p
        close = sec.trade_close_since(oldest)  # the latest trade bar's close (without making a noted bar)
        if close is not None:
            return close
        tt = sec.last_trade_tick
        if tt is not None and tt.time >= oldest:
            return tt.price
        return self._stale_price(sec)

    def _stale_price(self, sec: Security) -> float | None:
        if sec.resolution >= _HOUR:
            return None  # wait for fresh data
        return sec.price or None

    def _slip(self, price: float, order: Order) -> float:
        if self.slippage:
            return price * (1 + self.slippage) if order.quantity > 0 else price * (1 - self.slippage)
        return price

    def _bars(self, sec: Security, order: Order):
        """The (open, high, low, close) the order is matched against: ask bar for buys, bid for sells."""
        buy = order.quantity > 0
        qb = sec.last_quote_bar
        if qb is not None and not self.equity:
            side = qb.ask if buy else qb.bid
            if side is not None and qb.end_time > order.created_time:
                return side.open, side.high, side.low, side.close, qb.end_time
        tb = sec.last_trade_bar
        if tb is not None and tb.end_time > order.created_time:
            return tb.open, tb.high, tb.low, tb.close, tb.end_time
        return None

    # -- per order type ------------------------------------------------------------------------------
    def fill(self, sec: Security, order: Order, now_ns: int) -> float | None:
        t = order.type
        if t is _MARKET:
            p = self.market_price(sec, order, now_ns)
            return None if p is None else self._slip(p, order)
        if t is _LIMIT:
            return self.limit(sec, order)
        if t is _STOP_MARKET:
            return self.stop_market(sec, order)
        if t is _STOP_LIMIT:
            return self.stop_limit(sec, order)
        if t is _TRAILING_STOP:
            return self.trailing_stop(sec, order)
        if t is _LIMIT_IF_TOUCHED:
            return self.limit_if_touched(sec, order)
        if t is _MARKET_ON_OPEN:
            return self.market_on_open(sec, order, now_ns)
        if t is _MARKET_ON_CLOSE:
            return self.market_on_close(sec, order, now_ns)
        return None

    def market_fill(self, sec: Security, order: Order, now_ns: int) -> float | None:
        """:meth:`fill` of a market order, without the dispatch on its type (the order manager's fused path)."""
        p = self.market_price(sec, order, now_ns)
        if p is None or not self.slippage:
            return p
        return p * (1 + self.slippage) if order.quantity > 0 else p * (1 - self.slippage)

    def limit(self, sec: Security, order: Order) -> float | None:
        b = self._bars(sec, order)
        if b is None:
            return None
        o, h, lo, c, _ = b
        lim = order.limit_price
        if order.quantity > 0:
            if lo < lim:
                return min(h, lim)
        elif h > lim:
            return max(lo, lim)
        return None

    def stop_market(self, sec: Security, order: Order) -> float | None:
        b = self._bars(sec, order)
        if b is None:
            return None
        o, h, lo, c, _ = b
        stop = order.stop_price
        assert stop is not None  # a stop order has its stop price
        if order.quantity > 0:
            if h > stop:
                return self._slip(max(stop, sec.price), order)
        elif lo < stop:
            return self._slip(min(stop, sec.price), order)
        return None

    def _trigger_bars(self, sec: Security, order: Order):
        buy = order.quantity > 0
        qb = sec.last_quote_bar
        if qb is not None and sec.subscribes_quotes:
            side = qb.ask if buy else qb.bid
            if side is not None and qb.end_time > order.created_time:
                return side.open, side.high, side.low, side.close
        tb = sec.last_trade_bar
        if tb is not None and tb.end_time > order.created_time:
            return tb.open, tb.high, tb.low, tb.close
        return None

    def stop_limit(self, sec: Security, order: Order) -> float | None:
        b = self._trigger_bars(sec, order)
        if b is None:
            return None
        o, h, lo, c = b
        stop, lim = order.stop_price, order.limit_price
        if order.quantity > 0:
            if not order.stop_triggered and h > stop:
                order.stop_triggered = True
            if order.stop_triggered and c < lim:
                return min(h, lim)
        else:
            if not order.stop_triggered and lo < stop:
                order.stop_triggered = True
            if order.stop_triggered and c > lim:
                return max(lo, lim)
        return None

    def limit_if_touched(self, sec: Security, order: Order) -> float | None:
        """LEAN's LimitIfTouched fill: the bar touching the trigger (a buy's at or below, a sell's at or above)
        arms it; from then on it fills as a limit order."""
        b = self._trigger_bars(sec, order)
        if b is None:
            return None
        o, h, lo, c = b
        trig, lim = order.trigger_price, order.limit_price
        if trig is None or lim is None:
            return None
        if order.quantity > 0:
            if not order.stop_triggered and lo <= trig:
                order.stop_triggered = True
            if order.stop_triggered and lo < lim:
                return min(h, lim)
        else:
            if not order.stop_triggered and h >= trig:
                order.stop_triggered = True
            if order.stop_triggered and h > lim:
                return max(lo, lim)
        return None

    def trailing_stop(self, sec: Security, order: Order) -> float | None:
        b = self._trigger_bars(sec, order)
        if b is None:
            return None
        o, h, lo, c = b
        stop = order.stop_price
        amt = order.trailing_amount or 0.0
        if order.quantity < 0:
            if lo <= stop:
                return min(stop, c)
            trail = h * amt if order.trailing_as_percentage else amt
            if h - stop > trail:
                order.stop_price = h * (1 - amt) if order.trailing_as_percentage else h - amt
        else:
            if h >= stop:
                return max(stop, c)
            trail = lo * amt if order.trailing_as_percentage else amt
            if stop - lo > trail:
                order.stop_price = lo * (1 + amt) if order.trailing_as_percentage else lo + amt
        return None

    def market_on_open(self, sec: Security, order: Order, now_ns: int) -> float | None:
        """LEAN's base model: the open of the first data after the order that is in the regular session (an
        order placed while the market was open waits for the next day)."""
        hours = sec.exchange_hours
        if hours is None or hours.always_open:
            return None
        buy = order.quantity > 0
        qb, tb = sec.last_quote_bar, sec.last_trade_bar
        bar = qb if qb is not None and (tb is None or qb.end_time >= tb.end_time) else tb
        if bar is None or order.created_time >= bar.end_time:
            return None
        if hours.is_open(order.created_time, False) and \
                hours.local_date(order.created_time) == hours.local_date(now_ns):
            return None
        if not hours.is_open(now_ns, False):  # LEAN's IsExchangeOpen: a bar the session overlaps counts
            on_bar = (hours.local_date(bar.end_time) == hours.local_date(now_ns)
                      if bar.end_time - bar.time > 3_600_000_000_000 else now_ns <= bar.end_time)
            if not (on_bar and _open_during(hours, bar.time, bar.end_time)):
                return None
        if qb is not None:
            side = qb.ask if buy else qb.bid
            if side is not None:
                return side.open
        return tb.open if tb is not None else None

    def _equity_market_on_open(self, sec: Security, order: Order, now_ns: int) -> float | None:
        tb = sec.last_trade_bar
        if tb is None or tb.fill_forward or tb.time < order.created_time:
            return None
        hours = sec.exchange_hours
        if hours is not None and not hours.always_open:
            # placed during market hours -> only a bar of a later session counts
            if hours.is_open(order.created_time, False):
                nxt = hours.next_open(order.created_time)
                if tb.time < nxt:
                    return None
            elif tb.time < hours.next_open(order.created_time) and sec.resolution < Resolution.DAILY:
                return None
        return tb.open

    def market_on_close(self, sec: Security, order: Order, now_ns: int) -> float | None:
        hours = sec.exchange_hours
        close = hours.next_close(order.created_time, False)
        if now_ns < close:
            return None
        tb = sec.last_trade_bar
        return tb.close if tb is not None else (sec.price or None)


class EquityFillModel(FillModel):
    """LEAN's EquityFillModel: trade bars for limit/stop triggers with the favourable-gap rule."""

    equity = True

    def limit(self, sec: Security, order: Order) -> float | None:
        tb = sec.last_trade_bar
        if tb is None or tb.end_time <= order.created_time:
            return None
        lim = order.limit_price
        assert lim is not None  # a limit order has its limit price
        if order.quantity > 0:
            if tb.low < lim:
                return tb.open if tb.open < lim else lim
        elif tb.high > lim:
            return tb.open if tb.open > lim else lim
        return None

    def stop_market(self, sec: Security, order: Order) -> float | None:
        tb = sec.last_trade_bar
        if tb is None or tb.end_time <= order.created_time:
            return None
        stop = order.stop_price
        assert stop is not None  # a stop order has its stop price
        if order.quantity < 0:
            if tb.low <= stop:
                return self._slip(tb.open if tb.open <= stop else stop, order)
        elif tb.high >= stop:
            return self._slip(tb.open if tb.open >= stop else stop, order)
        return None

    def _stale_price(self, sec: Security) -> float | None:
        if sec.resolution >= _HOUR:
            return None
        return sec.price or None

    def market_on_open(self, sec: Security, order: Order, now_ns: int) -> float | None:
        return self._equity_market_on_open(sec, order, now_ns)

    def limit_if_touched(self, sec: Security, order: Order) -> float | None:
        """LEAN's EquityFillModel: the last trade bar's high (sell) or low (buy) touching the trigger arms the
        order; it then fills at the current bid (sell) or ask (buy) once that is at or through the limit."""
        tb = sec.last_trade_bar
        if tb is None or tb.end_time <= order.created_time:
            return None
        trig, lim = order.trigger_price, order.limit_price
        if trig is None or lim is None:
            return None
        qb = sec.last_quote_bar
        if order.quantity > 0:
            if order.stop_triggered or tb.low <= trig:
                order.stop_triggered = True
                ask = qb.ask.close if qb is not None and qb.ask is not None else tb.close
                if ask <= lim:
                    return min(ask, lim)
        else:
            if order.stop_triggered or tb.high >= trig:
                order.stop_triggered = True
                bid = qb.bid.close if qb is not None and qb.bid is not None else tb.close
                if bid >= lim:
                    return max(bid, lim)
        return None


def _open_during(hours: Any, start_ns: int, end_ns: int) -> bool:
    """LEAN's ``IsOpenDuringBar``: the regular session overlaps [start, end)."""
    d = hours.local_date(start_ns)
    for day in (d, hours.local_date(end_ns)):
        for s, e in hours.segments(day, False):
            if s < end_ns and e > start_ns:
                return True
    return False
