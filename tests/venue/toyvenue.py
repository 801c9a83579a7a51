"""An out-of-tree venue for the registry tests: a whole venue in one module, shaped like a folder under
``adapters/`` (config, data client, execution client, registration). It depends on leand's model and venue
boundary only. Quotes are a deterministic walk; market orders fill at the touch, limit orders rest until the
touch crosses them; balances move with every fill."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterable, Mapping

import msgspec

from leand.model import ExecReport, Instrument, Order, OrderType, QuoteTick, Symbol, UpdateRequest, VenueOrder
from leand.venue import (
    Capabilities,
    OrderStore,
    VenueClients,
    VenueConfig,
    VenueContext,
    VenueRegistration,
    VenueView,
    register,
)


class ToyVenueConfig(VenueConfig, tag_field="kind", tag="toy"):
    name: str = "toy"
    market: str = "coinbase"
    symbols: list[str] = msgspec.field(default_factory=lambda: ["BTCUSD"])
    rate_hz: float = 50.0
    price: float = 20_000.0
    cash: float = 100_000.0


class ToyExecution:
    capabilities = Capabilities(async_cancel=False)

    def __init__(self, cfg: ToyVenueConfig, store: OrderStore, instruments: Mapping[Symbol, Instrument]) -> None:
        self.cfg, self.store, self.instruments = cfg, store, dict(instruments)
        self.reports: asyncio.Queue[ExecReport] = asyncio.Queue()
        self.account = {"USD": cfg.cash}
        self.resting: dict[str, Order] = {}
        self.touch: dict[str, tuple[float, float]] = {}
        self.fill_ids = itertools.count(1)
        self.connected = False

    @property
    def inflight(self) -> int:
        return 0

    async def connect(self) -> None:
        self.connected = True

    async def close(self) -> None:
        self.connected = False

    def _fill(self, o: Order, price: float, now_ns: int) -> None:
        inst = self.instruments[o.symbol]
        self.account[inst.quote_currency] = self.account.get(inst.quote_currency, 0.0) - o.quantity * price
        self.account[inst.base_currency] = self.account.get(inst.base_currency, 0.0) + o.quantity
        self.reports.put_nowait(ExecReport(client_order_id=o.client_order_id, status="filled", symbol=o.symbol.id,
                                           time_ns=now_ns, fill_id=next(self.fill_ids), fill_quantity=o.quantity,
                                           fill_price=price, fee_currency=inst.quote_currency, liquidity="taker"))

    def _crosses(self, o: Order) -> float | None:
        bid, ask = self.touch.get(o.symbol.id, (0.0, 0.0))
        px = ask if o.quantity > 0 else bid
        if not px:
            return None
        if o.type is OrderType.MARKET:
            return px
        assert o.limit_price is not None
        return px if (px <= o.limit_price if o.quantity > 0 else px >= o.limit_price) else None

    def submit(self, order: Order, now_ns: int) -> None:
        cid = order.client_order_id
        if order.type not in self.capabilities.order_types:
            self.reports.put_nowait(ExecReport(client_order_id=cid, status="rejected", symbol=order.symbol.id,
                                               time_ns=now_ns, reason="UNSUPPORTED_ORDER_TYPE"))
            return
        self.reports.put_nowait(ExecReport(client_order_id=cid, status="accepted", symbol=order.symbol.id,
                                           time_ns=now_ns))
        px = self._crosses(order)
        if px is not None:
            self._fill(order, px, now_ns)
        else:
            self.resting[cid] = order

    def on_quote(self, q: QuoteTick) -> None:
        self.touch[q.symbol.id] = (q.bid_price, q.ask_price)
        for cid, o in list(self.resting.items()):
            px = self._crosses(o)
            if px is not None:
                del self.resting[cid]
                self._fill(o, px, q.time)

    def cancel(self, order: Order, now_ns: int) -> None:
        cid = order.client_order_id
        gone = self.resting.pop(cid, None) is not None
        self.reports.put_nowait(ExecReport(client_order_id=cid, status="canceled" if gone else "rejected",
                                           symbol=order.symbol.id, time_ns=now_ns,
                                           reason="" if gone else "CANCEL_REJECTED UNKNOWN_ORDER"))

    def modify(self, order: Order, update: UpdateRequest, now_ns: int) -> None:
        raise NotImplementedError

    def balances(self) -> dict[str, float]:
        return dict(self.account)

    def reconcile(self) -> VenueView:
        # a fresh account each start: whatever the journal had open is unknown here
        return VenueView(orders={it["client_order_id"]: None for it in self.store.open_intents()},
                         open_orders=[VenueOrder(client_order_id=o.client_order_id, venue_order_id=0,
                                                 symbol=o.symbol.id, quantity=o.quantity, type=o.type.value,
                                                 limit_price=o.limit_price, status="accepted", filled=0.0)
                                      for o in self.resting.values()],
                         balances=self.balances())


class ToyData:
    def __init__(self, cfg: ToyVenueConfig, execution: ToyExecution, instruments: Mapping[Symbol, Instrument]) -> None:
        self.cfg, self.execution, self.symbols = cfg, execution, list(instruments)

    def subscribe(self, instruments: Mapping[Symbol, Instrument]) -> None:
        self.symbols += [s for s in instruments if s not in self.symbols]

    def unsubscribe(self, symbols: Iterable[Symbol]) -> None:
        self.symbols = [s for s in self.symbols if s not in set(symbols)]

    async def stream(self) -> AsyncIterator[QuoteTick]:
        for i in itertools.count():
            for s in self.symbols:
                mid = self.cfg.price + (5.0 if (i // 7) % 2 else -5.0) + i % 7
                q = QuoteTick(s, time.time_ns(), mid - 0.5, 1.0, mid + 0.5, 1.0)
                self.execution.on_quote(q)
                yield q
            await asyncio.sleep(1.0 / self.cfg.rate_hz)


def open_toy(ctx: VenueContext) -> VenueClients:
    cfg = ctx.config
    assert isinstance(cfg, ToyVenueConfig)
    ex = ToyExecution(cfg, ctx.store, ctx.instruments)
    return VenueClients(execution=ex, data=ToyData(cfg, ex, ctx.instruments))


REGISTRATION = register(VenueRegistration("toy", ToyVenueConfig, open_toy, None, "a test venue"))
