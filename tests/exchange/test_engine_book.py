"""The replayed book inside a real backtest on the shipped BAC ticks: latency is applied on the virtual
clock (orders arrive late and see the book as it is then; responses come back late), cancels are requests
the venue confirms, and a market-making run is deterministic."""

from __future__ import annotations

import bisect
from pathlib import Path

from leand import DataNormalizationMode, OrderStatus, Resolution, Strategy
from leand.backtest.book_brokerage import SimulatedBooks
from leand.backtest.runner import run_backtest
from leand.engine import Engine
from leand.simulator.models import Latency

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "lean"
MS = 1_000_000


class LatencyProbe(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.set_cash(100_000)
        self.bac = self.add_equity("BAC", Resolution.TICK, data_normalization_mode=DataNormalizationMode.RAW).symbol
        self.use_order_book(self.bac, latency=Latency(entry_ns=5 * MS, response_ns=7 * MS, market_data_ns=2 * MS))
        self.quotes: list[tuple[int, float]] = []
        self.events = []
        self.taker = self.maker = None
        self.t_buy = self.t_cancel = 0

    def on_data(self, data):
        sec = self.securities[self.bac]
        now = self.time_ns
        if sec.ask:
            if self.quotes and self.quotes[-1][0] == now:
                self.quotes[-1] = (now, sec.ask)
            else:
                self.quotes.append((now, sec.ask))
        et = self.time.hour * 60 + self.time.minute
        if self.taker is None and et >= 10 * 60 and sec.ask:
            self.t_buy = now
            self.limit = round(sec.ask + 0.02, 2)
            self.taker = self.limit_order(self.bac, 100, self.limit)
        if self.maker is None and et >= 11 * 60 and sec.ask:
            self.maker = self.limit_order(self.bac, -100, round(sec.ask + 0.05, 2), post_only=True)
        if self.maker is not None and not self.t_cancel and et >= 11 * 60 + 30:
            self.t_cancel = now
            self.maker.cancel()
            self.status_after_cancel = self.maker.status

    def on_order_event(self, ev):
        self.events.append((ev.order_id, ev.time, ev.status, ev.fill_price, ev.fill_quantity))


def test_latency_on_the_virtual_clock_and_cancel_confirmation():
    s = LatencyProbe()
    Engine(s, DATA, order_books=SimulatedBooks()).run()
    fills = [e for e in s.events if e[0] == s.taker.order_id and e[2] is OrderStatus.FILLED]
    assert len(fills) == 1
    _, t_fill, _, px, qty = fills[0]
    arrive = s.t_buy + 2 * MS + 5 * MS  # market-data + entry latency
    assert t_fill == arrive + (7 - 2) * MS  # response latency, less the market-data delay already paid
    times = [t for t, _ in s.quotes]
    ask_then = s.quotes[bisect.bisect_right(times, arrive) - 1][1]
    assert px == ask_then <= s.limit  # priced by the book at arrival, not at the decision
    # the cancel is a request: pending at once, confirmed when the venue's answer comes back
    assert s.status_after_cancel is OrderStatus.PENDING_CANCEL
    closed = [e for e in s.events if e[0] == s.maker.order_id and e[2] is OrderStatus.CANCELED]
    assert closed and closed[0][1] == s.t_cancel + 12 * MS


def test_market_maker_backtest_is_deterministic(tmp_path):
    path = ROOT / "strategies" / "market_maker.py"
    runs = []
    for _ in range(2):
        engine, result = run_backtest(path, data_dir=DATA)
        runs.append([(f.time, f.order_id, f.quantity, f.price) for f in engine.fills])
    assert len(runs[0]) > 100  # it does trade
    assert runs[0] == runs[1]
    assert all(abs(round(p * 100) - p * 100) < 1e-6 for *_, p in runs[0])  # on the tick grid
