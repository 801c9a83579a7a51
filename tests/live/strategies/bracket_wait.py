"""Crash-test strategy: one bracket with a limit entry below the market (take-profit limit, emulated stop-loss),
placed once; a daemon killed while the entry works must arm the exits once when the entry fills, after the
restart or while it was down."""

from leand import Resolution, Strategy


class BracketWait(Strategy):
    parameters = {"entry_pct": 0.005, "exit_pct": 0.05, "clip": 0.01}

    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.placed = False

    def on_data(self, data) -> None:
        # after a restart the adopted entry (or the armed exits, or the position) is the bracket placed
        if self.placed or self.get_open_orders() or self.portfolio[self.symbol].quantity:
            self.placed = True
            return
        ticks = data.ticks.get(self.symbol)
        if not ticks or not (ticks[-1].bid_price and ticks[-1].ask_price):
            return
        mid = (ticks[-1].bid_price + ticks[-1].ask_price) / 2
        entry = float(self.get_parameter("entry_pct", 0.005))
        exit_ = float(self.get_parameter("exit_pct", 0.05))
        clip = float(self.get_parameter("clip", 0.01))
        self.bracket_order(self.symbol, clip, take_profit=round(mid * (1 + exit_), 2),
                           stop_loss=round(mid * (1 - exit_), 2), entry_limit=round(mid * (1 - entry), 2), tag="br")
        self.placed = True
