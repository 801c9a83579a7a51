"""LEAN file formats: scaling, time zones, quote sides, ticks, hour/daily precise times, adjustment."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from conftest import UTC, ns

from leand.data.lean import DataFormatError, LeanDataSource
from leand.model import DataNormalizationMode as N
from leand.model import Resolution as R
from leand.model import Symbol
from leand.model import TickType as T

SPY = Symbol.equity("SPY")


def test_equity_minute_trade_scaling_and_new_york_times(source, mhdb) -> None:
    h = mhdb.get("equity", "usa", "SPY")
    c = source.read_day(SPY, R.MINUTE, T.TRADE, date(2013, 10, 7), h)
    assert c.kind == "trade_bar" and len(c) == 828
    assert c.time[0] == ns(2013, 10, 7, 4, 0)  # 14400000 ms after NY midnight = 04:00 EDT
    assert c.cols["open"][0] == pytest.approx(167.41)
    i = int(np.searchsorted(c.time, ns(2013, 10, 7, 9, 30)))
    assert c.end_time[i] == ns(2013, 10, 7, 9, 31)
    assert (c.cols["open"][i], c.cols["close"][i], c.cols["volume"][i]) == (pytest.approx(167.43),
                                                                          pytest.approx(167.44), 816453)


def test_adjusted_prices_use_the_factor_file(source, mhdb) -> None:
    h = mhdb.get("equity", "usa", "SPY")
    c = source.read_day(SPY, R.MINUTE, T.QUOTE, date(2013, 10, 7), h, N.ADJUSTED)
    i = int(np.searchsorted(c.time, ns(2013, 10, 7, 9, 30)))
    assert c.cols["ask_close"][i] == pytest.approx(167.45 * 0.8646266)
    raw = source.read_day(SPY, R.MINUTE, T.TRADE, date(2013, 10, 7), h, N.RAW)
    adj = source.read_day(SPY, R.MINUTE, T.TRADE, date(2013, 10, 7), h, N.ADJUSTED)
    assert adj.cols["volume"][0] == round(raw.cols["volume"][0] / 0.8646266)


def test_second_quote_bars(source, mhdb) -> None:
    c = source.read_day(SPY, R.SECOND, T.QUOTE, date(2013, 10, 7), mhdb.get("equity", "usa", "SPY"))
    assert len(c) == 27409 and c.end_time[0] - c.time[0] == 1_000_000_000
    assert c.cols["bid_close"][0] == pytest.approx(167.27) and c.cols["ask_close"][0] == pytest.approx(167.41)


def test_equity_ticks_one_side_per_quote_line(source, mhdb) -> None:
    bac = Symbol.equity("BAC")
    h = mhdb.get("equity", "usa", "BAC")
    q = source.read_day(bac, R.TICK, T.QUOTE, date(2013, 10, 7), h)
    assert q.kind == "quote_tick" and len(q) > 100_000
    one_sided = (q.cols["bid_price"] == 0) ^ (q.cols["ask_price"] == 0)
    assert one_sided.mean() > 0.99
    t = source.read_day(bac, R.TICK, T.TRADE, date(2013, 10, 7), h)
    assert t.kind == "trade_tick" and (t.cols["price"] > 10).all() and (t.cols["price"] < 20).all()


def test_crypto_minute_is_utc_and_unscaled(source, mhdb) -> None:
    btc = Symbol.crypto("BTCUSD")
    c = source.read_day(btc, R.MINUTE, T.TRADE, date(2018, 4, 4), mhdb.get("crypto", "coinbase", "BTCUSD"))
    assert c.time[0] == ns(2018, 4, 4, 0, 0, tz=UTC)
    assert c.cols["open"][0] == 7424.91 and c.cols["volume"][0] == pytest.approx(7.14319709)


def test_forex_minute_quotes_utc(source, mhdb) -> None:
    eur = Symbol.forex("EURUSD")
    c = source.read_day(eur, R.MINUTE, T.QUOTE, date(2018, 4, 4), mhdb.get("forex", "oanda", "EURUSD"))
    assert c.kind == "quote_bar" and c.time[0] >= ns(2018, 4, 4, 0, 0, tz=UTC)
    assert 1.2 < c.cols["bid_close"][0] < 1.25


def test_daily_equity_bars_end_at_the_session_close(source, mhdb) -> None:
    c = source.read_range(SPY, R.DAILY, T.TRADE, date(2013, 10, 7), date(2013, 10, 8),
                          mhdb.get("equity", "usa", "SPY"))
    assert list(c.time) == [ns(2013, 10, 7, 9, 30), ns(2013, 10, 8, 9, 30)]
    assert list(c.end_time) == [ns(2013, 10, 7, 16), ns(2013, 10, 8, 16)]


def test_daily_bar_on_an_early_close_ends_at_13(source, mhdb) -> None:
    c = source.read_range(SPY, R.DAILY, T.TRADE, date(2013, 11, 29), date(2013, 11, 29),
                          mhdb.get("equity", "usa", "SPY"))
    assert list(c.end_time) == [ns(2013, 11, 29, 13)]


def test_hour_bars_and_split_adjustment(source, mhdb) -> None:
    aapl = Symbol.equity("AAPL")
    h = mhdb.get("equity", "usa", "AAPL")
    raw = source.read_range(aapl, R.HOUR, T.TRADE, date(2014, 6, 6), date(2014, 6, 9), h, N.RAW)
    adj = source.read_range(aapl, R.HOUR, T.TRADE, date(2014, 6, 6), date(2014, 6, 9), h, N.ADJUSTED)
    assert len(raw) == 14 and raw.end_time[0] - raw.time[0] == R.HOUR.value
    assert raw.cols["close"][0] > 600 and raw.cols["close"][-1] < 100  # the 7:1 split in raw prices
    assert adj.cols["close"][0] == pytest.approx(raw.cols["close"][0] * 0.9011818 * 0.0357143)
    assert adj.cols["close"][-1] == pytest.approx(raw.cols["close"][-1] * 0.9011818 * 0.25)


def test_split_and_dividend_events(source) -> None:
    aapl = Symbol.equity("AAPL")
    evs = source.factor_file(aapl).events(aapl, UTC, date(2014, 6, 1), date(2014, 6, 30))
    splits = [e for e in evs if type(e).__name__ == "Split"]
    assert [s.warning for s in splits] == [True, False]
    assert splits[1].split_factor == pytest.approx(1 / 7, rel=1e-5)
    assert splits[1].reference_price == 645.57
    spy = Symbol.equity("SPY")
    divs = source.factor_file(spy).events(spy, UTC, date(2013, 1, 1), date(2013, 12, 31))
    assert any(type(e).__name__ == "Dividend" and e.distribution > 0 for e in divs)


def test_map_file_renames(source) -> None:
    googl = Symbol.equity("GOOGL")
    assert source.ticker_on(googl, date(2014, 1, 2)) == "goog"
    assert source.ticker_on(googl, date(2014, 4, 3)) == "googl"


def test_corrupt_zip_and_bad_line_name_the_file(tmp_path: Path, mhdb) -> None:
    root = tmp_path / "lean"
    folder = root / "equity" / "usa" / "minute" / "spy"
    folder.mkdir(parents=True)
    (folder / "20131007_trade.zip").write_bytes(b"not a zip")
    src = LeanDataSource(root)
    h = mhdb.get("equity", "usa", "SPY")
    with pytest.raises(DataFormatError, match="20131007_trade.zip: not a valid zip"):
        src.read_day(SPY, R.MINUTE, T.TRADE, date(2013, 10, 7), h)
    with zipfile.ZipFile(folder / "20131008_trade.zip", "w") as z:
        z.writestr("x.csv", "34200000,1,1,1,1,10\n34260000,1,1,oops,1,10\n")
    with pytest.raises(DataFormatError, match="line 2"):
        src.read_day(SPY, R.MINUTE, T.TRADE, date(2013, 10, 8), h)


_TICK_TEXT = "0123456789,\n PQNYSEaz.-"


@pytest.mark.parametrize("text", [b"", b"1,2,3\n", b"1,P,2\n3,Q,4\n", b"1,P", b"P,1\n", b"1,NYSE,2\n", b"1,2P,3\n",
                                  b"1,P 1,2\n", b"1,P.5,2\n", b"1,P\n2,Q\n", b",P,\n"])
def test_zero_alpha_fields_is_the_regex(text: bytes) -> None:
    from leand.data.lean import _ALPHA_FIELD, _zero_alpha_fields

    assert _zero_alpha_fields(text) == _ALPHA_FIELD.sub(b",0", text)


def test_zero_alpha_fields_is_the_regex_on_any_text() -> None:
    """The array version of the exchange-field substitution gives the regex's bytes on any text (its fast case,
    one-letter fields, and whatever it hands to the regex)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from leand.data.lean import _ALPHA_FIELD, _zero_alpha_fields

    @settings(max_examples=400, deadline=None)
    @given(st.text(alphabet=_TICK_TEXT, max_size=60))
    def check(s: str) -> None:
        text = s.encode()
        assert _zero_alpha_fields(text) == _ALPHA_FIELD.sub(b",0", text)

    check()
