"""Hot-path isolation test strategies: ``Sleepy`` blocks 50 ms in every market-data handler and sends an order
each time (its market data must be conflated, its order reports never); ``Quick`` sends an order every few
quotes and must not wait for it."""

import time

from leand import Resolution, Strategy


class Sleepy(Strategy):
    parameters = {"sleep_s": 0.05, "clip": 0.001}

    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.n = 0
        self.events: dict[int, list[str]] = {}
        #: wall-clock spans (ns) its handler was blocked: the test checks other strategies' orders went out inside
        self.blocked: list[tuple[int, int]] = []

    def on_data(self, data) -> None:
        t0 = time.time_ns()
        time.sleep(float(self.get_parameter("sleep_s", 0.05)))
        self.blocked.append((t0, time.time_ns()))
        self.n += 1
        clip = float(self.get_parameter("clip", 0.001))
        self.market_order(self.symbol, clip if self.n % 2 else -clip)

    def on_order_event(self, event) -> None:
        self.events.setdefault(event.order_id, []).append(event.status.value)


class Quick(Strategy):
    parameters = {"every": 3, "clip": 0.001}

    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.n = 0

    def on_data(self, data) -> None:
        self.n += 1
        if self.n % int(self.get_parameter("every", 3)) == 0:
            clip = float(self.get_parameter("clip", 0.001))
            self.market_order(self.symbol, clip if (self.n // 3) % 2 else -clip)


class Spinner(Strategy):
    """Computes for ``spin_s`` in every market-data handler: slower than a burst of queued quotes, never slow
    enough per call to be moved to a thread; counts what it saw."""

    parameters = {"spin_s": 0.0003}

    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.n = 0

    def on_data(self, data) -> None:
        end = time.perf_counter() + float(self.get_parameter("spin_s", 0.0003))
        while time.perf_counter() < end:
            pass
        self.n += 1


class Counter(Strategy):
    """Counts its quotes."""

    def initialize(self) -> None:
        self.set_cash(100_000)
        self.symbol = self.add_crypto("BTCUSD", Resolution.TICK).symbol
        self.n = 0

    def on_data(self, data) -> None:
        self.n += 1
