"""A backtest on a recorded L2 book (.l2d): the feed streams it, the strategy sees the changes, its orders
rest in the replayed book and fill as the queue model says; a sequence gap in the recording is reported."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from leand import Strategy
from leand.backtest.book_brokerage import SimulatedBooks
from leand.clock import datetime_to_ns
from leand.engine import Engine, EngineError
from leand.simulator.l2file import DELTA, RECORD, SNAP_END, SNAP_LEVEL, SNAP_START, TRADE, L2Header, L2Writer

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"
T0 = datetime_to_ns(datetime(2020, 1, 2, 12, 0, tzinfo=UTC))
S = 1_000_000_000


def write_book(path: Path, gap: bool = False) -> None:
    r = [(T0, 1, SNAP_START, 0, 0.0, 0.0), (T0, 1, SNAP_LEVEL, 1, 100.00, 5.0), (T0, 1, SNAP_LEVEL, 1, 99.99, 3.0),
         (T0, 1, SNAP_LEVEL, -1, 100.01, 4.0), (T0, 1, SNAP_LEVEL, -1, 100.02, 6.0), (T0, 1, SNAP_END, 0, 0.0, 0.0),
         (T0 + 1 * S, 0, TRADE, -1, 100.00, 3.0),
         (T0 + 1 * S, 2, DELTA, 1, 100.00, 2.0),   # the 3 traded leave the display
         (T0 + 2 * S, 4 if gap else 3, DELTA, 1, 100.00, 1.0),  # one more cancelled
         (T0 + 3 * S, 0, TRADE, -1, 100.00, 1.5),
         (T0 + 4 * S, 0, TRADE, -1, 99.99, 0.2)]
    with L2Writer(path, L2Header("BTCUSD", 0.01, 1e-8, "test")) as w:
        w.write(np.array(r, dtype=RECORD))


class Passive(Strategy):
    path = ""

    def initialize(self):
        self.set_start_date(2020, 1, 2)
        self.set_end_date(2020, 1, 2)
        self.set_cash(100_000)
        self.sym = self.add_book_data("BTCUSD", self.path).symbol
        self.use_order_book(self.sym, queue="conservative")
        self.ticket = None
        self.seen = []
        self.fills = []

    def on_data(self, data):
        ups = data.book_updates.get(self.sym, [])
        self.seen.append((self.time_ns, len(ups), self.securities[self.sym].bid, self.securities[self.sym].ask))
        if self.ticket is None:
            self.ticket = self.limit_order(self.sym, 1.0, 100.00)

    def on_order_event(self, ev):
        if ev.fill_quantity:
            self.fills.append((ev.time, ev.fill_quantity, ev.fill_price))


def test_backtest_on_a_recorded_book_fills_by_queue_position(tmp_path):
    p = tmp_path / "btc.l2d"
    write_book(p)
    Passive.path = str(p)
    s = Passive()
    e = Engine(s, DATA, order_books=SimulatedBooks())
    e.run()
    assert s.seen[0] == (T0, 1, 100.00, 100.01)  # the snapshot, and the touch it sets
    # joined behind 5; the 3-lot print leaves 2 ahead, a cancel leaves 1 (conservative: no credit), the 1.5 print
    # fills 0.5, the print through the price fills the rest
    assert s.fills == [(T0 + 3 * S, 0.5, 100.00), (T0 + 4 * S, 0.5, 100.00)]
    assert e.brokerage.venues[s.sym].book.gaps == []


def test_a_gap_in_the_recording_is_reported(tmp_path):
    p = tmp_path / "gap.l2d"
    write_book(p, gap=True)
    Passive.path = str(p)
    s = Passive()
    e = Engine(s, DATA, order_books=SimulatedBooks())
    e.run()
    book = e.brokerage.venues[s.sym].book
    assert book.gaps == [(3, 4)] and book.stale


def test_a_bad_recording_fails_before_the_run(tmp_path):
    p = tmp_path / "bad.l2d"
    p.write_bytes(b"garbage")
    Passive.path = str(p)
    with pytest.raises(EngineError, match=r"not a leand \.l2d recording"):
        Engine(Passive(), DATA, order_books=SimulatedBooks()).run()


def test_lean_ticks_convert_to_a_recording(tmp_path, capsys):
    from leand.cli import main
    from leand.simulator.l2file import iter_chunks, read_header

    out = tmp_path / "bac.l2d"
    assert main(["data", "l2-from-lean", "BAC", "2013-10-07", "--out", str(out)]) == 0
    h, _ = read_header(out)
    assert (h.symbol, h.tick_size) == ("BAC", 0.01)
    recs = np.concatenate(list(iter_chunks(out)))
    assert len(recs) > 500_000 and bool((np.diff(recs["time"]) >= 0).all())
    assert int((recs["kind"] == TRADE).sum()) == 88_172
    assert main(["data", "l2-from-lean", "BAC", "2013-10-09", "--out", str(out)]) == 2
    assert "no tick quotes for BAC on 2013-10-09" in capsys.readouterr().err
