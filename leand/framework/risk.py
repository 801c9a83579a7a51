"""Risk management models: portfolio targets in, overriding targets out."""

from __future__ import annotations

from typing import Any

from leand.framework.portfolio import PortfolioTarget
from leand.model import Order, OrderType


class RiskManagementModel:
    def manage_risk(self, algorithm: Any, targets: list[PortfolioTarget]) -> list[PortfolioTarget]:
        return []

    def on_securities_changed(self, algorithm: Any, changes: Any) -> None:
        pass


class NullRiskManagementModel(RiskManagementModel):
    pass


def unrealized_profit_percent(algorithm: Any, sec: Any) -> float:
    """LEAN's Holdings.UnrealizedProfitPercent: profit of closing now, after the closing fee, over the cost."""
    h = sec.holdings
    if h.quantity == 0 or h.average_price == 0:
        return 0.0
    conv = algorithm.portfolio.conversion(sec)
    cost = abs(h.quantity * h.average_price * h.multiplier * conv)
    probe = Order(id=0, symbol=sec.symbol, quantity=-h.quantity, type=OrderType.MARKET)
    fee, ccy = sec.fee_model.fee(sec, probe, -h.quantity, sec.price, algorithm.time_ns)
    profit = algorithm.portfolio.unrealized_profit(sec) - algorithm.portfolio.cash_book.convert(fee, ccy)
    return profit / cost


class MaximumDrawdownPercentPerSecurity(RiskManagementModel):
    """Liquidate a security (and cancel its insights) once its unrealized loss passes the limit."""

    def __init__(self, maximum_drawdown_percent: float = 0.05) -> None:
        self.maximum_drawdown_percent = -abs(maximum_drawdown_percent)

    def manage_risk(self, algorithm: Any, targets: list[PortfolioTarget]) -> list[PortfolioTarget]:
        out = []
        for sym, sec in algorithm.securities.items():
            if sec.holdings.quantity == 0:
                continue
            if unrealized_profit_percent(algorithm, sec) < self.maximum_drawdown_percent:
                algorithm.insights.cancel([sym], algorithm.time_ns)
                out.append(PortfolioTarget(sym, 0))
        return out
