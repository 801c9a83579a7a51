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
    catalog: str | None = None


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


class CachedDataSource:
    """A data reader (LEAN folder, or a catalogue in front of one) that keeps what it decoded, up to
    ``max_bytes`` of numpy columns, least recently used going first. Readers never mutate the Columns they
    return (``take`` copies), so sharing them across runs is safe. Everything else is the inner reader's."""

    def __init__(self, inner: Any, max_bytes: int = 1 << 30) -> None:
        self.inner = inner
        self.max_bytes = max_bytes
        self._memo: dict[tuple, Columns | None] = {}
        self._bytes = 0
        self.hits = self.misses = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

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

    def read_day(self, symbol, resolution, tick_type, d, hours, *rest):
        k = ("day", symbol, resolution, tick_type, d, *rest, getattr(hours, "key", id(hours)))
        return self._get(k, lambda: self.inner.read_day(symbol, resolution, tick_type, d, hours, *rest))

    def read_range(self, symbol, resolution, tick_type, start, end, hours, *rest):
        k = ("range", symbol, resolution, tick_type, start, end, *rest, getattr(hours, "key", id(hours)))
        return self._get(k, lambda: self.inner.read_range(symbol, resolution, tick_type, start, end, hours, *rest))


def open_source(data_dir: Path, catalog: str | None) -> Any:
    """The reader ``leand backtest`` would open for these arguments (see run_backtest), wrapped in a cache."""
    from leand.backtest.runner import DEFAULT_DATA
    from leand.data.catalog import Catalog, CatalogDataSource, is_catalog

    cat = Path(catalog) if catalog else None
    if is_catalog(data_dir):
        cat = data_dir
        data_dir = data_dir if (data_dir / "market-hours" / "market-hours-database.json").is_file() else DEFAULT_DATA
    lean = LeanDataSource(data_dir)
    return CachedDataSource(CatalogDataSource(Catalog(cat), lean) if cat is not None else lean)


def as_text(params: dict[str, Any]) -> dict[str, str]:
    """Parameter values as ``--param`` text, so run_backtest types them by the strategy's declared defaults
    exactly as ``leand backtest --param`` does."""
    return {k: v if isinstance(v, str) else str(v) for k, v in params.items()}


class TrialRunner:
    """Loads the strategy class and opens the data once; :meth:`run` is one trial."""

    def __init__(self, spec: RunSpec) -> None:
        from leand.backtest.runner import load_strategy_class

        self.spec = spec
        self.cls = load_strategy_class(Path(spec.strategy_path), spec.class_name)
        self.code = Path(spec.strategy_path).read_text()
        self.source = open_source(Path(spec.data_dir), spec.catalog)
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
                                     start=task.start, end=task.end, cash=self.spec.cash, parameters=as_text(params),
                                     strategy=self.cls(), data_source=self.source, source=self.code,
                                     catalog=Path(self.spec.catalog) if self.spec.catalog else None)
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
    import signal

    # Ctrl-C reaches the whole process group: the parent stops the sweep; a worker finishes its trial quietly
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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


def check_parameters(spec: RunSpec, values: dict[str, tuple[Any, ...]]) -> None:
    """Every value of every swept parameter must convert to its declared default's type (as ``leand backtest
    --param`` requires): a bad one is one BacktestError before any trial runs, not N failed trials."""
    from leand.backtest.runner import load_strategy_class, typed_parameter

    declared = dict(getattr(load_strategy_class(Path(spec.strategy_path), spec.class_name), "parameters", {}) or {})
    for name, vals in values.items():
        for v in vals:
            typed_parameter(name, v if isinstance(v, str) else str(v), declared.get(name))


def probe_dates(spec: RunSpec, params: dict[str, Any]) -> tuple[date, date]:
    """The strategy's own start and end dates (from its ``initialize``, with ``params``), for walk-forward."""
    from leand.backtest.runner import DEFAULT_DATA, BacktestError, load_strategy_class, typed_parameters
    from leand.data.catalog import is_catalog
    from leand.engine import Engine, EngineError

    cls = load_strategy_class(Path(spec.strategy_path), spec.class_name)
    strategy = cls()
    declared = dict(getattr(strategy, "parameters", {}) or {})
    strategy.parameters = {**declared, **typed_parameters(declared, as_text(params))}
    data_dir = Path(spec.data_dir)
    if is_catalog(data_dir) and not (data_dir / "market-hours" / "market-hours-database.json").is_file():
        data_dir = DEFAULT_DATA
    engine = Engine(strategy, data_dir, parameters=strategy.parameters, cash=spec.cash)
    try:
        engine.initialize()
    except EngineError as e:
        raise BacktestError(str(e)) from e
    return engine.start_date, engine.end_date
