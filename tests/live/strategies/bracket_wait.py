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
        self.bracket = None
        self.told = False

    def on_order_event(self, event) -> None:
        b = self.bracket
        if b is not None and b.armed and not self.told:  # the ticket it got back is the one the exits land on
            self.told = True
            self.log(f"bracket exits armed: take-profit {b.take_profit.order.client_order_id} stop-loss "
                     f"{b.stop_loss.order.client_order_id}")

    def on_data(self, data) -> None:
        # after a restart the adopted entry (or the armed exits, or the position) is the bracket placed, and a
        # bracket still waiting for its entry comes back as its ticket
        if not self.placed:
            for b in self.transactions.get_bracket_tickets():
                self.bracket = b
                entry = b.entry.order.client_order_id if b.entry is not None else None
                exits = "".join(f" {name} {t.order.client_order_id} {t.status.value}" for name, t in
                                (("exit-tp", b.take_profit), ("exit-sl", b.stop_loss)) if t is not None)
                self.log(f"bracket back: entry {entry} take-profit {b.take_profit_price} stop-loss "
                         f"{b.stop_loss_price}{exits}")
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
        self.bracket = self.bracket_order(self.symbol, clip, take_profit=round(mid * (1 + exit_), 2),
                           stop_loss=round(mid * (1 - exit_), 2), entry_limit=round(mid * (1 - entry), 2), tag="br")
        self.placed = True
