"""Control actions that act inside a strategy's engine. The daemon runs them in the strategy's own task, in
order with its data; a replay runs the same recorded actions at the same points."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leand.model import OrderStatus
from leand.risk.gate import TradingState

#: the reason the daemon's watchdog halts with when market data stops (see Daemon._stale_feed)
STALE_FEED = "feed stale"

if TYPE_CHECKING:
    from leand.engine import Engine


def apply_ctl(engine: Engine, command: str, args: dict[str, Any]) -> None:
    if command == "cancel":
        for o in list(engine.open_orders.values()):
            if o.client_order_id == args["client_order_id"] and o.status is not OrderStatus.PENDING_CANCEL:
                engine.cancel_order(o.id, "ctl")
    elif command == "cancel-all":  # "symbols": only orders in these (symbol ids): one venue account's
        only = set(args["symbols"]) if args.get("symbols") is not None else None
        for o in list(engine.open_orders.values()):
            if o.status is not OrderStatus.PENDING_CANCEL and (only is None or o.symbol.id in only):
                engine.cancel_order(o.id, "ctl cancel-all")
    elif command == "flatten":
        sym = args.get("symbol")
        if sym is None or any(s.value == str(sym).upper() for s in engine.securities):
            engine.liquidate(sym, "ctl flatten")
    elif command == "halt":
        engine.risk_gate.halt(args.get("reason", "kill switch"), bool(args.get("cancel_all", False)))
    elif command == "resume":
        engine.risk_gate.resume(args.get("by", "ctl"))
    elif command == "feed-resume":  # lifts only the stale-feed halt: an operator's or a limit's halt stays
        g = engine.risk_gate
        if g.state is TradingState.HALTED and g.state_reason.startswith(STALE_FEED):
            g.resume(args.get("by", "feed recovered"))
    elif command == "risk-set":
        engine.risk_gate.set_config(args["config"])
    else:
        raise ValueError(f"unknown control action {command!r}")
