"""What a finished sweep writes: the trial table (CSV, JSON), the overfitting figures' numbers, the
walk-forward out-of-sample equity and ``summary.json``. Everything streams from the SQLite table one trial at
a time, and nothing time-dependent goes in, so the same settings and seed give the same bytes."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import orjson

from leand.optimize.overfit import Deflated, Pbo, block_sums, choose_blocks, deflated_sharpe, pbo_cscv, sharpe
from leand.optimize.store import TrialRow, TrialStore
from leand.optimize.targets import STATISTICS
from leand.optimize.windows import Window


class WindowResult(msgspec.Struct, kw_only=True):
    index: int
    train_start: str
    train_end: str
    test_start: str
    test_end: str
    trials: int
    best_params: dict[str, Any] | None
    in_sample: float | None
    out_of_sample: float | None
    in_sample_statistics: dict[str, str] = {}
    out_of_sample_statistics: dict[str, str] = {}
    pbo: float | None = None


class OutOfSample(msgspec.Struct, kw_only=True):
    times: list[int]
    equity: list[float]
    net_profit: float
    compounding_annual_return: float
    sharpe_ratio: float
    drawdown: float


class Analysis(msgspec.Struct, kw_only=True):
    best: TrialRow | None
    deflated: Deflated | None
    pbo: Pbo | None
    trial_sharpes: list[float]
    windows: list[WindowResult] = []
    oos: OutOfSample | None = None


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""
    return v


def write_table(store: TrialStore, out: Path, names: list[str], walk_forward: bool) -> tuple[Path, Path]:
    """trials.csv and trials.json: one row per trial (parameters, status, target, LEAN statistics)."""
    csv_path, json_path = out / "trials.csv", out / "trials.json"
    head = (["window", "phase"] if walk_forward else []) + ["trial", *names, "ok", "feasible", "target", "error"]
    with open(csv_path.with_suffix(".csv.tmp"), "w", newline="") as fc, \
            open(json_path.with_suffix(".json.tmp"), "wb") as fj:
        w = csv.writer(fc, lineterminator="\n")
        w.writerow(head + STATISTICS)
        fj.write(b"[")
        first = True
        for r in store.rows():
            lead = ([r.window, r.phase] if walk_forward else []) + [r.idx]
            w.writerow(lead + [_fmt(r.params.get(n, "")) for n in names] +
                       [int(r.ok), int(r.feasible), _fmt(r.target) if r.target is not None else "", r.error] +
                       [_fmt(r.values.get(s, "")) for s in STATISTICS])
            obj: dict[str, Any] = {"window": r.window, "phase": r.phase} if walk_forward else {}
            obj.update({"trial": r.idx, "params": r.params, "ok": r.ok, "feasible": r.feasible, "target": r.target,
                        "error": r.error, "statistics": r.statistics, "values": r.values})
            fj.write((b"\n" if first else b",\n") + orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY))
            first = False
        fj.write(b"\n]\n")
    csv_path.with_suffix(".csv.tmp").replace(csv_path)
    json_path.with_suffix(".json.tmp").replace(json_path)
    return csv_path, json_path


def overfitting(store: TrialStore, window: int, phase: str, best: TrialRow | None,
                with_pbo: bool) -> tuple[Deflated | None, Pbo | None, list[float]]:
    """DSR of ``best`` given every successful trial of the stage, and PBO by CSCV over those trials' daily
    returns. One pass over the table, keeping per trial one Sharpe ratio and S block sums."""
    lengths: Counter[int] = Counter()
    for r in store.rows(window, phase):
        if r.ok:
            lengths[len(r.equity) // 8] += 1
    if not lengths or best is None:
        return None, None, []
    n_obs = lengths.most_common(1)[0][0] - 1
    s = choose_blocks(n_obs)
    sharpes: list[float] = []
    blocks: list[np.ndarray] = []
    for r in store.rows(window, phase):
        if not r.ok:
            continue
        ret = r.returns()
        sharpes.append(sharpe(ret))
        if with_pbo and s >= 2 and len(ret) == n_obs:
            blocks.append(block_sums(ret, s))
    dsr = deflated_sharpe(best.returns(), sharpes)
    pbo = pbo_cscv(np.stack(blocks)) if with_pbo and len(blocks) >= 2 else None
    return dsr, pbo, sharpes


def stitch(tests: list[tuple[Window, TrialRow]], next_starts: dict[int, int]) -> OutOfSample | None:
    """Chain each test window's daily returns onto one equity curve (overlapping windows are cut where the next
    window's test begins)."""
    times: list[int] = []
    equity: list[float] = []
    level = None
    for w, row in tests:
        t, eq = row.daily()
        if len(eq) == 0:
            continue
        stop = next_starts.get(w.index)
        if stop is not None:
            keep = t < stop
            t, eq = t[keep], eq[keep]
        if len(eq) == 0:
            continue
        if level is None:
            level = float(eq[0])
            times.append(int(t[0]))
            equity.append(level)
        base = float(eq[0]) or 1.0
        for ti, v in zip(t[1:].tolist(), eq[1:].tolist()):
            if times and ti <= times[-1]:
                continue
            times.append(ti)
            equity.append(level * v / base)
        level = equity[-1]
    if len(equity) < 2:
        return None
    e = np.array(equity)
    r = e[1:] / e[:-1] - 1
    years = (times[-1] - times[0]) / (365.25 * 86400e9)
    sd = float(r.std(ddof=1)) if len(r) > 1 else 0.0
    peak = np.maximum.accumulate(e)
    return OutOfSample(times=times, equity=equity, net_profit=float(e[-1] / e[0] - 1),
                       compounding_annual_return=float((e[-1] / e[0]) ** (1 / years) - 1) if years > 0 else 0.0,
                       sharpe_ratio=float(r.mean() / sd * math.sqrt(252)) if sd > 0 else 0.0,
                       drawdown=float((1 - e / peak).max()))


def summary_dict(analysis: Analysis, settings: dict[str, Any], n_trials: int, target_stat: str) -> dict[str, Any]:
    best = analysis.best
    out: dict[str, Any] = {"settings": settings, "trials": n_trials, "target": target_stat}
    out["best"] = None if best is None else {
        "window": best.window, "phase": best.phase, "trial": best.idx, "params": best.params,
        "target": best.target, "statistics": best.statistics}
    if analysis.deflated is not None:
        out["deflated_sharpe"] = msgspec.to_builtins(analysis.deflated)
    if analysis.pbo is not None:
        p = analysis.pbo
        out["pbo"] = {"pbo": p.pbo, "prob_loss": p.prob_loss, "blocks": p.n_blocks,
                      "combinations": p.n_combinations, "trials": p.n_trials}
    if analysis.windows:
        out["walk_forward"] = {"windows": [msgspec.to_builtins(w) for w in analysis.windows]}
        if analysis.oos is not None:
            o = analysis.oos
            out["walk_forward"]["out_of_sample"] = {
                "net_profit": o.net_profit, "compounding_annual_return": o.compounding_annual_return,
                "sharpe_ratio": o.sharpe_ratio, "drawdown": o.drawdown}
        pbos = [w.pbo for w in analysis.windows if w.pbo is not None]
        if pbos:
            out["walk_forward"]["mean_pbo"] = float(np.mean(pbos))
    return out


def write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\n")
    tmp.replace(path)


def write_oos_csv(path: Path, oos: OutOfSample) -> None:
    from leand.clock import ns_to_datetime

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["time", "equity"])
    w.writerows([ns_to_datetime(t).strftime("%Y-%m-%dT%H:%M:%SZ"), v] for t, v in zip(oos.times, oos.equity))
    path.write_text(buf.getvalue())
