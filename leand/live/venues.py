"""Several venues in one daemon: each ``[[venues]]`` table opened through the venue registry, with its own
order session, data task, account and slice of the journal.

One journal serves every venue. What would collide is kept apart here:

- fill ids: each venue has a *slot*, journaled at its first start, and its fill ids live in the journal as
  ``slot * FILL_ID_SPAN + id`` (slot 0 adds nothing, so a one-venue journal is what it always was);
- what a venue reconciles against: :class:`VenueStore` shows a venue only the intents of its own symbols and the
  fills in its own id range, so one venue never declares another's orders unknown;
- the starting balances of each account (``starting_balances`` for a one-venue daemon, as before).

A strategy that trades on several venues gets a :class:`RoutingClient` as its brokerage: each order goes to the
venue of its symbol's market, through that venue's journaled client (the same as a one-venue strategy's).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from leand.live.execution import JournaledExecutionClient, OrderRoutes
from leand.model import ExecReport, Fill, Instrument, Order, Symbol, UpdateRequest

if TYPE_CHECKING:
    from leand.engine import Engine
    from leand.live.journal import Journal
    from leand.risk.account import AccountRisk
    from leand.venue import DataClient, ExecutionClient, VenueConfig, VenueView

#: the journal's fill-id range of one venue (Binance-style ids are ``symbol index * 10**12 + trade id``)
FILL_ID_SPAN = 10 ** 15


class VenueStore:
    """The journal as one venue may read it: its own symbols' intents and its own fill ids (in its id space)."""

    def __init__(self, journal: Journal, symbol_ids: Iterable[str], slot: int) -> None:
        self.journal = journal
        self.symbol_ids = frozenset(symbol_ids)
        self.offset = slot * FILL_ID_SPAN

    def intents(self) -> list[dict[str, Any]]:
        return [i for i in self.journal.intents() if i["symbol"] in self.symbol_ids]

    def open_intents(self) -> list[dict[str, Any]]:
        return [i for i in self.journal.open_intents() if i["symbol"] in self.symbol_ids]

    def last_fill_id(self) -> int:
        top = self.journal.max_fill_id(self.offset, self.offset + FILL_ID_SPAN)
        return 0 if top is None else top - self.offset

    def max_fill_id(self, lo: int, hi: int) -> int | None:
        top = self.journal.max_fill_id(lo + self.offset, hi + self.offset)
        return None if top is None else top - self.offset

    def fill_ids(self) -> set[int]:
        lo, hi = self.offset, self.offset + FILL_ID_SPAN
        return {f - lo for f in self.journal.fill_ids() if lo <= f < hi}

    def intents_of(self, cids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {c: i for c, i in self.journal.intents_of(cids).items() if i["symbol"] in self.symbol_ids}

    def journaled_fills(self, ids: Iterable[int]) -> set[int]:
        lo, hi = self.offset, self.offset + FILL_ID_SPAN
        return {f - lo for f in self.journal.journaled_fills(i + lo for i in ids) if lo <= f < hi}

    def first_intent_ns(self, symbol: str) -> int | None:
        return self.journal.first_intent_ns(symbol) if symbol in self.symbol_ids else None

    def last_fill_ns(self, symbol: str) -> int | None:
        return self.journal.last_fill_ns(symbol) if symbol in self.symbol_ids else None

    def fills_complete_through(self) -> int:
        return self.journal.fills_complete_through(self.offset, self.offset + FILL_ID_SPAN) - self.offset

    def fill_floor(self, lo: int, hi: int, window_ns: int) -> tuple[int | None, int | None]:
        floor, newest = self.journal.fill_floor(lo + self.offset, hi + self.offset, window_ns)
        return (None if floor is None else floor - self.offset), newest


@dataclass
class Venue:
    """One venue of the daemon: its clients, its order session's routes, its account and its feed's health."""

    id: str
    config: VenueConfig
    slot: int
    instruments: dict[Symbol, Instrument]
    execution: ExecutionClient
    data: DataClient
    session: OrderRoutes
    #: the key of the account's starting balances in the journal's meta table
    balances_key: str
    account: AccountRisk | None = None
    view: VenueView | None = None
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    #: time.monotonic() of the last market-data message (0: none yet)
    last_quote_wall: float = 0.0
    stale_halted: bool = False

    @property
    def name(self) -> str:
        return self.id

    @property
    def fill_offset(self) -> int:
        return self.slot * FILL_ID_SPAN

    def to_journal(self, rep: ExecReport) -> ExecReport:
        """A report with its fill id in the journal's id space (unchanged for slot 0)."""
        if self.slot and rep.fill_quantity:
            return msgspec.structs.replace(rep, fill_id=rep.fill_id + self.fill_offset)
        return rep

    def view_to_journal(self, view: VenueView) -> VenueView:
        if not self.slot:
            return view
        return msgspec.structs.replace(view, fills=[self.to_journal(r) for r in view.fills])

    def starting_balances(self, journal: Journal) -> dict[str, float]:
        return dict(json.loads(journal.get(self.balances_key) or "{}"))


def venue_slots(journal: Journal, ids: list[str]) -> dict[str, int]:
    """Each venue's fill-id slot: kept in the journal from the first start, new venues taking the next free one."""
    slots: dict[str, int] = json.loads(journal.get("venue_slots") or "{}")
    if len(ids) == 1 and ids[0] not in slots and len(slots) <= 1:
        # one venue, renamed (or journaled before venues had slots): the same account, the same fill ids
        slots = {ids[0]: next(iter(slots.values()), 0)}
        changed = True
    else:
        changed = False
    for vid in ids:
        if vid not in slots:
            slots[vid] = max(slots.values(), default=-1) + 1
            changed = True
    if changed:
        journal.put("venue_slots", json.dumps(slots, sort_keys=True))
    return {vid: slots[vid] for vid in ids}


def venue_symbols(v: VenueConfig) -> list[Symbol]:
    sec_type = v.security_type()
    return [Symbol(t.upper(), sec_type, v.market) for t in v.symbols]


def apply_fills(balances: Mapping[str, float], fills: Iterable[Fill], instruments: Mapping[str, Instrument]
                ) -> dict[str, float]:
    """Balances after ``fills`` (by symbol id in ``instruments``; others are skipped): quote out, base in, fee
    out in its own currency (Binance charges a buy's fee in the base asset)."""
    out = dict(balances)
    for f in fills:
        inst = instruments.get(f.symbol.id)
        if inst is None:
            continue
        out[inst.quote_currency] = out.get(inst.quote_currency, 0.0) - f.quantity * f.price
        fee_ccy = f.fee_currency or inst.quote_currency
        out[fee_ccy] = out.get(fee_ccy, 0.0) - f.fee
        if inst.base_currency:
            out[inst.base_currency] = out.get(inst.base_currency, 0.0) + f.quantity
    return out


class UnroutableOrder(ValueError):
    """An order for a symbol no venue of the strategy trades."""


class RoutingClient:
    """The brokerage of a strategy on several venues: each request goes to the journaled client of the venue
    whose market the order's symbol is on. Each of those passes the risk gate's approval on untouched."""

    name = "live"

    def __init__(self, engine: Engine, clients: Mapping[str, JournaledExecutionClient],
                 venue_of: Mapping[Symbol, str]) -> None:
        self.engine = engine
        self.clients = dict(clients)
        self.venue_of = dict(venue_of)

    def client_for(self, symbol: Symbol) -> JournaledExecutionClient:
        vid = self.venue_of.get(symbol)
        if vid is None or vid not in self.clients:
            raise UnroutableOrder(f"no venue of this strategy trades {symbol.value} ({symbol.market}); its "
                                  f"venues: {', '.join(sorted(self.clients))}")
        return self.clients[vid]

    def submit(self, approved: Any, order: Order, now_ns: int) -> None:
        self.client_for(order.symbol).submit(approved, order, now_ns)

    def send_plain(self, approved: Any, order: Order, now_ns: int, record: Any = None) -> bool:
        """The fused path's submit (:meth:`JournaledExecutionClient.send_plain`) at the order's venue (not the
        catch-all below: its first argument is the approval, which only one venue may spend)."""
        return self.client_for(order.symbol).send_plain(approved, order, now_ns, record)

    def modify(self, approved: Any, order: Order, update: UpdateRequest, now_ns: int) -> None:
        self.client_for(order.symbol).modify(approved, order, update, now_ns)

    def cancel(self, order: Order, now_ns: int) -> bool:
        return self.client_for(order.symbol).cancel(order, now_ns)

    def async_cancel(self, order: Order) -> bool:
        return self.client_for(order.symbol).async_cancel(order)

    def async_modify(self, order: Order) -> bool:
        return self.client_for(order.symbol).async_modify(order)

    def on_venue_canceled(self, order: Order, now_ns: int) -> bool:
        return self.client_for(order.symbol).on_venue_canceled(order, now_ns)

    def on_cancel_refused(self, order: Order) -> bool:
        return self.client_for(order.symbol).on_cancel_refused(order)

    def on_linked(self, a: Order, b: Order) -> None:
        self.client_for(a.symbol).on_linked(a, b)

    def on_bracket(self, entry: Order, take_profit: float, stop_loss: float, tag: str,
                   exits: tuple[Order, Order] | None = None) -> None:
        self.client_for(entry.symbol).on_bracket(entry, take_profit, stop_loss, tag, exits)

    def on_bracket_armed(self, entry: Order) -> None:
        self.client_for(entry.symbol).on_bracket_armed(entry)

    def on_bracket_exits(self, entry: Order, take_profit: Order, stop_loss: Order) -> None:
        self.client_for(entry.symbol).on_bracket_exits(entry, take_profit, stop_loss)

    def hold(self, order: Order) -> None:
        self.client_for(order.symbol).hold(order)

    def collect_otoco(self, symbol: Symbol) -> bool:
        vid = self.venue_of.get(symbol)
        return vid in self.clients and self.clients[vid].collect_otoco(symbol)

    def send_otoco(self, symbol: Symbol, now_ns: int) -> bool:
        vid = self.venue_of.get(symbol)
        return vid in self.clients and self.clients[vid].send_otoco(symbol, now_ns)

    def on_update_answered(self, order: Order, accepted: bool) -> None:
        self.client_for(order.symbol).on_update_answered(order, accepted)

    def scan(self, now_ns: int) -> None:
        for c in self.clients.values():
            c.scan(now_ns)

    def end_of_step(self, now_ns: int) -> None:
        for c in self.clients.values():
            c.end_of_step(now_ns)

    def __getattr__(self, name: str) -> Any:
        """A hook the engine's clients gain later still works here: about one order (its first argument), it
        goes to that order's venue; otherwise it is called on every venue's client (the last answer returned)."""
        if name.startswith("_") or not self.__dict__.get("clients"):
            raise AttributeError(name)
        found = [getattr(c, name) for c in self.clients.values()]
        if not callable(found[0]):
            return found[0]

        def call(*args: Any, **kwargs: Any) -> Any:
            if args and isinstance(args[0], Order):
                return getattr(self.client_for(args[0].symbol), name)(*args, **kwargs)
            out = None
            for fn in found:
                out = fn(*args, **kwargs)
            return out

        return call

    def reconcile(self) -> Any:
        from leand.execution import ReconcileReport

        return ReconcileReport()


def strategy_brokerage(strategy_id: str, venues: Mapping[str, Venue]) -> Any:
    """``Engine(..., brokerage=...)`` for a strategy trading on ``venues``: the venue's journaled client when
    it is one venue (the one-venue path, unchanged), a :class:`RoutingClient` over them otherwise."""
    if len(venues) == 1:
        return next(iter(venues.values())).session.client(strategy_id)
    venue_of = {s: v.id for v in venues.values() for s in v.instruments}

    def make(engine: Engine) -> RoutingClient:
        return RoutingClient(engine, {v.id: JournaledExecutionClient(engine, v.session, strategy_id)
                                      for v in venues.values()}, venue_of)

    return make


class AccountSlice:
    """A strategy's positions on one account only (what an account's exposure sums, for a strategy that also
    trades on others)."""

    def __init__(self, view: Any, symbols: Iterable[Symbol]) -> None:
        self.view = view
        self.symbols = frozenset(symbols)

    def positions(self) -> dict[Symbol, float]:
        return {s: q for s, q in self.view.positions().items() if s in self.symbols}

    def last_price(self, symbol: Symbol) -> float:
        return float(self.view.last_price(symbol))


def open_venue(cfg: VenueConfig, slot: int, *, single: bool, journal: Journal, instruments: dict[Symbol, Instrument],
               state: Path, data_path: Path, boot: int) -> Venue:
    """Build one venue's clients through the registry (nothing connects yet) and its order session."""
    from leand import venue as registry
    from leand.live.secrets import secret

    credentials = {}
    for name in cfg.secret_names():
        env, cred = getattr(cfg, f"{name}_env"), getattr(cfg, f"{name}_credential")
        if env or cred:
            credentials[name] = secret(env=env or None, credential=cred or None)
    where = state if slot == 0 else state / "venues" / cfg.name
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = journal if single and slot == 0 else VenueStore(journal, [s.id for s in instruments], slot)
    clients = registry.venue(cfg.kind).open(registry.VenueContext(
        config=cfg, instruments=instruments, store=store, credentials=credentials, state_path=where,
        data_path=data_path))
    return Venue(id=cfg.name, config=cfg, slot=slot, instruments=instruments, execution=clients.execution,
                 data=clients.data, session=OrderRoutes(clients.execution, journal, boot),
                 balances_key="starting_balances" if single else f"starting_balances:{cfg.name}")


def account_shares(journal: Journal, venue: Venue, allocations: Mapping[str, Mapping[str, float]]
                   ) -> dict[str, dict[str, float]]:
    """Each strategy's share of one account now: its allocation plus its own fills on the account's symbols."""
    by_id = {s.id: i for s, i in venue.instruments.items()}
    owner = {i["client_order_id"]: i["strategy"] for i in journal.intents() if i["symbol"] in by_id}
    fills = [f for f in journal.fills() if f.client_order_id in owner]
    out = {}
    for sid, alloc in allocations.items():
        out[sid] = apply_fills(alloc, (f for f in fills if owner[f.client_order_id] == sid), by_id)
    return out
