"""The daemon's hot path: from a decoded market-data event or venue report to the strategy's handler, its risk
gate, the journal and the venue's socket, in the callback that received it.

Design (issue 14):

* **Inline by default.** The feed task and the execution client's report channel call :meth:`HotPath.deliver`,
  which runs the strategy's handler at once. An order it places is journaled (one ``write()`` to the intent
  log) and handed to the venue client, which writes the signed request to its socket, before ``deliver``
  returns: no queue and no event-loop iteration between the frame and the request. Asyncio stays at the I/O
  edges (reading sockets, a venue client's request tasks).
* **Re-entrancy.** A venue that answers synchronously (the paper venue fills inside ``submit``) produces a
  report while a handler is still running; it is journaled at once and delivered right after that handler
  returns, still in the same callback, so no handler ever runs inside another.
* **A slow strategy does not delay another.** One thread cannot both wait for a handler that blocks (a
  ``time.sleep``, a synchronous HTTP call) and serve the next strategy's tick, so every inline handler is timed:
  a strategy with ``isolation = "auto"`` whose handler overruns ``[hot_path] handler_budget_ms`` ``strikes``
  times in a row is moved to a worker thread of its own (``isolation = "thread"`` starts there). From then on the loop
  only puts its inputs into its :class:`~leand.live.buffer.ConflatingBuffer`: market data conflated to the
  latest event per symbol (counted, shown by ``leand ctl status`` and the ``leand_conflated`` metric), order
  reports, ctl calls and timer wake-ups never conflated. Its backlog is therefore bounded by its symbols
  (plus reports in flight) whatever the feed's rate, and the strategies that stay inline keep their latency.
* **One owner per object.** A worker thread runs only its strategy's engine (strategy, order manager,
  portfolio, risk gate, emulation). Every effect outside it, the journal, the venue client, the recorder,
  metrics, logs hooks and webhooks, is posted to the loop's thread (``call_soon_threadsafe``), in the order
  the strategy made them, so the journal is still written before the venue hears of an order and the SQLite
  connection, the venue's sockets and the recorder keep one thread. The price is one loop wake-up per order
  of an isolated strategy, which was slow already.
* **Limits.** Threads share the GIL: a handler that *computes* for 50 ms still takes time slices from the loop
  (the interpreter switches every 5 ms); isolation is complete for handlers that block (sleep, I/O, a C
  extension that releases the GIL). Only a process would isolate CPU-bound Python, at the cost of a copy per
  event. Reads the loop makes of an isolated engine (snapshots, equity samples, ``ctl status``) are taken
  without stopping it, so they may be a moment behind.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog

from leand.live.buffer import ConflatingBuffer

if TYPE_CHECKING:
    from leand.live.daemon import StrategyRunner

log = structlog.get_logger("leand.hotpath")


class HotPath:
    """Delivers every input of every strategy (slices, reports, timer ticks, ctl calls) inline or to its
    worker thread. ``handle(runner, item)`` is the daemon's one handler of an input (it catches what the
    strategy raises)."""

    def __init__(self, handle: Callable[[StrategyRunner, Any], None], budget_ms: float = 5.0,
                 strikes: int = 3) -> None:
        self.handle = handle
        self.budget_s = budget_ms / 1000
        self.strikes = max(1, strikes)
        self._busy = False
        self._pending: deque[tuple[StrategyRunner, Any]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.get_ident()

    def bind(self) -> None:
        """Called on the running loop: the thread effects are posted to."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    # -- delivery (always on the loop's thread) ---------------------------------------------------------
    def deliver(self, r: StrategyRunner, item: Any) -> None:
        buf = r.buffer
        if buf is not None:
            kind = item[0]
            if kind == "slice":
                buf.put_market(item[-1], item)
            elif kind == "tick":
                buf.put_tick()
            else:
                buf.put(item)
            return
        if self._busy:  # a report produced inside a handler: right after it, in this same callback
            self._pending.append((r, item))
            return
        self._busy = True
        try:
            self._inline(r, item)
            pending = self._pending
            while pending:
                r2, it2 = pending.popleft()
                if r2.buffer is not None:  # isolated meanwhile: into its buffer
                    self.deliver(r2, it2)
                else:
                    self._inline(r2, it2)
        finally:
            self._busy = False

    def _inline(self, r: StrategyRunner, item: Any) -> None:
        t0 = time.perf_counter()
        self.handle(r, item)
        if item[0] != "slice":
            return
        dt = time.perf_counter() - t0
        if dt <= self.budget_s:
            r.strikes = 0
            return
        # overruns in a row: one slow call (a garbage collection, the machine taking the core away) is no reason
        r.overruns += 1
        r.strikes += 1
        if r.isolation == "auto" and r.strikes >= self.strikes and r.state == "running":
            log.warning("strategy.isolated", strategy=r.id, handler_ms=round(dt * 1000, 3),
                        budget_ms=self.budget_s * 1000, overruns=r.overruns)
            self.isolate(r)

    # -- isolation --------------------------------------------------------------------------------------
    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop's thread: now when already there, otherwise as soon as the loop can."""
        if threading.get_ident() == self._thread or self._loop is None:
            fn(*args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)

    def isolate(self, r: StrategyRunner) -> None:
        """Move a strategy to a worker thread of its own, fed by a conflating buffer."""
        if r.buffer is not None:
            return
        post = self.post
        e = r.engine
        # effects outside the engine go to the loop's thread, in order
        off_loop = getattr(e.brokerage, "post_effects", None)
        if off_loop is not None:
            off_loop(post)
        for name in ("risk_hook", "decision_hook"):
            hook = getattr(e, name)
            if hook is not None:
                setattr(e, name, _posted(post, hook))
        gate = e.risk_gate
        if gate.on_state_change is not None:
            gate.on_state_change = _posted(post, gate.on_state_change)
        r.isolated_ns = time.time_ns()
        r.buffer = ConflatingBuffer()
        r.thread = threading.Thread(target=self._worker, args=(r, r.buffer), name=f"leand-strategy-{r.id}",
                                    daemon=True)
        r.thread.start()

    def _worker(self, r: StrategyRunner, buf: ConflatingBuffer) -> None:
        handle = self.handle
        while True:
            item = buf.get()
            if item is None:
                return
            handle(r, item)

    def stop(self, r: StrategyRunner, timeout: float = 5.0) -> None:
        """Let an isolated strategy finish what is buffered, then end its thread."""
        if r.buffer is None or r.thread is None:
            return
        r.buffer.close()
        r.thread.join(timeout)


def _posted(post: Callable[..., None], fn: Callable[..., Any]) -> Callable[..., None]:
    def call(*args: Any) -> None:
        post(fn, *args)

    return call
