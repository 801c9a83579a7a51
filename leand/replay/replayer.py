"""``leand replay``: re-run a recorded session's strategies on the virtual clock and compare decisions.

Each strategy gets, in order, exactly the inputs its live task consumed: market-data slices (also fed to an
in-memory copy of the paper venue, so orders meet the same book), execution reports at the positions where they
arrived live (the recorded latency), timer firings and control actions. The replayed strategy's own orders go
through the same risk gate to the simulated venue; a report for an order the recording knows is delivered where
the live one was, one for an order the recording never saw after the median recorded submit-to-report latency.
Output is deterministic text: two replays of one session print the same bytes.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import statistics
import sys
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import compress, repeat
from operator import attrgetter, is_not
from pathlib import Path
from typing import Any

from leand import venue as venues
from leand.clock import VirtualClock
from leand.engine import Engine
from leand.live.actions import apply_ctl
from leand.live.config import DEFAULT_DATA, ConfigError, HotPathConfig, parse_venue
from leand.live.reports import apply_report
from leand.model import (
    ExecReport,
    Instrument,
    Order,
    OrderStatus,
    QuoteTick,
    ReportKind,
    Symbol,
    TimeInForce,
    UpdateRequest,
)
from leand.replay.reader import RecordingError, read_frames
from leand.replay.records import (
    Ctl,
    Decision,
    Header,
    MarketData,
    Outbound,
    Report,
    Slice,
    StrategySource,
    Tick,
    TradeData,
)
from leand.risk.gate import Approved, UnapprovedOrderError
from leand.strategy import Strategy
from leand.venue import Capabilities

_GTC = TimeInForce.GTC


@dataclass
class Recording:
    header: Header
    sources: dict[str, StrategySource]
    md: list[MarketData | TradeData]
    inputs: dict[str, list]
    decisions: dict[str, list[Decision]]
    latencies: list[int]
    #: how many market-data messages the live venue had seen when each request was sent: (cid, kind) -> count
    venue_md_at: dict[tuple[str, str], int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: per strategy, for each recorded decision: how many of its inputs had been recorded before it (the input
    #: that made it is the last of them; receive times alone can run backwards across frames)
    decision_at: dict[str, list[int]] = field(default_factory=dict)


def load(session_dir: Path) -> Recording:
    warnings: list[str] = []
    header = None
    sources: dict[str, StrategySource] = {}
    md: list[MarketData | TradeData] = []
    inputs: dict[str, list] = defaultdict(list)
    decisions: dict[str, list[Decision]] = defaultdict(list)
    sent: dict[str, int] = {}
    latencies: list[int] = []
    venue_md_at: dict[tuple[str, str], int] = {}
    decision_at: dict[str, list[int]] = defaultdict(list)
    # each message decodes a Symbol of its own: its event gets the shared one instead (Symbol.interned), found
    # by comparing fields with the last message's (most often the same instrument) rather than by hashing
    last: Symbol | None = None
    for f in read_frames(session_dir, warnings):
        if type(f) is Slice:  # the two kinds of nearly every frame first, by class (no isinstance chain)
            inputs[f.strategy].append(f)
        elif type(f) is MarketData or type(f) is TradeData:
            ev = f.event
            s = ev.symbol
            if last is not None and s.value == last.value and s.market == last.market \
                    and s.security_type is last.security_type:
                ev.symbol = last
            else:
                ev.symbol = last = s.interned()
            md.append(f)
        elif isinstance(f, (Report, Tick, Ctl)):
            if isinstance(f, Ctl) and not f.strategy:
                continue
            inputs[f.strategy].append(f)
            if isinstance(f, Report) and f.client_order_id in sent:
                latencies.append(f.recv_ns - sent.pop(f.client_order_id))
        elif isinstance(f, Decision):
            decisions[f.strategy].append(f)
            decision_at[f.strategy].append(len(inputs.get(f.strategy, ())))
        elif isinstance(f, Outbound):
            venue_md_at[(f.client_order_id, f.kind)] = len(md)
            if f.kind == "submit":
                sent[f.client_order_id] = f.recv_ns
        elif isinstance(f, StrategySource):
            sources[f.strategy] = f
        elif isinstance(f, Header):
            header = f
    if header is None:
        raise RecordingError(f"{session_dir}: no session header (not a leand recording?)")
    return Recording(header, sources, md, dict(inputs), dict(decisions), latencies, venue_md_at, warnings,
                     dict(decision_at))


def _load_class(source: str, name: str, origin: str) -> type[Strategy]:
    mod_name = "leand_replay_" + hashlib.sha1(source.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_loader(mod_name, loader=None, origin=origin)
    assert spec is not None  # a loader-less spec always builds
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    exec(compile(source, origin, "exec"), module.__dict__)
    cls = module.__dict__.get(name)
    if cls is None:
        classes = [v for v in module.__dict__.values() if isinstance(v, type) and issubclass(v, Strategy)
                   and v is not Strategy and v.__module__ == mod_name]
        if len(classes) != 1:
            raise RecordingError(f"{origin}: expected one Strategy subclass, found {len(classes)}")
        cls = classes[0]
    return cls


#: how many market-data messages a replay may feed its venue ahead of the recording's order to find the quote
#: that caused a recorded report
REPORT_LOOKAHEAD = 4


class _ReplayClient:
    """Orders to an in-memory copy of the venue; reports held back to their recorded (or median) delivery point."""

    def __init__(self, venue: venues.SimulatedVenue, median_latency: int, rec: Recording) -> None:
        self.venue = venue
        self.rec = rec
        self.fed = 0  # market-data messages the simulated venue has seen
        self.median = median_latency
        self.pending: deque[tuple[int, ExecReport]] = deque()  # (due time, report) for unknown orders
        self.by_cid: dict[str, deque[ExecReport]] = defaultdict(deque)
        self.known: set[str] = set()
        self.engine: Engine | None = None

    def factory(self, recorded_cids: set[str]):
        """The engine's brokerage: the same emulation the daemon's client does, in front of the re-simulated
        venue, so stops, trailing stops, limit-if-touched and times in force replay as they ran."""
        from leand.orders.emulation import EmulatingClient

        self.known = recorded_cids

        class ReplayBrokerage(EmulatingClient):
            def send_plain(self, approved: Approved, order: Order, now_ns: int,
                           record: Callable[[Order, Approved], None] | None = None) -> bool:
                """The fused path's submit (the daemon's ``JournaledExecutionClient.send_plain``, with nothing to
                journal): an order the venue takes as it is, the approval spent and the request sent in one
                call, then ``record`` (the order manager's recording that waited for the send); False, with
                nothing done, for any other (the order manager then calls ``submit``)."""
                if self._collecting is not None or order.time_in_force is not _GTC or \
                        order.type not in self.venue.capabilities.order_types:
                    return False
                if not isinstance(approved, Approved):
                    raise UnapprovedOrderError(f"order {order.id}: submit needs the risk gate's approval, got "
                                               f"{type(approved).__name__}")
                approved.consume(order, "new")
                try:
                    self.venue.submit(order, now_ns)
                finally:
                    if record is not None:
                        record(order, approved)
                return True

        def make(engine: Engine):
            self.engine = engine
            return ReplayBrokerage(engine, _SimulatedVenueClient(self))

        return make

    def catch_up(self, n: int, now_ns: int) -> None:
        """Feed the venue the quotes it had seen live by this point (it runs ahead of the strategy there)."""
        md = self.rec.md
        while self.fed < n:
            q = md[self.fed].event
            if isinstance(q, QuoteTick):
                self.hold(self.venue.on_quote(q), now_ns)
            self.fed += 1

    def hold(self, reports: list[ExecReport], now_ns: int) -> None:
        known = self.known
        if not known:  # no order of this replay was recorded (a what-if, a recording without decisions)
            due = now_ns + self.median
            self.pending.extend([(due, r) for r in reports])
            return
        for r in reports:
            if r.client_order_id in known:
                self.by_cid[r.client_order_id].append(r)
            else:
                self.pending.append((now_ns + self.median, r))

    def deliver_due(self, t: int, routes: dict[str, Order]) -> None:
        pending = self.pending
        while pending and pending[0][0] <= t:
            self._apply(pending.popleft()[1], routes)

    def deliver_recorded(self, cid: str, routes: dict[str, Order], now_ns: int) -> None:
        q = self.by_cid.get(cid)
        if not q:
            # the live venue acts on a quote before the daemon writes that quote's frame, so a fill a quote
            # caused can be recorded just ahead of the quote: feed the venue on, a message at a time (a few at
            # most), until this order's report comes, as the live venue had seen them by then
            limit = min(len(self.rec.md), self.fed + REPORT_LOOKAHEAD)
            while not q and self.fed < limit:
                self.catch_up(self.fed + 1, now_ns)
                q = self.by_cid.get(cid)
        if q:
            self._apply(q.popleft(), routes)

    def _apply(self, r: ExecReport, routes: dict[str, Order]) -> None:
        order = routes.get(r.client_order_id)
        if order is not None and self.engine is not None:
            self.engine.order_manager.apply_report(order, r)  # what live.reports.apply_report does


class _SimulatedVenueClient:
    """The re-simulated venue seen through the venue boundary's execution-client surface: requests go to it
    at the market-data point they reached it live, and its reports (and those the emulation makes) are held
    back to their recorded delivery point."""

    def __init__(self, outer: _ReplayClient) -> None:
        self.outer = outer
        v = outer.venue
        self.capabilities = Capabilities(order_types=v.order_types, time_in_force=v.time_in_force,
                                         modify=hasattr(v, "modify"))
        self.reports = self

    def put_nowait(self, r: ExecReport) -> None:
        o = self.outer
        o.hold([r], o.engine.clock.now_ns() if o.engine is not None else 0)

    def _catch_up(self, order: Order, kind: str, now_ns: int) -> None:
        o = self.outer
        at = o.rec.venue_md_at
        if at:  # (empty: no request was recorded, nothing to catch up to)
            o.catch_up(at.get((order.client_order_id, kind), o.fed), now_ns)

    def submit(self, order: Order, now_ns: int) -> None:
        # the enums' texts as ``_value_`` (their documented attribute): ``.value`` is a Python-level property
        self._catch_up(order, "submit", now_ns)
        self.outer.hold(self.outer.venue.submit(
            order.client_order_id, order.symbol, order.quantity, order.type._value_, order.limit_price, now_ns,
            stop_price=order.stop_price, trailing_amount=order.trailing_amount,
            trailing_as_percentage=order.trailing_as_percentage, time_in_force=order.time_in_force._value_), now_ns)

    def cancel(self, order: Order, now_ns: int) -> None:
        self._catch_up(order, "cancel", now_ns)
        self.outer.hold([self.outer.venue.cancel(order.client_order_id, now_ns)], now_ns)

    def modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        self._catch_up(order, "modify", now_ns)
        self.outer.hold(self.outer.venue.modify(order.client_order_id, update.quantity, update.limit_price, now_ns,
                                                stop_price=update.stop_price,
                                                trailing_amount=update.trailing_amount), now_ns)


@dataclass
class StrategyReplay:
    strategy: str
    source_label: str
    sha256: str
    inputs: int
    counts: dict[str, int]
    recorded: list[Decision]
    replayed: list[Decision]
    engine: Engine
    context: list[str]
    first_divergence: int | None
    error: str = ""


def _fmt_t(t: int) -> str:
    return datetime.fromtimestamp(t / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _describe_input(f: Slice | Report | Tick | Ctl, md: list[MarketData | TradeData]) -> str:
    if isinstance(f, Slice):
        q = md[f.md_seq].event
        if isinstance(q, QuoteTick):
            return f"{_fmt_t(f.recv_ns)} market data #{f.md_seq}: {q.symbol.value} bid {q.bid_price:g} x " \
                   f"{q.bid_size:g} / ask {q.ask_price:g} x {q.ask_size:g}"
        return f"{_fmt_t(f.recv_ns)} market data #{f.md_seq}: {q.symbol.value} {q.close:g}"
    if isinstance(f, Report):
        fill = f" {f.fill_quantity:+g} @ {f.fill_price:g}" if f.fill_quantity else ""
        return f"{_fmt_t(f.recv_ns)} report {f.client_order_id} {f.status}{fill}"
    if isinstance(f, Tick):
        return f"{_fmt_t(f.recv_ns)} timers fired ({f.fired})"
    return f"{_fmt_t(f.recv_ns)} ctl {f.command} {f.args}"


def _describe_decision(d: Decision | None) -> str:
    if d is None:
        return "(none)"
    return f"{_terms(d)} at {_fmt_t(d.recv_ns)}"


def _terms(d: Decision) -> str:
    if d.kind == "cancel":
        return f"cancel {d.client_order_id}"
    px = f" @ {d.limit_price:g}" if d.limit_price is not None else ""
    stop = f" stop {d.stop_price:g}" if d.stop_price is not None else ""
    return (f"{d.kind} {d.client_order_id} {Symbol.parse(d.symbol).value if d.symbol else ''} {d.quantity:+g} "
            f"{d.order_type}{px}{stop} {d.time_in_force}").strip()


def replay_strategy(rec: Recording, sid: str, *, source_path: Path | None = None,
                    parameters: dict[str, Any] | None = None, data_root: Path = DEFAULT_DATA,
                    what_if: bool = False) -> StrategyReplay:
    """Replay strategy ``sid``. ``what_if`` feeds every recorded market-data message instead of the strategy's
    own input sequence, with every report simulated (a backtest of other code on the captured data)."""
    src = rec.sources.get(sid)
    if src is None:
        raise RecordingError(f"no strategy {sid!r} in this recording (have: {', '.join(rec.sources) or 'none'})")
    if source_path is not None:
        source = source_path.read_text()
        label = str(source_path)
        cls = _load_class(source, "", label)
    else:
        source, label = src.source, "recorded source"
        cls = _load_class(source, src.class_name, f"<recorded {sid}>")
    strat = cls()
    strat.parameters = {**getattr(strat, "parameters", {}), **src.parameters, **(parameters or {})}
    inputs = rec.inputs.get(sid, [])
    known_only = not what_if
    if what_if:
        inputs = [Slice(m.recv_ns, sid, i) for i, m in enumerate(rec.md)]
    start = src.start_ns or (inputs[0].recv_ns if inputs else rec.header.started_ns)
    instruments = _instruments(rec, data_root)
    # the venue is found through the registry: one leand can re-simulate is run again on the recorded quotes
    # (it is the same code, so it fills the same); a network venue's recorded reports are applied as they came
    try:
        venue_cfg = parse_venue(rec.header.config.get("venue", {}), "the recording's config")
    except ConfigError as e:
        raise RecordingError(str(e)) from None
    reg = venues.venue(venue_cfg.kind)
    network_venue = reg.simulate is None
    if network_venue:  # orders the recording never saw (and what-ifs) meet the default simulated venue
        reg = venues.venue(venues.DEFAULT_KIND)
        venue_cfg = reg.config()
    assert reg.simulate is not None
    venue = reg.simulate(venue_cfg, instruments, dict(src.starting_balances))
    median = int(statistics.median(rec.latencies)) if rec.latencies else 0
    client = _ReplayClient(venue, median, rec)
    recorded_cids = set() if what_if else {d.client_order_id for d in rec.decisions.get(sid, [])}
    from leand.risk.limits import load_config

    engine = Engine(strat, data_root, parameters=strat.parameters, live_mode=True,
                    risk_config=load_config(rec.header.config.get("risk")), clock=VirtualClock(start),
                    brokerage=client.factory(recorded_cids))
    engine.strategy_id = sid
    engine.client_id_prefix = src.client_id_prefix
    # market and limit orders take the order manager's fused path when the daemon's did (``[hot_path]
    # fused_orders``): the same decisions either way, and what the session really ran
    engine.order_manager.fused_live = _fused_orders(rec.header.config)
    replayed: list[Decision] = []

    def restore(e: Engine) -> None:
        cb = e.portfolio.cash_book
        for ccy in list(cb):
            cb[ccy].amount = 0.0
        for ccy, amt in src.restored.get("cash", src.starting_balances).items():
            cb.set_amount(ccy, amt)
        for sym_id, (qty, avg) in src.restored.get("positions", {}).items():
            sec = e.securities.get(Symbol.parse(sym_id))
            if sec is not None:
                sec.holdings.quantity, sec.holdings.average_price = qty, avg

    engine.start_live(restore=restore)
    engine.order_manager.continue_ids_from(src.restored.get("next_order_id", 1))

    routes: dict[str, Order] = {}
    seen = 1  # the next order id to route
    never = 1 << 62  # a position or time no input reaches
    # ``after`` compares decisions once input ``check_after`` (or a later one) ran, or one received at or after
    # ``check_t`` (a recording made without positions): then the next recorded decision is due; and after any
    # input that made a decision (the hook sets -1). Set again by every ``after``
    check_after = check_t = never

    def on_decision(kind: str, o: Order) -> None:
        nonlocal seen, check_after
        if first is None and not what_if:
            check_after = -1
        replayed.append(Decision(recv_ns=engine.clock.now_ns(), strategy=sid, kind=kind,
                                 client_order_id=o.client_order_id, symbol=o.symbol.id, quantity=o.quantity,
                                 order_type=o.type._value_, limit_price=o.limit_price, stop_price=o.stop_price,
                                 time_in_force=o.time_in_force._value_, tag=o.tag))
        if kind == "submit":  # a new order is routed for its reports here, where it is made (``after`` routes
            routes[o.client_order_id] = o  # any the hook did not see): no look-up by id after each input
            if o.id == seen:
                seen += 1

    engine.decision_hook = on_decision
    recorded = [] if what_if else rec.decisions.get(sid, [])
    counts = {"market data": 0, "reports": 0, "timer firings": 0, "ctl": 0}
    context: list[str] = []
    first: int | None = None
    cursor = 0  # decisions compared and equal so far
    clock = engine.clock
    error = ""
    #: the index of the input being run (or run last): a divergence's context is the five inputs up to it
    last = -1

    def recent() -> list[str]:
        return [_describe_input(x, rec.md) for x in inputs[max(0, last - 4):last + 1]]

    def step(f) -> None:
        client.deliver_due(f.recv_ns, routes)
        if isinstance(f, Slice):
            q = rec.md[f.md_seq].event
            client.catch_up(f.md_seq + 1, f.recv_ns)
            engine.on_live_slice(f.recv_ns, (q,))
            counts["market data"] += 1
        elif isinstance(f, Report):
            clock.advance_to(f.recv_ns)
            if known_only and network_venue:
                # a network venue's matching is not ours to re-simulate: apply exactly what it reported
                order = routes.get(f.client_order_id)
                if order is not None:
                    apply_report(engine, order, ExecReport(
                        client_order_id=f.client_order_id, status=OrderStatus(f.status), kind=ReportKind(f.kind),
                        symbol=order.symbol.id,
                        time_ns=f.recv_ns, fill_id=f.fill_id, fill_quantity=f.fill_quantity, fill_price=f.fill_price,
                        fee=f.fee, fee_currency=f.fee_currency, liquidity=f.liquidity, reason=f.reason))
            elif known_only:
                client.deliver_recorded(f.client_order_id, routes, f.recv_ns)
            counts["reports"] += 1
        elif isinstance(f, Tick):
            clock.advance_to(f.recv_ns)
            counts["timer firings"] += 1
        elif isinstance(f, Ctl):
            clock.advance_to(f.recv_ns)
            apply_ctl(engine, f.command, f.args)
            counts["ctl"] += 1

    at = rec.decision_at.get(sid) or []
    if len(at) != len(recorded):  # a recording made without positions: by receive time
        at = []
    n_recorded = len(recorded)

    def is_due(i: int, pos: int, t: int) -> bool:
        """Recorded decision ``i`` was made by the first ``pos`` inputs (the last received at ``t``)."""
        return at[i] <= pos if at else recorded[i].recv_ns <= t

    def route() -> None:
        """Route the orders the decision hook did not see (for their reports)."""
        nonlocal seen
        om = engine.order_manager
        while seen < om.next_order_id:
            o = engine.orders.get(seen)
            if o is not None:
                routes[o.client_order_id] = o
            seen += 1

    def plan() -> None:
        """When ``after`` next has decisions to compare (see ``check_after``)."""
        nonlocal check_after, check_t
        check_after = check_t = never
        if first is None and not what_if and cursor < n_recorded:
            if at:
                check_after = at[cursor] - 1
            else:
                check_t = recorded[cursor].recv_ns

    def after(f, pos: int) -> None:
        """After input ``f`` (the ``pos``-th) ran: route the orders it made (for their reports), then compare
        decisions."""
        nonlocal cursor, first, context
        route()
        if first is None and not what_if:
            # every decision either side made up to this input must agree, in order
            due = cursor
            while due < n_recorded and is_due(due, pos, f.recv_ns):
                due += 1
            for i in range(cursor, max(due, len(replayed))):
                if i < n_recorded and i < len(replayed) and recorded[i].key() == replayed[i].key():
                    cursor = i + 1
                    continue
                first = i
                context = recent()
                break
        plan()

    plan()
    ran = 0  # how many inputs of the current market-data run reached the engine

    def market_run(k: int, j: int) -> Iterator[tuple]:
        """Inputs ``k`` to ``j`` (a run of market data) as the engine's slices, produced one at a time: what
        ``step`` does before a slice and ``after`` does after it run here, between two slices, and only when
        there is something to do (a report due, with the orders to route for it; a decision to compare). The
        engine reads no further once the strategy quits, and not past the last slice (whose ``after`` is the
        caller's)."""
        nonlocal last, ran
        md = rec.md
        pending = client.pending
        om = engine.order_manager
        on_quote = client.venue.on_quote
        hold = client.hold
        quote_cls = QuoteTick
        for pos in range(k, j):
            last = pos
            f = inputs[pos]
            t = f.recv_ns
            if pending and pending[0][0] <= t:
                if seen < om.next_order_id:
                    route()
                client.deliver_due(t, routes)
            seq = f.md_seq
            fed = client.fed
            ev = md[seq].event
            if fed == seq:  # the venue had seen every message before this one: it sees this one now
                client.fed = seq + 1
                if isinstance(ev, quote_cls):
                    reports = on_quote(ev)
                    if reports:
                        hold(reports, t)
            elif fed < seq:
                client.catch_up(seq + 1, t)
            ran += 1
            yield (ev,)
            if pos >= check_after or t >= check_t:  # ``after`` this input: a decision to compare
                after(f, pos + 1)

    n_in = len(inputs)
    # where each run of market data ends: the positions of the other inputs, found in one pass
    ends = list(compress(range(n_in), map(is_not, map(type, inputs), repeat(Slice))))
    ends.append(n_in)
    nxt = 0
    recv_ns = attrgetter("recv_ns")
    # the young generation collected less often while the inputs run, as a backtest's loop does (Engine.run):
    # each order leaves tracked objects behind (the order, its ticket, the venue's row), and at the default
    # threshold every 700 of them a collection walks them again; nothing here makes cycles in bulk
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        k = 0
        while k < n_in:
            f = inputs[k]
            run_from = -1
            try:
                if f.__class__ is Slice and not engine.quit_requested:
                    # a run of market data goes through the engine's loop in one pass
                    while ends[nxt] <= k:
                        nxt += 1
                    j = ends[nxt]
                    run_from, ran = k, 0
                    engine.on_live_slices(list(map(recv_ns, inputs[k:j])), market_run(k, j))
                    counts["market data"] += ran
                    # all of the run, or up to the slice where the strategy quit (the rest then go one at a time,
                    # each still reaching the strategy, as before)
                    k += ran
                    after(inputs[k - 1], k)
                    continue
                last = k
                step(f)
            except Exception as exc:  # the replayed code raised: report where, as the daemon would isolate it
                if run_from >= 0:
                    counts["market data"] += ran
                f = inputs[last] if last >= 0 else f
                error = f"{type(exc).__name__}: {exc} (at {_describe_input(f, rec.md)})"
                if first is None and not what_if:
                    first = cursor
                    context = recent()
                break
            k += 1
            after(f, k)
    finally:
        gc.set_threshold(*thresholds)
    client.deliver_due(inputs[-1].recv_ns + 10 * (median + 1) if inputs else 0, routes)
    if first is None and len(recorded) != len(replayed) and not what_if:
        first = min(len(recorded), len(replayed))
        context = recent()
    return StrategyReplay(sid, label, hashlib.sha256(source.encode()).hexdigest(), len(inputs), counts, recorded,
                          replayed, engine, context, first, error)


def _fused_orders(config: dict[str, Any]) -> bool:
    """The recorded config's ``[hot_path] fused_orders`` (the daemon's default when it says nothing)."""
    hot = config.get("hot_path")
    value = hot.get("fused_orders") if isinstance(hot, dict) else None
    return value if isinstance(value, bool) else HotPathConfig().fused_orders


def _instruments(rec: Recording, data_root: Path) -> dict[Symbol, Instrument]:
    from leand.data.symbol_properties import SymbolPropertiesDatabase

    spdb = SymbolPropertiesDatabase.load(data_root / "symbol-properties" / "symbol-properties-database.csv")
    return {Symbol.parse(s): spdb.get(Symbol.parse(s)) for s in rec.header.symbols}


def report_text(rec: Recording, results: list[StrategyReplay]) -> str:
    h = rec.header
    lines = [f"session {h.session}", f"recorded {_fmt_t(h.started_ns)} by leand {h.leand_version}; "
                                     f"{len(rec.md)} market-data messages; venues {', '.join(h.venues)}; "
                                     f"symbols {', '.join(Symbol.parse(s).value for s in h.symbols)}"]
    for w in rec.warnings:
        lines.append(f"warning: {w}")
    for r in results:
        matched = 0
        for x, y in zip(r.recorded, r.replayed):
            if x.key() != y.key():
                break
            matched += 1
        total = max(len(r.recorded), len(r.replayed))
        rate = 100.0 if total == 0 else matched / total * 100
        counts = ", ".join(f"{v} {k}" for k, v in r.counts.items())
        lines += ["", f"strategy {r.strategy} ({r.source_label}, sha256 {r.sha256[:16]})",
                  f"  inputs replayed: {r.inputs} ({counts})",
                  f"  decisions: recorded {len(r.recorded)}, replayed {len(r.replayed)}, matching in order "
                  f"{matched}",
                  f"  match rate: {rate:.2f}%"]
        if r.error:
            lines.append(f"  the strategy raised: {r.error}")
        if r.first_divergence is None:
            lines.append("  first divergence: none")
        else:
            i = r.first_divergence
            a = r.recorded[i] if i < len(r.recorded) else None
            b = r.replayed[i] if i < len(r.replayed) else None
            when = min(x.recv_ns for x in (a, b) if x is not None) if (a or b) else 0
            # a side that had not decided by then shows "(none)", then what it did next, if anything
            show_a = _describe_decision(a) if a is not None and a.recv_ns <= when else \
                "(none)" + (f"; next: {_describe_decision(a)}" if a is not None else "")
            show_b = _describe_decision(b) if b is not None and b.recv_ns <= when else \
                "(none)" + (f"; next: {_describe_decision(b)}" if b is not None else "")
            lines += [f"  first divergence: decision #{i + 1} at {_fmt_t(when)}",
                      f"    recorded: {show_a}",
                      f"    replayed: {show_b}",
                      "    event and context (last inputs before it):"]
            lines += [f"      {c}" for c in r.context]
    return "\n".join(lines) + "\n"
