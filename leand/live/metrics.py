"""What the daemon counts, and the Prometheus collector that reads it at scrape time.

The hot path only bumps plain ints and floats in dicts keyed by small tuples (a dict update, tens of
nanoseconds); nothing here takes a lock or builds a label set per event. Gauges (positions, equity, queue
depths, staleness, trading states) are not kept at all: :class:`DaemonCollector` reads them from the daemon
when Prometheus asks, so they cost nothing between scrapes.
"""

from __future__ import annotations

import contextlib
import time
from bisect import bisect_left
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import CollectorRegistry

from leand import __version__

if TYPE_CHECKING:
    from leand.live.daemon import Daemon

#: seconds: 10 µs .. 10 s, roughly ×2.5 apart (latencies on loopback through a slow venue)
LATENCY_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25,
                   0.5, 1.0, 2.5, 5.0, 10.0)


class Histogram:
    """Fixed buckets in plain lists: one bisect and three additions per observation.

    ``observe_later`` keeps an observation to make when the histogram is next read (``settle``), in the order they
    came, so the same sums: for a caller in a hurry (the gate hook, just before an order is sent); it settles
    them itself every ``LATER_MAX`` values."""

    __slots__ = ("bounds", "count", "counts", "later", "sum")

    #: observations ``later`` holds at most (its appender settles at this length)
    LATER_MAX = 256

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.count = 0
        self.later: list[float] = []

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def observe_later(self, value: float) -> None:
        """``observe``, deferred to the next read (for a caller on the hot path; the values keep their order)."""
        later = self.later
        later.append(value)
        if len(later) >= self.LATER_MAX:
            self.settle()

    def settle(self) -> None:
        """Make the observations waiting in ``later``; every reader of the figures calls it first."""
        later = self.later
        if later:
            self.later = []
            for v in later:
                self.observe(v)

    def quantile(self, q: float) -> float | None:
        """The upper bound of the bucket holding the q-quantile (what the dashboard shows)."""
        self.settle()
        if not self.count:
            return None
        rank, seen = q * self.count, 0
        for i, c in enumerate(self.counts):
            seen += c
            if seen >= rank and c:
                return self.bounds[i] if i < len(self.bounds) else float("inf")
        return None

    def family(self, name: str, doc: str) -> HistogramMetricFamily:
        self.settle()
        buckets, acc = [], 0
        for bound, c in zip((*self.bounds, float("inf")), self.counts):
            acc += c
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), acc))
        return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=self.sum)


class LiveStats:
    """Counters the daemon's tasks bump as things happen (all on the event loop's thread)."""

    def __init__(self, venue: str) -> None:
        self.venue = venue
        self.started = time.time()
        #: Symbol (hash cached) -> [messages, monotonic time of the last one]; named at scrape time
        self.feed: dict[Any, list] = {}
        self.orders: dict[tuple[str, str], int] = {}  # (strategy, status) -> orders that reached it
        self.order_events: dict[tuple[str, str], int] = {}  # (strategy, venue report status) -> reports
        self.risk: dict[tuple[str, str], int] = {}  # (strategy, code or APPROVED) -> decisions
        self.fills: dict[tuple[str, str, str], int] = {}  # (strategy, symbol, side)
        self.fill_quantity: dict[tuple[str, str, str], float] = {}
        self.fill_notional: dict[tuple[str, str, str], float] = {}
        self.fees: dict[tuple[str, str, str], float] = {}  # (strategy, symbol, currency)
        self.task_restarts: dict[str, int] = {}
        self.tick_to_order = Histogram()
        self.venue_round_trip = Histogram()
        self.loop_lag = Histogram()
        #: "intent_log" (one append per intent or status) and "sqlite" (one committed transaction)
        self.journal_write = {"intent_log": Histogram(), "sqlite": Histogram()}
        #: monotonic receive time of the market-data message the running strategy is handling (0: none); the
        #: strategy task sets it around each slice
        self.tick_recv = 0.0
        #: client order id -> monotonic time the gate approved it, until the venue's first answer
        self.sent: dict[str, float] = {}

    # -- hot path -------------------------------------------------------------------------------------
    def feed_message(self, symbol: Any, now: float) -> None:
        """One market-data message of ``symbol`` at ``now`` (the daemon's feed consumer does this inline)."""
        c = self.feed.get(symbol)
        if c is None:
            self.feed[symbol] = [1, now]
        else:
            c[0] += 1
            c[1] = now

    def bump(self, table: dict, key: Any, by: float = 1) -> None:
        table[key] = table.get(key, 0) + by

    def journal_write_ns(self, kind: str, ns: int) -> None:
        h = self.journal_write.get(kind)
        if h is None:
            h = self.journal_write[kind] = Histogram()
        h.observe(ns * 1e-9)

    def approved(self, client_order_id: str) -> None:
        """The gate approved an order for sending: tick-to-order ends here, the venue round trip starts. It runs
        just before the intent is journaled and sent (the daemon's gate hook), so the tick-to-order sample is left
        for the histogram to take when read."""
        now = time.monotonic()
        if self.tick_recv:
            self.tick_to_order.observe_later(now - self.tick_recv)
        if len(self.sent) > 10_000:  # orders the venue never answered: do not grow without bound
            self.sent.clear()
        self.sent[client_order_id] = now

    def answered(self, client_order_id: str) -> None:
        t0 = self.sent.pop(client_order_id, 0.0)
        if t0:
            self.venue_round_trip.observe(time.monotonic() - t0)


def _labelled(name: str, doc: str, labels: list[str], table: dict, kind: type = CounterMetricFamily,
              prefix: tuple = ()) -> Metric:
    fam = kind(name, doc, labels=labels)
    for key, v in sorted(table.items()):
        fam.add_metric([*prefix, *(key if isinstance(key, tuple) else (key,))], v)
    return fam


class DaemonCollector:
    """A custom collector: builds every family from the daemon's state when scraped."""

    def __init__(self, daemon: Daemon) -> None:
        self.d = daemon

    def describe(self) -> list[Metric]:
        return []  # families are only known at scrape time; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        d, s = self.d, self.d.stats
        venue = s.venue
        info = InfoMetricFamily("leand", "the running daemon", labels=None)
        info.add_metric([], {"version": __version__, "boot": str(getattr(d, "boot", 0)), "venue": venue})
        yield info
        yield GaugeMetricFamily("leand_uptime_seconds", "seconds since the daemon started",
                                value=time.time() - s.started)
        # strategies
        st = GaugeMetricFamily("leand_strategy_state", "1 for the state each strategy is in",
                               labels=["strategy", "state"])
        ts = GaugeMetricFamily("leand_trading_state", "1 for the risk gate's trading state of each strategy",
                               labels=["strategy", "state"])
        ev = CounterMetricFamily("leand_strategy_events", "market-data slices each strategy handled",
                                 labels=["strategy"])
        eq = GaugeMetricFamily("leand_equity", "total portfolio value of each strategy (account currency)",
                               labels=["strategy"])
        pos = GaugeMetricFamily("leand_position", "position quantity per strategy and symbol",
                                labels=["strategy", "symbol"])
        upl = GaugeMetricFamily("leand_unrealized_pnl", "unrealized profit per strategy and symbol",
                                labels=["strategy", "symbol"])
        depth = GaugeMetricFamily("leand_queue_depth", "items waiting in each daemon queue", labels=["queue"])
        confl = CounterMetricFamily("leand_conflated", "market-data events replaced by a newer one before a "
                                    "strategy saw them (its worker's buffer, or inline while behind its feed)",
                                    labels=["strategy"])
        behind = CounterMetricFamily("leand_strategy_behind", "times an inline strategy fell behind its feed "
                                     "(its market data conflated until the loop waited again)", labels=["strategy"])
        for r in d.runners.values():
            for state in ("running", "paused", "stopped", "failed"):
                st.add_metric([r.id, state], 1.0 if r.state == state else 0.0)
            gate = r.engine.risk_gate.state
            for state in type(gate):
                ts.add_metric([r.id, state.value], 1.0 if gate is state else 0.0)
            ev.add_metric([r.id], r.handled)
            with contextlib.suppress(Exception):  # a missing conversion rate early on: no value, not a failure
                eq.add_metric([r.id], r.engine.portfolio.total_portfolio_value)
            for sym, sec in r.engine.securities.items():
                if sec.holdings.quantity:
                    pos.add_metric([r.id, sym.value], sec.holdings.quantity)
                    upl.add_metric([r.id, sym.value], r.engine.portfolio.unrealized_profit(sec))
            depth.add_metric([f"strategy:{r.id}"], r.backlog)
            confl.add_metric([r.id], r.conflated)
            behind.add_metric([r.id], r.times_behind)
        venues = getattr(d, "venues", {})
        several = len(venues) > 1
        for vid, v in venues.items():
            depth.add_metric([f"venue_reports:{vid}" if several else "venue_reports"], v.execution.reports.qsize())
        if venues:
            from leand.risk.account import GLOBAL

            lv = GaugeMetricFamily("leand_level_trading_state", "1 for the trading state of each venue account and "
                                   "of the whole daemon (global)", labels=["level", "state"])
            for level in (*(v.account.level for v in venues.values() if v.account is not None), GLOBAL):
                for state in ("active", "reducing", "halted"):
                    lv.add_metric([level.name, state], 1.0 if level.state == state else 0.0)
            yield lv
        yield from (st, ts, ev, eq, pos, upl, depth, confl, behind)
        yield from self._accounts(d)
        # orders, fills, risk
        yield _labelled("leand_orders", "orders by what happened to them (submitted, risk_rejected, filled, "
                        "canceled, rejected)", ["venue", "strategy", "status"], s.orders, prefix=(venue,))
        yield _labelled("leand_order_events", "venue order reports by status", ["venue", "strategy", "status"],
                        s.order_events, prefix=(venue,))
        # fills by the venue of their symbol
        by_value = {sym.value: vid for vid, v in getattr(d, "venues", {}).items() for sym in v.instruments}

        def per_venue(table: dict) -> dict:
            return {(by_value.get(k[1], venue), *k): n for k, n in table.items()}

        yield _labelled("leand_fills", "fills", ["venue", "strategy", "symbol", "side"], per_venue(s.fills))
        yield _labelled("leand_fill_quantity", "filled quantity (base units)", ["venue", "strategy", "symbol",
                                                                                "side"], per_venue(s.fill_quantity))
        yield _labelled("leand_fill_notional", "filled notional (quote currency)", ["venue", "strategy", "symbol",
                                                                                    "side"], per_venue(s.fill_notional))
        yield _labelled("leand_fees", "fees paid", ["venue", "strategy", "symbol", "currency"], per_venue(s.fees))
        yield _labelled("leand_risk_decisions", "the risk gate's decisions by code (APPROVED when it let an "
                        "order through)", ["strategy", "code"], s.risk)
        # feed, per venue (a symbol's venue is the one that trades it)
        now = time.monotonic()
        venue_of = {sym: vid for vid, v in venues.items() for sym in v.instruments}
        yield _labelled("leand_feed_messages", "market-data messages received", ["venue", "symbol"],
                        {(venue_of.get(k, venue), str(k)): c[0] for k, c in s.feed.items()})
        yield _labelled("leand_feed_staleness_seconds", "seconds since the last market-data message",
                        ["venue", "symbol"], {(venue_of.get(k, venue), str(k)): now - c[1] for k, c in s.feed.items()},
                        kind=GaugeMetricFamily)
        vage = GaugeMetricFamily("leand_venue_feed_age_seconds", "seconds since each venue's last market-data "
                                 "message", labels=["venue"])
        gaps = CounterMetricFamily("leand_feed_gaps", "sequence gaps the feed detected (each one resyncs)",
                                   labels=["venue"])
        for vid, v in venues.items():
            gaps.add_metric([vid], (getattr(v.data, "stats", None) or {}).get("gaps", 0))
            if v.last_quote_wall:
                vage.add_metric([vid], now - v.last_quote_wall)
        yield gaps
        yield vage
        rec = CounterMetricFamily("leand_reconnects", "reconnects of market-data and order streams, and "
                                  "restarts of supervised tasks", labels=["venue", "stream"])
        for vid, counts in reconnect_counts(d).items():
            for stream, n in counts.items():
                rec.add_metric([vid, stream], n)
        yield rec
        # latency
        yield s.tick_to_order.family("leand_tick_to_order_seconds", "from receipt of a market-data message to "
                                     "the risk gate's approval of an order it caused")
        yield s.venue_round_trip.family("leand_venue_round_trip_seconds", "from an order's approval to the "
                                        "venue's first report on it")
        yield s.loop_lag.family("leand_loop_lag_seconds", "event-loop lag measured by the watchdog")
        yield GaugeMetricFamily("leand_loop_lag_last_seconds", "the watchdog's latest loop-lag sample",
                                value=d.loop_lag_ms / 1000)
        yield labelled_histograms("leand_journal_write_seconds", "one journal write: an append to the intent "
                                  "log, or a committed SQLite transaction", "kind", s.journal_write)
        hooks = getattr(d, "webhooks", None)
        if hooks is not None:
            yield _labelled("leand_notify", "webhook notifications by target and result (sent, failed, "
                            "dropped, rate_limited)", ["target", "result"], hooks.counts)

    def _accounts(self, d: Daemon) -> Iterator[Metric]:
        bal = GaugeMetricFamily("leand_balance", "venue account balance per asset", labels=["venue", "asset"])
        acc = GaugeMetricFamily("leand_account_equity", "the venue account's value in the account currency",
                                labels=["venue", "currency"])
        for vid, v in getattr(d, "venues", {}).items():
            try:
                balances = v.execution.balances()
            except Exception:  # a venue view that cannot answer right now: skip, the scrape still succeeds
                continue
            for asset, amount in sorted(balances.items()):
                bal.add_metric([vid, asset], amount)
            value = account_equity(d, balances)
            if value is not None:
                acc.add_metric([vid, d.cfg.account_currency], value)
        yield bal
        yield acc


def labelled_histograms(name: str, doc: str, label: str, hists: dict[str, Histogram]) -> HistogramMetricFamily:
    fam = HistogramMetricFamily(name, doc, labels=[label])
    for value, h in sorted(hists.items()):
        buckets, acc = [], 0
        for bound, c in zip((*h.bounds, float("inf")), h.counts):
            acc += c
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), acc))
        fam.add_metric([value], buckets, h.sum)
    return fam


def reconnect_counts(d: Daemon) -> dict[str, dict[str, int]]:
    """Reconnects so far, per venue: its data client's and its session's connects after their first, and the
    restarts of its tasks."""
    out: dict[str, dict[str, int]] = {}
    venues = getattr(d, "venues", {})
    for vid, v in venues.items():
        suffix = f":{vid}" if len(venues) > 1 else ""
        dstats = getattr(v.data, "stats", None) or {}
        sstats = getattr(v.execution, "stats", None) or {}
        out[vid] = {"market_data": max(0, dstats.get("connects", 0) - 1)
                    + d.stats.task_restarts.get(f"feed{suffix}", 0),
                    "orders": max(0, sstats.get("user_connects", 0) - 1)
                    + d.stats.task_restarts.get(f"session{suffix}", 0)}
    return out


def account_equity(d: Daemon, balances: dict[str, float]) -> float | None:
    """Balances valued at the latest prices the strategies hold (None while an asset has no price yet)."""
    ccy = d.cfg.account_currency
    prices: dict[str, float] = {}
    for r in d.runners.values():
        for sec in r.engine.securities.values():
            inst = getattr(sec, "instrument", None)
            if inst is not None and inst.quote_currency == ccy and inst.base_currency and sec.price:
                prices[inst.base_currency] = sec.price
    total = 0.0
    for asset, amount in balances.items():
        if asset == ccy:
            total += amount
        elif amount:
            px = prices.get(asset)
            if px is None:
                return None
            total += amount * px
    return total


def registry_for(daemon: Daemon) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(DaemonCollector(daemon))
    return reg
