"""A small in-memory world for the gate: instruments, prices, positions, equity."""

from __future__ import annotations

import itertools

from leand.model import Instrument, Order, OrderStatus, OrderType, Symbol
from leand.risk import RiskGate

SPY = Symbol.equity("SPY")
IBM = Symbol.equity("IBM")
BTC = Symbol.crypto("BTCUSD")


class World:
    def __init__(self) -> None:
        self.now = 1_000_000_000_000
        self.instruments = {SPY: Instrument(SPY), IBM: Instrument(IBM),
                            BTC: Instrument(BTC, quote_currency="USD", base_currency="BTC", tick_size=0.01,
                                            lot_size=1e-4)}
        self.prices = {SPY: 100.0, IBM: 50.0, BTC: 20_000.0}
        self.mids = dict(self.prices)
        self.pos: dict[Symbol, float] = {}
        self.orders: dict[int, Order] = {}
        self.cash = 1_000_000.0
        self.eq = 1_000_000.0
        self.sod = 1_000_000.0
        self.peak = 1_000_000.0
        self._ids = itertools.count(1)
        self.untradable: set[Symbol] = set()

    # RiskContext
    def now_ns(self) -> int:
        return self.now

    def instrument(self, symbol):
        return self.instruments.get(symbol)

    def tradable(self, symbol) -> bool:
        return symbol not in self.untradable

    def last_price(self, symbol) -> float:
        return self.prices.get(symbol, 0.0)

    def mid_price(self, symbol) -> float:
        return self.mids.get(symbol, 0.0)

    def position(self, symbol) -> float:
        return self.pos.get(symbol, 0.0)

    def positions(self):
        return {k: v for k, v in self.pos.items() if v}

    def open_orders(self):
        return [o for o in self.orders.values() if o.status.is_open]

    def cash_available(self, currency: str) -> float:
        return self.cash

    def buying_power(self, symbol, quantity, price) -> float:
        return self.cash

    def equity(self) -> float:
        return self.eq

    def start_of_day_equity(self) -> float:
        return self.sod

    def peak_equity(self) -> float:
        return self.peak

    def venue_of(self, symbol) -> str:
        return symbol.market

    # helpers
    def order(self, symbol=SPY, qty=10.0, type_=OrderType.LIMIT, limit=100.0, stop=None, strategy="s1") -> Order:
        if type_ is OrderType.MARKET:
            limit = None
        return Order(id=next(self._ids), symbol=symbol, quantity=qty, type=type_, limit_price=limit,
                     stop_price=stop, strategy_id=strategy, created_time=self.now)

    def place(self, gate: RiskGate, order: Order):
        """Run the gate; approved orders rest (open) until filled or canceled."""
        d = gate.check_new(order)
        if d.approved:
            order.status = OrderStatus.SUBMITTED
            self.orders[order.id] = order
            gate.on_order_opened(order)
        return d

    def fill(self, gate: RiskGate, order: Order) -> None:
        self.pos[order.symbol] = self.pos.get(order.symbol, 0.0) + order.quantity
        order.filled_quantity = order.quantity
        order.status = OrderStatus.FILLED
        gate.on_order_closed(order)

    def cancel(self, gate: RiskGate, order: Order) -> None:
        order.status = OrderStatus.CANCELED
        gate.on_order_closed(order)
