"""A deterministic strategy that uses every order type and operation, for the parity test: market, limit
(updated in price and quantity, then canceled), stop-market, stop-limit, trailing stops by amount (its amount
updated) and by percentage, limit-if-touched, market-on-open, market-on-close, a bracket and a one-cancels-other
pair. Its decisions depend only on the data and on its orders' states, so two runs that see the same events
decide the same; every order event is recorded with its type, status, quantities and prices."""

from __future__ import annotations

from datetime import time

from leand import DataNormalizationMode, Resolution, Strategy


class EveryOrderTypeParity(Strategy):
    def initialize(self) -> None:
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 7)
        self.set_cash(100_000)
        self.bac = self.add_equity("BAC", Resolution.TICK, extended_market_hours=True,
                                   data_normalization_mode=DataNormalizationMode.RAW).symbol
        # its own benchmark: a backtest's default (SPY) would be an internal hourly feed, whose slices the
        # daemon does not have (the emulation looks at every slice)
        self.set_benchmark(self.bac)
        self.n = 0
        self.step = 0
        self.t: dict[str, object] = {}
        self.events: list[tuple] = []

    def on_order_event(self, event) -> None:
        o = self.transactions.get_order_by_id(event.order_id)
        self.events.append((event.time, event.order_id, o.type.value if o else "", event.status.value,
                            event.quantity, event.fill_quantity, event.fill_price, event.limit_price,
                            event.stop_price, event.trigger_price, event.code))

    def on_data(self, data) -> None:
        sec = self.securities[self.bac]
        bid, ask = sec.bid, sec.ask
        if not (bid and ask and sec.price) or bid >= ask:
            return
        self.n += 1
        now = self.time.time()
        sym, t = self.bac, self.t

        def px(x: float) -> float:
            return round(x, 2)

        if self.step == 0 and now < time(9, 30):
            t["moo"] = self.market_on_open_order(sym, 100)
            self.step = 1
        elif self.step == 1 and now >= time(9, 31):
            t["market"] = self.market_order(sym, 300)
            t["limit"] = self.limit_order(sym, 100, px(bid - 0.03))
            t["stop"] = self.stop_market_order(sym, -100, px(bid - 0.03))
            t["stop_limit"] = self.stop_limit_order(sym, 100, px(ask + 0.01), px(ask + 0.02))
            t["trail"] = self.trailing_stop_order(sym, -100, trailing_amount=0.05)
            t["trail_pct"] = self.trailing_stop_order(sym, -100, trailing_amount=0.004, trailing_as_percentage=True)
            t["lit"] = self.limit_if_touched_order(sym, 100, px(bid - 0.01), px(bid))
            self.step, self.mark = 2, self.n
        elif self.step == 2 and self.n >= self.mark + 10:
            t["limit"].update(limit_price=px(bid - 0.02))
            t["trail"].update(trailing_amount=0.04)
            self.step, self.mark = 3, self.n
        elif self.step == 3 and self.n >= self.mark + 10:  # two updates in flight at once
            t["limit"].update(limit_price=px(bid - 0.04))
            t["limit"].update(quantity=150)
            self.step, self.mark = 4, self.n
        elif self.step == 4 and self.n >= self.mark + 30:
            t["limit"].cancel()
            t["bracket"] = self.bracket_order(sym, 100, take_profit=px(ask + 0.02), stop_loss=px(bid - 0.02),
                                              tag="bracket")
            self.step, self.mark = 5, self.n
        elif self.step == 5 and self.n >= self.mark + 40:
            a = self.limit_order(sym, -100, px(ask + 0.01))
            b = self.stop_market_order(sym, -100, px(bid - 0.01))
            self.one_cancels_other(a, b)
            t["oco"] = (a, b)
            self.step = 6
        elif self.step == 6 and now >= time(15, 36):
            for o in self.get_open_orders(sym):  # a clean slate before the close
                self.cancel_order(o.id, "before the close")
            t["moc"] = self.market_on_close_order(sym, -100)
            self.step = 7
