"""Execution models: portfolio targets in, orders out."""

from __future__ import annotations

from typing import Any

from leand.framework.portfolio import PortfolioTarget


def unordered_quantity(algorithm: Any, target: PortfolioTarget) -> float:
    """Target minus holdings minus what open orders will still do, rounded to the lot toward zero."""
    sec = algorithm.securities[target.symbol]
    open_q = algorithm.transactions.get_open_orders_remaining_quantity(sec.symbol)
    q = target.quantity - sec.holdings.quantity - open_q
    lot = sec.instrument.lot_size
    n = int(abs(q) / lot + 1e-9)
    return (n * lot) * (1 if q > 0 else -1)


class ExecutionModel:
    def __init__(self, asynchronous: bool = True) -> None:
        self.asynchronous = asynchronous

    def execute(self, algorithm: Any, targets: list[PortfolioTarget]) -> None:
        pass

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        pass


class NullExecutionModel(ExecutionModel):
    pass


class ImmediateExecutionModel(ExecutionModel):
    """Market orders for the whole difference at once, reducing positions first, then the largest."""

    def __init__(self, asynchronous: bool = True) -> None:
        super().__init__(asynchronous)
        self._targets: dict[Any, PortfolioTarget] = {}

    def execute(self, algorithm: Any, targets: list[PortfolioTarget]) -> None:
        for t in targets:
            self._targets[t.symbol] = t
        if not self._targets:
            return
        for t in self._order_by_margin_impact(algorithm):
            sec = algorithm.securities[t.symbol]
            q = unordered_quantity(algorithm, t)
            if q == 0:
                continue
            if self._above_minimum(algorithm, sec, q):
                algorithm.market_order(sec.symbol, q, self.asynchronous, t.tag)
        for sym in [s for s, t in self._targets.items() if unordered_quantity(algorithm, t) == 0]:
            del self._targets[sym]

    @staticmethod
    def _above_minimum(algorithm: Any, sec: Any, q: float) -> bool:
        pct = algorithm._engine.min_order_margin_pct
        if pct == 0:
            return True
        margin = abs(q * sec.price * sec.holdings.multiplier * algorithm.portfolio.conversion(sec)) / sec.leverage
        return margin > algorithm.portfolio.total_portfolio_value * pct

    def _order_by_margin_impact(self, algorithm: Any) -> list[PortfolioTarget]:
        rows = []
        for t in self._targets.values():
            sec = algorithm.securities[t.symbol]
            if sec.price == 0 or not sec.is_tradable:
                continue
            existing = sec.holdings.quantity + algorithm.transactions.get_open_orders_remaining_quantity(sec.symbol)
            target_q = t.quantity
            if existing == target_q:
                continue
            rows.append((abs(target_q) < abs(existing), abs(target_q - existing) * sec.price, t))
        rows.sort(key=lambda r: (not r[0], -r[1]))
        return [r[2] for r in rows]
