"""Portfolio arithmetic: cash, average price, realized P&L, LEAN transaction records, buying power."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leand.model import AccountType, Fill, Instrument, Resolution, Symbol
from leand.portfolio import Portfolio
from leand.security import Security

SPY = Symbol.equity("SPY")
BTC = Symbol.crypto("BTCUSD")


def equity(pf: Portfolio, price: float = 100.0, leverage: float = 2.0) -> Security:
    sec = Security(Instrument(SPY), None, Resolution.MINUTE, leverage=leverage)
    sec.price = price
    pf.securities[SPY] = sec
    return sec


def fill(qty: float, price: float, fee: float = 0.0, t: int = 0, sym: Symbol = SPY) -> Fill:
    return Fill(order_id=1, symbol=sym, time=t, quantity=qty, price=price, fee=fee)


def test_buy_then_partial_sell_realizes_pnl_and_records_transaction() -> None:
    pf = Portfolio()
    pf.cash_book.set_amount("USD", 100_000)
    sec = equity(pf)
    pf.process_fill(sec, fill(100, 100.0, fee=1.0))
    assert pf.cash == pytest.approx(100_000 - 10_000 - 1)
    assert sec.holdings.average_price == 100.0
    pf.process_fill(sec, fill(50, 110.0, fee=1.0))  # add at a higher price
    assert sec.holdings.average_price == pytest.approx((100 * 100 + 50 * 110) / 150)
    sec.price = 120.0
    assert pf.total_portfolio_value == pytest.approx(100_000 - 15_500 - 2 + 150 * 120)
    realized = pf.process_fill(sec, fill(-60, 120.0, fee=1.0, t=5))
    avg = (100 * 100 + 50 * 110) / 150
    assert realized == pytest.approx((120 - avg) * 60)
    assert pf.transactions == [(5, pytest.approx(realized - 2.0))]
    assert pf.total_fees == 3.0


def test_flip_from_long_to_short_opens_remainder_at_fill_price() -> None:
    pf = Portfolio()
    pf.cash_book.set_amount("USD", 10_000)
    sec = equity(pf)
    pf.process_fill(sec, fill(10, 100.0))
    pf.process_fill(sec, fill(-15, 90.0))
    assert sec.holdings.quantity == -5
    assert sec.holdings.average_price == 90.0
    assert pf.transactions[0][1] == pytest.approx(-100.0)


def test_margin_buying_power_uses_leverage_and_allows_reducing_orders() -> None:
    pf = Portfolio()
    pf.cash_book.set_amount("USD", 10_000)
    sec = equity(pf, price=100.0, leverage=2.0)
    ok, _ = pf.has_sufficient_buying_power(sec, 199, 100.0)
    assert ok
    ok, msg = pf.has_sufficient_buying_power(sec, 201, 100.0)
    assert not ok and "margin remaining" in msg
    pf.process_fill(sec, fill(150, 100.0))
    ok, _ = pf.has_sufficient_buying_power(sec, -150, 100.0)
    assert ok


def test_cash_account_crypto_is_a_currency_swap() -> None:
    pf = Portfolio(account_type=AccountType.CASH)
    pf.cash_book.set_amount("USD", 10_000)
    pf.cash_book.set_amount("BTC", 0.0, 7000.0)
    sec = Security(Instrument(BTC, quote_currency="USD", base_currency="BTC", lot_size=1e-8), None,
                   Resolution.MINUTE)
    sec.price = 7000.0
    pf.securities[BTC] = sec
    pf.process_fill(sec, Fill(order_id=1, symbol=BTC, time=0, quantity=1.0, price=7000.0, fee=21.0))
    assert pf.cash_book["USD"].amount == pytest.approx(10_000 - 7000 - 21)
    assert pf.cash_book["BTC"].amount == 1.0
    # valuation comes from the cash book only (no double counting of the holding)
    assert pf.total_portfolio_value == pytest.approx(10_000 - 21)
    ok, msg = pf.has_sufficient_buying_power(sec, -2.0, 7000.0)
    assert not ok and "insufficient BTC" in msg


def test_cash_is_the_whole_cash_book_and_fractional_fills_sum_exactly() -> None:
    # LEAN's Portfolio.Cash is CashBook.TotalValueInAccountCurrency: the bought BTC counts, valued at its rate
    pf = Portfolio(account_type=AccountType.CASH)
    pf.cash_book.set_amount("USD", 10_000)
    pf.cash_book.set_amount("BTC", 0.0, 7000.0)
    sec = Security(Instrument(BTC, quote_currency="USD", base_currency="BTC", lot_size=1e-8), None,
                   Resolution.MINUTE)
    sec.price = 7000.0
    pf.securities[BTC] = sec
    pf.process_fill(sec, Fill(order_id=1, symbol=BTC, time=0, quantity=1.0, price=7000.0, fee=21.0))
    assert pf.cash == pytest.approx(10_000 - 21)
    # LEAN's quantities are decimals: 296 + 0.1 + 0.01 - 0.02 is 296.09 (in floats it is 296.09000000000003)
    for q in (295.0, 0.1, 0.01, -0.02):
        pf.process_fill(sec, Fill(order_id=2, symbol=BTC, time=0, quantity=q, price=1.0, fee=0.0))
    assert sec.holdings.quantity == 296 + 0.09


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([-150, -100, -37.5, -1, 0.3, 1, 2.5, 100, 250]),
                          st.floats(0.5, 500, allow_nan=False), st.sampled_from([0.0, 1.0, 0.25])),
                min_size=1, max_size=30),
       st.sampled_from([1.0, 0.01, 1e-8]))
def test_process_fill_moves_the_position_as_holding_apply_fill(fills: list, lot: float) -> None:
    """process_fill updates the position in one pass with its own arithmetic inline: the holding ends exactly as
    Holding.apply_fill (the holding's own method, the reference) leaves it, fill after fill, with the same
    realized P&L, and the snapping of fractional lots."""
    from leand.portfolio.holding import Holding
    from leand.portfolio.portfolio import _decimals

    pf = Portfolio()
    pf.cash_book.set_amount("USD", 1e9)
    sec = Security(Instrument(SPY, lot_size=lot), None, Resolution.MINUTE)
    pf.securities[SPY] = sec
    ref = Holding()
    for qty, price, fee in fills:
        sec.price = price
        realized = pf.process_fill(sec, fill(qty, price, fee=fee))
        expected = ref.apply_fill(qty, price, 1.0, _decimals(lot) if lot < 1 else None)
        h = sec.holdings
        assert realized == expected
        assert (h.quantity, h.average_price, h.total_sale_volume) == \
            (ref.quantity, ref.average_price, ref.total_sale_volume)
        assert type(h.quantity) is type(ref.quantity)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["SPY", "QQQ", "BTCUSD", "EURUSD_FUT"]),
                          st.floats(-1e6, 1e6, allow_nan=False).map(lambda q: round(q, 3)) | st.just(0.0),
                          st.floats(0.01, 1e5), st.sampled_from(["USD", "EUR"])), max_size=5),
       st.floats(-1e7, 1e7), st.floats(-1e5, 1e5) | st.just(-0.0), st.floats(0.5, 2.0))
def test_portfolio_value_and_exposure_are_the_sums_term_by_term(held: list, usd: float, eur: float,
                                                                 rate: float) -> None:
    """``total_portfolio_value`` and ``exposure()`` (the statistics sample them, each in one pass) are bit for bit
    the cash book's ``total_value`` plus each equity's ``holdings_value``, and ``(gross_exposure(),
    net_exposure())``: every security's value, equities or not, in any quote currency, long, short or flat."""
    pf = Portfolio()
    pf.cash_book.set_amount("USD", usd)
    pf.cash_book.set_amount("EUR", eur, rate)
    for name, qty, price, ccy in held:
        sym = Symbol.crypto(name) if name == "BTCUSD" else Symbol.equity(name)
        sec = Security(Instrument(sym, quote_currency=ccy, multiplier=2.0 if ccy == "EUR" else 1.0), None,
                       Resolution.MINUTE)
        sec.price = price
        sec.holdings.quantity = qty
        pf.securities[sym] = sec
    want = pf.cash_book.total_value
    for sec in pf.securities.values():
        if sec.holdings.quantity != 0 and sec.security_type is SPY.security_type:
            want += pf.holdings_value(sec)
    got = pf.total_portfolio_value
    assert got.hex() == float(want).hex()
    gross, net = pf.exposure()
    assert (float(gross).hex(), float(net).hex()) == (float(pf.gross_exposure()).hex(), float(pf.net_exposure()).hex())
    assert type(gross) is type(pf.gross_exposure()) and type(net) is type(pf.net_exposure())
