"""The REST client both Binance clients share: signing, the server-time offset, and rate-limit manners.

Manners, because Binance bans IPs that ignore them: every response's ``X-MBX-USED-WEIGHT-1M`` is tracked and
a request that would push the minute's weight past the configured headroom waits for the next minute; a 429
or 418 blocks *all* requests until its ``Retry-After``; 5xx and timeouts back off exponentially. Only requests
that are safe to repeat are repeated here (reads, cancels): a new order whose outcome is unknown is resolved by
the execution client, which asks the venue before it ever resends.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import msgspec
import structlog
from yarl import URL

from leand.adapters.binance.schemas import ApiError, ServerTime
from leand.adapters.binance.signing import encode_params, signed_query

log = structlog.get_logger("leand.binance")
_err = msgspec.json.Decoder(ApiError)


class BinanceError(Exception):
    """The venue answered with an error body (or an HTTP error without one)."""

    def __init__(self, status: int, code: int, msg: str, body: bytes = b"") -> None:
        super().__init__(f"HTTP {status} {code}: {msg}")
        self.status, self.code, self.msg = status, code, msg
        #: the whole error body (a cancel-replace's says what each half did)
        self.body = body


class UnknownOutcome(Exception):
    """5xx or timeout: the request may or may not have been executed (Binance: "execution status unknown")."""


class MalformedResponse(UnknownOutcome):
    """A 200 whose body does not decode: the request may have been executed, so it is handled as unknown."""


def decode(body: bytes, type_: Any) -> Any:
    """A response body as ``type_``; MalformedResponse (one line, the start of the body) when it is not one."""
    try:
        return msgspec.json.decode(body, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise MalformedResponse(f"malformed venue response ({e}): {body[:120]!r}") from None


class WeightThrottle:
    """Client-side view of the IP's request weight in the current minute, fed by the venue's own header.

    ``delay(weight)`` says how long to wait before a request of that weight may go: zero while the used weight
    plus this request stays under ``limit * headroom``; otherwise until the next minute starts (the venue
    resets the counter on minute boundaries). A ban (429/418) overrides everything until ``Retry-After``.
    """

    def __init__(self, limit: int = 6000, headroom: float = 0.9, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.budget = limit * headroom
        self.clock = clock
        self.used = 0
        self.minute = -1
        self.blocked_until = 0.0
        self.waits = 0

    def _rollover(self, now: float) -> None:
        m = int(now // 60)
        if m != self.minute:
            self.minute, self.used = m, 0

    def delay(self, weight: int) -> float:
        now = self.clock()
        if now < self.blocked_until:
            return self.blocked_until - now
        self._rollover(now)
        if self.used + weight > self.budget:
            return (self.minute + 1) * 60 - now + 0.05
        return 0.0

    def spend(self, weight: int) -> None:
        """Count a request as it leaves (the header corrects the figure when the answer comes)."""
        self._rollover(self.clock())
        self.used += weight

    def observe(self, used_header: str | None) -> None:
        if used_header is None:
            return
        try:
            used = int(used_header)
        except ValueError:
            return
        self._rollover(self.clock())
        self.used = used

    def block(self, seconds: float) -> None:
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter on [0.5, 1.5) × base·2^attempt, capped."""
    return min(cap, base * (2 ** attempt)) * (0.5 + random.random())


class BinanceRest:
    def __init__(self, base_url: str, api_key: str = "", api_secret: str = "", *, recv_window_ms: int = 5000,
                 throttle: WeightThrottle | None = None, timeout_s: float = 10.0, max_retries: int = 5,
                 backoff_base_s: float = 0.2, backoff_cap_s: float = 10.0) -> None:
        self.base = base_url.rstrip("/")
        self.api_key = api_key
        self._secret = api_secret
        self.recv_window_ms = recv_window_ms
        self.throttle = throttle or WeightThrottle()
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.max_retries = max_retries
        self.backoff_base_s, self.backoff_cap_s = backoff_base_s, backoff_cap_s
        self.offset_ms = 0  # server time - local time
        self._session: aiohttp.ClientSession | None = None
        self.stats = {"requests": 0, "retries": 0, "rate_limited": 0, "server_errors": 0, "timeouts": 0}
        #: called with (method, path, params) just before a request goes on the wire (benchmarks hook this)
        self.on_send: Callable[[str, str, dict], None] | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout, headers={"X-MBX-APIKEY": self.api_key}
                                                  if self.api_key else None)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def timestamp_ms(self) -> int:
        return int(time.time() * 1000) + self.offset_ms

    async def sync_time(self) -> int:
        """Measure the server-time offset from ``/api/v3/time`` (midpoint of the round trip)."""
        t0 = time.time()
        body = await self.request("GET", "/api/v3/time", weight=1)
        t1 = time.time()
        st = decode(body, ServerTime)
        self.offset_ms = int(st.serverTime - (t0 + t1) * 500)
        return self.offset_ms

    async def request(self, method: str, path: str, params: Mapping[str, Any] | None = None, *,
                      signed: bool = False, weight: int = 1, retry: bool | None = None) -> bytes:
        """One call with throttling and retries; returns the raw body of a 2xx answer.

        ``retry`` (default: only for GET) says whether a 5xx or a timeout may be repeated; otherwise it raises
        :class:`UnknownOutcome` and the caller decides. 429/418 are always waited out and repeated: the venue
        did not run the request."""
        retry = method == "GET" if retry is None else retry
        attempt = 0
        while True:
            wait = self.throttle.delay(weight)
            if wait > 0:
                self.throttle.waits += 1
                log.warning("binance.throttle.wait", seconds=round(wait, 3), used=self.throttle.used, path=path)
                await asyncio.sleep(wait)
                continue
            p = dict(params or {})
            if signed:
                p["recvWindow"] = self.recv_window_ms
                p["timestamp"] = self.timestamp_ms()
                query = signed_query(p, self._secret)
            else:
                query = encode_params(p)
            url = f"{self.base}{path}?{query}" if query else f"{self.base}{path}"
            self.throttle.spend(weight)
            self.stats["requests"] += 1
            if self.on_send is not None:
                self.on_send(method, path, p)
            try:
                # encoded=True: the query goes out byte for byte as signed (aiohttp would otherwise re-quote it,
                # turning a signed '%3A' back into ':', and the venue would answer -1022)
                async with self.session.request(method, URL(url, encoded=True)) as resp:
                    body = await resp.read()
                    self.throttle.observe(resp.headers.get("X-MBX-USED-WEIGHT-1M"))
                    status = resp.status
                    retry_after = resp.headers.get("Retry-After")
            except (TimeoutError, aiohttp.ClientConnectionError) as e:
                self.stats["timeouts"] += 1
                if not retry or attempt >= self.max_retries:
                    raise UnknownOutcome(f"{method} {path}: {type(e).__name__}: {e}") from e
                await self._pause(attempt, path, f"{type(e).__name__}")
                attempt += 1
                continue
            if status < 300:
                return body
            if status in (429, 418):
                self.stats["rate_limited"] += 1
                secs = float(retry_after) if retry_after else backoff(attempt, 1.0, 60.0)
                self.throttle.block(secs)
                log.warning("binance.rate_limited", status=status, retry_after_s=secs, path=path)
                attempt += 1
                if attempt > self.max_retries + 5:
                    raise _error(status, body)
                continue
            if status >= 500:
                self.stats["server_errors"] += 1
                if not retry or attempt >= self.max_retries:
                    raise UnknownOutcome(f"{method} {path}: HTTP {status}: {body[:200]!r}")
                await self._pause(attempt, path, f"HTTP {status}")
                attempt += 1
                continue
            err = _error(status, body)
            if err.code == -1021 and attempt < 2:  # clock drift: re-measure and sign again
                await self.sync_time()
                attempt += 1
                continue
            raise err

    async def _pause(self, attempt: int, path: str, why: str) -> None:
        self.stats["retries"] += 1
        d = backoff(attempt, self.backoff_base_s, self.backoff_cap_s)
        log.warning("binance.retry", path=path, reason=why, attempt=attempt + 1, in_s=round(d, 3))
        await asyncio.sleep(d)


def _error(status: int, body: bytes) -> BinanceError:
    try:
        e = _err.decode(body)
        return BinanceError(status, e.code, e.msg, body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return BinanceError(status, 0, body[:200].decode(errors="replace"))
