"""``[[notify]]`` webhooks: fills, rejects, halts, strategy failures, feed staleness and reconnect storms.

:meth:`Webhooks.emit` is called from the trading path and only appends to a bounded deque: it never awaits,
never does I/O and never raises. One sender task per target posts in the background with a timeout, retries
with exponential backoff, and a token bucket per target; what the bucket refuses is counted and summarised
in the next message that goes out. A receiver that fails or hangs only ever delays its own queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from typing import Any

import aiohttp
import orjson
import structlog

from leand.live.config import NotifyConfig
from leand.live.secrets import SecretError, secret

log = structlog.get_logger("leand.notify")

KINDS = ("fill", "reject", "halt", "strategy_failed", "feed_stale", "reconnect_storm")
TELEGRAM_API = "https://api.telegram.org"


class Target:
    """One configured webhook: its resolved URL, payload format, queue and rate limit."""

    def __init__(self, index: int, cfg: NotifyConfig) -> None:
        self.cfg = cfg
        self.name = f"{index}:{cfg.format}"
        self.url = self._url(cfg)
        self.kinds = frozenset(cfg.events)
        self.queue: deque[dict[str, Any]] = deque(maxlen=cfg.queue)
        self.wake = asyncio.Event()
        self.burst = max(1.0, min(5.0, cfg.rate_per_minute))  # a small burst, then rate_per_minute
        self.tokens = self.burst
        self.refilled = time.monotonic()
        self.suppressed = 0

    @staticmethod
    def _url(cfg: NotifyConfig) -> str:
        if cfg.url_env or cfg.url_credential:
            return secret(env=cfg.url_env or None, credential=cfg.url_credential or None)
        if cfg.format == "telegram" and (cfg.bot_token_env or cfg.bot_token_credential):
            token = secret(env=cfg.bot_token_env or None, credential=cfg.bot_token_credential or None)
            base = cfg.url.rstrip("/") if cfg.url else TELEGRAM_API
            return f"{base}/bot{token}/sendMessage"
        return cfg.url

    def take(self) -> bool:
        now = time.monotonic()
        rate = self.cfg.rate_per_minute / 60.0
        self.tokens = min(self.burst, self.tokens + (now - self.refilled) * rate)
        self.refilled = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def payload(self, event: dict[str, Any]) -> dict[str, Any]:
        text = event["text"]
        if self.suppressed:
            text += f" ({self.suppressed} earlier notifications suppressed by the rate limit)"
        if self.cfg.format == "telegram":
            return {"chat_id": self.cfg.chat_id, "text": f"leand: {text}", "disable_web_page_preview": True}
        if self.cfg.format == "slack":
            return {"text": f"*leand* {event['kind']}: {text}"}
        return {**event, "text": text, "suppressed": self.suppressed}


class Webhooks:
    def __init__(self, configs: list[NotifyConfig], source: str = "leand") -> None:
        self.targets: list[Target] = []
        self.source = source
        #: (target, result) -> count; result is sent, failed, retried, dropped or rate_limited
        self.counts: dict[tuple[str, str], int] = {}
        for i, c in enumerate(configs):
            try:
                self.targets.append(Target(i, c))
            except SecretError as e:  # a missing secret disables that one target, loudly; trading goes on
                log.error("notify.disabled", target=i, error=str(e))
        self._tasks: list[asyncio.Task] = []
        self._session: aiohttp.ClientSession | None = None

    def __bool__(self) -> bool:
        return bool(self.targets)

    def _count(self, target: Target, result: str) -> None:
        k = (target.name, result)
        self.counts[k] = self.counts.get(k, 0) + 1

    # -- the trading side: never blocks ---------------------------------------------------------------
    def emit(self, kind: str, text: str, **fields: Any) -> None:
        if not self.targets:
            return
        event = {"source": self.source, "kind": kind, "time": time.time(), "text": text, **fields}
        for t in self.targets:
            if kind in t.kinds:
                if len(t.queue) == t.queue.maxlen:
                    self._count(t, "dropped")
                t.queue.append(event)
                t.wake.set()

    # -- the sending side ------------------------------------------------------------------------------
    async def start(self) -> None:
        if not self.targets:
            return
        self._session = aiohttp.ClientSession(json_serialize=lambda o: orjson.dumps(o).decode())
        self._tasks = [asyncio.create_task(self._run(t), name=f"notify-{t.name}") for t in self.targets]

    async def stop(self, flush_s: float = 2.0) -> None:
        """Give queued notifications a moment to go out (a halt on shutdown is worth sending), then stop."""
        deadline = time.monotonic() + flush_s
        while any(t.queue for t in self.targets) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()

    async def _run(self, t: Target) -> None:
        while True:
            if not t.queue:
                t.wake.clear()
                await t.wake.wait()
                continue
            event = t.queue.popleft()
            if not t.take():
                t.suppressed += 1
                self._count(t, "rate_limited")
                continue
            ok = await self._send(t, event)
            if ok:
                t.suppressed = 0

    async def _send(self, t: Target, event: dict[str, Any]) -> bool:
        assert self._session is not None
        body = t.payload(event)
        timeout = aiohttp.ClientTimeout(total=t.cfg.timeout_s)
        delay = 0.5
        for attempt in range(t.cfg.retries + 1):
            error = ""
            try:
                async with self._session.post(t.url, json=body, timeout=timeout) as resp:
                    await resp.read()
                    if resp.status < 300:
                        self._count(t, "sent")
                        return True
                    error = f"HTTP {resp.status}"
                    if 400 <= resp.status < 500 and resp.status != 429:  # our request is wrong: retrying won't help
                        break
            except (aiohttp.ClientError, TimeoutError, OSError) as e:
                error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            if attempt < t.cfg.retries:
                self._count(t, "retried")
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(30.0, delay * 2)
            else:
                log.warning("notify.failed", target=t.name, kind=event["kind"], error=error)
        self._count(t, "failed")
        return False
