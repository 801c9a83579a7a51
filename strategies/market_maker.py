"""A market maker on tick quotes, matched in the simulated exchange's replayed order book.

It keeps one bid and one ask around the mid, ``half_spread`` ticks out, skewed against its inventory (long:
both quotes move down, so it sells more readily than it buys), and never more than ``max_inventory``
shares either way. Orders are post-only limits: they rest in the book behind the displayed size and fill
only as the queue model lets them. Quotes move (losing their queue place) only when the target price
changes. Ten minutes before the close it cancels and flattens.

    leand backtest strategies/market_maker.py --report
"""

from __future__ import annotations

import math

from leand import DataNormalizationMode, Resolution, Strategy
from leand.model import OrderStatus, QuoteTick
from leand.simulator.models import Latency, RandomLatency


class MarketMaker(Strategy):
    parameters = {
        "ticker": "BAC", "date": "2013-10-07", "clip": 100, "max_inventory": 500, "half_spread": 1,
        "skew": 0.5, "queue": "prob_power2", "entry_us": 300, "response_us": 300, "market_data_us": 150,
        "random_latency": 1, "seed": 7,
    }

    def initialize(self) -> None:
        from datetime import date

        d = date.fromisoformat(str(self.get_parameter("date", "2013-10-07")))
        self.set_start_date(d.year, d.month, d.day)
        self.set_end_date(d.year, d.month, d.day)
        self.set_cash(100_000)
        # raw prices: the book trades on the exchange's tick grid, which adjusted prices are not on
        sec = self.add_equity(str(self.get_parameter("ticker", "BAC")), Resolution.TICK,
                              data_normalization_mode=DataNormalizationMode.RAW)
        self.symbol = sec.symbol
        self.tick = sec.instrument.tick_size
        us = 1_000
        lat_args = (int(self.get_parameter("entry_us", 300)) * us, int(self.get_parameter("response_us", 300)) * us,
                    int(self.get_parameter("market_data_us", 150)) * us)
        latency = (RandomLatency(*lat_args, seed=int(self.get_parameter("seed", 7)))
                   if int(self.get_parameter("random_latency", 1)) else Latency(*lat_args))
        self.use_order_book(self.symbol, queue=str(self.get_parameter("queue", "prob_power2")), latency=latency)
        self.clip = float(self.get_parameter("clip", 100))
        self.max_inv = float(self.get_parameter("max_inventory", 500))
        self.half = int(self.get_parameter("half_spread", 1))
        self.skew = float(self.get_parameter("skew", 0.5))
        self.bid = None
        self.ask = None
        self.quoting = True
        self.quotes_seen = 0
        self.schedule.on(self.date_rules.every_day(self.symbol),
                         self.time_rules.before_market_close(self.symbol, 10), self.flatten)

    def on_data(self, data) -> None:
        if not self.quoting:
            return
        ticks = data.ticks.get(self.symbol)
        if not ticks or not any(t.__class__ is QuoteTick for t in ticks):
            return
        sec = self.securities[self.symbol]
        bid, ask = sec.bid, sec.ask
        if not (bid and ask) or ask <= bid:
            return
        self.quotes_seen += 1
        tick = self.tick
        inv = self.portfolio[self.symbol].quantity
        mid = (bid + ask) / 2
        shift = -self.skew * (inv / self.clip) * tick  # long: quote lower on both sides
        my_bid = min(math.floor((mid + shift) / tick - self.half + 0.5) * tick, bid)
        my_ask = max(math.ceil((mid + shift) / tick + self.half - 0.5) * tick, ask)
        my_bid, my_ask = round(my_bid, 8), round(my_ask, 8)
        self.bid = self._quote(self.bid, self.clip if inv + self.clip <= self.max_inv else 0.0, my_bid)
        self.ask = self._quote(self.ask, -self.clip if inv - self.clip >= -self.max_inv else 0.0, my_ask)

    def _quote(self, ticket, qty: float, price: float):
        """Keep one resting order at ``price`` for ``qty`` (0: none), moving it only when the price changes."""
        if ticket is not None:
            status = ticket.status
            if status in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED):
                ticket = None
            elif status is OrderStatus.PENDING_CANCEL:
                return ticket
        if qty == 0.0:
            if ticket is not None:
                ticket.cancel("inventory limit")
            return ticket
        if ticket is None:
            return self.limit_order(self.symbol, qty, price, post_only=True)
        if ticket.order.limit_price != price:
            ticket.update(limit_price=price)
        return ticket

    def flatten(self, *_args) -> None:
        self.quoting = False
        self.cancel_open_orders(self.symbol, "flatten")
        inv = self.portfolio[self.symbol].quantity
        if inv:
            self.market_order(self.symbol, -inv, tag="flatten")

    def on_end_of_algorithm(self) -> None:
        fills = len(self._engine.fills)
        self.log(f"quotes seen {self.quotes_seen}, fills {fills}, "
                 f"inventory {self.portfolio[self.symbol].quantity:g}")
