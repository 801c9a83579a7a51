"""Sizing: order quantities for portfolio targets (``set_holdings``, ``calculate_order_quantity``) and
``liquidate``, with LEAN's rules (a free-portfolio-value buffer, fee-aware targets, reducing orders first)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from leand.model import AccountType, Order, OrderType, Symbol, TimeInForce

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.security import Security
    from leand.tickets import OrderTicket

#: LEAN's Settings.FreePortfolioValuePercentage and MinimumOrderMarginPortfolioPercentage
FREE_PORTFOLIO_VALUE_PCT = 0.0025
MIN_ORDER_MARGIN_PCT = 0.001


class Sizing:
    """The engine's sizing collaborator: reads the portfolio and securities, submits through the order manager."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def calculate_order_quantity(self, symbol: Symbol | str, target: float) -> float:
        sym = self.engine.resolve(symbol)
        sec = self.engine.securities[sym]
        self.engine.refresh_rates()
        tpv = self.engine.portfolio.total_portfolio_value
        model = sec.buying_power_model
        if getattr(model, "lean_style", False):  # a strategy's BuyingPowerModel (leand.lean_models)
            from leand.lean_models import model_order_quantity

            return model_order_quantity(model, sec, self.engine.portfolio, target,
                                        lambda: self._margin_target_quantity(sec, target, tpv))
        if self.engine.portfolio.uses_cash_model(sec):
            return self._cash_target_quantity(sec, target, tpv)
        return self._margin_target_quantity(sec, target, tpv)

    def _margin_target_quantity(self, sec: Security, w: float, tpv: float) -> float:
        price = sec.price
        if price == 0:
            return 0.0
        conv = self.engine.portfolio.conversion(sec)
        unit = price * sec.holdings.multiplier * conv
        lev = sec.leverage
        h = sec.holdings.quantity
        w_adj = w * (tpv - FREE_PORTFOLIO_VALUE_PCT * tpv) / tpv if tpv else 0.0
        target_margin = w_adj / lev * tpv
        current_margin = h * unit / lev
        if abs(target_margin - current_margin) < self.engine.min_order_margin_pct * tpv:
            return 0.0
        lot = sec.instrument.lot_size
        q = 0.0
        for _ in range(1000):
            raw = -h + target_margin * lev / unit
            n = math.floor(raw / lot + 1e-9) if target_margin >= 0 else math.ceil(raw / lot - 1e-9)
            q = n * lot
            if q == 0:
                return 0.0
            probe = Order(id=0, symbol=sec.symbol, quantity=q, type=OrderType.MARKET)
            fee, ccy = sec.fee_model.fee(sec, probe, q, price, self.engine.clock.now_ns())
            target_margin = (tpv - self.engine.portfolio.cash_book.convert(fee, ccy)) * w_adj / lev
            if abs((h + q) * unit / lev) <= abs(target_margin) + 1e-9:
                break
        return q

    def _cash_target_quantity(self, sec: Security, w: float, tpv: float) -> float:
        assert sec.base_currency  # the cash model is for currency pairs only
        base_amount = self.engine.portfolio.cash_book.ensure(sec.base_currency).amount
        if w == 0:
            return -base_amount
        conv = self.engine.portfolio.conversion(sec)
        target_value = w * (1 - FREE_PORTFOLIO_VALUE_PCT) * tpv
        current_value = base_amount * sec.price * conv
        delta = target_value - current_value
        buy = delta > 0
        unit = (sec.ask if buy else sec.bid) or sec.price
        unit_acc = unit * conv
        if unit_acc == 0:
            return 0.0
        qty = abs(delta) / unit_acc
        qty = sec.instrument.round_lot(qty)
        lot = sec.instrument.lot_size
        for _ in range(10000):
            probe = Order(id=0, symbol=sec.symbol, quantity=qty if buy else -qty, type=OrderType.MARKET)
            fee, ccy = sec.fee_model.fee(sec, probe, qty, unit, self.engine.clock.now_ns())
            fee_acc = self.engine.portfolio.cash_book.convert(fee, ccy)
            if qty * unit_acc + fee_acc <= abs(delta) + 1e-9 or qty <= 0:
                break
            qty = sec.instrument.round_lot(qty - max(lot, qty * 1e-4))
        return qty if buy else -qty

    def set_holdings(self, targets: list[tuple[Symbol | str, float]], liquidate_existing: bool,
                     tag: str, asynchronous: bool = False) -> list[OrderTicket]:
        resolved = [(self.engine.resolve(s), w) for s, w in targets]
        tickets: list[OrderTicket] = []
        if liquidate_existing:
            wanted = {s for s, _ in resolved}
            for sym, sec in self.engine.securities.items():
                if sym not in wanted and sec.holdings.quantity != 0:
                    tickets += self.liquidate(sym, tag, asynchronous)
        orders = []
        for sym, w in resolved:
            q = self.calculate_order_quantity(sym, w)
            q -= self.engine.order_manager.open_market_quantity(sym)
            if self.engine.account_type is AccountType.CASH and w == 0:
                q = self.calculate_order_quantity(sym, 0)
            if q:
                sec = self.engine.securities[sym]
                reducing = sec.holdings.quantity != 0 and (q > 0) != (sec.holdings.quantity > 0)
                orders.append((not reducing, -abs(q * sec.price), sym, q))
        orders.sort(key=lambda x: (x[0], x[1]))
        for _, _, sym, q in orders:
            om = self.engine.order_manager
            t = om.submit(sym, q, OrderType.MARKET, tag=tag, asynchronous=asynchronous) if asynchronous else \
                om.submit_live(sym, q, OrderType.MARKET, None, tag) if om.fused_live else om.submit_market(sym, q, tag)
            if t.order_id:
                tickets.append(t)
        return tickets

    def liquidate(self, symbol: Symbol | str | None, tag: str, asynchronous: bool = False,
                  time_in_force: TimeInForce | None = None) -> list[OrderTicket]:
        syms = [self.engine.resolve(symbol)] if symbol is not None else list(self.engine.securities)
        tickets = []
        for sym in syms:
            for o in list(self.engine.order_manager.open_orders.values()):
                if o.symbol == sym and o.type is not OrderType.MARKET:
                    self.engine.order_manager.cancel(o.id, tag)
            # the position only: in a cash account, base currency held apart from it stays (LEAN)
            q = -self.engine.securities[sym].holdings.quantity
            q -= self.engine.order_manager.open_market_quantity(sym)
            if q:
                om = self.engine.order_manager
                if asynchronous or time_in_force is not None:
                    t = om.submit(sym, q, OrderType.MARKET, tag=tag, asynchronous=asynchronous,
                                  time_in_force=time_in_force)
                elif om.fused_live:  # the daemon's (leand.orders.live_submit)
                    t = om.submit_live(sym, q, OrderType.MARKET, None, tag)
                else:
                    t = om.submit_market(sym, q, tag)
                if t.order_id:
                    tickets.append(t)
        return tickets
