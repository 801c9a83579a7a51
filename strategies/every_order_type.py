"""Every order type and operation leand has, on the paper venue's BTCUSD quotes (or in a backtest): market,
limit (updated, then canceled), stop-market, stop-limit, trailing stops (by amount and by percentage, the
amount updated), limit-if-touched, IOC and DAY limits, a bracket and a one-cancels-other pair. What the venue
lacks, leand's order manager emulates; each order's events say so. Each order's tag names its role (the
bracket's exits are tagged "bracket take-profit"/"bracket stop-loss").

Run it live for 30 s:  leand run --config <a config naming this file> --for 30
"""

from leand import Resolution, Strategy, TimeInForce


class EveryOrderType(Strategy):
    parameters = {"ticker": "BTCUSD", "clip": 0.001, "every": 20}

    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto(str(self.get_parameter("ticker", "BTCUSD")), Resolution.TICK).symbol
        self.count = 0
        self.round = 0
        self.tickets: dict[str, object] = {}
        self.events: list = []
        self.start_btc: float | None = None

    def _btc(self) -> float:
        return self.portfolio.cash_book["BTC"].amount if "BTC" in self.portfolio.cash_book else 0.0

    def on_order_event(self, event) -> None:
        self.events.append((event.order_id, event.status.value, event.code))
        if len(self.events) > 10_000:
            del self.events[:5_000]

    def on_data(self, data) -> None:
        ticks = data.ticks.get(self.symbol)
        if not ticks or not (ticks[-1].bid_price and ticks[-1].ask_price):
            return
        q = ticks[-1]
        if self.start_btc is None:
            self.start_btc = self._btc()
        self.count += 1
        if self.count % int(self.get_parameter("every", 20)):
            return
        mid = (q.bid_price + q.ask_price) / 2
        clip = float(self.get_parameter("clip", 0.001))
        step = self.round % 6
        self.round += 1
        sym, t = self.symbol, self.tickets
        if step == 0:
            t["market"] = self.market_order(sym, clip, tag="market")
            t["limit"] = self.limit_order(sym, clip, round(mid * 0.99, 2), tag="limit")
            t["ioc"] = self.limit_order(sym, clip, round(mid * 0.98, 2), time_in_force=TimeInForce.IOC, tag="ioc")
            t["day"] = self.limit_order(sym, clip, round(mid * 0.97, 2), time_in_force=TimeInForce.DAY, tag="day")
        elif step == 1:
            t["limit"].update(limit_price=round(mid * 0.995, 2))
            t["stop"] = self.stop_market_order(sym, -clip, round(mid * 0.999, 2), tag="stop")
            t["stop_limit"] = self.stop_limit_order(sym, clip, round(mid * 1.001, 2), round(mid * 1.002, 2),
                                                  tag="stop_limit")
            t["trail"] = self.trailing_stop_order(sym, -clip, trailing_amount=round(mid * 0.001, 2), tag="trail")
            t["trail_pct"] = self.trailing_stop_order(sym, -clip, trailing_amount=0.001, trailing_as_percentage=True,
                                                      tag="trail_pct")
            t["lit"] = self.limit_if_touched_order(sym, clip, round(mid * 0.9995, 2), round(mid * 0.9997, 2),
                                                  tag="lit")
        elif step == 2:
            t["limit"].cancel()
            t["trail"].update(trailing_amount=round(mid * 0.0005, 2))
            t["bracket"] = self.bracket_order(sym, clip, take_profit=round(mid * 1.001, 2),
                                              stop_loss=round(mid * 0.999, 2), tag="bracket")
        elif step == 3:
            a = self.limit_order(sym, -clip, round(mid * 1.0005, 2), tag="oco limit")
            b = self.stop_market_order(sym, -clip, round(mid * 0.9995, 2), tag="oco stop")
            self.one_cancels_other(a, b)
            t["oco"] = (a, b)
        elif step == 5:
            for o in self.get_open_orders(sym):  # a clean slate for the next round
                self.cancel_order(o.id, "round over")
            extra = self._btc() - self.start_btc  # what the rounds bought (the account's own BTC stays)
            if extra > clip:
                self.market_order(sym, -round(extra, 6), tag="flatten")
