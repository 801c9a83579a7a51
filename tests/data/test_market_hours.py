from __future__ import annotations

from datetime import date

from conftest import UTC, ns


def test_regular_session_is_half_open(mhdb) -> None:
    h = mhdb.get("equity", "usa", "SPY")
    assert h.is_open(ns(2013, 10, 7, 9, 30)) and h.is_open(ns(2013, 10, 7, 15, 59))
    assert not h.is_open(ns(2013, 10, 7, 16, 0)) and not h.is_open(ns(2013, 10, 7, 9, 29))
    assert h.is_open(ns(2013, 10, 7, 8, 0), extended=True) and not h.is_open(ns(2013, 10, 7, 8, 0))


def test_holidays_early_closes_and_next_open_close(mhdb) -> None:
    h = mhdb.get("equity", "usa", "SPY")
    assert h.session(date(2013, 11, 28)) is None  # Thanksgiving
    assert h.session(date(2013, 11, 29)) == (ns(2013, 11, 29, 9, 30), ns(2013, 11, 29, 13))
    assert h.next_open(ns(2013, 11, 27, 16)) == ns(2013, 11, 29, 9, 30)
    assert h.next_close(ns(2013, 11, 29, 10)) == ns(2013, 11, 29, 13)
    assert not h.is_date_open(date(2013, 10, 12))  # Saturday


def test_dst_changes_the_utc_open(mhdb) -> None:
    h = mhdb.get("equity", "usa", "SPY")
    assert h.session(date(2013, 10, 7))[0] == ns(2013, 10, 7, 13, 30, tz=UTC)  # EDT
    assert h.session(date(2013, 12, 2))[0] == ns(2013, 12, 2, 14, 30, tz=UTC)  # EST


def test_crypto_never_closes_and_forex_uses_ny_sessions(mhdb) -> None:
    c = mhdb.get("crypto", "coinbase", "BTCUSD")
    assert c.always_open and c.is_open(ns(2018, 4, 7, 3, 0, tz=UTC))
    fx = mhdb.get("forex", "oanda", "EURUSD")
    assert not fx.always_open
    assert not fx.is_open(ns(2018, 4, 7, 12, 0))  # Saturday
    assert fx.is_open(ns(2018, 4, 4, 12, 0))
