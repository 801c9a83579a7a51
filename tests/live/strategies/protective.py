"""Crash-test strategy: one emulated stop-loss and one bracket (market entry, take-profit limit, emulated
stop-loss), placed once; a restarted daemon must bring them back armed, and each stop must fire once."""

from leand import Resolution, Strategy


class Protective(Strategy):
    parameters = {"stop_pct": 0.05, "clip": 0.01}

    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.placed = False

    def on_data(self, data) -> None:
        if self.placed or self.get_open_orders():  # after a restart the adopted orders are the ones placed
            self.placed = True
            return
        ticks = data.ticks.get(self.symbol)
        if not ticks or not (ticks[-1].bid_price and ticks[-1].ask_price):
            return
        mid = (ticks[-1].bid_price + ticks[-1].ask_price) / 2
        pct = float(self.get_parameter("stop_pct", 0.05))
        clip = float(self.get_parameter("clip", 0.01))
        self.stop_market_order(self.symbol, -clip, round(mid * (1 - pct), 2), tag="protect")
        self.bracket_order(self.symbol, clip, take_profit=round(mid * (1 + pct), 2),
                           stop_loss=round(mid * (1 - pct), 2), tag="br")
        self.placed = True
