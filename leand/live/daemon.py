"""``leand run``: the supervised asyncio daemon.

Tasks: one feed task per data client, the control server, the watchdog, the snapshot writer, the journal's
upkeep. A market-data event, a venue report, a timer or a ctl call reaches the strategy's synchronous handlers
(the same a backtest calls) in the callback that received it, through :class:`~leand.live.hotpath.HotPath`; a
strategy too slow for that runs on a worker thread of its own behind a conflating buffer. Start-up reconciles
the journal with the venue before any strategy runs; only then is READY=1 sent to systemd.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import structlog

from leand import __version__
from leand.backtest.runner import load_strategy_class
from leand.clock import LiveClock
from leand.data.symbol_properties import SymbolPropertiesDatabase
from leand.engine import Engine
from leand.live import journal as journal_module
from leand.live import logs
from leand.live.accounts import Allocation, AllocationError, allocate
from leand.live.actions import STALE_FEED, apply_ctl
from leand.live.buffer import ConflatingBuffer
from leand.live.config import DaemonConfig, load_config
from leand.live.execution import OrderRoutes
from leand.live.faults import kill_point
from leand.live.hotpath import HotPath
from leand.live.journal import Journal
from leand.live.notify import Notifier
from leand.live.observe import Observer
from leand.live.reports import apply_report, apply_view, persist_report
from leand.live.statelock import StateLock
from leand.live.venues import (
    AccountSlice,
    Venue,
    apply_fills,
    open_venue,
    strategy_brokerage,
    venue_slots,
    venue_symbols,
)
from leand.model import (
    ExecReport,
    Order,
    OrderStatus,
    OrderType,
    QuoteTick,
    Symbol,
    TimeInForce,
    TradeTick,
    VenueOrder,
)
from leand.orders.contingent import BracketTicket
from leand.replay.recorder import Recorder
from leand.replay.records import (
    Ctl,
    Decision,
    Header,
    MarketData,
    Report,
    RiskDecision,
    Slice,
    StrategySource,
    Tick,
    TradeData,
)
from leand.risk.account import GLOBAL, AccountRisk
from leand.risk.gate import Approved
from leand.risk.limits import account_limits
from leand.tracebacks import one_line, origin

if TYPE_CHECKING:
    from leand.live.http.server import HttpServer

log = structlog.get_logger("leand.daemon")
#: closed orders an inline strategy's order manager keeps as live objects (the rest is packed, and journaled)
LIVE_ORDER_WINDOW = 1024
#: at most this many are packed per journal upkeep (every ``absorb_interval_s``): a short pause of the loop
LIVE_PACK_STEP = 256


@dataclass
class StrategyRunner:
    id: str
    engine: Engine
    on_error: str
    state: str = "running"  # running | paused | stopped | failed
    error: str = ""
    symbols: set[Symbol] = field(default_factory=set)
    handled: int = 0
    #: the engine's clock, ticked when its earliest timer is due (an event-loop ``call_at``, not polling)
    clock: LiveClock = field(default_factory=lambda: LiveClock(time.time_ns()))
    timer_handle: asyncio.TimerHandle | None = None
    timer_due_ns: int = 0
    #: the strategy's source file, to name where an exception came from
    file: str = ""
    #: the ids of the venues it trades on
    venues: tuple[str, ...] = ()
    #: auto | inline | thread (``[[strategies]] isolation``)
    isolation: str = "auto"
    #: handler calls that overran the hot path's budget, all and in a row
    overruns: int = 0
    strikes: int = 0
    #: set once it runs on a worker thread of its own (:mod:`leand.live.hotpath`)
    buffer: ConflatingBuffer | None = None
    thread: threading.Thread | None = None
    isolated_ns: int = 0
    #: inline and behind its feed (:mod:`leand.live.hotpath`): the latest market data per (symbol, type) waiting
    #: for the feed to yield, the saturated run it fell behind in, its handlers' time in the current run (all, and
    #: the longest call)
    behind: bool = False
    slot: dict[Any, list[Any]] = field(default_factory=dict)
    run: int = 0
    run_s: float = 0.0
    run_max: float = 0.0
    times_behind: int = 0
    md_conflated: int = 0
    slot_high_water: int = 0
    #: brackets whose entry filled while leand was down wait for a price to arm their exits (after a restart)
    brackets_due: bool = False

    @property
    def conflated(self) -> int:
        """Market-data events replaced by newer ones before it saw them (inline while behind, or in its
        worker's buffer)."""
        return self.md_conflated + (self.buffer.conflated if self.buffer is not None else 0)

    @property
    def backlog(self) -> int:
        return len(self.buffer) if self.buffer is not None else len(self.slot)

    @property
    def mode(self) -> str:
        return "thread" if self.buffer is not None else "inline"


class Daemon:
    def __init__(self, cfg: DaemonConfig, config_path: Path | None = None) -> None:
        self.cfg = cfg
        self.config_path = config_path
        self.notifier = Notifier()
        self.state = "starting"
        self.started = time.time()
        self.runners: dict[str, StrategyRunner] = {}
        self.stop_event = asyncio.Event()
        #: every venue by id, in config order (the first is the one-``[venue]`` form's)
        self.venues: dict[str, Venue] = {}
        #: each account's allocations: venue id -> strategy id -> currency -> amount
        self.allocations: dict[str, dict[str, dict[str, float]]] = {}
        self.loop_lag_ms = 0.0
        self.tasks: list[asyncio.Task] = []
        self.mismatches: list[dict] = []
        self.ready_at: float | None = None
        self.final_balances: dict[str, dict[str, float]] = {}
        #: metrics, order/fill log lines, webhooks and the equity history (leand.live.observe)
        self.obs = Observer(self)
        self.stats = self.obs.stats
        self.webhooks = self.obs.webhooks
        self.http: HttpServer | None = None  # when [http] is configured
        self.hot = HotPath(self._handle, cfg.hot_path.handler_budget_ms, cfg.hot_path.strikes,
                           cfg.hot_path.conflate_after_ms)
        #: symbol -> the runners subscribed to it (the feed's fan-out, built once)
        self.by_symbol: dict[Symbol, list[StrategyRunner]] = {}

    # ---- start-up ---------------------------------------------------------------------------------
    def _open(self) -> None:
        cfg = self.cfg
        state = cfg.state_path
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
        cfg.runtime_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.journal = Journal(state / "journal.sqlite", fsync=cfg.journal.fsync)
        journal_module.write_observer = self.stats.journal_write_ns
        self.boot = self.journal.next_boot()
        spdb = SymbolPropertiesDatabase.load(cfg.data_path / "symbol-properties" / "symbol-properties-database.csv")
        slots = venue_slots(self.journal, [v.name for v in cfg.venues])
        self.instruments = {}
        # each venue is found by its kind only: adding one never means editing the daemon
        for vc in cfg.venues:
            instruments = {sym: spdb.get(sym) for sym in venue_symbols(vc)}
            self.instruments.update(instruments)
            self.venues[vc.name] = open_venue(vc, slots[vc.name], single=len(cfg.venues) == 1,
                                              journal=self.journal, instruments=instruments, state=state,
                                              data_path=cfg.data_path, boot=self.boot)
        self.recorder: Recorder | None = None
        if cfg.record.enabled:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            # frames are encoded after the callback that made them (its orders out first), unless each is to
            # be fsynced as it is written
            self.recorder = Recorder(cfg.recordings_path, f"{stamp}-b{self.boot}",
                                     rotate_bytes=int(cfg.record.rotate_mb * (1 << 20)), fsync=cfg.record.fsync,
                                     fsync_interval_s=cfg.record.fsync_interval_s, background_sync=True,
                                     deferred=cfg.record.fsync != "always")
            for v in self.venues.values():
                v.session.recorder = self.recorder

    async def _connect(self) -> None:
        """Every venue connects (a network venue: order stream first, then its snapshot) before reconciliation;
        one that cannot stops the start (nothing trades without every venue reconciled)."""
        connected: list[Venue] = []
        for v in self.venues.values():
            self.notifier.status(f"connecting to {v.id}")
            try:
                await v.execution.connect()
            except Exception as e:  # unreachable, refused, timed out: no trading without a reconciled venue
                for c in (*connected, v):
                    with contextlib.suppress(Exception):
                        await c.execution.close()
                if self.recorder is not None:
                    self.recorder.close()
                self.journal.close()
                raise VenueUnavailable(f"cannot connect to venue {v.id!r}: {e}") from e
            connected.append(v)
            if self.journal.get(v.balances_key) is None:
                # a one-venue state directory grown to several venues: its venue (slot 0) keeps its start
                legacy = self.journal.get("starting_balances") if v.slot == 0 else None
                self.journal.put(v.balances_key, legacy or json.dumps(v.execution.balances()))

    def _reconcile(self) -> None:
        fills = self.journal.fills()
        for v in self.venues.values():
            self.notifier.status(f"reconciling with {v.id}")
            self.mismatches.extend(self.reconcile_venue(v, fills))
        log.info("reconcile.done", boot=self.boot, mismatches=len(self.mismatches))

    def reconcile_venue(self, v: Venue, fills: list | None = None) -> list[dict[str, Any]]:
        """The venue's view applied to the journal, and the balances the journal implies for its account
        checked against what the venue holds; returns the mismatches (each naming the venue)."""
        v.view = v.execution.reconcile()
        found = apply_view(self.journal, v.view_to_journal(v.view))
        by_id = {s.id: i for s, i in v.instruments.items()}
        implied = apply_fills(v.starting_balances(self.journal), self.journal.fills() if found or fills is None
                              else fills, by_id)
        held = v.execution.balances()
        for asset in sorted(set(implied) | set(held)):
            a, b = implied.get(asset, 0.0), held.get(asset, 0.0)
            if abs(a - b) > 1e-6 * max(1.0, abs(b)):
                m = {"kind": "balance", "asset": asset, "journal": a, "at_venue": b}
                found.append(m)
                log.warning("reconcile.mismatch", venue=v.id, **m)
        for m in found:
            m["venue"] = v.id
        v.mismatches = found
        return found

    def _build_strategies(self) -> None:
        fills = self.journal.fills()
        intents = {i["client_order_id"]: i for i in self.journal.intents()}
        enabled = [sc for sc in self.cfg.strategies if sc.enabled]
        on = {sc.id: [vid for vid in self.venues if not sc.venues or vid in sc.venues] for sc in enabled}
        # each venue is an account: each strategy's cash there is its allocation of the account as it was at the
        # first start (journaled then); the account's gate counts across the strategies on it
        for vid, v in self.venues.items():
            wanted = {}
            for sc in enabled:
                if vid in on[sc.id]:
                    raw = sc.allocations.get(vid, sc.allocation)
                    wanted[sc.id] = None if raw is None else Allocation.parse(raw, f"strategy {sc.id} allocation")
            self.allocations[vid] = allocate(vid, v.starting_balances(self.journal), wanted)
            v.account = AccountRisk(vid, account_limits(self.cfg.risk, vid), now_ns=time.time_ns)
        starting = {vid: v.starting_balances(self.journal) for vid, v in self.venues.items()}
        for sc in enabled:
            mine = {vid: self.venues[vid] for vid in on[sc.id]}
            try:
                cls = load_strategy_class(Path(sc.file), sc.class_name)
                strat = cls()
            except Exception as e:
                raise StrategyStartError(f"strategy {sc.id!r} does not load: {one_line(e, sc.file)}") from e
            strat.parameters = {**getattr(strat, "parameters", {}), **sc.parameters}
            engine = Engine(strat, self.cfg.data_path, parameters=strat.parameters, live_mode=True,
                            risk_config=self.cfg.risk, clock=(clock := LiveClock(time.time_ns())),
                            brokerage=strategy_brokerage(sc.id, mine))
            engine.strategy_id = sc.id
            engine.client_id_prefix = f"{sc.id}-{self.boot}-"
            engine.order_manager.fused_live = self.cfg.hot_path.fused_orders
            engine.log_hook = _strategy_logger(sc.id)

            def restore(e: Engine, sid: str = sc.id, mine: dict[str, Venue] = mine) -> None:
                cb = e.portfolio.cash_book
                for ccy in list(cb):
                    cb[ccy].amount = 0.0
                cash: dict[str, float] = {}
                for vid in mine:  # a currency held on two accounts is one line of the strategy's cash book
                    for ccy, amt in self.allocations[vid].get(sid, {}).items():
                        cash[ccy] = cash.get(ccy, 0.0) + amt
                for ccy, amt in cash.items():
                    cb.set_amount(ccy, amt)
                for f in fills:
                    it = intents.get(f.client_order_id)
                    if it is not None and it["strategy"] == sid and f.symbol in e.securities:
                        e.portfolio.process_fill(e.securities[f.symbol], f)
                snap = self.journal.load_snapshot(sid)
                if snap is not None and hasattr(e.strategy, "set_state"):
                    e.strategy.set_state(snap)

            try:
                engine.start_live(restore=restore)
            except Exception as e:
                raise StrategyStartError(f"strategy {sc.id!r} failed to start: {one_line(e, sc.file)}") from e
            # the strategy's gate consults the account of each order's venue, shared with every strategy on it
            gate = engine.risk_gate
            accounts = [v.account for v in mine.values() if v.account is not None]
            gate.account = accounts[0] if accounts else None
            if len(mine) > 1:
                gate.accounts = {sym: v.account for v in mine.values() if v.account is not None
                                 for sym in v.instruments}
            for v in mine.values():
                if v.account is not None:
                    v.account.register(sc.id, gate.ctx if len(mine) == 1 else AccountSlice(gate.ctx, v.instruments))
            runner = StrategyRunner(sc.id, engine, sc.on_error, symbols=set(engine.securities), clock=clock,
                                    file=sc.file, venues=tuple(mine), isolation=sc.isolation)
            clock.on_next_timer = lambda due, r=runner: self._arm_timer(r, due)
            if clock.next_timer_ns is not None:  # timers the strategy set while it initialized
                self._arm_timer(runner, clock.next_timer_ns)
            self.runners[sc.id] = runner
            if self.recorder is not None:
                # a replay re-simulates one venue: the strategy's first
                self._record_strategy(sc, engine, starting[next(iter(mine))] if mine else {})
            self.obs.attach(runner)
            # orders still open at the venues come back under the engine's care
            for ov, vo in ((x, vo) for x in mine.values() for vo in (x.view.open_orders if x.view else [])):
                it = intents.get(vo.client_order_id)
                if it is None or it["strategy"] != sc.id:
                    continue
                order = self.adopt(engine, vo, it, sc.id)
                ov.session.routes[vo.client_order_id] = (sc.id, order)
            # emulated orders never reached the venue: armed again from the journal, type and trigger intact
            self.rearm_emulated(self.journal, engine, self.routes_for, sc.id)
            self.relink(self.journal, engine)
            # until the first prices: an entry that filled while down, or fills before a quote came, is armed then
            runner.brackets_due = self.rebracket(self.journal, engine, sc.id) > 0

    @staticmethod
    def relink(journal: Journal, engine: Engine) -> int:
        """One-cancels-other pairs whose orders are both open again after a restart are linked again; an open
        order whose partner filled while leand was down (a bracket's take-profit, say) is canceled for it."""
        by_cid = {o.client_order_id: o.id for o in engine.open_orders.values()}
        links = journal.links()
        filled = {i["client_order_id"] for i in journal.intents() if i["client_order_id"] in links
                  and (i["status"] in ("filled", "partially_filled") or i["filled"])}
        n = 0
        for a, b in links.items():
            if a in by_cid and b in by_cid and a < b:
                engine.order_manager.contingent.link(by_cid[a], by_cid[b], restored=True)
                n += 1
            elif a in by_cid and b in filled and b not in by_cid:
                log.info("order.oco_restart_cancel", client_order_id=a, other=b)
                engine.order_manager.cancel(by_cid[a], "OCO: the other order filled while leand was down")
        return n

    @staticmethod
    def rebracket(journal: Journal, engine: Engine, sid: str) -> int:
        """Strategy ``sid``'s brackets that were waiting for their entry when leand stopped: an entry still open
        waits for its bracket again (a venue list's with its exits); one that filled, or ended part-filled, while
        leand was down gets its exits armed now, once, for what filled. Returns how many were restored (and wait
        for it or for a price). A bracket armed before the restart with an exit still open comes back too, its
        exits the orders adopted (or armed again) now, so ``get_bracket_tickets()`` gives every live bracket."""
        waiting = journal.waiting_brackets()
        armed = journal.armed_brackets()
        if not waiting and not armed:
            return 0
        intents = {i["client_order_id"]: i for i in journal.intents()}
        open_by_cid = {o.client_order_id: o for o in engine.open_orders.values()}
        contingent = engine.order_manager.contingent
        for w in armed:
            it = intents.get(w["client_order_id"])
            tp, sl = open_by_cid.get(w["take_profit_cid"]), open_by_cid.get(w["stop_loss_cid"])
            if it is None or it["strategy"] != sid or (tp is None and sl is None):
                continue
            contingent.restore_armed(BracketTicket(w["take_profit"], w["stop_loss"], w["tag"] or ""), tp, sl)
            log.info("order.bracket_restored", strategy=sid, client_order_id=w["client_order_id"], armed=True,
                     take_profit=w["take_profit_cid"] if tp is not None else None,
                     stop_loss=w["stop_loss_cid"] if sl is not None else None)
        n = 0
        for w in waiting:
            cid = w["client_order_id"]
            it = intents.get(cid)
            if it is None or it["strategy"] != sid:
                continue
            b = BracketTicket(w["take_profit"], w["stop_loss"], w["tag"] or "")
            entry = open_by_cid.get(cid)
            if entry is not None:
                exits = (open_by_cid.get(w["take_profit_cid"]), open_by_cid.get(w["stop_loss_cid"])) \
                    if w["list"] else None
                contingent.restore(entry, b, exits)
                log.info("order.bracket_restored", strategy=sid, client_order_id=cid, native=bool(w["list"]))
            elif it["filled"] and not (w["list"] and it["status"] == "filled"):  # a full list: the venue's exits
                entry = Order(id=0, symbol=Symbol.parse(it["symbol"]), quantity=it["quantity"],
                              type=OrderType(it["type"]), limit_price=it["limit_price"],
                              status=OrderStatus(it["status"]), filled_quantity=it["filled"], client_order_id=cid,
                              strategy_id=sid, created_time=it["created_ns"], tag=it["tag"] or "")
                log.info("order.bracket_armed_at_restart", strategy=sid, client_order_id=cid, filled=it["filled"])
                contingent.arm_recovered(entry, b)
            else:
                continue
            n += 1
        return n

    def routes_for(self, symbol: Symbol) -> OrderRoutes:
        """The order session of the venue that trades ``symbol`` (the first venue's for an unknown one)."""
        for v in self.venues.values():
            if symbol in v.instruments:
                return v.session
        return next(iter(self.venues.values())).session

    @staticmethod
    def adopt(engine: Engine, vo: VenueOrder, it: dict[str, Any], sid: str) -> Order:
        """An order still open at the venue after a restart, under the engine's care again: as the journal's
        intent has it (its type, trigger and time in force, a GTD's expiry), with the venue's fill."""
        order = Order(id=0, symbol=Symbol.parse(vo.symbol), quantity=vo.quantity, type=OrderType(it["type"]),
                      limit_price=vo.limit_price, stop_price=it["stop_price"],
                      time_in_force=TimeInForce(it["time_in_force"]), expire_time=it.get("expire_ns"),
                      status=OrderStatus.PARTIALLY_FILLED if vo.filled else OrderStatus.ACCEPTED,
                      filled_quantity=vo.filled, client_order_id=vo.client_order_id, strategy_id=sid,
                      created_time=it["created_ns"], tag=it["tag"] or "", stop_triggered=bool(it.get("triggered")))
        engine.order_manager.adopt(order)
        return order

    @staticmethod
    def rearm_emulated(journal: Journal, engine: Engine, session: Any, sid: str) -> list[Order]:
        """Put strategy ``sid``'s emulated orders that had not triggered back under the order manager's care,
        from the journal (a stop that triggered was sent, so the venue's own view brings it back). ``session``
        is the venue's order routes, or a function from a symbol to its venue's."""
        routes_for = session if callable(session) else (lambda _s: session)
        out = []
        for it in journal.open_intents():
            if it["strategy"] != sid or not it.get("emulated") or it.get("triggered"):
                continue
            t = OrderType(it["type"])
            lit = t is OrderType.LIMIT_IF_TOUCHED  # the journal's stop column holds its trigger
            order = Order(id=0, symbol=Symbol.parse(it["symbol"]), quantity=it["quantity"], type=t,
                          limit_price=it["limit_price"], stop_price=None if lit else it["stop_price"],
                          trigger_price=it["stop_price"] if lit else None,
                          trailing_amount=it["trailing_amount"], trailing_as_percentage=bool(it["trailing_pct"]),
                          time_in_force=TimeInForce(it["time_in_force"]), expire_time=it.get("expire_ns"),
                          status=OrderStatus.ACCEPTED, client_order_id=it["client_order_id"], strategy_id=sid,
                          created_time=it["created_ns"], tag=it["tag"] or "")
            engine.order_manager.adopt(order)
            engine.brokerage.hold(order)
            routes_for(order.symbol).routes[order.client_order_id] = (sid, order)
            log.info("order.rearmed", strategy=sid, client_order_id=order.client_order_id, type=order.type.value,
                     stop=order.stop_price)
            out.append(order)
        return out

    # ---- recording ----------------------------------------------------------------------------------
    def _record_header(self) -> None:
        rec = self.recorder
        assert rec is not None
        cfg = msgspec.to_builtins(self.cfg)  # secrets are only ever references here
        rec.meta.update(venues=",".join(self.venues), symbols=",".join(s.value for s in self.instruments),
                        strategies=",".join(s.id for s in self.cfg.strategies if s.enabled))
        rec.write(Header(session=rec.session, started_ns=rec.meta["started_ns"], leand_version=__version__,
                         config=cfg, venues=list(self.venues), symbols=[s.id for s in self.instruments]))
        rec.update_catalog()

    def _record_strategy(self, sc, engine: Engine, starting: dict) -> None:
        rec = self.recorder
        assert rec is not None
        source = Path(sc.file).read_text()
        pf = engine.portfolio
        restored = {"cash": {c: cash.amount for c, cash in pf.cash_book.items()},
                    "positions": {s.id: [sec.holdings.quantity, sec.holdings.average_price]
                                  for s, sec in engine.securities.items() if sec.holdings.quantity},
                    "open_orders": [], "next_order_id": engine.order_manager.next_order_id}
        rec.write(StrategySource(strategy=sc.id, class_name=type(engine.strategy).__name__,
                                 sha256=hashlib.sha256(source.encode()).hexdigest(), source=source,
                                 parameters=dict(engine.parameters), client_id_prefix=engine.client_id_prefix,
                                 starting_balances=starting, restored=restored, start_ns=engine.clock.now_ns()))
        sid = sc.id

        clock = engine.clock

        # (``_value_``, not ``.value``: an enum member's ``value`` is a Python-level descriptor call on 3.11)
        def on_decision(kind: str, o: Order) -> None:
            rec.write(Decision(recv_ns=clock.now_ns(), strategy=sid, kind=kind,
                               client_order_id=o.client_order_id, symbol=o.symbol.id, quantity=o.quantity,
                               order_type=o.type._value_, limit_price=o.limit_price, stop_price=o.stop_price,
                               time_in_force=o.time_in_force._value_, tag=o.tag))

        def on_risk(o: Order, d) -> None:
            if d.__class__ is Approved:
                rec.write(RiskDecision(recv_ns=clock.now_ns(), strategy=sid, client_order_id=o.client_order_id,
                                       approved=True))
            else:
                rec.write(RiskDecision(recv_ns=clock.now_ns(), strategy=sid, client_order_id=o.client_order_id,
                                       approved=d.approved, code=getattr(d, "code", ""),
                                       message=getattr(d, "message", "")))

        engine.decision_hook = on_decision
        engine.risk_hook = on_risk

    # ---- tasks --------------------------------------------------------------------------------------
    async def _supervise(self, name: str, factory, base: float = 0.2, cap: float = 10.0) -> None:
        """Run a task forever; on failure restart it with exponential backoff and jitter."""
        delay = base
        while not self.stop_event.is_set():
            try:
                await factory()
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.error("task.failed", task=name, error=f"{type(e).__name__}: {e}", retry_in_s=round(delay, 3))
                self.obs.task_restarted(name)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(cap, delay * 2)

    async def _feed(self, v: Venue) -> None:
        on_event = self._market_consumer(v)
        attach = getattr(v.data, "attach", None)
        if attach is not None:  # events come in the socket's read callback, not out of the iterator
            attach(on_event)
        # closed when the feed ends or stops, not left to the collector: a stream may have work after its last
        # event (the paper venue's fills of that quote, committed at the venue and still to be pushed and journaled)
        stream = v.data.stream()
        try:
            async for q in stream:
                if not on_event(q):
                    return
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    def _market_consumer(self, v: Venue) -> Callable[[QuoteTick | TradeTick], bool]:
        """What the daemon does with one market-data event of ``v``, in the callback that has it; False once
        the daemon is stopping. A data client with ``attach(consumer)`` calls it from its socket's read
        callback (no loop iteration between the read and the strategy), any other one through ``stream()``."""
        feed = self.stats.feed  # (LiveStats.feed_message inline: one call less per event)
        stop = self.stop_event
        rec = self.recorder
        by_symbol = self.by_symbol
        deliver = self.hot.deliver

        def on_event(q: QuoteTick | TradeTick) -> bool:
            if stop.is_set():
                return False
            v.last_quote_wall = now = time.monotonic()
            sym = q.symbol
            c = feed.get(sym)
            if c is None:
                feed[sym] = [1, now]
            else:
                c[0] += 1
                c[1] = now
            # every inbound event is recorded, quotes and trades alike, so a replay sees what the strategy saw
            if rec is not None:
                seq = rec.market(MarketData(q.time, q) if isinstance(q, QuoteTick) else TradeData(q.time, q))
            else:
                seq = -1
            runners = by_symbol.get(sym)
            if runners:
                events = (q,)
                key = (sym, type(q))
                for r in runners:
                    # the strategy's handler, its gate, the journal and the venue's request, in this callback
                    deliver(r, ["slice", q.time, events, seq, now, key])
            if rec is not None:
                rec.drain_soon()  # encoded once the socket read's callback ends, after the orders went out
            return True

        return on_event

    def _on_report(self, v: Venue, rep: ExecReport) -> None:
        """A venue's report, in the callback that produced it: journaled before anyone acts on it, then to the
        strategy's order manager (inline, or into its buffer, never conflated)."""
        try:
            if rep.fill_quantity:
                kill_point("fill_unjournaled")
                rep = v.to_journal(rep)  # its fill id in the journal's space (the same for a one-venue daemon)
            fresh = persist_report(self.journal, rep)
            route = v.session.routes.get(rep.client_order_id)
            live: Order | None = None  # the order when routed; else its strategy's thread looks it up
            if route is None:
                route = self._closed_route(rep.client_order_id)
                if route is None:
                    log.warning("session.unrouted_report", venue=v.id, client_order_id=rep.client_order_id,
                                status=rep.status)
                    return
                sid, order = route
            else:
                sid, order = route
                live = order
            self.obs.on_report(sid, order, rep, fresh)
        except Exception as e:  # the venue client's callback must go on (its stream, its request)
            log.error("session.report_failed", client_order_id=rep.client_order_id,
                      error=f"{type(e).__name__}: {e}")
            return
        if fresh or not rep.fill_quantity:
            self.hot.deliver(self.runners[sid], ("report", live, rep))
            if self.recorder is not None:
                self.recorder.drain()

    def _closed_route(self, cid: str) -> tuple[str, Order] | None:
        """The route of a report whose order was closed and its route pruned (a fill that trailed its cancel): the
        strategy from the journal, the order (a copy: it is read on the loop's thread) from its order manager."""
        sid = self.journal.strategy_of(cid)
        r = self.runners.get(sid) if sid is not None else None
        if sid is None or r is None:
            return None
        try:
            order = r.engine.order_manager.order_by_client_id(cid, live=False)
        except Exception:  # the strategy's thread is packing its archive this instant
            order = None
        if order is None:
            return None
        return sid, order

    def deliver(self, r: StrategyRunner, item: tuple) -> None:
        """An input for one strategy (a ctl call, a halt), handled in order with its data."""
        self.hot.deliver(r, item)

    def _handle(self, r: StrategyRunner, item: Any) -> None:
        """One input into the engine, on the thread the strategy runs on. Every input is recorded as
        consumed, in order: that sequence is exactly what a replay feeds the same strategy code."""
        e = r.engine
        rec = self.recorder
        sid = r.id
        kind = item[0]
        inline = r.buffer is None
        write = rec.write if rec is not None and inline else (
            (lambda f: self.hot.post(rec.write, f)) if rec is not None else None)
        try:
            if kind == "slice":
                if r.state == "running":
                    if write is not None:
                        write(Slice(item[1], sid, item[3]))
                    if inline:
                        stats = self.stats
                        stats.tick_recv = item[4]  # tick-to-order starts at the message's receipt
                        e.on_live_slice(item[1], item[2])
                        stats.tick_recv = 0.0
                    else:
                        e.on_live_slice(item[1], item[2])
                    r.handled += 1
                else:  # paused/stopped/failed strategies still keep prices current
                    _update_prices(e, item[2])
                if r.brackets_due:  # the first prices after a restart: exits of entries filled meanwhile
                    r.brackets_due = e.order_manager.contingent.arm_ready()
            elif kind == "report":
                rep = item[2]
                now = time.time_ns()
                e.clock.advance_to(now)  # the time the strategy sees it at is part of the input
                if write is not None:
                    write(Report(recv_ns=now, strategy=sid, client_order_id=rep.client_order_id,
                                 status=rep.status, kind=rep.kind, fill_id=rep.fill_id, fill_quantity=rep.fill_quantity,
                                 fill_price=rep.fill_price, fee=rep.fee, fee_currency=rep.fee_currency,
                                 liquidity=rep.liquidity, reason=rep.reason))
                order = item[1]
                if order is None:  # its route was pruned: found on this (the engine's) thread
                    order = e.order_manager.order_by_client_id(rep.client_order_id)
                    if order is None:
                        log.warning("session.unknown_order", strategy=sid, client_order_id=rep.client_order_id)
                        return
                apply_report(e, order, rep)
            elif kind == "tick":
                if r.state == "running":
                    now = time.time_ns()
                    fired = r.clock.tick(now)
                    if fired and write is not None:
                        write(Tick(now, sid, fired))
                due = r.clock.next_timer_ns
                if due is not None:
                    self._arm_timer(r, due)
            elif kind == "upkeep":  # not an input of the strategy's: not recorded, nothing a replay needs
                try:
                    e.order_manager.archive.trim(LIVE_ORDER_WINDOW, LIVE_PACK_STEP)
                except Exception as exc:
                    log.error("strategy.upkeep_failed", strategy=sid, error=f"{type(exc).__name__}: {exc}")
            elif kind == "call":
                now = time.time_ns()
                e.clock.advance_to(now)
                if write is not None:
                    write(Ctl(recv_ns=now, who="ctl", command=item[1], args=item[2], strategy=sid))
                apply_ctl(e, item[1], item[2])
        except Exception as exc:  # isolate the strategy, keep the daemon
            self._strategy_failed(r, exc)

    def _strategy_failed(self, r: StrategyRunner, exc: BaseException) -> None:
        r.state = "failed"
        r.error = f"{type(exc).__name__}: {exc}"
        log.error("strategy.failed", strategy=r.id, error=r.error, where=origin(exc, r.file or None),
                  detail=one_line(exc, r.file or None), on_error=r.on_error)
        self.hot.post(self.obs.strategy_failed, r)
        e = r.engine
        try:
            if r.on_error in ("cancel", "flatten"):
                for o in list(e.open_orders.values()):
                    e.cancel_order(o.id, "strategy failed")
            if r.on_error == "flatten":
                e.liquidate(None, "strategy failed: flatten")
        except Exception as exc2:
            log.error("strategy.cleanup_failed", strategy=r.id, error=f"{type(exc2).__name__}: {exc2}")

    def _arm_timer(self, r: StrategyRunner, due_ns: int) -> None:
        """Have the event loop wake this strategy when its earliest timer is due (kept if one is armed sooner).
        A wake-up that comes early (the loop's clock is coarser than ours) finds nothing due and re-arms."""
        if r.buffer is not None and threading.current_thread() is r.thread:  # the loop's timers are the loop's
            self.hot.post(self._arm_timer, r, due_ns)
            return
        h = r.timer_handle
        if h is not None and not h.cancelled() and r.timer_due_ns <= due_ns:
            return
        if h is not None:
            h.cancel()
        loop = asyncio.get_running_loop()
        r.timer_due_ns = due_ns
        r.timer_handle = loop.call_at(loop.time() + max(0.0, (due_ns - time.time_ns()) / 1e9), self._timer_due, r)

    def _timer_due(self, r: StrategyRunner) -> None:
        r.timer_handle = None
        self.hot.deliver(r, ("tick",))

    async def _snapshots(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.snapshot_interval_s)
            self._snapshot_all()

    async def _journal_upkeep(self) -> None:
        """Absorb the intent log into SQLite off the hot path, and flush it under the ``interval`` policy; flush
        the recording under its own and fsync it on a worker thread (a stall of the disk stalls no event)."""
        jc = self.cfg.journal
        next_sync = time.monotonic() + jc.fsync_interval_s
        next_prune = time.monotonic() + 1.0
        while True:
            await asyncio.sleep(min(jc.absorb_interval_s, jc.fsync_interval_s))
            self._safe(self.journal.absorb)
            if time.monotonic() >= next_prune:  # closed orders' routes (the journal answers for them)
                for v in self.venues.values():
                    self._safe(v.session.prune)
                self._safe(self.journal.prune_brackets)  # and brackets that are done
                next_prune = time.monotonic() + 1.0
            for r in self.runners.values():  # closed orders beyond the recent window, packed a few at a time
                if r.buffer is None:  # an inline strategy: its engine is this thread's
                    self._safe(partial(r.engine.order_manager.archive.trim, LIVE_ORDER_WINDOW, LIVE_PACK_STEP))
                else:  # on its own thread, between its inputs
                    self.hot.deliver(r, ("upkeep",))
            fd = self.recorder.flush_if_due() if self.recorder is not None else None
            if fd is not None:
                with contextlib.suppress(OSError):  # a segment rotated meanwhile was fsynced as it closed
                    await asyncio.to_thread(os.fsync, fd)
            if time.monotonic() >= next_sync:
                self._safe(self.journal.sync)
                next_sync = time.monotonic() + jc.fsync_interval_s

    async def _equity(self) -> None:
        interval = self.cfg.equity_interval_s
        if interval <= 0:
            return
        while True:
            self._safe(self._sample_equity)
            await asyncio.sleep(interval)

    def _sample_equity(self) -> None:
        """Journal each strategy's and each venue account's equity and positions: the live equity curve."""
        samples: list[tuple[str, str, float, dict, dict]] = []
        prices: dict[str, float] = {}
        for r in self.runners.values():
            pf = r.engine.portfolio
            positions = {}
            for s, sec in r.engine.securities.items():
                if sec.price:
                    prices[s.value] = sec.price
                if sec.holdings.quantity:
                    positions[s.value] = sec.holdings.quantity
            samples.append(("strategy", r.id, pf.total_portfolio_value,
                            {c: cash.amount for c, cash in pf.cash_book.items()}, positions))
        equities = {}
        for v in self.venues.values():
            balances = v.execution.balances()
            equity = 0.0
            for inst_sym, inst in v.instruments.items():
                if inst.base_currency and inst_sym.value in prices:
                    equity += balances.get(inst.base_currency, 0.0) * prices[inst_sym.value]
            quotes = {inst.quote_currency for inst in v.instruments.values()}
            equity += sum(balances.get(c, 0.0) for c in quotes)
            held = {a: q for a, q in balances.items() if a not in quotes and q}
            samples.append(("account", v.id, equity, {c: balances.get(c, 0.0) for c in quotes}, held))
            equities[v.id] = equity
        now = time.time_ns()
        self.journal.equity_sample(samples, now)
        for vid, equity in equities.items():  # each account's daily loss and drawdown, across its strategies
            acct = self.venues[vid].account
            if acct is not None:
                acct.on_equity(equity, now)

    def _snapshot_all(self) -> None:
        now = time.time_ns()
        for r in self.runners.values():
            pf = r.engine.portfolio
            self.journal.snapshot(f"{r.id}:portfolio", {
                "cash": {c: cash.amount for c, cash in pf.cash_book.items()},
                "positions": {s.id: [sec.holdings.quantity, sec.holdings.average_price]
                              for s, sec in r.engine.securities.items() if sec.holdings.quantity}}, now)
            get = getattr(r.engine.strategy, "get_state", None)
            if get is not None:
                try:
                    self.journal.snapshot(r.id, get(), now)
                except Exception as e:
                    log.error("snapshot.failed", strategy=r.id, error=str(e))

    def health(self) -> dict[str, Any]:
        """Healthy: the loop keeps up, every venue's feed is fresh and no strategy has failed. A stale feed is
        named by its venue when the daemon has several."""
        now = time.monotonic()
        ages = {vid: now - v.last_quote_wall if v.last_quote_wall else None for vid, v in self.venues.items()}
        failed = sorted(r.id for r in self.runners.values() if r.state == "failed")
        problems = []
        if self.loop_lag_ms > self.cfg.watchdog.max_loop_lag_ms:
            problems.append(f"loop lag {self.loop_lag_ms:.1f} ms")
        several = len(ages) > 1
        for vid, age in ages.items():
            where = f"venue {vid}: " if several else ""
            if age is None or age > self.cfg.watchdog.max_feed_staleness_s:
                problems.append(f"{where}no market data yet" if age is None else f"{where}feed stale for {age:.1f} s")
        alive = not problems  # what the systemd watchdog pings on: a failed strategy is no reason to restart
        problems.extend(f"strategy {sid} failed" for sid in failed)
        worst = None if not ages or None in ages.values() else max(a for a in ages.values() if a is not None)
        return {"ok": not problems, "alive": alive, "loop_lag_ms": round(self.loop_lag_ms, 3),
                "feed_age_s": None if worst is None else round(worst, 3),
                "feed_ages_s": {vid: None if a is None else round(a, 3) for vid, a in ages.items()},
                "failed_strategies": failed, "problems": problems}

    def _stale_feed(self, now: float) -> None:
        """Halt the strategies trading on a venue whose market data is older than the limit (checked each 0.1 s
        watchdog tick, so it fires within a tick of the limit), and lift that halt, only that one, when data
        flows again on every venue the strategy trades on."""
        wd = self.cfg.watchdog
        if not wd.halt_on_stale_feed:
            return
        for v in self.venues.values():
            if not v.last_quote_wall:
                continue
            age = now - v.last_quote_wall
            if age > wd.max_feed_staleness_s and not v.stale_halted:
                v.stale_halted = True
                log.warning("feed.stale_halt", venue=v.id, age_s=round(age, 3))
                for r in self.runners.values():
                    if v.id in r.venues:
                        self.deliver(r, ("call", "halt", {
                            "reason": f"{STALE_FEED}: no market data from {v.id} for {age:.1f} s",
                            "cancel_all": False}))
            elif age <= wd.max_feed_staleness_s and v.stale_halted:
                v.stale_halted = False
                log.info("feed.stale_resume", venue=v.id)
                for r in self.runners.values():
                    if v.id in r.venues and not any(self.venues[o].stale_halted for o in r.venues):
                        self.deliver(r, ("call", "feed-resume", {"by": "feed recovered"}))

    def feed_stats(self, v: Venue | None = None) -> dict[str, int]:
        """A venue's data client's counters (the first venue's by default) and, for a venue with local books,
        how many are in sync right now."""
        if v is None:
            if not self.venues:
                return {}
            v = next(iter(self.venues.values()))
        dc = v.data
        out = dict(getattr(dc, "stats", None) or {})
        books = getattr(dc, "books", None)
        if isinstance(books, dict):
            out["books"] = len(books)
            out["books_in_sync"] = sum(1 for b in books.values() if getattr(b, "synced", False))
        return out

    def backlog(self) -> dict[str, int]:
        """Queued, not yet handled: each isolated strategy's buffer (inline ones have none) and each venue's
        reports (none once the daemon consumes them directly)."""
        out = {r.id: r.backlog for r in self.runners.values()}
        out["venue_reports"] = sum(v.execution.reports.qsize() for v in self.venues.values())
        if len(self.venues) > 1:
            for vid, v in self.venues.items():
                out[f"venue_reports:{vid}"] = v.execution.reports.qsize()
        return out

    def venue_status(self) -> dict[str, dict[str, Any]]:
        """Per venue: its kind and symbols, its feed's age and counters, its reports backlog, its account."""
        now = time.monotonic()
        out = {}
        for vid, v in self.venues.items():
            out[vid] = {"kind": v.config.kind, "symbols": [s.value for s in v.instruments],
                        "feed_age_s": round(now - v.last_quote_wall, 3) if v.last_quote_wall else None,
                        "stale": v.stale_halted, "feed": self.feed_stats(v),
                        "reports_backlog": v.execution.reports.qsize(),
                        "account": v.account.level.state if v.account is not None else "active",
                        "mismatches_at_start": len(v.mismatches)}
        return out

    async def _watchdog(self) -> None:
        interval = (self.notifier.watchdog_s or 2.0) / 2
        tick = 0.1
        last_ping = 0.0
        while True:
            t0 = time.monotonic()
            await asyncio.sleep(tick)
            self.loop_lag_ms = max(0.0, (time.monotonic() - t0 - tick) * 1000)
            self._stale_feed(time.monotonic())
            self.stats.loop_lag.observe(self.loop_lag_ms / 1000)
            if self.notifier.watchdog_s and time.monotonic() - last_ping >= interval:
                h = self.health()
                if h["alive"]:
                    self.notifier.watchdog()
                    last_ping = time.monotonic()
                else:
                    self.notifier.status(f"unhealthy: loop lag {h['loop_lag_ms']} ms, feed age {h['feed_age_s']} s")

    # ---- control actions (the ctl server calls these) ------------------------------------------------
    def status(self) -> dict[str, Any]:
        gate_state = next((r.engine.risk_gate.state.value for r in self.runners.values()), "active")
        return {"state": self.state, "boot": self.boot, "pid": os.getpid(), "uptime_s": round(time.time() -
                                                                                               self.started, 3),
                "trading_state": gate_state, "global_state": GLOBAL.state,
                "accounts": {vid: v.account.level.state for vid, v in self.venues.items() if v.account is not None},
                "venue": self.cfg.venue.name, "venues": self.venue_status(),
                "strategies": {r.id: r.state for r in self.runners.values()},
                "open_orders": sum(len(r.engine.open_orders) for r in self.runners.values()),
                "mismatches_at_start": len(self.mismatches), "backlog": self.backlog(),
                "runners": {r.id: r.mode for r in self.runners.values()},
                "conflated": {r.id: r.conflated for r in self.runners.values()},
                "behind": {r.id: r.behind for r in self.runners.values()},
                "feed": self.feed_stats(), **self.health()}

    def summary(self) -> str:
        j = Journal(self.cfg.state_path / "journal.sqlite")
        try:
            intents = dict(j.conn.execute("SELECT status, COUNT(*) FROM intents GROUP BY status").fetchall())
            fills = j.conn.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
        finally:
            j.close()
        lines = [f"leand run: stopped after boot {self.boot}; state in {self.cfg.state_path}/",
                 f"  orders: {sum(intents.values())} ({', '.join(f'{k} {v}' for k, v in sorted(intents.items()))})",
                 f"  fills:  {fills}"]
        for vid, bal in self.final_balances.items():
            name = "venue" if len(self.final_balances) == 1 else f"venue {vid}"
            lines.append(f"  {name} balances: {', '.join(f'{k} {v:,.8g}' for k, v in sorted(bal.items()))}")
        lines.append("  journal: tables intents, events, fills, ctl_audit in the state's journal.sqlite")
        return "\n".join(lines)

    def reload(self) -> dict[str, Any]:
        """Re-read the config file; apply risk limits and log level (validated first: on error nothing changes)."""
        self.notifier.reloading()
        try:
            if self.config_path is None:
                return {"reloaded": False, "reason": "started with the default config: nothing to re-read"}
            new = load_config(self.config_path)
            for r in self.runners.values():
                self.deliver(r, ("call", "risk-set", msgspec.to_builtins(new.risk)))
            logs.set_level(new.log_level)
            self.cfg.risk = new.risk
            log.info("config.reloaded", path=str(self.config_path))
            return {"reloaded": True}
        finally:
            self.notifier.ready(f"trading ({len(self.runners)} strategies)")

    # ---- run -----------------------------------------------------------------------------------------
    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop_event.set)
        loop.add_signal_handler(signal.SIGINT, self.stop_event.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: self._safe(self.reload))
        from leand.live.ctl_server import CtlServer

        self.ctl = CtlServer(self)
        if self.cfg.http is not None:  # first: a port in use stops us before anything is touched
            from leand.live.http.server import HttpServer

            self.http = HttpServer(self)
            await self.http.start()
        try:
            self._open()
            await self._connect()
            self._reconcile()
            if self.recorder is not None:
                self._record_header()
            try:
                self._build_strategies()
            except (StrategyStartError, AllocationError):
                await self._close_stores()
                raise
            await self.ctl.start(self.cfg.runtime_path / "leand.sock")
        except BaseException:
            if self.http is not None:
                await self.http.stop()
            raise
        await self.webhooks.start()
        spawn = asyncio.create_task
        self.hot.bind()
        # what start-up built (modules, instruments, strategies) lives as long as the daemon: out of the
        # collector's generations, so a full collection on the hot path does not walk it again and again
        gc.collect()
        gc.freeze()
        for r in self.runners.values():
            for sym in r.symbols:
                self.by_symbol.setdefault(sym, []).append(r)
            if r.isolation == "thread":
                self.hot.isolate(r)
        # from here on a venue's report reaches its strategy in the callback that produced it
        drains = []
        for v in self.venues.values():
            reports: Any = v.execution.reports
            if hasattr(reports, "attach"):
                reports.attach(partial(self._on_report, v))
            else:  # a plugin's plain asyncio.Queue: still served, one loop hop behind (see ReportChannel)
                log.warning("venue.reports_queue", venue=v.id,
                            detail="reports is not a leand.venue.ReportChannel: drained by a task")
                drains.append(spawn(self._supervise(f"reports:{v.id}", partial(self._drain_reports, v, reports))))
        # per venue, its own supervised data task (named by the venue when there are several)
        several = len(self.venues) > 1
        self.feed_tasks = [spawn(self._supervise(f"feed:{v.id}" if several else "feed", partial(self._feed, v)))
                           for v in self.venues.values()]
        self.tasks = [*self.feed_tasks,
                      spawn(self._watchdog()), spawn(self._snapshots()),
                      spawn(self._equity()), spawn(self._journal_upkeep()),
                      spawn(self.obs.monitor()), *drains]
        self.state = "ready"
        self.ready_at = time.time()
        self.notifier.ready(f"trading ({len(self.runners)} strategies, {len(self.mismatches)} mismatches "
                            "reconciled)")
        log.info("daemon.ready", boot=self.boot, strategies=list(self.runners), socket=str(self.ctl.path))
        await self.stop_event.wait()
        await self._stop()
        return 0

    async def _drain_reports(self, v: Venue, reports: asyncio.Queue[ExecReport]) -> None:
        """An out-of-tree venue whose ``reports`` is a plain queue: its reports take the same path as a
        ReportChannel's, one loop iteration later."""
        while True:
            self._on_report(v, await reports.get())

    def _safe(self, fn) -> None:
        try:
            fn()
        except Exception as e:
            log.error("action.failed", action=getattr(fn, "__name__", "?"), error=f"{type(e).__name__}: {e}")

    async def _stop(self) -> None:
        self.state = "stopping"
        self.notifier.stopping()
        log.info("daemon.stopping", cancel_all=self.cfg.shutdown.cancel_all)
        for feed in self.feed_tasks:
            feed.cancel()
        for r in self.runners.values():
            r.state = "stopped"
            if r.timer_handle is not None:
                r.timer_handle.cancel()
        if self.cfg.shutdown.cancel_all:  # as an input of each strategy, so it is recorded in order
            for r in self.runners.values():
                self.deliver(r, ("call", "cancel-all", {"reason": "shutdown"}))
        # let the venue answer and the strategies apply what is in flight
        for _ in range(300):
            await asyncio.sleep(0.01)
            if all(v.execution.reports.empty() and not v.execution.inflight for v in self.venues.values()) and \
                    all(not r.backlog for r in self.runners.values()):
                break
        for r in self.runners.values():
            await asyncio.to_thread(self.hot.stop, r)
        self._snapshot_all()
        self._safe(self._sample_equity)
        self._safe(self.journal.prune_brackets)
        await self.ctl.stop()
        if self.http is not None:
            await self.http.stop()
        await self.webhooks.stop()
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self._close_stores()
        log.info("daemon.stopped")

    async def _close_stores(self) -> None:
        for v in self.venues.values():
            with contextlib.suppress(Exception):
                self.final_balances[v.id] = v.execution.balances()
            await v.execution.close()
        self.journal.close()
        if self.recorder is not None:
            self.recorder.close()


def _update_prices(engine: Engine, events: tuple) -> None:
    for q in events:
        sec = engine.securities.get(q.symbol)
        if sec is not None and isinstance(q, QuoteTick):
            if q.bid_price:
                sec.bid = q.bid_price
            if q.ask_price:
                sec.ask = q.ask_price
            sec.price = q.price
        elif sec is not None:
            sec.price = q.price


_LEVELS = {"DEBUG": "debug", "LOG": "info", "ERROR": "error"}


def _strategy_logger(sid: str):
    """A strategy's ``self.log()/debug()/error()`` lines into the daemon's structured log, with its id."""
    slog = structlog.get_logger("leand.strategy")

    def hook(level: str, message: object) -> None:
        getattr(slog, _LEVELS.get(level, "info"))("strategy.log", strategy=sid, message=str(message))

    return hook


class VenueUnavailable(Exception):
    """The venue could not be reached or refused us at start: nothing was traded; systemd restarts later."""


class StrategyStartError(Exception):
    """A strategy could not be loaded or initialized: the daemon does not start trading without it."""


def run_daemon(config_path: Path | None, duration: float | None = None) -> int:
    cfg = load_config(config_path)
    lock = StateLock(cfg.state_path)
    lock.acquire()  # StateLocked: another daemon owns this state; nothing here has been touched yet
    try:
        return _run_locked(cfg, config_path, duration)
    finally:
        lock.release()


def _run_locked(cfg: DaemonConfig, config_path: Path | None, duration: float | None) -> int:
    logs.configure(cfg.log_level, cfg.log_format)
    daemon = Daemon(cfg, config_path)

    async def main() -> int:
        if duration is not None:
            asyncio.get_running_loop().call_later(duration, daemon.stop_event.set)
        return await daemon.run()

    try:
        import uvloop

        code = uvloop.run(main())
    except ImportError:  # pragma: no cover
        code = asyncio.run(main())
    if duration is not None:
        print(daemon.summary(), file=sys.stderr)
    return code
