"""Donchian breakout on daily bars: buy a close above the 20-day high, exit below the 10-day low,
with a protective stop order resting at the exit level."""

from leand import Resolution, Strategy


class Breakout(Strategy):
    parameters = {"entry": 20, "exit": 10}

    def initialize(self) -> None:
        self.set_start_date(2008, 1, 1)
        self.set_end_date(2014, 12, 31)
        self.set_cash(100_000)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
        self.highs = self.indicator("max", self.spy, int(self.get_parameter("entry", 20)))
        self.lows = self.indicator("min", self.spy, int(self.get_parameter("exit", 10)))
        self.prev_high = None
        self.prev_low = None
        self.stop = None

    def on_data(self, data) -> None:
        bar = data.bars.get(self.spy)
        if bar is None or not self.highs.is_ready:
            return
        qty = self.portfolio[self.spy].quantity
        if qty == 0 and self.prev_high is not None and bar.close > self.prev_high:
            self.set_holdings(self.spy, 0.95)
        elif qty > 0 and self.prev_low is not None:
            if self.stop is None or not self.stop.order.is_open:
                self.stop = self.stop_market_order(self.spy, -qty, self.prev_low)
            elif self.stop.order.stop_price < self.prev_low:
                self.stop.update(stop_price=self.prev_low)
        self.prev_high = self.highs.value
        self.prev_low = self.lows.value
