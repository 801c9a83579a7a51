"""The daemon's hot path: from a decoded market-data event or venue report to the strategy's handler, its risk
gate, the journal and the venue's socket, in the callback that received it.

Design (issue 14):

* **Inline by default.** The feed task and the execution client's report channel call :meth:`HotPath.deliver`,
  which runs the strategy's handler at once. An order it places is journaled (one copy into the intent
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
* **Inline strategies are bounded too.** A strategy slower than its feed, but not slow enough per call to be
  moved, would otherwise work through every queued message of a burst (a socket read, or the reads the loop
  had queued while it was busy), further and further behind. The loop is *saturated* while deliveries come
  less than ``IDLE_GAP_S`` apart, or while no wider gap was a real wait (the thread blocked, not preempted:
  a loaded machine does not end a run); a strategy whose inline handlers took more than ``[hot_path]
  conflate_after_ms`` of one saturated run (its longest call not counted: one stall is no backlog of the
  strategy's), and more than a fair share of it (1/(k+1) with k strategies in the run), is *behind*: its
  further market data goes into a slot holding the latest event per (symbol, event type), counted in
  ``conflated`` like a worker's buffer, and is handled when the feed yields to the loop (one ``call_soon`` per
  drain). Its reports, timers and ctl
  calls are never conflated; each comes after the market data that arrived before it (the slot is drained
  first). Once the loop waits for its socket again and the slot is empty, the strategy is inline again. A
  strategy that keeps up never reaches the slot: no queue hop on the fast path.
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
import resource
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

#: (every time here is ``time.monotonic``, the clock the feed stamps a frame's receipt with)
#: deliveries of market data closer than this belong to one saturated run of the loop (it did not wait for
#: its socket in between: the messages were queued)
IDLE_GAP_S = 50e-6


#: per-thread resource usage (Linux); elsewhere a wide gap alone ends a run
_RUSAGE_THREAD: int | None = getattr(resource, "RUSAGE_THREAD", None)


def _voluntary_switches() -> int:
    """Times this thread blocked: the event loop waiting in epoll for its sockets is one, the machine taking the
    core away is not."""
    return resource.getrusage(_RUSAGE_THREAD).ru_nvcsw  # type: ignore[arg-type]


switches: Callable[[], int] | None = _voluntary_switches if _RUSAGE_THREAD is not None else None


class HotPath:
    """Delivers every input of every strategy (slices, reports, timer ticks, ctl calls) inline or to its
    worker thread. ``handle(runner, item)`` is the daemon's one handler of an input (it catches what the
    strategy raises)."""

    def __init__(self, handle: Callable[[StrategyRunner, Any], None], budget_ms: float = 5.0,
                 strikes: int = 3, conflate_after_ms: float = 5.0) -> None:
        self.handle = handle
        self.budget_s = budget_ms / 1000
        self.strikes = max(1, strikes)
        self.conflate_after_s = conflate_after_ms / 1000
        #: the saturated run of the loop the last market data belonged to, and when that delivery ended
        self._run = 0
        self._last_md = 0.0
        #: when the current run started, and how many strategies handled market data inline in it
        self._run_t0 = 0.0
        self._run_k = 0
        #: a strategy's handlers took half of conflate_after_ms in this run: a gap must be a real wait to end
        #: it (the thread's voluntary context switches, read then and at each gap), not a preemption
        self._hot = False
        self._switches = 0
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
        now = 0.0
        if item[0] == "slice":
            # the frame's receipt (the feed's one clock read) unless a handler ran since: a fan-out's later
            # strategies, or a test's frame without one
            now = item[4]
            if now <= self._last_md:
                now = time.monotonic()
            if now - self._last_md > IDLE_GAP_S and (not self._hot or self._waited()):
                self._run += 1  # the loop waited for its socket: a new run
                self._run_t0 = now
                self._run_k = 0
                self._hot = False
            self._last_md = now
            if r.behind or r.slot:
                if r.run == self._run or r.slot:
                    self._conflate(r, item)
                    return
                r.behind = False  # caught up: inline again
        if self._busy:  # a report produced inside a handler: right after it, in this same callback
            self._pending.append((r, item))
            return
        self._busy = True
        end = 0.0
        try:
            end = self._inline(r, item, now)
            pending = self._pending
            if pending:
                end = 0.0
                while pending:
                    r2, it2 = pending.popleft()
                    if r2.buffer is not None:  # isolated meanwhile: into its buffer
                        self.deliver(r2, it2)
                    else:
                        self._inline(r2, it2)
        finally:
            self._busy = False
            # the loop was busy until now, whatever it handled (the handler's end when it was all: one clock
            # read fewer per message)
            self._last_md = end or time.monotonic()

    def _inline(self, r: StrategyRunner, item: Any, t0: float = 0.0) -> float:
        """Handle one input on the loop's thread; for market data, time the handler (from ``t0``, the delivery's
        clock read, when given) and return when it ended, else 0."""
        if item[0] != "slice":
            if r.slot:  # the market data that came before it goes first
                self._drain_now(r)
            self.handle(r, item)
            return 0.0
        if not t0:
            t0 = time.monotonic()
        self.handle(r, item)
        t1 = time.monotonic()
        dt = t1 - t0
        if r.run != self._run:
            r.run = self._run
            r.run_s = 0.0
            r.run_max = 0.0
            self._run_k += 1
        r.run_s += dt
        if dt > r.run_max:
            r.run_max = dt
        if r.run_s > self.conflate_after_s / 2 and not self._hot:
            self._hot = True
            if switches is not None:
                self._switches = switches()
        # behind: its handlers took conflate_after_ms of this run without counting the longest call, and more than
        # a fair share of it (so a fast strategy beside a slow one keeps all its data: the slow one is conflated
        # first and the run ends). One long call is no backlog of the strategy's making: the machine took the core
        # away, a collection or a checkpoint's fsync ran, and the few messages queued meanwhile cost less handled
        # inline than waiting in the slot for the feed to yield
        if r.run_s - r.run_max > self.conflate_after_s and r.run_s * (self._run_k + 1) > t1 - self._run_t0 and \
                not r.behind and r.state == "running":
            r.behind = True  # this run's further market data is conflated (see the module's docstring)
            r.times_behind += 1
        if dt <= self.budget_s:
            r.strikes = 0
            return t1
        # overruns in a row: one slow call (a garbage collection, the machine taking the core away) is no reason
        r.overruns += 1
        r.strikes += 1
        if r.isolation == "auto" and r.strikes >= self.strikes and r.state == "running":
            log.warning("strategy.isolated", strategy=r.id, handler_ms=round(dt * 1000, 3),
                        budget_ms=self.budget_s * 1000, overruns=r.overruns)
            self.isolate(r)
        return t1

    # -- an inline strategy behind its feed -------------------------------------------------------------
    def _waited(self) -> bool:
        """Whether the loop's thread blocked since the run became hot or the last look (no way to tell: yes)."""
        if switches is None:
            return True
        n = switches()
        waited = n != self._switches
        self._switches = n
        return waited

    def _conflate(self, r: StrategyRunner, item: Any) -> None:
        """Keep only the latest market-data event per (symbol, type) until the feed yields to the loop."""
        slot = r.slot
        if slot.pop(item[-1], None) is not None:  # the newer one takes its place at the end, as in the buffer
            r.md_conflated += 1
        elif not slot and self._loop is not None:
            self._loop.call_soon(self._drain, r)
        slot[item[-1]] = item
        if len(slot) > r.slot_high_water:
            r.slot_high_water = len(slot)

    def _drain(self, r: StrategyRunner) -> None:
        """The feed yielded: the strategy gets the latest of what came for it meanwhile, in arrival order."""
        if not r.slot or r.buffer is not None:
            return
        self._busy = True
        try:
            self._drain_now(r)
            pending = self._pending
            while pending:
                r2, it2 = pending.popleft()
                if r2.buffer is not None:
                    self.deliver(r2, it2)
                else:
                    self._inline(r2, it2)
        finally:
            self._busy = False
            self._last_md = time.monotonic()  # busy until now, not idle

    def _drain_now(self, r: StrategyRunner) -> None:
        items = list(r.slot.values())
        r.slot.clear()
        for it in items:
            self._inline(r, it)

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
        for name in ("risk_hook", "decision_hook", "gate_hook"):
            hook = getattr(e, name)
            if hook is not None:
                setattr(e, name, _posted(post, hook))
        gate = e.risk_gate
        if gate.on_state_change is not None:
            gate.on_state_change = _posted(post, gate.on_state_change)
        r.isolated_ns = time.time_ns()
        buf = ConflatingBuffer()
        for it in r.slot.values():  # what waited in its slot goes first, in order
            buf.put_market(it[-1], it)
        r.slot.clear()
        r.behind = False
        r.buffer = buf
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
