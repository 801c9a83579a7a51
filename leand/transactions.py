"""``self.transactions``: LEAN's transaction manager over the engine's orders and tickets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from leand.model import Order, Symbol
from leand.tickets import OrderTicket, SubmitOrderRequest

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.orders.contingent import BracketTicket


class Transactions:
    """Orders and tickets of one strategy (LEAN's ``SecurityTransactionManager``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- orders -------------------------------------------------------------------------------------------
    @property
    def orders_count(self) -> int:
        return len(self._engine.orders)

    def get_orders(self, filter: Callable[[Order], bool] | None = None) -> Iterator[Order]:
        orders = self._engine.orders.values()
        return iter([o for o in orders if filter is None or filter(o)])

    def get_order_by_id(self, order_id: int) -> Order | None:
        return self._engine.orders.get(order_id)

    def get_open_orders(self, symbol: Symbol | str | None = None,
                        filter: Callable[[Order], bool] | None = None) -> list[Order]:
        out = self._engine.get_open_orders(symbol)
        return [o for o in out if filter is None or filter(o)]

    def get_open_orders_remaining_quantity(self, symbol: Symbol | str | Callable[[OrderTicket], bool] | None = None
                                           ) -> float:
        """Signed quantity still to fill over the open orders (of ``symbol``, or passing a ticket filter)."""
        if callable(symbol) and not isinstance(symbol, (Symbol, str)):
            return sum(t.quantity - t.quantity_filled for t in self.get_open_order_tickets(symbol))
        return sum(o.quantity - o.filled_quantity for o in self._engine.get_open_orders(symbol))

    # -- tickets ------------------------------------------------------------------------------------------
    def get_bracket_tickets(self) -> list[BracketTicket]:
        """Every live bracket, as the tickets ``bracket_order`` returned (the same objects: their exits' tickets
        appear on them when armed): those waiting for their entry, then those armed with an exit still open (one
        whose exits have both closed is done and left out). After a restart of the daemon these are the brackets
        it restored from the journal, so a strategy gets every live bracket back: a waiting one with ``entry`` the
        adopted entry's ticket (None for one that filled while leand was down), an armed one with
        ``take_profit``/``stop_loss`` the adopted exits' tickets (None for one no longer open) and ``entry``
        None (its entry ended before the restart)."""
        return self._engine.order_manager.contingent.open_brackets()

    def get_order_ticket(self, order_id: int) -> OrderTicket | None:
        return self._engine.tickets.get(order_id)

    def get_order_tickets(self, filter: Callable[[OrderTicket], bool] | None = None) -> Iterator[OrderTicket]:
        return iter([t for t in self._engine.tickets.values() if filter is None or filter(t)])

    def get_open_order_tickets(self, filter: Callable[[OrderTicket], bool] | Symbol | str | None = None
                               ) -> Iterator[OrderTicket]:
        if isinstance(filter, (Symbol, str)):
            sym = self._engine.resolve(filter)
            filter = lambda t, _s=sym: t.symbol == _s  # noqa: E731
        open_ids = self._engine.open_orders
        return iter([t for i, t in self._engine.tickets.items() if i in open_ids and (filter is None or filter(t))])

    # -- requests -----------------------------------------------------------------------------------------
    def add_order(self, request: SubmitOrderRequest) -> OrderTicket:
        """LEAN's ``Transactions.AddOrder(SubmitOrderRequest)``: place the order the request describes."""
        tif = getattr(request.order_properties, "time_in_force", None)
        p = request.prices()
        return self._engine.submit(request.symbol, request.quantity, request.order_type, tag=request.tag,
                                   asynchronous=request.asynchronous, time_in_force=tif,
                                   limit_price=p["limit_price"], stop_price=p["stop_price"],
                                   trigger_price=p["trigger_price"])

    # -- requests (cancel) -----------------------------------------------------------------------------------------
    def cancel_order(self, order_id: int, tag: str = ""):
        return self._engine.cancel_order_response(order_id, tag)

    def cancel_open_orders(self, symbol: Symbol | str | None = None, tag: str = "") -> list[OrderTicket]:
        return self._engine.cancel_open_orders(symbol, tag)

    def __getattr__(self, name: str) -> Any:
        # earlier leand code used the engine itself as ``transactions``
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._engine, name)
