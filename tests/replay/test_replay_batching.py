"""``leand replay`` runs a strategy's consecutive market-data inputs through the engine's loop in one pass
(``Engine.on_live_slices``). It must replay exactly as one ``on_live_slice`` call per input did: the same
decisions, orders, fills and report, the same error when the strategy raises, and the same inputs reaching a
strategy that quits."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest

from leand import __version__
from leand.bundled import STRATEGIES
from leand.engine import Engine
from leand.live.config import default_config
from leand.model import QuoteTick, Symbol, TradeTick
from leand.replay.recorder import Recorder
from leand.replay.records import Header, MarketData, Slice, StrategySource, Tick, TradeData
from leand.replay.replayer import load, replay_strategy, report_text

BTC = Symbol.crypto("BTCUSD")

RAISES = '''
from leand import Resolution, Strategy


class Raises(Strategy):
    def initialize(self):
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.seen = 0

    def on_data(self, data):
        self.seen += 1
        if self.seen == 777:
            raise RuntimeError("boom")
'''

QUITS = '''
from leand import Resolution, Strategy


class Quits(Strategy):
    def initialize(self):
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.seen = 0

    def on_data(self, data):
        self.seen += 1
        if self.seen % 40 == 0:
            self.market_order(self.symbol, 0.001)
        if self.seen == 500:
            self.quit("enough")
'''

#: what the loop's one-tick live step (``EventLoop.live_step``) takes besides the strategy's handler: an indicator
#: fed each tick, a consolidator, timers due between and at ticks, resting limit orders scanned, market orders
RICH = '''
from datetime import timedelta

from leand import Resolution, Strategy


class Rich(Strategy):
    def initialize(self):
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.avg = self.sma(self.symbol, 20)
        self.bars = []
        self.consolidate(self.symbol, timedelta(seconds=1), lambda bar: self.bars.append((bar.end_time, bar.close)))
        self.fired = []
        self.schedule.on(self.date_rules.every_day(), self.time_rules.every(timedelta(milliseconds=1730)),
                         lambda: self.fired.append((self.time, self.securities[self.symbol].price)))
        self.seen = []

    def on_data(self, data):
        q = data.ticks[self.symbol][-1] if data.ticks else None
        self.seen.append((self.time, self.avg.current.value if self.avg.is_ready else None,
                          q.price if q is not None else None, len(self.bars), len(self.fired)))
        n = len(self.seen)
        if n % 50 == 0 and self.avg.is_ready:
            price = self.securities[self.symbol].price
            self.limit_order(self.symbol, 0.001, round(price * (0.9995 if n % 100 else 1.0005), 2))
        if n % 333 == 0:
            self.market_order(self.symbol, -0.001)
'''

#: a handler that keeps, changes or adds to the ticks it is given (``data.ticks``, ``{symbol: [tick]}``): the
#: loop hands the next tick over in the last one's dict and list only when nothing kept them, and they hold just
#: that tick; what it kept must still show the tick it was given then
KEEPS = '''
from leand import Resolution, Strategy


class Keeps(Strategy):
    def initialize(self):
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.kept = []
        self.seen = []

    def on_data(self, data):
        n = len(self.seen)
        ticks = data.ticks
        mine = ticks[self.symbol]
        shown = (len(ticks), len(mine), mine[-1].bid_price)
        if n % 7 == 0:
            self.kept.append(ticks)
        elif n % 7 == 1:
            self.kept.append(mine)
        elif n % 7 == 2:
            mine.append(mine[0])  # kept by nothing, but longer
        elif n % 7 == 3:
            ticks["other"] = []  # kept by nothing, but with another key
        elif n % 7 == 4:
            mine.clear()
        elif n % 7 == 5:
            ticks[self.symbol] = [mine[0], mine[0]]
        old = [(len(k), k[self.symbol][0].bid_price) if isinstance(k, dict) else (len(k), k[0].bid_price)
               for k in self.kept[-3:]]
        self.seen.append((shown, old))
'''


def _record(tmp: Path, n: int = 3000, trades: bool = False) -> Path:
    rng = np.random.default_rng(3)
    mids = 20_000 * np.exp(np.cumsum(rng.standard_normal(n) * 0.0003))
    t0 = 1_700_000_000_000_000_000
    rec = Recorder(tmp, "s", fsync="never")
    rec.write(Header(session="s", started_ns=t0, leand_version=__version__,
                     config=msgspec.to_builtins(default_config()), venues=["paper"], symbols=[BTC.id]))
    rec.write(StrategySource(strategy="scalper", class_name="PaperScalper", sha256="",
                             source=(STRATEGIES / "paper_scalper.py").read_text(), parameters={"every": 5},
                             client_id_prefix="scalper-1-", starting_balances={"USD": 100_000.0}, start_ns=t0))
    for i, m in enumerate(mids.tolist()):
        t = t0 + i * 5_000_000
        if trades and i % 3 == 2:  # a trade print (what the tick SMA and the consolidator take)
            seq = rec.market(TradeData(t, TradeTick(BTC, t, round(m, 2), 0.01)))
        else:
            seq = rec.market(MarketData(t, QuoteTick(BTC, t, round(m - 0.5, 2), 5.0, round(m + 0.5, 2), 5.0)))
        rec.write(Slice(t, "scalper", seq))
        if i % 97 == 96:  # timer inputs split the market data into runs
            rec.write(Tick(t + 1, "scalper", 0))
    rec.close()
    return tmp / "s"


def _one_at_a_time(self: Engine, times: list[int], slices, count: object = None) -> None:
    for t, events in zip(times, slices):
        self.on_live_slice(t, events)


def _replay(session: Path, monkeypatch: pytest.MonkeyPatch, batched: bool, source: Path | None = None):
    with monkeypatch.context() as m:
        if not batched:
            m.setattr(Engine, "on_live_slices", _one_at_a_time)
        rec = load(session)
        r = replay_strategy(rec, "scalper", source_path=source)
        e = r.engine
        orders = [(o.id, o.quantity, o.status.value, o.filled_quantity, o.average_fill_price, o.created_time,
                   o.last_update_time) for o in e.orders.values()]
        fills = [(f.order_id, f.time, f.quantity, f.price, f.fee) for f in e.fills]
        return (report_text(rec, [r]), r.replayed, orders, fills, r.counts, r.error, e.data_points,
                getattr(e.strategy, "seen", None))


def test_batched_replay_equals_one_slice_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = _record(tmp_path)
    batched = _replay(session, monkeypatch, True)
    assert batched[1], "the scalper made decisions"
    assert batched[6] == 3000
    assert batched == _replay(session, monkeypatch, False)


@pytest.mark.parametrize("source", [RAISES, QUITS, RICH, KEEPS])
def test_raising_or_quitting_strategy_replays_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      source: str) -> None:
    session = _record(tmp_path, trades=source is RICH)
    path = tmp_path / "strategy.py"
    path.write_text(source)
    batched = _replay(session, monkeypatch, True, path)
    assert batched == _replay(session, monkeypatch, False, path)
    if source is RAISES:
        assert "RuntimeError: boom (at " in batched[5] and batched[7] == 777
    elif source is KEEPS:
        shown = [x[0] for x in batched[7]]
        assert len(shown) == 3000 and set(shown) != {shown[0]}
        assert all(s[:2] == (1, 1) for s in shown), "each step's ticks hold its one tick"
    elif source is RICH:
        assert not batched[5] and len(batched[7]) == 3000 and batched[7][-1][1] is not None
        assert batched[7][-1][3] > 10 and batched[7][-1][4] > 5 and len(batched[3]) > 10, batched[7][-1]
    else:
        assert batched[7] == 3000  # every input still reached the strategy after it asked to quit


def test_loaded_market_data_shares_the_strategys_symbol(tmp_path: Path) -> None:
    """A recording decodes one Symbol per message; load gives every event the process's one shared instance,
    the one the strategy's ``add_crypto`` got, so the per-event paths find it by identity."""
    rec = load(_record(tmp_path, 50))
    canonical = Symbol.crypto("BTCUSD")
    assert canonical is Symbol.parse(canonical.id) is Symbol.create("btcusd", "crypto", "Coinbase")
    assert all(m.event.symbol is canonical for m in rec.md)
    r = replay_strategy(rec, "scalper")
    assert r.engine.strategy.symbol is canonical



def test_replay_takes_the_fused_order_path_as_the_daemon_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The recorded config's ``[hot_path] fused_orders`` picks the order manager's path, as in the daemon: on (the
    default) the scalper's orders take ``submit_live`` and the replay's brokerage ``send_plain``; off, the general
    ``submit``. Both replay the same decisions, orders and fills."""
    from leand.orders.manager import OrderManager

    session = _record(tmp_path)
    calls = {"fused": 0}
    real = OrderManager.submit_live

    def counted(self: OrderManager, *a: object, **k: object) -> object:
        calls["fused"] += 1
        return real(self, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(OrderManager, "submit_live", counted)
        fused = _replay(session, monkeypatch, True)
    assert calls["fused"] and fused[1]
    rec = load(session)
    rec.header.config.setdefault("hot_path", {})["fused_orders"] = False
    general = replay_strategy(rec, "scalper")
    e = general.engine
    assert not e.order_manager.fused_live
    orders = [(o.id, o.quantity, o.status.value, o.filled_quantity, o.average_fill_price, o.created_time,
               o.last_update_time) for o in e.orders.values()]
    fills = [(f.order_id, f.time, f.quantity, f.price, f.fee) for f in e.fills]
    assert (report_text(rec, [general]), general.replayed, orders, fills) == fused[:4]
