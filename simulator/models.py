"""Queue-position and latency models for orders resting in a replayed book.

Queue position: a resting order joins behind the displayed size at its price (``ahead``) and advances as
trades print at that price and as displayed size is cancelled. Who cancelled is unknown from L2 data, so
the models differ only in how much of a size decrease they credit to the orders ahead:

* :class:`ConservativeQueue` never advances on a cancel (only trades move you; your place can only shrink
  to the displayed size, since no more than that can be ahead of you);
* :class:`ProbQueue` credits the decrease to the front with probability ``f(back) / (f(front) + f(back))``,
  ``f(x) = x**n`` (power) or ``log(1 + x)`` (log), as hftbacktest's probabilistic queue models do.

Latency: order-entry (strategy → venue), order-response (venue → strategy) and market-data (venue →
strategy) delays, constant or drawn from a seeded log-normal distribution, so runs are repeatable.
"""

from __future__ import annotations

import math

import numpy as np


class QueueModel:
    name = "queue"

    def on_depth_change(self, ahead: float, prev: float, new: float) -> float:
        """The displayed size at the order's price went ``prev`` → ``new`` without a trade: the new amount
        ahead of the order."""
        raise NotImplementedError

    @staticmethod
    def on_trade(ahead: float, qty: float) -> tuple[float, float]:
        """``qty`` traded at the order's price: (new amount ahead, quantity that reached the order)."""
        left = ahead - qty
        if left >= 0:
            return left, 0.0
        return 0.0, -left


class ConservativeQueue(QueueModel):
    """Cancels never advance the order (hftbacktest's risk-averse model)."""

    name = "conservative"

    def on_depth_change(self, ahead: float, prev: float, new: float) -> float:
        return min(ahead, new)


class ProbQueue(QueueModel):
    """A size decrease is split between the front and the back of the queue by a probability that
    depends on how much sits on each side (hftbacktest's power/log probabilistic queue models)."""

    def __init__(self, kind: str = "power", n: float = 2.0) -> None:
        if kind not in ("power", "log"):
            raise ValueError(f"queue probability function must be 'power' or 'log', got {kind!r}")
        self.kind = kind
        self.n = n
        self.name = f"prob_{kind}" + (f"{n:g}" if kind == "power" else "")

    def _f(self, x: float) -> float:
        return x ** self.n if self.kind == "power" else math.log1p(x)

    def on_depth_change(self, ahead: float, prev: float, new: float) -> float:
        chg = prev - new
        if chg <= 0:  # size added joins behind us
            return ahead
        front = ahead
        back = max(prev - front, 0.0)
        fb, ff = self._f(back), self._f(front)
        prob = fb / (fb + ff) if fb + ff > 0 else 1.0
        est = front - (1.0 - prob) * chg + min(back - prob * chg, 0.0)
        return max(min(est, new), 0.0)


def queue_model(spec: str | QueueModel) -> QueueModel:
    """``conservative``, ``prob_power`` (n=2), ``prob_power3``, ``prob_log``, or a model instance."""
    if isinstance(spec, QueueModel):
        return spec
    if spec == "conservative":
        return ConservativeQueue()
    if spec == "prob_log":
        return ProbQueue("log")
    if spec.startswith("prob_power"):
        rest = spec[len("prob_power"):]
        try:
            return ProbQueue("power", float(rest) if rest else 2.0)
        except ValueError:
            pass
    raise ValueError(f"unknown queue model {spec!r}: expected conservative, prob_power[N] or prob_log")


class Latency:
    """Constant delays in nanoseconds."""

    def __init__(self, entry_ns: int = 0, response_ns: int = 0, market_data_ns: int = 0) -> None:
        for name, v in (("entry", entry_ns), ("response", response_ns), ("market data", market_data_ns)):
            if v < 0:
                raise ValueError(f"{name} latency must be >= 0, got {v}")
        self.entry_ns, self.response_ns, self.market_data_ns = int(entry_ns), int(response_ns), int(market_data_ns)

    def entry(self) -> int:
        return self.entry_ns

    def response(self) -> int:
        return self.response_ns

    def market_data(self) -> int:
        return self.market_data_ns


class RandomLatency(Latency):
    """Log-normal delays around the given medians (``sigma`` is the log-space spread), from a seeded
    generator: the same seed gives the same delays, run after run."""

    def __init__(self, entry_ns: int, response_ns: int, market_data_ns: int = 0, *, sigma: float = 0.5,
                 seed: int = 0) -> None:
        super().__init__(entry_ns, response_ns, market_data_ns)
        self.sigma = sigma
        self._rng = np.random.default_rng(seed)
        self._buf: dict[int, tuple[np.ndarray, int]] = {}

    def _draw(self, median: int) -> int:
        if median == 0:
            return 0
        buf, i = self._buf.get(median, (None, 0))
        if buf is None or i >= len(buf):
            buf = (median * np.exp(self._rng.normal(0.0, self.sigma, 4096))).astype(np.int64)
            i = 0
        self._buf[median] = (buf, i + 1)
        return int(buf[i])

    def entry(self) -> int:
        return self._draw(self.entry_ns)

    def response(self) -> int:
        return self._draw(self.response_ns)

    def market_data(self) -> int:
        return self._draw(self.market_data_ns)
