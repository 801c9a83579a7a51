"""Request-weight accounting per IP per calendar minute, like Binance: every response reports the used
weight; over the limit a request is refused with 429 and ``Retry-After``; an IP that keeps going is banned
with 418 for a while."""

from __future__ import annotations

from . import errors


class WeightTracker:
    def __init__(self, limit: int, ban_after: int = 20, ban_seconds: int = 120) -> None:
        self.limit = limit
        self.ban_after = ban_after
        self.ban_seconds = ban_seconds
        self._minute: dict[str, int] = {}
        self._used: dict[str, int] = {}
        self._refused: dict[str, int] = {}
        self._banned_until: dict[str, int] = {}

    def used(self, ip: str, now_ms: int) -> int:
        if self._minute.get(ip) != now_ms // 60000:
            return 0
        return self._used.get(ip, 0)

    def charge(self, ip: str, weight: int, now_ms: int) -> int:
        """Add ``weight`` for ``ip``; raise 418/429 ApiError when refused. Returns the used weight."""
        until = self._banned_until.get(ip, 0)
        if until > now_ms:
            raise errors.banned(until, max(1, (until - now_ms + 999) // 1000))
        minute = now_ms // 60000
        if self._minute.get(ip) != minute:
            self._minute[ip] = minute
            self._used[ip] = 0
            self._refused[ip] = 0
        used = self._used[ip] + weight
        self._used[ip] = used
        if used > self.limit:
            self._refused[ip] += 1
            if self._refused[ip] > self.ban_after:
                until = now_ms + self.ban_seconds * 1000
                self._banned_until[ip] = until
                raise errors.banned(until, self.ban_seconds)
            retry = max(1, ((minute + 1) * 60000 - now_ms + 999) // 1000)
            raise errors.too_many_requests(self.limit, retry)
        return used

    def reset(self) -> None:
        self._minute.clear()
        self._used.clear()
        self._refused.clear()
        self._banned_until.clear()


def depth_weight(limit: int) -> int:
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


WEIGHTS: dict[str, int] = {
    "ping": 1, "time": 1, "exchangeInfo": 20, "trades": 25, "historicalTrades": 25, "aggTrades": 4,
    "klines": 2, "uiKlines": 2, "avgPrice": 2, "order.post": 1, "order.delete": 1, "order.get": 4,
    "order.test": 1, "openOrders.delete": 1, "allOrders": 20, "account": 20, "myTrades": 20,
    "userDataStream": 2,
}
