"""``optimize(config)``: the whole of ``leand optimize`` as a library call."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec

from leand.backtest.runner import DEFAULT_DATA, BacktestError, run_backtest
from leand.data.catalog import default_catalog_path, is_catalog
from leand.optimize.backends import BackendError, make_backend
from leand.optimize.results import (
    Analysis,
    WindowResult,
    overfitting,
    stitch,
    summary_dict,
    write_json,
    write_oos_csv,
    write_table,
)
from leand.optimize.space import Space, SpaceError
from leand.optimize.store import StoreError, TrialStore
from leand.optimize.sweep import OptimizeConfig, OptimizeError, Progress, Sweep, settings_of, trial_count
from leand.optimize.targets import Constraint, Target, TargetError
from leand.optimize.windows import WalkForward, Window, WindowError, windows
from leand.optimize.worker import RunSpec, as_text, check_parameters, probe_dates

USER_ERRORS = (OptimizeError, SpaceError, TargetError, WindowError, StoreError, BackendError, BacktestError)


class OptimizeResult(msgspec.Struct, kw_only=True):
    out: str
    summary: dict[str, Any]
    resumed: bool
    #: wall time of the trials themselves (not the analysis or the best trial's re-run); never written to files
    sweep_seconds: float = 0.0


def _check_data(data_dir: Path) -> None:
    if not data_dir.is_dir():
        raise BacktestError(f"data folder not found: {data_dir}")


def optimize(cfg: OptimizeConfig, progress: bool | None = None) -> OptimizeResult:
    """Run (or resume) a sweep and write its results folder. Raises one of ``USER_ERRORS`` on bad input."""
    strategy = Path(cfg.strategy)
    if not strategy.is_file():
        raise BacktestError(f"strategy file not found: {strategy}")
    space = Space.parse(cfg.params)
    if not cfg.params:
        raise OptimizeError("give at least one --param NAME=LO:HI[:STEP] or NAME=A,B,…")
    target = Target.parse(cfg.target)
    constraints = [Constraint.parse(c) for c in cfg.constraints]
    wf = WalkForward.parse(cfg.walk_forward) if cfg.walk_forward else None
    n = trial_count(cfg, space)
    data_dir = Path(cfg.data) if cfg.data else DEFAULT_DATA
    _check_data(data_dir)
    code = strategy.read_text()
    catalog = Path(cfg.catalog) if cfg.catalog else None
    if catalog is None and is_catalog(default_catalog_path()):
        catalog = default_catalog_path()  # as leand backtest does
    spec = RunSpec(strategy_path=str(strategy.resolve()), class_name=cfg.class_name,
                   data_dir=str(data_dir.resolve()), cash=cfg.cash, fixed={},
                   catalog=str(catalog.resolve()) if catalog else None)
    check_parameters(spec, {p.name: p.values for p in space.params})
    wins: list[Window] = []
    if wf is not None:
        first, last = probe_dates(spec, space.at(0))
        wins = windows(wf, cfg.start or first, cfg.end or last)
    out = Path(cfg.out) if cfg.out else Path("results") / f"{strategy.stem}-optimize"
    out.mkdir(parents=True, exist_ok=True)
    store = TrialStore(out / "trials.sqlite")
    try:
        backend = make_backend(cfg.backend, spec, cfg.workers, cfg.address)
        try:
            sweep_settings = settings_of(cfg, code, data_dir, max(8, backend.workers), spec.catalog)
            resumed = store.check_settings(sweep_settings)
            total = n if wf is None else len(wins) * (n + 1)
            bar = Progress(total, target, progress)
            sweep = Sweep(cfg, space, target, constraints, store, backend, bar)
            t0 = time.perf_counter()
            try:
                if wf is None:
                    sweep.run_stage([(-1, "sweep", cfg.start, cfg.end)])
                else:
                    sweep.run_walk_forward(wins)
            finally:
                bar.close()
            sweep_seconds = time.perf_counter() - t0
        finally:
            backend.close()
        analysis = analyse(store, sweep, wins, cfg)
        write_table(store, out, space.names, wf is not None)
        summary = summary_dict(analysis, sweep_settings, store.count(), target.statistic)
        if wins and analysis.oos is not None:
            write_oos_csv(out / "oos_equity.csv", analysis.oos)
        best_dir = _write_best(cfg, analysis, wins, out, data_dir, spec.catalog)
        summary["best_result"] = str(best_dir) if best_dir else None
        write_json(out / "summary.json", summary)
        if cfg.report:
            from leand.optimize.report import write_report

            summary["report"] = str(write_report(out, store, space, target, analysis, summary))
        return OptimizeResult(out=str(out), summary=summary, resumed=resumed, sweep_seconds=sweep_seconds)
    finally:
        store.close()


def analyse(store: TrialStore, sweep: Sweep, wins: list[Window], cfg: OptimizeConfig) -> Analysis:
    if not wins:
        top = sweep.best(-1, "sweep")
        best = store.get(-1, "sweep", top.idx) if top else None
        dsr, pbo, sharpes = overfitting(store, -1, "sweep", best, with_pbo=cfg.search == "grid")
        return Analysis(best=best, deflated=dsr, pbo=pbo, trial_sharpes=sharpes)
    results: list[WindowResult] = []
    tests = []
    last_best = None
    pbo_last = None
    dsr_last = None
    sharpes_last: list[float] = []
    for w in wins:
        best = sweep.best(w.index, "train")
        full = store.get(w.index, "train", best.idx) if best else None
        dsr, pbo, sharpes = overfitting(store, w.index, "train", full, with_pbo=True)
        test = store.get(w.index, "test", 0)
        if test is not None:
            tests.append((w, test))
        results.append(WindowResult(
            index=w.index, train_start=w.train_start.isoformat(), train_end=w.train_end.isoformat(),
            test_start=w.test_start.isoformat(), test_end=w.test_end.isoformat(),
            trials=len(store.done(w.index, "train")), best_params=full.params if full else None,
            in_sample=full.target if full else None,
            out_of_sample=sweep.target.value(test.values) if test and test.ok else None,
            in_sample_statistics=full.statistics if full else {},
            out_of_sample_statistics=test.statistics if test else {},
            pbo=pbo.pbo if pbo else None))
        if full is not None:
            last_best, dsr_last, pbo_last, sharpes_last = full, dsr, pbo, sharpes
    firsts = [(w, int(t.daily()[0][0])) for w, t in tests if len(t.times)]
    next_starts = {a.index: t for (a, _), (_, t) in zip(firsts, firsts[1:])}
    return Analysis(best=last_best, deflated=dsr_last, pbo=pbo_last, trial_sharpes=sharpes_last, windows=results,
                    oos=stitch(tests, next_starts))


def _write_best(cfg: OptimizeConfig, analysis: Analysis, wins: list[Window], out: Path,
                data_dir: Path, spec_catalog: str | None) -> Path | None:
    """The best trial re-run on its own, as ``leand backtest`` would, into ``out/best`` (for a walk-forward: the
    last window's choice over its training window — the parameters one would trade next)."""
    from leand.backtest.result import write_result

    best = analysis.best
    if best is None:
        return None
    start, end = cfg.start, cfg.end
    if wins:
        w = wins[best.window]
        start, end = w.train_start, w.train_end
    _, result = run_backtest(Path(cfg.strategy), data_dir=data_dir, start=start, end=end, cash=cfg.cash,
                             parameters=as_text(best.params), class_name=cfg.class_name,
                             catalog=Path(spec_catalog) if spec_catalog else None)
    path = out / "best"
    write_result(result, path)
    if cfg.report:
        from leand.report.html import write_report

        write_report(path)
    return path
