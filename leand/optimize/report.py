"""``report.html`` for a sweep, in the backtest report's style (leand.report): the best trial, the overfitting
guards, a heatmap of the target over two parameters (a line for one, parallel coordinates for more), the
walk-forward equity and windows, and the trial table. Figures are matplotlib SVG, inline."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from leand.optimize.results import Analysis
from leand.optimize.space import Space
from leand.optimize.store import TrialStore
from leand.optimize.targets import Target
from leand.report import plots
from leand.report.html import CSS, JS
from leand.report.html import table as _table

svg = plots.to_svg
BLUE, GREY, RED, GREEN = plots.BLUE, plots.GREY, plots.RED, plots.GREEN
#: the trial table in the report keeps the best this many (the CSV and JSON have every trial)
TABLE_ROWS = 500


def _axis_values(values: list[Any]) -> tuple[list[Any], dict[Any, int]]:
    uniq = sorted(set(values), key=lambda v: (not isinstance(v, int | float), v if isinstance(v, int | float)
                                              else str(v)))
    return uniq, {v: i for i, v in enumerate(uniq)}


def heatmap(rows: list[tuple[dict[str, Any], float]], a: str, b: str, label: str, maximize: bool) -> str:
    """The target over two parameters (the best value where other parameters vary too)."""
    xs, xi = _axis_values([p[a] for p, _ in rows])
    ys, yi = _axis_values([p[b] for p, _ in rows])
    grid = np.full((len(ys), len(xs)), np.nan)
    for p, v in rows:
        i, j = yi[p[b]], xi[p[a]]
        cur = grid[i, j]
        if math.isnan(cur) or (v > cur if maximize else v < cur):
            grid[i, j] = v
    fig, ax = plt.subplots(figsize=(9.5, max(2.6, min(7.0, 0.3 * len(ys) + 1.2))))
    im = ax.imshow(grid, cmap="RdYlGn" if maximize else "RdYlGn_r", aspect="auto", origin="lower")
    ax.set_xticks(range(len(xs)), [str(x) for x in xs], rotation=90 if len(xs) > 12 else 0)
    ax.set_yticks(range(len(ys)), [str(y) for y in ys])
    ax.set_xlabel(a)
    ax.set_ylabel(b)
    ax.grid(False)
    fig.colorbar(im, ax=ax, label=label)
    if len(xs) * len(ys) <= 300:
        for i in range(len(ys)):
            for j in range(len(xs)):
                if not math.isnan(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.2g}", ha="center", va="center", fontsize=6)
    return svg(fig)


def line(rows: list[tuple[dict[str, Any], float]], a: str, label: str) -> str:
    xs, xi = _axis_values([p[a] for p, _ in rows])
    best: dict[int, float] = {}
    for p, v in rows:
        best[xi[p[a]]] = max(best.get(xi[p[a]], -math.inf), v)
    fig, ax = plt.subplots(figsize=(9.5, 2.8))
    k = sorted(best)
    ax.plot(k, [best[i] for i in k], color=BLUE, marker="o", ms=3, lw=1.0)
    ax.set_xticks(k, [str(xs[i]) for i in k], rotation=90 if len(k) > 20 else 0)
    ax.set_xlabel(a)
    ax.set_ylabel(label)
    return svg(fig)


def parallel(rows: list[tuple[dict[str, Any], float]], names: list[str], label: str, maximize: bool) -> str:
    """Parallel coordinates: one line per trial across the parameters, coloured by the target."""
    cols = []
    ticks = []
    for n in names:
        vals, idx = _axis_values([p[n] for p, _ in rows])
        cols.append(np.array([idx[p[n]] / max(1, len(vals) - 1) for p, _ in rows]))
        ticks.append(vals)
    y = np.array([v for _, v in rows])
    order = np.argsort(y if maximize else -y, kind="stable")  # the best drawn last, on top
    fig, ax = plt.subplots(figsize=(9.5, 3.6))
    lo, hi = float(np.min(y)), float(np.max(y))
    cmap = plt.get_cmap("viridis" if maximize else "viridis_r")
    x = np.arange(len(names) + 1)
    for i in order[-2000:]:
        vals = [c[i] for c in cols] + [(y[i] - lo) / (hi - lo) if hi > lo else 0.5]
        ax.plot(x, vals, color=cmap((y[i] - lo) / (hi - lo) if hi > lo else 0.5), lw=0.7, alpha=0.6)
    ax.set_xticks(x, [*names, label])
    ax.set_yticks([])
    for j, vals in enumerate(ticks):
        for v in (vals[0], vals[-1]):
            ax.text(j, 0.0 if v == vals[0] else 1.0, f" {v}", fontsize=7, va="center")
    ax.text(len(names), 0.0, f" {lo:.3g}", fontsize=7, va="center")
    ax.text(len(names), 1.0, f" {hi:.3g}", fontsize=7, va="center")
    ax.grid(False)
    for j in x.tolist():
        ax.axvline(j, color=GREY, lw=0.6)
    return svg(fig)


def logit_histogram(logits: list[float], pbo: float) -> str:
    fig, ax = plt.subplots(figsize=(9.5, 2.6))
    lam = np.array(logits)
    lam = lam[np.isfinite(lam)]
    ax.hist(lam, bins=40, color=BLUE, alpha=0.8)
    ax.axvline(0, color=RED, lw=1, label=f"PBO = P[λ ≤ 0] = {pbo:.1%}")
    ax.set_xlabel("λ: logit of the in-sample best's out-of-sample rank")
    ax.legend(frameon=False)
    return svg(fig)


def degradation(is_sr: list[float], oos_sr: list[float]) -> str:
    fig, ax = plt.subplots(figsize=(9.5, 3.0))
    a, b = np.array(is_sr), np.array(oos_sr)
    ax.scatter(a, b, s=4, color=BLUE, alpha=0.4)
    if len(a) > 1 and np.ptp(a) > 0:
        k, c = np.polyfit(a, b, 1)
        xs = np.linspace(a.min(), a.max(), 2)
        ax.plot(xs, k * xs + c, color=RED, lw=1, label=f"OOS = {k:.2f}·IS + {c:.3f}")
        ax.legend(frameon=False)
    ax.axhline(0, color=GREY, lw=0.8)
    ax.set_xlabel("in-sample Sharpe (daily) of the selected trial")
    ax.set_ylabel("out-of-sample Sharpe")
    return svg(fig)


def sharpe_distribution(sharpes: list[float], best: float, sr0: float) -> str:
    fig, ax = plt.subplots(figsize=(9.5, 2.6))
    ax.hist(np.array(sharpes), bins=min(50, max(5, len(sharpes) // 4)), color=BLUE, alpha=0.8)
    ax.axvline(sr0, color=GREY, lw=1, ls="--", label=f"expected best of {len(sharpes)} by luck SR₀ = {sr0:.4f}")
    ax.axvline(best, color=RED, lw=1, label=f"best trial SR = {best:.4f}")
    ax.set_xlabel("daily Sharpe ratio of each trial")
    ax.legend(frameon=False)
    return svg(fig)


def oos_equity(times: list[int], equity: list[float], spans: list[tuple[int, int]]) -> str:
    fig, ax = plt.subplots(figsize=(9.5, 3.2))
    t = np.array(times, dtype=np.int64)
    e = np.array(equity)
    t1, e1 = plots.downsample(t, e)
    ax.plot(plots.to_dates(t1), e1, color=BLUE, lw=1.2, label="stitched out-of-sample equity")
    for k, (a, b) in enumerate(spans):
        d = plots.to_dates(np.array([a, b], dtype=np.int64))
        ax.axvspan(d[0], d[1], color=GREY if k % 2 else GREEN, alpha=0.08, lw=0)
    ax.set_ylabel("equity")
    ax.legend(loc="upper left", frameon=False)
    plots.time_axis(ax)
    return svg(fig)


def is_vs_oos(windows: list[Any], label: str) -> str:
    fig, ax = plt.subplots(figsize=(9.5, 2.6))
    k = np.arange(len(windows))
    ins = [w.in_sample if w.in_sample is not None else np.nan for w in windows]
    oos = [w.out_of_sample if w.out_of_sample is not None else np.nan for w in windows]
    ax.bar(k - 0.2, ins, width=0.4, color=BLUE, label="in sample (train)")
    ax.bar(k + 0.2, oos, width=0.4, color=GREEN, label="out of sample (test)")
    ax.axhline(0, color=GREY, lw=0.8)
    ax.set_xticks(k, [w.test_start[:7] for w in windows], rotation=90 if len(windows) > 16 else 0)
    ax.set_ylabel(label)
    ax.legend(frameon=False)
    return svg(fig)


def _num(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def build_report(store: TrialStore, space: Space, target: Target, analysis: Analysis,
                 summary: dict[str, Any]) -> str:
    settings = summary["settings"]
    phase = "train" if analysis.windows else "sweep"
    rows: list[tuple[dict[str, Any], float]] = []
    top: list[tuple[float, int, list[Any]]] = []
    names = space.names
    window = analysis.best.window if analysis.best is not None else -1
    for r in store.rows(window, phase):
        if r.feasible and r.target is not None:
            rows.append(({n: r.params.get(n) for n in names}, r.target))
        score = r.target if r.target is not None else -math.inf
        top.append((-score if target.maximize else score, r.idx,
                    [r.idx, *[r.params.get(n) for n in names], r.target if r.target is not None else "",
                     "yes" if r.feasible else "no", *[r.statistics.get(s, "") for s in
                                                      ("Net Profit", "Sharpe Ratio", "Drawdown", "Total Orders")]]))
    top.sort(key=lambda x: (x[0], x[1]))
    figures: list[tuple[str, str]] = []
    varying = [p.name for p in space.varying]
    scope = f" (window {window}'s training trials)" if analysis.windows else ""
    if rows and len(varying) == 2:
        figures.append((f"{target.statistic} by {varying[0]} and {varying[1]}{scope}",
                        heatmap(rows, varying[0], varying[1], target.statistic, target.maximize)))
    elif rows and len(varying) == 1:
        figures.append((f"{target.statistic} by {varying[0]}{scope}", line(rows, varying[0], target.statistic)))
    elif rows and len(varying) > 2:
        figures.append((f"Parallel coordinates: {target.statistic} over {len(varying)} parameters{scope}",
                        parallel(rows, varying, target.statistic, target.maximize)))
    if analysis.oos is not None:
        spans = []
        for w in analysis.windows:
            row = store.get(w.index, "test", 0)
            if row is not None and len(row.times):
                t, _ = row.daily()
                spans.append((int(t[0]), int(t[-1])))
        figures.append(("Walk-forward: stitched out-of-sample equity (shaded: test windows)",
                        oos_equity(analysis.oos.times, analysis.oos.equity, spans)))
        figures.append((f"Walk-forward: {target.statistic} in and out of sample per window",
                        is_vs_oos(analysis.windows, target.statistic)))
    d = analysis.deflated
    if d is not None and analysis.trial_sharpes:
        figures.append(("Deflated Sharpe: the best trial against the best luck would give",
                        sharpe_distribution(analysis.trial_sharpes, d.sharpe, d.expected_max_sharpe)))
    p = analysis.pbo
    if p is not None:
        figures.append((f"PBO by CSCV: {p.n_combinations} splits into {p.n_blocks} blocks",
                        logit_histogram(p.logits, p.pbo)))
        figures.append(("Performance degradation: in-sample against out-of-sample Sharpe of the selected trial",
                        degradation(p.is_sharpe, p.oos_sharpe)))
    guard = []
    if analysis.windows and (d is not None or p is not None):
        guard.append([f"(DSR and PBO below: window {window}'s training trials, which chose the parameters to trade "
                      "next)", ""])
    if d is not None:
        guard += [["Deflated Sharpe Ratio (probability the best trial's Sharpe beats luck)", _num(d.dsr)],
                  ["best trial's daily Sharpe", _num(d.sharpe)],
                  [f"expected maximum daily Sharpe of {d.n_trials} skill-less trials (SR₀)",
                   _num(d.expected_max_sharpe)],
                  ["variance of trial Sharpe ratios", _num(d.sharpe_variance)],
                  ["observations, skewness, kurtosis", f"{d.n_obs}, {d.skewness:.3f}, {d.kurtosis:.3f}"]]
    if p is not None:
        guard += [["Probability of backtest overfitting (CSCV)", _num(p.pbo)],
                  ["P[selected trial loses out of sample]", _num(p.prob_loss)]]
    wf = summary.get("walk_forward")
    if wf and wf.get("mean_pbo") is not None:
        guard.append(["mean PBO over the walk-forward windows", _num(wf["mean_pbo"])])
    best = summary.get("best")
    best_html = "<p>No trial satisfied the target and constraints.</p>"
    if best is not None:
        stats = "".join(f'<div><span>{html.escape(k)}</span><b>{html.escape(v)}</b></div>'
                        for k, v in best["statistics"].items())
        params = ", ".join(f"{k}={v}" for k, v in best["params"].items())
        best_html = (f"<p>Trial {best['trial']}{' of window ' + str(best['window']) if analysis.windows else ''}: "
                     f"<b>{html.escape(params)}</b> — {html.escape(target.statistic)} {_num(best['target'])}"
                     f" · full result: <a href=\"best/report.html\">best/</a></p>"
                     f'<div class="stats" id="statistics">{stats}</div>')
    wf_html = ""
    if analysis.windows:
        wrows = [[w.index, w.train_start, w.train_end, w.test_start, w.test_end, w.trials,
                  ", ".join(f"{k}={v}" for k, v in (w.best_params or {}).items()) or "—",
                  _num(w.in_sample), _num(w.out_of_sample), _num(w.pbo)] for w in analysis.windows]
        oos = wf.get("out_of_sample", {}) if wf else {}
        oos_line = (f"<p>Stitched out of sample: net profit {oos['net_profit']:.2%}, CAGR "
                    f"{oos['compounding_annual_return']:.2%}, Sharpe {oos['sharpe_ratio']:.3f}, drawdown "
                    f"{oos['drawdown']:.2%}</p>") if oos else ""
        wf_html = (f"<section><h2>Walk-forward windows</h2>{oos_line}"
                   + _table("windows", ["#", "train from", "train to", "test from", "test to", "trials",
                                        "chosen parameters", "in sample", "out of sample", "PBO"],
                            wrows, {5, 7, 8, 9}, paged=False) + "</section>")
    trial_rows = [x[2] for x in top[:TABLE_ROWS]]
    trial_table = _table("trials", ["trial", *names, target.statistic, "feasible", "Net Profit", "Sharpe",
                                    "Drawdown", "orders"], trial_rows, set(range(1, len(names) + 2)))
    sections = "".join(f'<section class="plot"><h2>{html.escape(t)}</h2>{s}</section>' for t, s in figures)
    set_rows = [[k, str(v)] for k, v in settings.items()]
    title = html.escape(Path(str(settings.get("strategy", "strategy"))).stem)
    constraint_text = ", ".join(settings.get("constraints") or []) or "none"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} — leand optimization report</title><style>{CSS}</style></head>
<body><header><h1>{title}: {html.escape(settings['search'])} search, {summary['trials']} trials</h1>
<p>target {html.escape(target.statistic)} ({'max' if target.maximize else 'min'}imized) · constraints
 {html.escape(constraint_text)} · seed {settings['seed']}
 {(' · walk-forward ' + html.escape(str(settings['walk_forward']))) if settings.get('walk_forward') else ''}</p>
</header><main>
<section id="best"><h2>Best trial</h2>{best_html}</section>
<section id="overfitting"><h2>Overfitting guards</h2>{_table("guards", ["measure", "value"], guard, {1}, paged=False)}
</section>
{wf_html}
{sections}
<section><h2>Trials (best {min(len(top), TABLE_ROWS)} of {len(top)}{scope}; every trial is in trials.csv)</h2>
{trial_table}</section>
<section><h2>Settings</h2>{_table("settings", ["setting", "value"], set_rows, paged=False)}</section>
</main><script>{JS}</script></body></html>
"""


def write_report(out: Path, store: TrialStore, space: Space, target: Target, analysis: Analysis,
                 summary: dict[str, Any]) -> Path:
    path = Path(out) / "report.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(build_report(store, space, target, analysis, summary))
    tmp.replace(path)
    return path
