"""leand optimize end to end: trials equal standalone backtests, seeded searches reproduce, walk-forward runs the
chosen parameters out of sample, a SIGKILLed sweep resumes without redoing or losing a trial, and the Ray
backend gives the local backend's table."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leand.bundled import STRATEGIES
from leand.optimize.run import optimize
from leand.optimize.sweep import OptimizeConfig

SMA = str(STRATEGIES / "sma_crossover.py")
ROOT = Path(__file__).resolve().parents[2]


def leand(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "leand.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def cfg(out: Path, **kw) -> OptimizeConfig:
    base = {"strategy": SMA, "params": ["fast=5:10:5", "slow=20:30:10"], "start": _d("2010-01-01"),
            "end": _d("2011-06-30"), "out": str(out), "workers": 2, "report": False}
    return OptimizeConfig(**{**base, **kw})


def _d(text: str):
    from datetime import date

    return date.fromisoformat(text)


def test_grid_trials_equal_standalone_backtests(tmp_path: Path) -> None:
    out = tmp_path / "opt"
    p = leand("optimize", SMA, "--param", "fast=5:10:5", "--param", "slow=20:30:10", "--start", "2010-01-01",
              "--end", "2011-06-30", "--workers", "2", "--out", str(out), "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["trials"] == 4
    trials = json.loads((out / "trials.json").read_text())
    assert [(t["trial"], t["params"]) for t in trials] == [
        (0, {"fast": 5, "slow": 20}), (1, {"fast": 5, "slow": 30}), (2, {"fast": 10, "slow": 20}),
        (3, {"fast": 10, "slow": 30})]
    procs = [subprocess.Popen([sys.executable, "-m", "leand.cli", "backtest", SMA, "--param", f"fast={t['params']['fast']}",
                               "--param", f"slow={t['params']['slow']}", "--start", "2010-01-01", "--end", "2011-06-30",
                               "--out", str(tmp_path / f"bt{t['trial']}"), "--json"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
             for t in trials]
    for t, proc in zip(trials, procs):
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        assert json.loads(stdout) == t["statistics"], t["params"]
        values = json.loads((tmp_path / f"bt{t['trial']}" / "statistics.json").read_text())["values"]
        assert values == t["values"]
    best = summary["best"]
    assert best["target"] == max(t["target"] for t in trials)
    best_stats = json.loads((out / "best" / "statistics.json").read_text())["statistics"]
    assert best_stats == best["statistics"]
    meta = json.loads((out / "best" / "meta.json").read_text())
    assert meta["parameters"]["fast"] == best["params"]["fast"]
    assert 0.0 <= summary["deflated_sharpe"]["dsr"] <= 1.0 and 0.0 <= summary["pbo"]["pbo"] <= 1.0
    csv_lines = (out / "trials.csv").read_text().splitlines()
    assert csv_lines[0].startswith("trial,fast,slow,ok,feasible,target,error,Total Orders")
    assert len(csv_lines) == 5


def test_random_and_bayes_with_a_seed_reproduce(tmp_path: Path) -> None:
    space = ["fast=5:30:5", "slow=20:80:10"]
    for search, n in (("random", 6), ("bayes", 10)):
        a = optimize(cfg(tmp_path / f"{search}-a", params=space, search=search, trials=n, seed=7, workers=1))
        b = optimize(cfg(tmp_path / f"{search}-b", params=space, search=search, trials=n, seed=7, workers=2))
        c = optimize(cfg(tmp_path / f"{search}-c", params=space, search=search, trials=n, seed=8, workers=2))
        ta, tb, tc = ((Path(r.out) / "trials.csv").read_text() for r in (a, b, c))
        assert ta == tb, search
        assert (Path(a.out) / "trials.json").read_bytes() == (Path(b.out) / "trials.json").read_bytes()
        assert ta != tc, search
        assert len(ta.splitlines()) == n + 1
        assert a.summary["best"] == b.summary["best"]


def test_bayes_with_a_constraint_picks_a_feasible_best(tmp_path: Path) -> None:
    r = optimize(cfg(tmp_path / "o", params=["fast=5:30:5", "slow=20:80:10"], search="bayes", trials=12,
                     constraints=["total_orders>=4"], target="net_profit"))
    trials = json.loads((Path(r.out) / "trials.json").read_text())
    best = r.summary["best"]
    assert best is not None and int(best["statistics"]["Total Orders"]) >= 4
    feasible = [t for t in trials if t["feasible"]]
    assert all(t["values"]["Total Orders"] >= 4 for t in feasible)
    assert best["target"] == max(t["target"] for t in feasible)


def test_walk_forward_runs_each_choice_on_its_test_window(tmp_path: Path) -> None:
    out = tmp_path / "wf"
    r = optimize(cfg(out, start=_d("2008-01-01"), end=_d("2010-03-31"), walk_forward="train=1y,test=6m",
                     report=True))
    wins = r.summary["walk_forward"]["windows"]
    assert [(w["train_start"], w["test_start"], w["test_end"]) for w in wins] == [
        ("2008-01-01", "2009-01-01", "2009-06-30"), ("2008-07-01", "2009-07-01", "2009-12-31"),
        ("2009-01-01", "2010-01-01", "2010-03-31")]
    trials = json.loads((out / "trials.json").read_text())
    assert sum(t["phase"] == "train" for t in trials) == 3 * 4
    tests = [t for t in trials if t["phase"] == "test"]
    assert len(tests) == 3
    from leand.backtest.runner import run_backtest

    for w, t in zip(wins, tests):
        assert t["params"] == w["best_params"]
        _, res = run_backtest(Path(SMA), parameters=dict(t["params"]), start=_d(w["test_start"]),
                              end=_d(w["test_end"]))
        assert res.statistics == t["statistics"]
    oos = (out / "oos_equity.csv").read_text().splitlines()
    assert oos[0] == "time,equity" and len(oos) > 300
    times = [line.split(",")[0] for line in oos[1:]]
    assert times == sorted(times) and len(set(times)) == len(times)
    html = (out / "report.html").read_text()
    assert "Walk-forward windows" in html and "<svg" in html and "Overfitting guards" in html
    assert (out / "best" / "report.html").is_file()


def test_heatmap_and_parallel_coordinates_in_the_report(tmp_path: Path) -> None:
    r = optimize(cfg(tmp_path / "two", report=True))
    html = (Path(r.out) / "report.html").read_text()
    assert "Sharpe Ratio by fast and slow" in html and "Deflated Sharpe Ratio" in html
    assert "Probability of backtest overfitting" in html
    r3 = optimize(cfg(tmp_path / "three", params=["fast=5:10:5", "slow=20:30:10", "mode=a,b"], report=True))
    assert "Parallel coordinates" in (Path(r3.out) / "report.html").read_text()


def _rows(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT window, phase, idx, params, seconds FROM trials ORDER BY idx").fetchall()
    finally:
        con.close()


def test_resume_after_sigkill_redoes_nothing_and_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "opt"
    args = [sys.executable, "-m", "leand.cli", "optimize", SMA, "--param", "fast=2:40:2", "--param",
            "slow=20:40:10", "--start", "2010-01-01", "--end", "2011-06-30", "--workers", "1", "--out", str(out),
            "--no-report"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    db = out / "trials.sqlite"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            if db.exists():
                try:
                    if len(_rows(db)) >= 5:
                        break
                except sqlite3.OperationalError:
                    pass
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes, mid-sweep
        proc.wait()
    before = _rows(db)
    assert 5 <= len(before) < 60, len(before)
    p = leand(*args[3:], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "(resumed)" in p.stdout
    after = _rows(db)
    assert [r[2] for r in after] == list(range(60))  # none missing, none twice
    assert after[:len(before)] == before or set(before) <= set(after)  # finished trials kept as they were
    fresh = leand(*args[3:-3], "--out", str(tmp_path / "fresh"), "--no-report", cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    assert (tmp_path / "fresh" / "trials.csv").read_text() == (out / "trials.csv").read_text()


def test_bad_input_is_one_clear_error(tmp_path: Path) -> None:
    p = leand("optimize", SMA, "--param", "fast=9:1", cwd=tmp_path)
    assert p.returncode == 2 and "leand optimize: error: --param fast=9:1: HI is below LO" in p.stderr
    p = leand("optimize", SMA, "--param", "fast=5:10:5", "--target", "luck", cwd=tmp_path)
    assert p.returncode == 2 and "unknown statistic 'luck'" in p.stderr
    p = leand("optimize", SMA, "--param", "fast=5:10:5", "--trials", "3", cwd=tmp_path)
    assert p.returncode == 2 and "--trials is for --search random or bayes" in p.stderr
    p = leand("optimize", SMA, "--param", "fast=5,x", cwd=tmp_path)  # fast's default is an int
    assert p.returncode == 2 and "--param fast=x: expected an integer like the default 10" in p.stderr
    p = leand("optimize", str(tmp_path / "nope.py"), "--param", "fast=5", cwd=tmp_path)
    assert p.returncode == 2 and "strategy file not found" in p.stderr
    first = cfg(tmp_path / "o")
    optimize(first)
    from leand.optimize.store import StoreError

    with pytest.raises(StoreError, match="other settings"):
        optimize(cfg(tmp_path / "o", seed=5))


def test_ray_backend_gives_the_local_table(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="ray is not installed here (pip install 'leand[ray]')")
    local = optimize(cfg(tmp_path / "local"))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = optimize(cfg(tmp_path / "ray", backend="ray"))
    finally:
        ray.shutdown()
    assert (Path(remote.out) / "trials.csv").read_text() == (Path(local.out) / "trials.csv").read_text()
    assert remote.summary["best"] == local.summary["best"]


FLAKY = '''
from leand import Resolution, Strategy


class Picky(Strategy):
    parameters = {"fast": 10, "slow": 30}

    def initialize(self) -> None:
        self.set_start_date(2010, 1, 1)
        self.set_end_date(2010, 6, 30)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
        if self.get_parameter("fast") == 10:
            raise ValueError("fast=10 is not allowed")
        self.fast = self.sma(self.spy, self.get_parameter("fast"))

    def on_data(self, data) -> None:
        if self.fast.is_ready and not self.portfolio.invested:
            self.set_holdings(self.spy, 1.0)
'''


def test_a_failing_trial_is_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    strategy = tmp_path / "picky.py"
    strategy.write_text(FLAKY)
    r = optimize(OptimizeConfig(strategy=str(strategy), params=["fast=5:15:5"], out=str(tmp_path / "o"),
                                workers=2, report=False))
    trials = json.loads((tmp_path / "o" / "trials.json").read_text())
    assert [t["ok"] for t in trials] == [True, False, True]
    assert "picky.py:13 in initialize: ValueError: fast=10 is not allowed" in trials[1]["error"]
    assert r.summary["best"]["params"]["fast"] in (5, 15)


def test_progress_line_shows_done_best_and_eta(capsys: pytest.CaptureFixture[str]) -> None:
    from leand.optimize.sweep import Progress
    from leand.optimize.targets import Target

    bar = Progress(4, Target.parse("sharpe"), enabled=True)
    bar.skip(1)
    bar.update(0.5, {"fast": 5})
    bar.update(0.7, {"fast": 10})
    bar.update(None, {"fast": 15})
    line = capsys.readouterr().err.split("\r")[-1]
    assert "4/4 trials" in line and "best sharpe 0.7 (fast=10)" in line and "ETA 0:00" in line


def test_ctrl_c_stops_cleanly_and_the_same_command_resumes(tmp_path: Path) -> None:
    out = tmp_path / "opt"
    args = ["optimize", SMA, "--param", "fast=2:40:2", "--param", "slow=20:30:10", "--start", "2010-01-01",
            "--end", "2010-12-31", "--workers", "2", "--out", str(out), "--no-report"]
    proc = subprocess.Popen([sys.executable, "-m", "leand.cli", *args], cwd=tmp_path, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    db = out / "trials.sqlite"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if db.exists() and len(_rows(db)) >= 3:
                break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground process group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted; finished trials are kept" in err and "Traceback" not in err
    n = len(_rows(db))
    assert 3 <= n < 40
    p = leand(*args, cwd=tmp_path)
    assert p.returncode == 0 and "(resumed)" in p.stdout, p.stderr
    assert [r[2] for r in _rows(db)] == list(range(40))


def test_bayes_resume_replays_the_sampler_and_ends_with_the_uninterrupted_table(tmp_path: Path) -> None:
    space = ["fast=5:30:5", "slow=20:80:10"]
    whole = optimize(cfg(tmp_path / "whole", params=space, search="bayes", trials=12, seed=11))
    cut = cfg(tmp_path / "cut", params=space, search="bayes", trials=12, seed=11)
    optimize(cut)
    con = sqlite3.connect(tmp_path / "cut" / "trials.sqlite")
    con.execute("DELETE FROM trials WHERE idx IN (3, 9, 10, 11)")  # as if killed with these unfinished
    con.commit()
    con.close()
    again = optimize(cut)
    assert again.resumed
    assert (tmp_path / "cut" / "trials.csv").read_text() == (Path(whole.out) / "trials.csv").read_text()


def test_a_worker_reads_the_data_once_for_all_its_trials() -> None:
    from leand.bundled import SAMPLE_DATA
    from leand.optimize.worker import RunSpec, Task, TrialRunner

    runner = TrialRunner(RunSpec(strategy_path=SMA, class_name=None, data_dir=str(SAMPLE_DATA), cash=None, fixed={}))
    first = runner.run(Task(-1, "sweep", 0, {"fast": 5, "slow": 20}, _d("2010-01-01"), _d("2010-12-31")))
    misses = runner.source.misses
    assert first.ok and misses > 0
    second = runner.run(Task(-1, "sweep", 1, {"fast": 10, "slow": 30}, _d("2010-01-01"), _d("2010-12-31")))
    assert second.ok and runner.source.misses == misses and runner.source.hits >= misses
