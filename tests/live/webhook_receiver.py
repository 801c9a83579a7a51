"""A local aiohttp webhook receiver on its own thread: records what arrives; /fail answers 500, /hang never does."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from aiohttp import web


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []  # (path, JSON body) in arrival order
        self.hanging = 0  # requests held open right now
        self.hung_total = 0
        self.failed = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("webhook receiver did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_post("/fail", self._fail)
        app.router.add_post("/hang", self._hang)
        app.router.add_post("/{tail:.*}", self._ok)
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    async def _ok(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            self.received.append((request.path, body))
        return web.json_response({"ok": True})

    async def _fail(self, request: web.Request) -> web.Response:
        await request.read()
        with self._lock:
            self.failed += 1
        return web.json_response({"error": "receiver broken on purpose"}, status=500)

    async def _hang(self, request: web.Request) -> web.Response:
        await request.read()
        with self._lock:
            self.hanging += 1
            self.hung_total += 1
        try:
            await asyncio.sleep(3600)
        finally:
            with self._lock:
                self.hanging -= 1
        return web.json_response({})

    def bodies(self, path: str) -> list[Any]:
        with self._lock:
            return [b for p, b in self.received if p == path]

    def wait(self, cond, timeout: float = 20.0) -> None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if cond():
                return
            time.sleep(0.05)
        raise TimeoutError(f"webhook condition not met; received {self.received[-10:]}")

    def close(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
