"""``leand optimize``: argument parsing lives in leand/cli.py; this runs the sweep and prints its outcome."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    o = sub.add_parser(
        "optimize", help="parameter sweeps and walk-forward over a strategy file",
        description="Run STRATEGY.py once per parameter set (grid, seeded random or Optuna TPE search) on all "
                    "cores or a Ray cluster; trials stream into OUT/trials.sqlite (re-run the same command to "
                    "resume), then OUT gets trials.csv/json, summary.json, report.html and best/.")
    o.add_argument("strategy", type=Path, help="the strategy file (parameters read with get_parameter)")
    o.add_argument("--param", action="append", default=[], metavar="NAME=SPEC",
                   help="LO:HI[:STEP] (inclusive range), A,B,… (choices) or one value; repeatable")
    o.add_argument("--search", default="grid", choices=["grid", "random", "bayes"])
    o.add_argument("--trials", type=int, default=None, help="trials for random and bayes (default 100)")
    o.add_argument("--target", default="sharpe",
                   help="statistic to optimize: sharpe, sortino, net_profit, cagr, drawdown, psr, … "
                        "or any LEAN statistic in snake case (default sharpe)")
    o.add_argument("--constraint", action="append", default=[], metavar="EXPR",
                   help='e.g. "drawdown<0.2" or "total_orders>=10"; repeatable')
    o.add_argument("--backend", default="local", choices=["local", "ray"])
    o.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    o.add_argument("--address", default=None, help="Ray cluster address (ray://host:10001 or auto)")
    o.add_argument("--out", type=Path, default=None, help="results folder (default results/<strategy>-optimize)")
    o.add_argument("--json", action="store_true", help="print the summary as JSON")
    o.add_argument("--walk-forward", dest="walk_forward", default=None, metavar="train=2y,test=6m[,step=6m]",
                   help="optimize on each training window and run the choice on the test window after it")
    o.add_argument("--seed", type=int, default=0, help="seed for random and bayes (default 0)")
    o.add_argument("--data", type=Path, default=None, help="LEAN Data/ folder (default: shipped sample data)")
    o.add_argument("--catalog", type=Path, default=None,
                   help="data catalogue read before --data (default: as leand backtest)")
    o.add_argument("--start", type=_date, default=None, help="start date, overrides the strategy's")
    o.add_argument("--end", type=_date, default=None, help="end date, overrides the strategy's")
    o.add_argument("--cash", type=float, default=None, help="starting cash")
    o.add_argument("--class", dest="class_name", default=None, help="the Strategy class, if the file has several")
    o.add_argument("--no-report", dest="report", action="store_false", help="skip report.html")


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_optimize(args: argparse.Namespace) -> int:
    from leand.optimize.run import USER_ERRORS, optimize
    from leand.optimize.sweep import OptimizeConfig

    if args.workers is not None and args.workers < 1:
        print("leand optimize: error: --workers must be at least 1", file=sys.stderr)
        return 2
    cfg = OptimizeConfig(
        strategy=str(args.strategy), params=args.param, search=args.search, trials=args.trials,
        target=args.target, constraints=args.constraint, backend=args.backend, workers=args.workers,
        address=args.address, out=str(args.out) if args.out else None, walk_forward=args.walk_forward,
        seed=args.seed, data=str(args.data) if args.data else None, start=args.start, end=args.end,
        cash=args.cash, class_name=args.class_name, catalog=str(args.catalog) if args.catalog else None,
        report=args.report)
    try:
        res = optimize(cfg)
    except USER_ERRORS as e:
        print(f"leand optimize: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nleand optimize: interrupted; finished trials are kept: run the same command to resume",
              file=sys.stderr)
        return 130
    s = res.summary
    if args.json:
        import orjson

        sys.stdout.write(orjson.dumps(s, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    print(format_summary(s, res.resumed))
    print(f"\nresults: {res.out}")
    return 0


def format_summary(s: dict, resumed: bool) -> str:
    lines = [f"{s['trials']} trials{' (resumed)' if resumed else ''}, target {s['target']}"]
    best = s.get("best")
    if best is None:
        lines.append("no trial satisfied the target and constraints")
    else:
        params = ", ".join(f"{k}={v}" for k, v in best["params"].items())
        where = f" (window {best['window']})" if best["window"] >= 0 else ""
        lines.append(f"best: {params}{where}  {s['target']} {best['target']:.6g}")
        for k in ("Net Profit", "Sharpe Ratio", "Drawdown", "Total Orders"):
            if k in best["statistics"]:
                lines.append(f"  {k:<16} {best['statistics'][k]:>12}")
    d = s.get("deflated_sharpe")
    if (d or s.get("pbo")) and best is not None and best["window"] >= 0:
        lines.append(f"overfitting guards of window {best['window']}'s training trials:")
    if d:
        lines.append(f"deflated Sharpe ratio: {d['dsr']:.4f}  (SR {d['sharpe']:.4f} vs SR0 {d['expected_max_sharpe']:.4f}"
                     f" expected from {d['n_trials']} trials by luck)")
    p = s.get("pbo")
    if p:
        lines.append(f"probability of backtest overfitting (CSCV, {p['blocks']} blocks): {p['pbo']:.3f}")
    wf = s.get("walk_forward")
    if wf:
        for w in wf["windows"]:
            params = ", ".join(f"{k}={v}" for k, v in (w["best_params"] or {}).items()) or "none feasible"
            ins = "—" if w["in_sample"] is None else f"{w['in_sample']:.4g}"
            oos = "—" if w["out_of_sample"] is None else f"{w['out_of_sample']:.4g}"
            lines.append(f"  window {w['index']}: train {w['train_start']}..{w['train_end']} test "
                         f"{w['test_start']}..{w['test_end']}  {params}  IS {ins}  OOS {oos}")
        if wf.get("mean_pbo") is not None:
            lines.append(f"mean PBO over the windows: {wf['mean_pbo']:.3f}")
        o = wf.get("out_of_sample")
        if o:
            lines.append(f"out of sample (stitched): net profit {o['net_profit']:.2%}, Sharpe {o['sharpe_ratio']:.3f},"
                         f" drawdown {o['drawdown']:.2%}")
    return "\n".join(lines)
