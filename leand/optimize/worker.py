"""What runs inside a worker process (or Ray actor): one strategy class and one data reader per process,
kept across all the trials that process runs, so data files are read and decoded once per worker."""

from __future__ import annotations

import gc
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from leand.data.lean import Columns, LeanDataSource


class RunSpec(msgspec.Struct, frozen=True):
    """Everything a worker needs besides a trial's parameters; sent once per worker, never per trial."""
    strategy_path: str
    class_name: str | None
    data_dir: str
    cash: float | None
    fixed: dict[str, Any]


class Task(msgspec.Struct, frozen=True):
    """One trial: its place in the table (window, phase, number), its parameters and its dates."""
    window: int
    phase: str
    number: int
    params: dict[str, Any]
    start: date | None
    end: date | None


class TrialOutcome(msgspec.Struct, kw_only=True):
    window: int
    phase: str
    number: int
    params: dict[str, Any]
    ok: bool
    error: str = ""
    statistics: dict[str, str] = {}
    values: dict[str, float | int] = {}
    #: daily sample times (ns) and equity, as raw little-endian int64 / float64 bytes
    times: bytes = b""
    equity: bytes = b""
    seconds: float = 0.0
    #: the worker process and its peak RSS after this trial (diagnostics: memory must stay flat over trials)
    pid: int = 0
    rss_mb: float = 0.0


class CachedDataSource(LeanDataSource):
    """A LEAN reader that keeps decoded files, up to ``max_bytes`` of numpy columns (least recently used go).

    Results are keyed on every argument; readers never mutate the Columns they return (``take`` copies), so
    sharing them across runs is safe."""

    def __init__(self, root: Path, max_bytes: int = 1 << 30) -> None:
        super().__init__(root)
        self.max_bytes = max_bytes
        self._memo: dict[tuple, Columns | None] = {}
        self._bytes = 0
        self.hits = self.misses = 0

    @staticmethod
    def _size(c: Columns | None) -> int:
        if c is None:
            return 0
        return c.time.nbytes + c.end_time.nbytes + sum(v.nbytes for v in c.cols.values())

    def _get(self, k: tuple, read) -> Columns | None:
        if k in self._memo:
            self.hits += 1
            c = self._memo.pop(k)
            self._memo[k] = c  # most recently used last
            return c
        self.misses += 1
        c = read()
        size = self._size(c)
        if size <= self.max_bytes:
            self._memo[k] = c
            self._bytes += size
            while self._bytes > self.max_bytes:
                old = self._memo.pop(next(iter(self._memo)))
                self._bytes -= self._size(old)
        return c

    def read_day(self, symbol, resolution, tick_type, d, hours, normalization=None):  # type: ignore[override]
        args = (symbol, resolution, tick_type, d, hours) + ((normalization,) if normalization is not None else ())
        k = ("day", symbol, resolution, tick_type, d, normalization, getattr(hours, "key", id(hours)))
        return self._get(k, lambda: super(CachedDataSource, self).read_day(*args))

    def read_range(self, symbol, resolution, tick_type, start, end, hours, normalization=None):  # type: ignore[override]
        args = (symbol, resolution, tick_type, start, end, hours) + (
            (normalization,) if normalization is not None else ())
        k = ("range", symbol, resolution, tick_type, start, end, normalization, getattr(hours, "key", id(hours)))
        return self._get(k, lambda: super(CachedDataSource, self).read_range(*args))


class TrialRunner:
    """Loads the strategy class and opens the data once; :meth:`run` is one trial."""

    def __init__(self, spec: RunSpec) -> None:
        from leand.backtest.runner import load_strategy_class

        self.spec = spec
        self.cls = load_strategy_class(Path(spec.strategy_path), spec.class_name)
        self.code = Path(spec.strategy_path).read_text()
        self.source = CachedDataSource(Path(spec.data_dir))
        gc.collect()
        gc.freeze()  # what is loaded now lives as long as the worker: keep it out of every later collection

    def run(self, task: Task) -> TrialOutcome:
        import time

        t0 = time.perf_counter()
        params = {**self.spec.fixed, **task.params}
        head = {"window": task.window, "phase": task.phase, "number": task.number, "params": task.params}
        out = self._run(task, params, head, t0)
        # a backtest leaves reference cycles (engine <-> strategy, timers' closures); collecting them now (a few
        # ms) keeps a worker's memory flat, where the default thresholds let ~10 trials' garbage pile up
        gc.collect()
        out.pid = os.getpid()
        out.rss_mb = peak_rss_mb()
        return out

    def _run(self, task: Task, params: dict[str, Any], head: dict[str, Any], t0: float) -> TrialOutcome:
        import time

        from leand.backtest.runner import BacktestError, run_backtest

        try:
            _, result = run_backtest(Path(self.spec.strategy_path), data_dir=Path(self.spec.data_dir),
                                     start=task.start, end=task.end, cash=self.spec.cash, parameters=params,
                                     strategy=self.cls(), data_source=self.source, source=self.code)
        except BacktestError as e:
            return TrialOutcome(**head, ok=False, error=str(e), seconds=time.perf_counter() - t0)
        except Exception as e:  # a strategy's own bug is that trial's failure, not the sweep's
            return TrialOutcome(**head, ok=False, error=f"{type(e).__name__}: {e}", seconds=time.perf_counter() - t0)
        times = np.fromiter((x[0] for x in result.daily), dtype="<i8", count=len(result.daily))
        equity = np.fromiter((x[1] for x in result.daily), dtype="<f8", count=len(result.daily))
        return TrialOutcome(**head, ok=True, statistics=result.statistics, values=result.statistic_values,
                            times=times.tobytes(), equity=equity.tobytes(), seconds=time.perf_counter() - t0)


# -- process-pool plumbing: the initializer builds this process's runner once -------------------------------------
_RUNNER: TrialRunner | None = None


def init_worker(spec_bytes: bytes) -> None:
    global _RUNNER
    _RUNNER = TrialRunner(msgspec.msgpack.decode(spec_bytes, type=RunSpec))


def run_task(task_bytes: bytes) -> bytes:
    if _RUNNER is None:  # pragma: no cover - the pool always runs the initializer first
        raise RuntimeError("worker not initialized")
    task = msgspec.msgpack.decode(task_bytes, type=Task)
    return msgspec.msgpack.encode(_RUNNER.run(task))


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (for the benchmark)."""
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def probe_dates(spec: RunSpec) -> tuple[date, date]:
    """The strategy's own start and end dates (from its ``initialize``), for walk-forward windows."""
    from leand.backtest.runner import BacktestError, load_strategy_class
    from leand.engine import Engine, EngineError

    cls = load_strategy_class(Path(spec.strategy_path), spec.class_name)
    strategy = cls()
    strategy.parameters = {**getattr(strategy, "parameters", {}), **spec.fixed}
    engine = Engine(strategy, Path(spec.data_dir), parameters=strategy.parameters, cash=spec.cash)
    try:
        engine.initialize()
    except EngineError as e:
        raise BacktestError(str(e)) from e
    return engine.start_date, engine.end_date
