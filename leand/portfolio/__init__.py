"""Accounting: cash book, holdings, the portfolio."""

from leand.portfolio.cash import Cash, CashBook
from leand.portfolio.holding import Holding
from leand.portfolio.portfolio import Portfolio

__all__ = ["Cash", "CashBook", "Holding", "Portfolio"]
