"""Risk at the account level: one venue account is the unit of money, and several strategies may share it.

Each strategy keeps its own :class:`~leand.risk.gate.RiskGate` with its own limits; every gate of strategies on an
account also consults that account's :class:`AccountRisk`, which counts across all of them: open orders, gross and
net exposure, the order rate (the venue's real throttle), and daily loss and drawdown of the account's equity.
Trading states apply at three levels: a strategy's gate, the account, and :data:`GLOBAL` for the whole daemon.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import structlog

from leand.model import Order, Symbol
from leand.risk.limits import RiskLimits

log = structlog.get_logger("leand.risk.account")


class PositionView(Protocol):
    """What the account needs from each strategy on it (the engine's risk context fits)."""

    def positions(self) -> dict[Symbol, float]: ...
    def last_price(self, symbol: Symbol) -> float: ...


class StateLevel:
    """A trading state (active, reducing, halted) with its reason, at one level: global or one account."""

    __slots__ = ("name", "reason", "state")

    def __init__(self, name: str) -> None:
        self.name = name
        self.state = "active"
        self.reason = ""

    def set(self, state: str, reason: str) -> None:
        if state not in ("active", "reducing", "halted"):
            raise ValueError(f"trading state must be active, reducing or halted, got {state!r}")
        if state != self.state:
            log.warning("risk.level_state_changed", level=self.name, old=self.state, new=state, reason=reason)
        self.state, self.reason = state, reason


_RANK = {"active": 0, "reducing": 1, "halted": 2}

#: the daemon-wide trading state (``leand ctl halt`` without --strategy/--account)
GLOBAL = StateLevel("global")


class AccountRisk:
    """Account-wide limits over every strategy sharing one venue account."""

    def __init__(self, account_id: str, limits: RiskLimits | None = None, *,
                 now_ns: Callable[[], int], global_state: StateLevel = GLOBAL) -> None:
        self.account_id = account_id
        self.limits = limits or RiskLimits()
        self.level = StateLevel(f"account:{account_id}")
        self.global_state = global_state
        self._now = now_ns
        self._views: dict[str, PositionView] = {}
        self._open: dict[tuple[str, int], Order] = {}
        self._tokens = float(self._burst())
        self._last_ns = now_ns()
        self.peak_equity = 0.0
        self.start_of_day_equity = 0.0
        self._day = -1
        self.rejections = 0

    def _burst(self) -> int:
        lim = self.limits
        if lim.order_burst is not None:
            return max(lim.order_burst, 1)
        return max(int(lim.order_rate_per_second or 1), 1)

    # -- membership and bookkeeping -----------------------------------------------------------------------
    def register(self, strategy_id: str, view: PositionView) -> None:
        self._views[strategy_id] = view

    @property
    def strategies(self) -> list[str]:
        return sorted(self._views)

    def on_order_opened(self, order: Order) -> None:
        self._open[(order.strategy_id, order.id)] = order

    def on_order_closed(self, order: Order) -> None:
        self._open.pop((order.strategy_id, order.id), None)

    @property
    def open_order_count(self) -> int:
        return len(self._open)

    def set_limits(self, limits: RiskLimits) -> None:
        self.limits = limits
        self._tokens = min(self._tokens, float(self._burst()))

    # -- states ---------------------------------------------------------------------------------------------
    def halt(self, reason: str) -> None:
        self.level.set("halted", reason)

    def resume(self, by: str) -> None:
        self.level.set("active", f"resumed by {by}")

    def effective_state(self) -> tuple[str, str]:
        """The stricter of the global and the account state, with its reason."""
        g, a = self.global_state, self.level
        if g.state == "active" and a.state == "active":  # the per-order case: nothing to describe
            return "active", ""
        lv = g if _RANK[g.state] >= _RANK[a.state] else a
        return lv.state, f"{lv.name}: {lv.reason}" if lv.reason else lv.name

    # -- checks ---------------------------------------------------------------------------------------------
    def plain(self) -> bool:
        """True when :meth:`check` and :meth:`take_order_token` cannot refuse an order now: both levels active
        and none of the account's order limits set (the risk gate's short path asks)."""
        lim = self.limits
        return self.global_state.state == "active" and self.level.state == "active" and \
            lim.max_open_orders is None and lim.max_gross_exposure is None and lim.max_net_exposure is None and \
            lim.order_rate_per_second is None

    def check(self, order: Order, qty: float, price: float, increases: bool, existing: Order | None
              ) -> tuple[str, str, str] | None:
        """Account-wide checks for one order (no token taken): None, or (code, limit, message)."""
        state, why = self.effective_state()
        if state == "halted":
            return ("RISK_HALTED", "trading_state", f"trading is halted at {why}; nothing passes until resumed")
        if state == "reducing" and increases:
            return ("RISK_REDUCE_ONLY", "trading_state", f"trading is reduce-only at {why}")
        lim = self.limits
        if existing is None and lim.max_open_orders is not None and len(self._open) >= lim.max_open_orders:
            return ("RISK_ACCOUNT_MAX_OPEN_ORDERS", "max_open_orders",
                    f"{len(self._open)} open orders on account {self.account_id!r} already (all strategies); "
                    f"max_open_orders is {lim.max_open_orders}")
        if increases and (lim.max_gross_exposure is not None or lim.max_net_exposure is not None):
            gross, net = self._exposure(order, qty, price)
            if lim.max_gross_exposure is not None and gross > lim.max_gross_exposure:
                return ("RISK_ACCOUNT_GROSS_EXPOSURE", "max_gross_exposure",
                        f"gross exposure of account {self.account_id!r} would reach {gross:.2f}, beyond "
                        f"max_gross_exposure {lim.max_gross_exposure:.2f}")
            if lim.max_net_exposure is not None and abs(net) > lim.max_net_exposure:
                return ("RISK_ACCOUNT_NET_EXPOSURE", "max_net_exposure",
                        f"net exposure of account {self.account_id!r} would reach {net:.2f}, beyond "
                        f"max_net_exposure {lim.max_net_exposure:.2f}")
        return None

    def _exposure(self, order: Order, qty: float, price: float) -> tuple[float, float]:
        """Gross and net exposure of the account if ``order`` filled: every strategy's positions marked at
        their last price, plus this order at ``price``."""
        gross = net = 0.0
        for view in self._views.values():
            for s, q in view.positions().items():
                v = q * (view.last_price(s) or 0.0)
                gross += abs(v)
                net += v
        own = qty * price
        return gross + abs(own), net + own

    def take_order_token(self) -> tuple[str, str, str] | None:
        """The account's order rate (a token bucket shared by all its strategies): None if one was taken."""
        rate = self.limits.order_rate_per_second
        if rate is None:
            return None
        now = self._now()
        if now > self._last_ns:
            self._tokens = min(float(self._burst()), self._tokens + (now - self._last_ns) * rate / 1e9)
            self._last_ns = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        return ("RISK_ACCOUNT_ORDER_RATE", "order_rate_per_second",
                f"order rate on account {self.account_id!r} (all strategies) exceeds order_rate_per_second "
                f"{rate:g} (burst {self._burst()})")

    # -- equity ---------------------------------------------------------------------------------------------
    def on_equity(self, equity: float, now_ns: int) -> None:
        """Daily loss and drawdown of the whole account (every strategy's equity summed by the caller)."""
        day = now_ns // 86_400_000_000_000
        if day != self._day:
            self._day, self.start_of_day_equity = day, equity
        self.peak_equity = max(self.peak_equity, equity)
        lim = self.limits
        if self.level.state == "halted":
            return
        if lim.max_drawdown_pct is not None and self.peak_equity > 0:
            dd = 1 - equity / self.peak_equity
            if dd >= lim.max_drawdown_pct:
                self.level.set(lim.on_drawdown or "halted", f"account drawdown {dd:.4f} breaches "
                                                            f"max_drawdown_pct {lim.max_drawdown_pct}")
                return
        sod = self.start_of_day_equity
        loss = sod - equity
        breached = (lim.daily_loss_limit is not None and loss >= lim.daily_loss_limit) or (
            lim.daily_loss_limit_pct is not None and sod > 0 and loss / sod >= lim.daily_loss_limit_pct)
        action = lim.on_daily_loss or "reducing"
        if breached and (self.level.state == "active" or action == "halted"):
            self.level.set(lim.on_daily_loss or "reducing",
                               f"account daily loss {loss:.2f} against start-of-day {sod:.2f} breaches its limit")
