"""The venue boundary: what a venue adapter implements, what it declares it can do, and how leand finds it.

A venue is a folder under ``adapters/`` (or any installed package) with the same inner shape: its config
Struct, a data client, an execution client, its message schemas and a ``registration`` module that calls
:func:`register`. The daemon, replay and the CLI find venues only through :func:`venue` (keyed by the config's
``kind``), so adding a venue never means editing them. Built-in venues are registered by module name;
others through the ``leand.venues`` entry-point group (an entry point names a module that registers on
import, or a :class:`VenueRegistration` object).

This module is the core layer: it depends on :mod:`leand.model` only. Adapters depend on it and the model,
never on the daemon, the engine or the simulator's wire types.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import msgspec

from leand.model import (
    ExecReport,
    Instrument,
    Order,
    OrderType,
    QuoteTick,
    SecurityType,
    Symbol,
    TimeInForce,
    TradeTick,
    UpdateRequest,
    VenueOrder,
)

#: the entry-point group an out-of-tree venue registers under
ENTRY_POINT_GROUP = "leand.venues"
#: the kind of a ``[venue]`` section that names none
DEFAULT_KIND = "paper"
#: the venues shipped with leand, registered by module name (so nothing in leand imports an adapter)
BUILTIN_REGISTRATIONS = ("leand.adapters.paper.registration", "leand.adapters.binance.registration",
                         "leand.adapters.ccxt.registration")

MarketEvent = QuoteTick | TradeTick
#: LEAN's crypto market names (symbol-properties rows): a venue on one of them trades crypto
CRYPTO_MARKETS = frozenset({"coinbase", "gdax", "binance", "binanceus", "bybit", "bitfinex", "kraken", "okx",
                            "bitstamp", "kucoin"})
#: how many ended orders (filled, canceled, rejected, expired) an execution client remembers once their per-order
#: state is dropped: a late or duplicate report of one is still known (its status dropped, its fill left to the
#: journal's fill-id dedupe) and a reconnect's snapshot still attributes its trades without asking the venue
RECENT_ENDED = 4096
V = TypeVar("V")


class VenueConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What every ``[venue]`` section has. Each venue's config subclasses it with ``tag_field="kind"`` and its
    kind as the tag, and adds its own keys. Secrets are references only (an environment variable or a systemd
    credential name), resolved by the daemon."""

    name: str = ""
    #: the market name in leand Symbols (it also selects the symbol-properties rows)
    market: str = ""
    symbols: list[str] = msgspec.field(default_factory=list)
    api_key_env: str = ""
    api_key_credential: str = ""
    api_secret_env: str = ""
    api_secret_credential: str = ""

    @property
    def kind(self) -> str:
        """The venue kind (the registry key): the Struct's tag."""
        tag = type(self).__struct_config__.tag
        return tag if isinstance(tag, str) else ""

    def security_type(self) -> SecurityType:
        """What the venue's symbols are: crypto on LEAN's crypto markets, equities otherwise. A venue whose
        symbols are all of one type (a crypto exchange) overrides this."""
        return SecurityType.CRYPTO if self.market in CRYPTO_MARKETS else SecurityType.EQUITY

    def validate(self) -> None:
        """Raise ValueError, naming the key, for a value the venue cannot work with (checked at config load)."""

    def secret_names(self) -> list[str]:
        """The secrets this section names by reference: every ``<name>_env``/``<name>_credential`` pair."""
        fields = set(self.__struct_fields__)
        return [f[:-4] for f in self.__struct_fields__ if f.endswith("_env") and f"{f[:-4]}_credential" in fields]


class Capabilities(msgspec.Struct, kw_only=True, frozen=True):
    """What an execution client does natively. Whatever it lacks, the order manager emulates or refuses with a
    clear rejection; nothing above the boundary guesses from the venue's name."""

    order_types: frozenset[OrderType] = frozenset({OrderType.MARKET, OrderType.LIMIT})
    time_in_force: frozenset[TimeInForce] = frozenset({TimeInForce.GTC})
    #: quantity/price changed in place, keeping the venue order
    modify: bool = False
    #: one request that cancels an order and places its replacement: an update reaches ``modify()`` with the
    #: order under its replacement's (journaled) client order id and ``UpdateRequest.replaces`` naming the venue
    #: order to cancel; the venue answers UPDATE_ACCEPTED (before the replacement's fills), UPDATE_REJECTED
    #: (nothing changed), or the order's end (the cancel went through, the replacement was refused)
    cancel_replace: bool = False
    #: one-cancels-other and one-triggers-other order lists
    oco: bool = False
    oto: bool = False
    #: one-triggers-one-cancels-other lists: a limit entry working, its two exits (a one-cancels-other pair)
    #: placed by the venue when the entry has filled (a bracket with ``entry_limit`` goes out as one such list)
    otoco: bool = False
    post_only: bool = False
    #: a cancel is only a request (the venue confirms later and fills may still arrive); False when the venue
    #: answers a cancel before ``cancel()`` returns
    async_cancel: bool = True


class VenueView(msgspec.Struct, kw_only=True):
    """The venue's view of the account, taken at connect: what :meth:`ExecutionClient.reconcile` returns."""

    #: orders open at the venue (adopted again by the strategies that sent them)
    open_orders: list[VenueOrder] = []
    #: the venue's answer for each client order id the order store had open: None means the venue never
    #: heard of it (journaled, never sent). An id missing here was not looked at and is left alone.
    orders: dict[str, VenueOrder | None] = {}
    #: fills the store may not have yet, attributed to client order ids (duplicates are dropped by fill id)
    fills: list[ExecReport] = []
    balances: dict[str, float] = {}
    #: what the venue holds that no intent of this account explains (for example a trade made elsewhere)
    foreign: list[dict[str, Any]] = []


class OrderStore(Protocol):
    """The daemon's journal as a venue may read it: what was sent, and which fills are already known."""

    def intents(self) -> list[dict[str, Any]]: ...

    def open_intents(self) -> list[dict[str, Any]]: ...

    def last_fill_id(self) -> int: ...

    def max_fill_id(self, lo: int, hi: int) -> int | None: ...

    def fill_ids(self) -> set[int]: ...

    def intents_of(self, cids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The journaled intents among ``cids``, by client order id (ended ones included)."""
        ...

    def journaled_fills(self, ids: Iterable[int]) -> set[int]:
        """Those of ``ids`` already journaled."""
        ...

    def first_intent_ns(self, symbol: str) -> int | None:
        """When the oldest intent of ``symbol`` (a symbol id) was created, or None: no intent of it."""
        ...

    def last_fill_ns(self, symbol: str) -> int | None:
        """The venue time (ns) of the newest fill journaled for ``symbol`` (a symbol id), or None."""
        ...

    def fills_complete_through(self) -> int:
        """The highest fill id ``n`` with every id ``1 .. n`` journaled (0: not even id 1): where a venue whose
        fill ids count up by one recovers from (fills are not always journaled in id order)."""
        ...

    def fill_floor(self, lo: int, hi: int, window_ns: int) -> tuple[int | None, int | None]:
        """For fill ids that grow with the venue's time: the highest in ``[lo, hi)`` at least ``window_ns``
        older than the newest there (None: none), and the newest's time in ns (None: no fill there)."""
        ...


class EndedOrders(OrderedDict[str, V]):
    """The last ``size`` orders of an execution client that ended, oldest first: client order id -> what a late
    report of one still needs (its venue order id, say). A client drops an order's per-order state when the order
    ends, so a long session's memory does not grow with its orders; this window is what it still knows of them."""

    def __init__(self, size: int = RECENT_ENDED) -> None:
        super().__init__()
        self.size = size

    def add(self, cid: str, value: V) -> list[tuple[str, V]]:
        """``cid`` ended: remembered, and the oldest ones past the window forgotten (returned, for the client's
        own maps keyed by what they held)."""
        self[cid] = value
        out = []
        while len(self) > self.size:
            out.append(self.popitem(last=False))
        return out


def status_moves_on(stage: dict[str, int], ended: EndedOrders[Any], cid: str, rank: int,
                    end: Callable[[str], None]) -> bool:
    """Whether an order-status report of ``rank`` (``STATUS_RANK``) goes on to the engine: reports only ever move
    an order forward, and an ended order stays ended. One that ends the order (rank 4 or more) calls the client's
    ``end``, which drops its per-order state; any other becomes the order's ``stage``."""
    if rank <= stage.get(cid, 0) or cid in ended:
        return False
    if rank >= 4:
        end(cid)
    else:
        stage[cid] = rank
    return True


def fill_moves_on(stage: dict[str, int], ended: EndedOrders[Any], cid: str, rank: int,
                  end: Callable[[str], None]) -> None:
    """A fill always goes on, even for an ended order (the journal drops one it has by fill id); for a live order
    its status moves the ``stage`` forward as :func:`status_moves_on` would, or ends the order."""
    if cid not in ended:
        if rank >= 4:
            end(cid)
        elif rank > stage.get(cid, 0):
            stage[cid] = rank


def held_locally(intent: Mapping[str, Any]) -> bool:
    """An emulated order that has not triggered (a journal intent row): the order manager holds it and the venue has
    never heard of it, so a reconciliation neither looks it up there nor takes its absence as an order lost."""
    return bool(intent.get("emulated")) and not intent.get("triggered")


@runtime_checkable
class DataClient(Protocol):
    """Market data in, model events out. ``stream()`` never ends on its own (a dropped connection is the
    client's to reopen).

    Optionally ``attach(consumer)``: the daemon then gets each event by ``consumer(event)`` called from the
    client's socket callback (no task wake-up between the read and the strategy) while it still iterates
    ``stream()``, which then yields nothing and keeps the connection (the Binance adapter does this)."""

    def subscribe(self, instruments: Mapping[Symbol, Instrument]) -> None: ...

    def unsubscribe(self, symbols: Iterable[Symbol]) -> None: ...

    def stream(self) -> AsyncIterator[MarketEvent]: ...


class ReportSink(Protocol):
    def put_nowait(self, item: ExecReport) -> None: ...


class ReportChannel(asyncio.Queue[ExecReport]):
    """An execution client's ``reports``: a queue until a consumer attaches, then a direct call.

    Before :meth:`attach` (connect, reconcile, tests that read the queue) reports wait here as in any
    ``asyncio.Queue``. Once the daemon attaches its consumer, ``put_nowait`` hands each report to it in the
    same callback that produced it (a user-data frame, a REST answer, a paper fill): no task wakes up and no
    loop iteration passes between the venue's answer and the strategy's order event. A report put from another
    thread (a strategy on its own worker thread whose emulated order reports itself) is posted to the loop's
    thread first, so the consumer only ever runs there."""

    def __init__(self) -> None:
        super().__init__()
        self._consumer: Callable[[ExecReport], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0

    def attach(self, consumer: Callable[[ExecReport], None]) -> None:
        """From now on reports go straight to ``consumer`` (on the running loop's thread); what is queued
        goes first, in order."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        while not self.empty():
            consumer(self.get_nowait())
        self._consumer = consumer

    def detach(self) -> None:
        self._consumer = None

    def put_nowait(self, item: ExecReport) -> None:
        c = self._consumer
        if c is None:
            super().put_nowait(item)
            return
        if threading.get_ident() != self._thread:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.put_nowait, item)
            return
        c(item)


class OrderEntry(Protocol):
    """The part of an execution client that order emulation drives: what the venue does natively, the three
    requests, and where reports go (an :class:`ExecutionClient` is one; so is replay's re-simulated venue)."""

    capabilities: Capabilities

    @property
    def reports(self) -> ReportSink: ...

    def submit(self, order: Order, now_ns: int) -> None: ...

    def modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None: ...

    def cancel(self, order: Order, now_ns: int) -> None: ...


@runtime_checkable
class OrderListEntry(Protocol):
    """What an execution client whose ``capabilities.oco`` is True also does: two orders placed as one
    one-cancels-other list at the venue (the first fill or trigger of one ends the other there, so the pair
    protects a position even while leand is down). A leg the venue ends because the other worked is reported
    CANCELED with reason ``OCO``, as leand's own OCO reports it."""

    def submit_oco(self, orders: tuple[Order, Order], now_ns: int) -> None: ...

    def submit_otoco(self, orders: tuple[Order, Order, Order], now_ns: int) -> None:
        """(entry, take-profit, stop-loss) as one one-triggers-one-cancels-other list (``capabilities.otoco``):
        the entry works now; the venue places the exits, as a one-cancels-other pair, once it has filled, and
        ends them if it ends otherwise. Each leg is reported under its own client order id."""
        ...

    def in_order_list(self, client_order_id: str) -> bool:
        """True when the venue holds this order in one of its order lists (so it ends the order itself once
        a partner works): known from what this client placed, and after a restart from the venue's view."""
        ...


@runtime_checkable
class ExecutionClient(Protocol):
    """Orders out, execution reports in (on ``reports``, in the venue's order). One per venue account.

    ``submit``/``modify``/``cancel`` only send: the caller journals the intent before calling them and learns
    the outcome from ``reports``. ``reconcile()`` returns the venue's view taken by ``connect()``."""

    capabilities: Capabilities
    #: an ``asyncio.Queue`` whose consumer, once attached, is called directly
    reports: ReportChannel

    @property
    def inflight(self) -> int:
        """Requests sent and not yet answered (a clean shutdown waits for them)."""
        ...

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    def submit(self, order: Order, now_ns: int) -> None: ...

    def modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None: ...

    def cancel(self, order: Order, now_ns: int) -> None: ...

    def reconcile(self) -> VenueView: ...

    def balances(self) -> dict[str, float]: ...


class SimulatedVenue(Protocol):
    """A venue whose matching leand can re-run (replay re-simulates it from recorded market data, and a
    backtest can match in it): what it matches natively, and the three requests, answered at once."""

    order_types: frozenset[OrderType]
    time_in_force: frozenset[TimeInForce]

    def submit(self, client_order_id: str, symbol: Symbol, quantity: float, type_: str, limit_price: float | None,
               now_ns: int, *, stop_price: float | None = None, trailing_amount: float | None = None,
               trailing_as_percentage: bool = False, time_in_force: str = "gtc") -> list[ExecReport]: ...

    def cancel(self, client_order_id: str, now_ns: int) -> ExecReport: ...

    def modify(self, client_order_id: str, quantity: float | None, limit_price: float | None,
               now_ns: int, *, stop_price: float | None = None,
               trailing_amount: float | None = None) -> list[ExecReport]: ...

    def on_quote(self, q: QuoteTick) -> list[ExecReport]: ...


@dataclass(frozen=True)
class VenueContext:
    """What the daemon hands a venue when it opens it."""

    config: VenueConfig
    instruments: dict[Symbol, Instrument]
    store: OrderStore
    #: resolved secrets by name (``api_key``, ``api_secret``); never logged
    credentials: Mapping[str, str]
    #: the daemon's state directory (a venue that keeps its own store puts it here)
    state_path: Path
    data_path: Path


@dataclass(frozen=True)
class VenueClients:
    execution: ExecutionClient
    data: DataClient


@dataclass(frozen=True)
class VenueRegistration:
    kind: str
    config: type[VenueConfig]
    #: build the clients (nothing connects yet: the daemon awaits ``execution.connect()``)
    open: Callable[[VenueContext], VenueClients]
    #: for venues leand can re-simulate in a replay: (config, instruments, starting balances) -> venue
    simulate: Callable[[VenueConfig, dict[Symbol, Instrument], dict[str, float]], SimulatedVenue] | None = None
    description: str = ""


class UnknownVenueKind(LookupError):
    """A config names a venue kind nothing registered."""

    def __init__(self, kind: str, known: list[str], problems: list[str]) -> None:
        self.kind, self.known, self.problems = kind, known, problems
        extra = f" (not loaded: {'; '.join(problems)})" if problems else ""
        super().__init__(f"unknown venue kind {kind!r}; expected one of {', '.join(map(repr, known))}{extra}")


_registry: dict[str, VenueRegistration] = {}
_problems: list[str] = []
_discovered = False


def register(reg: VenueRegistration) -> VenueRegistration:
    """Add a venue kind. Registering the same kind twice with a different registration is an error."""
    old = _registry.get(reg.kind)
    if old is not None and old != reg:
        raise ValueError(f"venue kind {reg.kind!r} is already registered (by {old.open.__module__})")
    if reg.config.__struct_config__.tag != reg.kind:
        raise ValueError(f"venue kind {reg.kind!r}: its config {reg.config.__name__} must be tagged "
                         f"tag_field='kind', tag={reg.kind!r}")
    _registry[reg.kind] = reg
    return reg


def unregister(kind: str) -> None:
    _registry.pop(kind, None)


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for name in BUILTIN_REGISTRATIONS:
        importlib.import_module(name)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as e:  # a broken plugin must not take the others down; its kind says why it is missing
            _problems.append(f"{ep.name} ({ep.value}): {type(e).__name__}: {e}")
            continue
        if isinstance(obj, VenueRegistration):
            register(obj)


def venue(kind: str) -> VenueRegistration:
    """The registration of ``kind``; :class:`UnknownVenueKind` if nothing registered it."""
    reg = _registry.get(kind)
    if reg is None:
        _discover()
        reg = _registry.get(kind)
    if reg is None:
        raise UnknownVenueKind(kind, kinds(), list(_problems))
    return reg


def kinds() -> list[str]:
    _discover()
    return sorted(_registry)
