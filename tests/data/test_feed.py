"""The merged feed: time order across symbols, fill-forward inside market hours only, aux events, CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ns

from leand.data.feed import DataFeed, Subscription
from leand.data.lean import DataFormatError
from leand.model import DataNormalizationMode as N
from leand.model import Resolution as R
from leand.model import Split, Symbol, TradeBar
from leand.model import TickType as T

SPY, IBM, AAPL = Symbol.equity("SPY"), Symbol.equity("IBM"), Symbol.equity("AAPL")


def slices(feed: DataFeed) -> list[tuple[int, tuple]]:
    return [s for times, sl in feed.batches() for s in zip(times, sl)]


def test_two_symbols_merge_in_time_order_trade_before_quote(source, mhdb) -> None:
    subs = [Subscription(SPY, R.MINUTE, T.TRADE, N.ADJUSTED), Subscription(SPY, R.MINUTE, T.QUOTE, N.ADJUSTED),
            Subscription(IBM, R.MINUTE, T.TRADE, N.ADJUSTED)]
    hours = {s: mhdb.get("equity", "usa", s.value) for s in (SPY, IBM)}
    out = slices(DataFeed(source, subs, ns(2013, 10, 7), ns(2013, 10, 8) - 1, hours))
    times = [t for t, _ in out]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert times[0] == ns(2013, 10, 7, 9, 31) and times[-1] == ns(2013, 10, 7, 16)
    assert len(out) == 390
    first = out[0][1]
    assert [type(e).__name__ for e in first] == ["TradeBar", "QuoteBar", "TradeBar"]
    assert all(e.end_time == t for t, evs in out for e in evs)


def test_fill_forward_fills_gaps_only_inside_market_hours(source, mhdb, tmp_path: Path) -> None:
    csv = tmp_path / "gappy.csv"
    csv.write_text("time,open,high,low,close,volume\n"
                   "2013-10-07T09:30:00,10,11,9,10,100\n"
                   "2013-10-07T09:33:00,10,12,9,11,100\n"
                   "2013-10-07T15:59:00,11,11,11,11,100\n")
    sub = Subscription(SPY, R.MINUTE, T.TRADE, csv_path=str(csv), fill_forward=False)
    hours = {SPY: mhdb.get("equity", "usa", "SPY")}
    out = slices(DataFeed(source, [sub], ns(2013, 10, 7), ns(2013, 10, 8) - 1, hours))
    assert [t for t, _ in out] == [ns(2013, 10, 7, 9, 31), ns(2013, 10, 7, 9, 34), ns(2013, 10, 7, 16)]
    # LEAN data with gaps: second bars fill forward to the full 09:30-16:00 grid, never outside it
    sub = Subscription(SPY, R.SECOND, T.TRADE, N.ADJUSTED)
    out = slices(DataFeed(source, [sub], ns(2013, 10, 7), ns(2013, 10, 8) - 1, hours))
    assert len(out) == 23400
    assert out[0][0] == ns(2013, 10, 7, 9, 30, 1) and out[-1][0] == ns(2013, 10, 7, 16)
    ff = [e for _, evs in out for e in evs if e.fill_forward]
    real = [e for _, evs in out for e in evs if not e.fill_forward]
    assert ff and real and len(ff) + len(real) == 23400
    prev = None
    for _, (bar,) in out:  # a fill-forward bar repeats the last real bar's prices
        if bar.fill_forward:
            assert bar.close == prev.close
        else:
            prev = bar


def test_split_events_arrive_as_auxiliary_slices(source, mhdb) -> None:
    sub = Subscription(AAPL, R.HOUR, T.TRADE, N.ADJUSTED)
    out = slices(DataFeed(source, [sub], ns(2014, 6, 6), ns(2014, 6, 10) - 1, {AAPL: mhdb.get("equity", "usa")}))
    splits = [(t, e) for t, evs in out for e in evs if isinstance(e, Split)]
    assert [(t, e.warning) for t, e in splits] == [(ns(2014, 6, 6), True), (ns(2014, 6, 9), False)]
    assert sum(isinstance(e, TradeBar) for _, evs in out for e in evs) == 14


def test_csv_reader_errors_name_file_and_line(source, mhdb, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,open,high,low,close\n2013-10-07T09:30:00,10,11,9,10\n2013-10-07T09:31:00,10,9,11,10\n")
    sub = Subscription(SPY, R.MINUTE, T.TRADE, csv_path=str(bad))
    with pytest.raises(DataFormatError, match=r"bad.csv: line 3: high/low"):
        slices(DataFeed(source, [sub], ns(2013, 10, 7), ns(2013, 10, 8), {SPY: mhdb.get("equity", "usa")}))


def test_csv_epoch_and_lean_style_times(mhdb, tmp_path: Path) -> None:
    from leand.data.csv_bars import read_csv_bars

    f = tmp_path / "e.csv"
    f.write_text("timestamp,open,high,low,close,volume\n1381152600,1,2,0.5,1.5,10\n1381152660000,1,2,0.5,1.5,10\n")
    (c,) = read_csv_bars(f, mhdb.get("equity", "usa").time_zone)
    assert list(c.time) == [ns(2013, 10, 7, 9, 30), ns(2013, 10, 7, 9, 31)]
    assert list(c.end_time - c.time) == [60_000_000_000] * 2
    g = tmp_path / "g.csv"
    g.write_text("date,open,high,low,close\n20131007 09:30,1,2,0.5,1.5\n")
    (c,) = read_csv_bars(g, mhdb.get("equity", "usa").time_zone, period_ns=60_000_000_000)
    assert c.time[0] == ns(2013, 10, 7, 9, 30)


class _WholeDays:
    """A source that reads whole days only (as a data catalogue does): no read_tick_windows."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def read_day(self, *args, **kwargs):
        return self.inner.read_day(*args, **kwargs)

    def __getattr__(self, name: str):
        if name == "read_tick_windows":
            raise AttributeError(name)
        return getattr(self.inner, name)


def test_tick_days_stream_the_same_from_windows_and_from_whole_days(source, mhdb) -> None:
    bac = Symbol.equity("BAC")
    subs = [Subscription(bac, R.TICK, T.TRADE, N.RAW, fill_forward=False),
            Subscription(bac, R.TICK, T.QUOTE, N.RAW, fill_forward=False)]
    hours = {bac: mhdb.get("equity", "usa", "BAC")}
    windows = slices(DataFeed(source, subs, ns(2013, 10, 7), ns(2013, 10, 8) - 1, hours))
    whole = slices(DataFeed(_WholeDays(source), subs, ns(2013, 10, 7), ns(2013, 10, 8) - 1, hours))
    assert len(windows) > 100_000
    assert windows == whole


@pytest.mark.parametrize("chunk", [997, 16384])
def test_ticks_of_one_instant_stay_in_one_slice_whatever_the_chunk_size(source, mhdb, monkeypatch, chunk) -> None:
    """A day of ticks is turned into objects a chunk at a time; a chunk never ends inside a run of ticks that
    share a time, so an instant is one slice (one on_data), however the day is cut."""
    import leand.data.feed as feed

    bac = Symbol.equity("BAC")
    subs = [Subscription(bac, R.TICK, T.TRADE, N.RAW, fill_forward=False),
            Subscription(bac, R.TICK, T.QUOTE, N.RAW, fill_forward=False)]
    hours = {bac: mhdb.get("equity", "usa", "BAC")}
    run = (source, subs, ns(2013, 10, 7), ns(2013, 10, 8) - 1, hours)
    monkeypatch.setattr(feed, "TICK_CHUNK", 10**9)  # the day in one chunk: the reference
    whole = slices(DataFeed(*run))
    monkeypatch.setattr(feed, "TICK_CHUNK", chunk)
    cut = slices(DataFeed(*run))
    times = [t for t, _ in cut]
    assert len(set(times)) == len(times)
    assert cut == whole
