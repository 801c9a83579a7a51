"""The daemon's observability glue: counters, order and fill log lines, and webhook events.

The daemon calls a handful of methods here from its tasks (:meth:`Observer.attach` per strategy,
:meth:`Observer.on_report` per venue report, :meth:`Observer.strategy_failed`); everything else runs in
:meth:`Observer.monitor`, a once-a-second task that watches the feed for staleness and reconnect storms. Nothing here awaits on the trading path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import structlog

from leand.live.logs import enabled
from leand.live.metrics import LiveStats, reconnect_counts
from leand.live.webhooks import Webhooks
from leand.model import OrderStatus
from leand.risk.gate import TradingState

if TYPE_CHECKING:
    from leand.live.daemon import Daemon, StrategyRunner
    from leand.model import Order

log = structlog.get_logger("leand.orders")
_PENDING_CANCEL = OrderStatus.PENDING_CANCEL  # (a module constant: Enum.MEMBER goes through EnumType's __getattr__)


def _later() -> Callable[[Callable[[], Any]], Any]:
    """Run a callable after the current callback on the event loop (directly when there is no loop)."""
    try:
        return asyncio.get_running_loop().call_soon
    except RuntimeError:
        return lambda fn: fn()


def _side(q: float) -> str:
    return "buy" if q > 0 else "sell"


class Observer:
    def __init__(self, daemon: Daemon) -> None:
        self.d = daemon
        self.stats = LiveStats(",".join(v.name for v in daemon.cfg.venues) or daemon.cfg.venue.name)
        self.webhooks = Webhooks(daemon.cfg.notify)
        #: venues whose feed is stale now
        self._stale: set[str] = set()
        self._storm_until = 0.0
        self._reconnects: list[tuple[float, int]] = []
        self._t0 = time.monotonic()  # before the first message, staleness counts from here
        self._account_state: dict[str, str] = {}

    # -- wiring --------------------------------------------------------------------------------------
    def attach(self, r: StrategyRunner) -> None:
        """Chain onto the engine's gate hook and the gate's state callback (whatever is there stays called)."""
        e, sid, stats, hooks = r.engine, r.id, self.stats, self.webhooks
        later_call = _later()
        prev_risk = e.gate_hook
        # an approval's counters, bumped in place (the tables and keys are the daemon's for its whole life)
        risk_counts, order_counts, approved = stats.risk, stats.orders, stats.approved
        risk_ok, submitted = (sid, "APPROVED"), (sid, "submitted")

        def on_risk(order: Order, decision: Any) -> None:
            if prev_risk is not None:
                prev_risk(order, decision)
            cid = order.client_order_id
            if decision.approved:
                approved(cid)
                risk_counts[risk_ok] = risk_counts.get(risk_ok, 0) + 1
                order_counts[submitted] = order_counts.get(submitted, 0) + 1
                # the log line waits until after the send
                if enabled.info:
                    later_call(partial(log.info, "order.submitted", strategy=sid, client_order_id=cid,
                                       symbol=order.symbol.value, side=_side(order.quantity),
                                       quantity=abs(order.quantity), type=order.type.value,
                                       limit_price=order.limit_price))
                return
            code = decision.code
            stats.bump(stats.risk, (sid, code))
            stats.bump(stats.orders, (sid, "risk_rejected"))
            log.info("order.rejected", strategy=sid, client_order_id=cid, symbol=order.symbol.value,
                     side=_side(order.quantity), quantity=abs(order.quantity), code=code, reason=decision.message)
            if code != "RISK_HALTED":  # while halted every order is refused: the halt itself was the news
                hooks.emit("reject", f"{sid}: {_side(order.quantity)} {abs(order.quantity):g} "
                           f"{order.symbol.value} refused by the risk gate: {code}: {decision.message}",
                           strategy=sid, client_order_id=cid, code=code, by="risk_gate")

        e.gate_hook = on_risk
        gate = e.risk_gate
        prev_state = gate.on_state_change

        def on_state(state: TradingState, reason: str, cancel_all: bool) -> None:
            if state is TradingState.HALTED or state is TradingState.REDUCING:
                hooks.emit("halt", f"{sid}: trading {state.value}: {reason}", strategy=sid, state=state.value,
                           reason=reason)
            if prev_state is not None:
                prev_state(state, reason, cancel_all)

        gate.on_state_change = on_state

    # -- the daemon's tasks call these ----------------------------------------------------------------
    def on_report(self, sid: str, order: Order, rep: Any, fresh: bool) -> None:
        stats = self.stats
        cid = rep.client_order_id
        stats.answered(cid)
        status = rep.status
        sym = order.symbol.value
        if rep.fill_quantity:
            if not fresh:  # a fill already journaled (a replay of the stream after a reconnect)
                return
            q, px = rep.fill_quantity, rep.fill_price
            side = _side(q)
            key = (sid, sym, side)
            stats.bump(stats.order_events, (sid, status))
            stats.bump(stats.fills, key)
            stats.bump(stats.fill_quantity, key, abs(q))
            stats.bump(stats.fill_notional, key, abs(q * px))
            if rep.fee:
                stats.bump(stats.fees, (sid, sym, rep.fee_currency or "?"), rep.fee)
            if status == "filled":
                stats.bump(stats.orders, (sid, "filled"))
            if enabled.info:
                log.info("order.fill", strategy=sid, client_order_id=cid, symbol=sym, side=side, quantity=abs(q),
                         price=px, fee=rep.fee, fee_currency=rep.fee_currency, liquidity=rep.liquidity,
                         fill_id=rep.fill_id, status=status)
            if self.webhooks.targets:  # the message is built only when someone is to receive it
                self.webhooks.emit("fill", f"{sid}: {side} {abs(q):g} {sym} @ {px:g} (fee {rep.fee:g} "
                                   f"{rep.fee_currency})", strategy=sid, client_order_id=cid, symbol=sym, side=side,
                                   quantity=abs(q), price=px, fee=rep.fee, fee_currency=rep.fee_currency)
            return
        if status == "rejected" and order.status is _PENDING_CANCEL:
            status = "cancel_rejected"  # the cancel came too late (the order filled): not an order rejection
        stats.bump(stats.order_events, (sid, status))
        if status in ("canceled", "rejected", "expired"):
            stats.bump(stats.orders, (sid, status))
        if enabled.info:
            log.info(f"order.{status}", strategy=sid, client_order_id=cid, symbol=sym, reason=rep.reason)
        if status == "rejected":
            self.webhooks.emit("reject", f"{sid}: order {cid} ({sym}) rejected by the venue: {rep.reason}",
                               strategy=sid, client_order_id=cid, code=rep.reason, by="venue")

    def strategy_failed(self, r: StrategyRunner) -> None:
        self.webhooks.emit("strategy_failed", f"strategy {r.id} failed ({r.on_error} its orders): {r.error}",
                           strategy=r.id, error=r.error, on_error=r.on_error)

    def task_restarted(self, name: str) -> None:
        self.stats.bump(self.stats.task_restarts, name)

    # -- the monitor task -----------------------------------------------------------------------------
    async def monitor(self, period_s: float = 1.0) -> None:
        self._t0 = time.monotonic()
        while True:
            await asyncio.sleep(period_s)
            try:
                self.check()
            except Exception as e:  # a failing check must not end the monitor
                log.error("monitor.failed", error=f"{type(e).__name__}: {e}")

    def check(self) -> None:
        d = self.d
        now = time.monotonic()
        # feed staleness, per venue: once when it goes stale, once when it recovers
        limit = d.cfg.watchdog.max_feed_staleness_s
        for vid, v in d.venues.items():
            age = now - (v.last_quote_wall or self._t0)
            if age > limit and vid not in self._stale:
                self._stale.add(vid)
                log.warning("feed.stale", venue=vid, age_s=round(age, 1))
                self.webhooks.emit("feed_stale", f"market data from {vid} stale for {age:.0f} s",
                                   venue=vid, age_s=round(age, 3), recovered=False)
            elif age <= limit and vid in self._stale and v.last_quote_wall:
                self._stale.discard(vid)
                log.info("feed.recovered", venue=vid)
                self.webhooks.emit("feed_stale", f"market data from {vid} flowing again",
                                   venue=vid, age_s=round(age, 3), recovered=True)
            # an account halted or reducing (leand ctl halt --account): its strategies' gates do not change state
            acct = v.account
            if acct is not None:
                state = acct.level.state
                if state != self._account_state.get(vid, "active"):
                    if state in ("halted", "reducing"):
                        self.webhooks.emit("halt", f"account {acct.account_id}: trading {state}: "
                                           f"{acct.level.reason}", account=acct.account_id, state=state,
                                           reason=acct.level.reason)
                    self._account_state[vid] = state
        # reconnect storms: count reconnects within the window (every venue's)
        total = sum(n for counts in reconnect_counts(d).values() for n in counts.values())
        window = d.cfg.watchdog.reconnect_storm_window_s
        self._reconnects.append((now, total))
        while self._reconnects and self._reconnects[0][0] < now - window:
            self._reconnects.pop(0)
        n = total - self._reconnects[0][1]
        if n >= d.cfg.watchdog.reconnect_storm_count and now >= self._storm_until:
            self._storm_until = now + window
            names = ", ".join(vid for vid, c in reconnect_counts(d).items() if sum(c.values()))
            log.warning("feed.reconnect_storm", venue=names, reconnects=n, window_s=window)
            self.webhooks.emit("reconnect_storm", f"{n} reconnects to {names} in the last "
                               f"{window:g} s", venue=names, reconnects=n, window_s=window)
