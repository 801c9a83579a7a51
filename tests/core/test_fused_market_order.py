"""The order manager's fused path for synchronous market orders (``submit_market``) decides exactly what the
general path (``submit``) decides: the same order events, fills, orders and portfolio, order by order.

Each backtest runs twice on the shipped sample data, once as it is and once with ``submit_market`` sent down the
general path, with strategies that hit the fused path's edges: buys and sells of random sizes, quantities that
round to zero, orders beyond the buying power, a risk limit that refuses some, a handler of the submitted event
that places, updates or cancels orders, orders by ticker, a fee model swapped mid-run, a slippage model, orders outside market
hours, and no handler of order events at all."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from leand import Resolution, Strategy
from leand.engine import Engine
from leand.model import OrderStatus, OrderType
from leand.orders.fees import ConstantFeeModel, PerShareFeeModel
from leand.orders.manager import OrderManager

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"


class Slippage:
    """A strategy's slippage model (LEAN's interface): a fixed amount against the order."""

    def get_slippage_approximation(self, security: Any, order: Any) -> float:
        return 0.02


class Trader(Strategy):
    """Random market orders every bar (seeded), recording every order event's content."""

    ticker = "SPY"
    variant = "plain"

    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 8)
        self.set_cash(100_000)
        if self.ticker == "BTCUSD":
            self.set_start_date(2018, 4, 4)
            self.set_end_date(2018, 4, 5)
            self.sym = self.add_crypto("BTCUSD", Resolution.MINUTE).symbol
        else:
            self.sym = self.add_equity(self.ticker, Resolution.MINUTE, extended_market_hours=True).symbol
        self.rng = random.Random(7)
        self.log_: list[tuple[Any, ...]] = []
        self.n = 0

    def on_data(self, data: Any) -> None:
        self.n += 1
        r = self.rng.random()
        crypto = self.ticker == "BTCUSD"
        size = round(self.rng.uniform(0.001, 0.5), 6) if crypto else self.rng.choice([1, 5, 40, 0.4, 900, 5000])
        q = size if r < 0.55 else -size
        if self.variant == "fees" and self.n == 50:
            self.securities[self.sym].fee_model = PerShareFeeModel(0.01)
        if self.variant == "slippage" and self.n == 30:
            self.securities[self.sym].set_slippage_model(Slippage())
        t = self.market_order(self.ticker if self.variant == "ticker" else self.sym, q, tag=f"n{self.n}")
        self.log_.append(("ticket", t.order_id, t.status.value, t.quantity_filled))

    def on_order_event(self, ev: Any) -> None:
        self.log_.append((ev.order_id, ev.status.value, ev.fill_price, ev.fill_quantity, ev.fee, ev.fee_currency,
                          ev.liquidity.value, ev.code, ev.message, ev.quantity, ev.time, ev.id))
        if ev.status is OrderStatus.SUBMITTED and self.variant == "handler":
            k = ev.order_id % 7
            if k == 0:  # an order placed from the handler, before this one reaches the brokerage
                self.market_order(self.sym, 1 if self.ticker != "BTCUSD" else 0.01, tag="inner")
            elif k == 3:  # canceled before the brokerage sees it
                ev.ticket.cancel()
            elif k == 5:  # changed before the brokerage sees it: the approval no longer covers it
                self.securities[self.sym].fee_model = ConstantFeeModel(1.5)


def _general(self: OrderManager, symbol: Any, quantity: float, tag: str = "") -> Any:
    """``submit_market`` as the general path: what it replaced."""
    return self.submit(symbol, quantity, OrderType.MARKET, tag=tag)


def _run(ticker: str, variant: str, fused: bool, monkeypatch: pytest.MonkeyPatch, risk: dict | None = None
         ) -> tuple[Any, ...]:
    attrs: dict[str, Any] = {"ticker": ticker, "variant": variant}
    if variant == "quiet":  # no handler of order events: the fused path's quiet case (the order is never seen open)
        attrs["on_order_event"] = Strategy.on_order_event
    cls = type("T", (Trader,), attrs)
    with monkeypatch.context() as m:
        if not fused:
            m.setattr(OrderManager, "submit_market", _general)
        e = Engine(cls(), DATA)
        if risk is not None:
            e.set_risk_config(risk)
        try:
            e.run()
        except Exception as exc:  # the same failure either way is the same result
            return ("raised", type(exc).__name__, str(exc), tuple(e.strategy.log_))
    pf = e.portfolio
    orders = tuple((o.id, o.quantity, o.status.value, o.filled_quantity, o.average_fill_price, o.created_time,
                    o.last_update_time, o.submission_price, o.tag, o.client_order_id) for o in e.orders.values())
    fills = tuple((f.order_id, f.time, f.quantity, f.price, f.fee, f.fee_currency, f.liquidity.value, f.trade_id)
                  for f in e.fills)
    cash = tuple(sorted((c, v.amount, v.conversion_rate) for c, v in pf.cash_book.items()))
    holdings = tuple((str(s), h.quantity, h.average_price, h.net_profit, h.total_fees) for s, h in pf.items())
    return (tuple(e.strategy.log_), orders, fills, cash, holdings, tuple(pf.transactions), pf.total_fees,
            pf.total_sales_volume, tuple(e.equity_samples))


@pytest.mark.parametrize("ticker,variant", [("SPY", "plain"), ("SPY", "handler"), ("SPY", "fees"), ("SPY", "ticker"),
                                            ("SPY", "slippage"), ("SPY", "quiet"), ("BTCUSD", "plain"),
                                            ("BTCUSD", "handler"), ("BTCUSD", "quiet")])
def test_fused_market_orders_decide_as_the_general_path(ticker: str, variant: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    if not (DATA / "equity" / "usa" / "minute" / "spy").exists():
        pytest.skip("sample data not present")
    fused = _run(ticker, variant, True, monkeypatch)
    general = _run(ticker, variant, False, monkeypatch)
    assert fused[0][:5] and len(fused[0]) > 100
    assert fused == general


def test_fused_path_under_risk_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A limit the short path does not check (max order quantity) and one it does (lot size) refuse the same
    orders with the same codes either way."""
    risk = {"global": {"max_order_quantity": 100}}
    fused = _run("SPY", "plain", True, monkeypatch, risk)
    general = _run("SPY", "plain", False, monkeypatch, risk)
    assert any(x[1] == "rejected" for x in fused[0] if isinstance(x[0], int))
    assert fused == general


@pytest.mark.parametrize("risk", [{"global": {"max_order_quantity": 100}},
                                  {"global": {"max_position_quantity": 6000}}])
def test_quiet_path_under_risk_limits(monkeypatch: pytest.MonkeyPatch, risk: dict) -> None:
    """Without a handler of order events the bar brokerage asks the gate itself (``gated_market_price``'s short
    path, else ``gated_fill_price``): the orders the limit refuses are refused, stored and counted as on the
    general path. A position limit is not plain: every order is made and checked the whole way."""
    fused = _run("SPY", "quiet", True, monkeypatch, risk)
    general = _run("SPY", "quiet", False, monkeypatch, risk)
    assert any(x[0] == "ticket" and x[2] == "rejected" for x in fused[0])
    assert any(x[0] == "ticket" and x[2] == "filled" for x in fused[0])
    assert fused == general
