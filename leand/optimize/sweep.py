"""Running a sweep: search strategies (grid, seeded random, Optuna's TPE), walk-forward stages, resume.

Trials stream from the backend into the SQLite table as they finish; the table's order (window, phase, idx)
and every value in it depend only on the settings and the seed, never on which worker finished first.
"""

from __future__ import annotations

import hashlib
import logging
import math
import sys
import time
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from leand.optimize.backends import Backend
from leand.optimize.space import Space, key
from leand.optimize.store import TrialRow, TrialStore
from leand.optimize.targets import Constraint, Target
from leand.optimize.windows import WalkForward, Window
from leand.optimize.worker import Task, TrialOutcome

SEARCHES = ("grid", "random", "bayes")
#: bayes asks this many trials (or one per worker, if more) before telling Optuna their results
BAYES_BATCH = 8
DEFAULT_TRIALS = 100


class OptimizeError(Exception):
    """A bad setting (search, trials, spec): one clear message for the user."""


class OptimizeConfig(msgspec.Struct, kw_only=True):
    strategy: str
    params: list[str]
    search: str = "grid"
    trials: int | None = None
    target: str = "sharpe"
    constraints: list[str] = []
    backend: str = "local"
    workers: int | None = None
    address: str | None = None
    out: str | None = None
    walk_forward: str | None = None
    seed: int = 0
    data: str | None = None
    start: date | None = None
    end: date | None = None
    cash: float | None = None
    class_name: str | None = None
    catalog: str | None = None
    report: bool = True


def trial_count(cfg: OptimizeConfig, space: Space) -> int:
    if cfg.search not in SEARCHES:
        raise OptimizeError(f"--search {cfg.search!r}: use grid, random or bayes")
    if cfg.trials is not None and cfg.trials < 1:
        raise OptimizeError(f"--trials {cfg.trials}: must be at least 1")
    if cfg.search == "grid":
        if cfg.trials is not None:
            raise OptimizeError("--trials is for --search random or bayes (grid runs every point)")
        return len(space)
    if not space.varying:
        raise OptimizeError(f"--search {cfg.search} needs at least one --param with more than one value")
    n = cfg.trials or DEFAULT_TRIALS
    return min(n, len(space)) if cfg.search == "random" else n


def settings_of(cfg: OptimizeConfig, code: str, data_dir: Path, batch: int, catalog: str | None) -> dict[str, Any]:
    """What must match for a results folder to be resumed (not the backend or worker count: they do not
    change the table)."""
    s = {"strategy": str(Path(cfg.strategy).resolve()), "code_sha256": hashlib.sha256(code.encode()).hexdigest(),
         "class": cfg.class_name, "data": str(data_dir.resolve()), "catalog": catalog, "start": str(cfg.start), "end": str(cfg.end),
         "cash": cfg.cash, "params": cfg.params, "search": cfg.search, "trials": cfg.trials, "target": cfg.target,
         "constraints": cfg.constraints, "walk_forward": cfg.walk_forward, "seed": cfg.seed}
    if cfg.search == "bayes":
        s["bayes_batch"] = batch
    return s


class Progress:
    """One line on stderr when it is a terminal: trials done, the best so far, the time left."""

    def __init__(self, total: int, target: Target, enabled: bool | None = None) -> None:
        self.total = total
        self.target = target
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.done = 0
        self.ran = 0
        self.t0 = time.monotonic()
        self.best: tuple[float, dict[str, Any]] | None = None
        self._width = 0

    def skip(self, n: int) -> None:
        self.done += n

    def update(self, value: float | None, params: dict[str, Any], ran: bool = True) -> None:
        self.done += 1
        self.ran += ran
        if value is not None and (self.best is None or self.target.better(value, self.best[0])):
            self.best = (value, params)
        self.draw()

    def draw(self) -> None:
        if not self.enabled:
            return
        frac = self.done / self.total if self.total else 1.0
        bar = "#" * int(frac * 24)
        elapsed = time.monotonic() - self.t0
        eta = elapsed / self.ran * (self.total - self.done) if self.ran else float("nan")
        eta_text = "--:--" if math.isnan(eta) else f"{int(eta) // 60:d}:{int(eta) % 60:02d}"
        best = "" if self.best is None else \
            f" best {self.target.name} {self.best[0]:.4g} ({', '.join(f'{k}={v}' for k, v in self.best[1].items())})"
        line = f"[{bar:<24}] {self.done}/{self.total} trials{best} ETA {eta_text}"[:160]
        sys.stderr.write("\r" + line.ljust(self._width))  # blank what a longer previous line left
        self._width = len(line)
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 160 + "\r")
            sys.stderr.flush()


class Sweep:
    """Runs the stages of one sweep against a backend and a store."""

    def __init__(self, cfg: OptimizeConfig, space: Space, target: Target, constraints: list[Constraint],
                 store: TrialStore, backend: Backend, progress: Progress) -> None:
        self.cfg = cfg
        self.space = space
        self.target = target
        self.constraints = constraints
        self.store = store
        self.backend = backend
        self.progress = progress
        self.n_trials = trial_count(cfg, space)

    # -- evaluating a finished trial -------------------------------------------------------------------------
    def judge(self, o: TrialOutcome) -> tuple[bool, float | None]:
        if not o.ok:
            return False, None
        value = self.target.value(o.values)
        feasible = value is not None and all(c.holds(o.values) for c in self.constraints)
        return feasible, value

    def _record(self, o: TrialOutcome) -> tuple[bool, float | None]:
        feasible, value = self.judge(o)
        self.store.add(o.window, o.phase, o.number, o, feasible, value)
        self.progress.update(value if feasible else None, o.params)
        return feasible, value

    def best(self, window: int, phase: str) -> TrialRow | None:
        """The best feasible trial of a stage; ties keep the lowest idx, so the choice is deterministic."""
        best: TrialRow | None = None
        for row in self.store.done(window, phase).values():
            if row.feasible and row.target is not None and self.target.better(
                    row.target, best.target if best is not None else None):
                best = row
        return best

    # -- grid and random -------------------------------------------------------------------------------------
    def points(self) -> Iterator[dict[str, Any]]:
        if self.cfg.search == "grid":
            return (p for p in self.space.grid())
        return iter(self.space.random(self.n_trials, self.cfg.seed))

    def run_points(self, stages: list[tuple[int, str, date | None, date | None]]) -> None:
        """Every grid/random point in each stage (several walk-forward windows share one stream of tasks)."""
        def tasks() -> Iterator[Task]:
            for window, phase, start, end in stages:
                done = self.store.done(window, phase)
                for idx, params in enumerate(self.points()):
                    row = done.get(idx)
                    if row is not None:
                        if row.key != key(params):
                            raise OptimizeError(f"the results table's trial {idx} has parameters {row.params}, "
                                                f"this sweep's has {params}: use another --out")
                        self.progress.skip(1)
                        continue
                    yield Task(window, phase, idx, params, start, end)

        self.progress.draw()
        for o in self.backend.run(tasks()):
            self._record(o)

    # -- bayes -----------------------------------------------------------------------------------------------
    def run_bayes(self, window: int, phase: str, start: date | None, end: date | None) -> None:
        """Optuna's TPE (seeded, constant liar) asked ``batch`` trials at a time and told their results in idx
        order. On a resume the finished trials are told again from the table in the same order, so the
        sampler's state — and every later suggestion — is what it would have been without the interruption."""
        try:
            import optuna
            from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
        except ImportError:
            raise OptimizeError("--search bayes needs optuna: pip install 'leand[optimize]'") from None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        logging.getLogger("optuna").setLevel(logging.WARNING)
        dists: dict[str, Any] = {}
        for p in self.space.varying:
            if p.kind == "range" and p.is_int:
                dists[p.name] = IntDistribution(int(p.lo), int(p.hi), step=int(p.step))
            elif p.kind == "range":
                dists[p.name] = FloatDistribution(p.lo, p.hi, step=p.step)
            else:
                dists[p.name] = CategoricalDistribution(list(p.values))
        fixed = self.space.fixed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constraints_func and constant_liar are marked experimental
            sampler = optuna.samplers.TPESampler(
                seed=self.cfg.seed, constant_liar=True,
                constraints_func=(lambda t: t.user_attrs.get("violations", [0.0])) if self.constraints else None)
        study = optuna.create_study(direction="maximize" if self.target.maximize else "minimize", sampler=sampler)
        done = self.store.done(window, phase)
        batch = self.batch_size()
        seen: dict[str, int] = {}  # parameters -> the idx that ran them (its row is read back when reused)
        idx = 0
        while idx < self.n_trials:
            asked = []
            for _ in range(min(batch, self.n_trials - idx)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    trial = study.ask(dists)
                params = {**{n: trial.params[n] for n in self.space.names if n in trial.params}}
                params = {n: params.get(n, fixed.get(n)) for n in self.space.names}
                asked.append((idx, trial, params))
                idx += 1
            results: dict[int, tuple[bool, float | None, dict[str, float]]] = {}
            todo = []
            for i, _t, params in asked:
                row = done.get(i)
                if row is not None:
                    if row.key != key(params):
                        raise OptimizeError(f"resuming bayes: trial {i} was {row.params}, the seeded sampler now "
                                            f"asks {params}; the table is from other settings: use another --out")
                    full = self.store.get(window, phase, i)
                    assert full is not None
                    results[i] = (full.feasible, full.target, full.values)
                    seen.setdefault(key(params), i)
                    self.progress.skip(1)
                elif key(params) in seen:  # TPE asked a point already run: reuse its result
                    prev = self.store.get(window, phase, seen[key(params)])
                    assert prev is not None
                    o = _copy_outcome(prev, window, phase, i)
                    f, v = self._record(o)
                    results[i] = (f, v, o.values)
                else:
                    todo.append(Task(window, phase, i, params, start, end))
            dup: dict[str, list[int]] = {}
            unique: list[Task] = []
            for t in todo:
                dup.setdefault(key(t.params), []).append(t.number)
                if len(dup[key(t.params)]) == 1:
                    unique.append(t)
            for o in self.backend.run(unique):
                seen[key(o.params)] = o.number
                for n in dup[key(o.params)]:
                    oo = o if n == o.number else _copy_outcome(o, window, phase, n)
                    f, v = self._record(oo)
                    results[n] = (f, v, oo.values)
            for i, trial, _params in asked:
                f, v, values = results[i]
                if v is None:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                    continue
                if self.constraints:
                    trial.set_user_attr("violations", [c.violation(values) for c in self.constraints])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    study.tell(trial, v)

    def batch_size(self) -> int:
        return max(BAYES_BATCH, self.backend.workers)

    # -- stages --------------------------------------------------------------------------------------------------
    def run_stage(self, stages: list[tuple[int, str, date | None, date | None]]) -> None:
        if self.cfg.search == "bayes":
            for window, phase, start, end in stages:
                self.run_bayes(window, phase, start, end)
        else:
            self.run_points(stages)

    def run_walk_forward(self, wins: list[Window]) -> None:
        self.run_stage([(w.index, "train", w.train_start, w.train_end) for w in wins])
        tests = []
        for w in wins:
            best = self.best(w.index, "train")
            if best is None:
                continue
            if self.store.get(w.index, "test", 0) is not None:
                self.progress.skip(1)
                continue
            tests.append(Task(w.index, "test", 0, best.params, w.test_start, w.test_end))
        for o in self.backend.run(tests):
            self._record(o)


def _copy_outcome(src: TrialRow | TrialOutcome, window: int, phase: str, number: int) -> TrialOutcome:
    return TrialOutcome(window=window, phase=phase, number=number, params=dict(src.params), ok=src.ok,
                        error=src.error, statistics=dict(src.statistics), values=dict(src.values),
                        times=src.times, equity=src.equity)


def parse_walk_forward(text: str | None) -> WalkForward | None:
    return WalkForward.parse(text) if text else None
