"""Where trials run: a local process pool over all cores, or Ray actors on a cluster.

Both keep one :class:`~leand.optimize.worker.TrialRunner` per worker, built once from the run's spec (the
strategy file and the data folder are paths the workers read themselves: nothing but a trial's parameters
travels per trial), and both keep at most ``2 × workers`` trials in flight, so memory does not grow with the
number of trials.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

import msgspec

from leand.optimize.worker import RunSpec, Task, TrialOutcome, init_worker, run_task


class BackendError(Exception):
    """The backend cannot start (Ray missing or unreachable): one message for the user."""


class Backend(Protocol):
    workers: int

    def run(self, tasks: Iterable[Task]) -> Iterator[TrialOutcome]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class LocalBackend:
    """A process pool; each process runs the initializer once and then many trials."""

    def __init__(self, spec: RunSpec, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        # fork when this process has no other thread (the CLI): workers start in milliseconds and need no
        # importable __main__ (a script on stdin); they never touch the parent's SQLite handle. With other threads
        # about (a host application, a test runner) a fork could copy a lock held mid-operation: forkserver then.
        methods = multiprocessing.get_all_start_methods()
        if "fork" in methods and threading.active_count() == 1:
            method = "fork"
        else:
            method = "forkserver" if "forkserver" in methods else "spawn"
        self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method),
                                        initializer=init_worker, initargs=(msgspec.msgpack.encode(spec),))

    def run(self, tasks: Iterable[Task]) -> Iterator[TrialOutcome]:
        it = iter(tasks)
        pending: set[Future] = set()
        limit = 2 * self.workers
        while True:
            while len(pending) < limit:
                task = next(it, None)
                if task is None:
                    break
                pending.add(self.pool.submit(run_task, msgspec.msgpack.encode(task)))
            if not pending:
                return
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in sorted(finished, key=id):
                yield msgspec.msgpack.decode(f.result(), type=TrialOutcome)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class RayBackend:
    """Ray actors, one per worker CPU; each builds its runner once from the spec and reads the data from the
    same path (a shared filesystem on a cluster)."""

    def __init__(self, spec: RunSpec, workers: int | None = None, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise BackendError("the Ray backend needs ray: pip install 'leand[ray]'") from None
        self.ray = ray
        self._started = False
        if not ray.is_initialized():
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise BackendError(f"cannot connect to Ray at {address or 'a local runtime'}: {e}") from None
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = workers or max(1, cpus)
        actor = ray.remote(num_cpus=1)(_RayTrialActor)
        blob = msgspec.msgpack.encode(spec)
        self.actors: list[Any] = [actor.remote(blob) for _ in range(self.workers)]  # Ray actor handles

    def run(self, tasks: Iterable[Task]) -> Iterator[TrialOutcome]:
        ray = self.ray
        it = iter(tasks)
        idle = list(self.actors) * 2  # two in flight per actor: the next trial is queued while one runs
        running: dict[Any, Any] = {}
        while True:
            while idle:
                task = next(it, None)
                if task is None:
                    break
                a = idle.pop()
                running[a.run.remote(msgspec.msgpack.encode(task))] = a
            if not running:
                return
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                idle.append(running.pop(ref))
                try:
                    yield msgspec.msgpack.decode(ray.get(ref), type=TrialOutcome)
                except ray.exceptions.RayError as e:
                    raise BackendError(f"a Ray worker failed: {e}") from None

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []
        if self._started:
            self.ray.shutdown()


class _RayTrialActor:
    def __init__(self, spec_bytes: bytes) -> None:
        from leand.optimize.worker import TrialRunner

        self.runner = TrialRunner(msgspec.msgpack.decode(spec_bytes, type=RunSpec))

    def run(self, task_bytes: bytes) -> bytes:
        return msgspec.msgpack.encode(self.runner.run(msgspec.msgpack.decode(task_bytes, type=Task)))

    def peak_rss_mb(self) -> float:
        from leand.optimize.worker import peak_rss_mb

        return peak_rss_mb()


def make_backend(kind: str, spec: RunSpec, workers: int | None, address: str | None) -> Backend:
    if kind == "local":
        if address:
            raise BackendError("--address is for --backend ray")
        return LocalBackend(spec, workers)
    if kind == "ray":
        return RayBackend(spec, workers, address)
    raise BackendError(f"unknown backend {kind!r} (local or ray)")
