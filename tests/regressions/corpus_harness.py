"""Run the ports of LEAN's regression corpus (tests/regressions/corpus/, from ../shared/regressions/lean-corpus)
and compare them with LEAN's expected statistics (corpus.json, copied verbatim).

Each algorithm runs on the repository's data/lean when every file it reads is there, else on the shared LEAN
data folder if present (a few large files are not copied into the repository), else it is skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
CORPUS_DIR = HERE / "corpus"
REPO_DATA = HERE.parents[1] / "data" / "lean"
SHARED_DATA = Path(os.environ.get("LEAND_SHARED_LEAN_DATA", "/work/shared/data/lean"))
CORPUS: dict[str, dict[str, Any]] = {a["name"]: a for a in json.loads((HERE / "corpus.json").read_text())["algorithms"]}
#: the ``parameters`` of LEAN's Launcher/config.json, which LEAN's regression runs pass to every algorithm (as
#: strings): ParameterizedAlgorithm's expected statistics are those of EMA(10)/EMA(20), not of its defaults
LEAN_CONFIG_PARAMETERS = {"intrinio-username": "", "intrinio-password": "", "ema-fast": "10", "ema-slow": "20"}


def num(text: str) -> float:
    return float(text.replace("%", "").replace("$", "").replace(",", ""))


def data_dir_for(name: str) -> Path | None:
    """The data folder holding every file ``name`` reads, or None when neither has them all."""
    files = [f.removeprefix("Data/") for f in CORPUS[name]["data_files"]]
    for root in (REPO_DATA, SHARED_DATA):
        if all((root / f).is_file() for f in files):
            return root
    return None


def strategy_path(name: str) -> Path:
    return CORPUS_DIR / Path(CORPUS[name]["python_file"]).name


def run(name: str) -> tuple[Any, dict[str, str]]:
    """Run one port; returns ``(engine, statistics)``."""
    import sys

    from leand.backtest.runner import run_backtest

    for p in (CORPUS_DIR, CORPUS_DIR / "Algorithm.Framework"):  # LEAN's framework modules and AlgorithmImports
        if str(p) not in sys.path:
            sys.path.append(str(p))
    data = data_dir_for(name)
    if data is None:
        raise FileNotFoundError(f"{name}: LEAN data not available")
    engine, result = run_backtest(strategy_path(name), data_dir=data, class_name=name,
                                  parameters=dict(LEAN_CONFIG_PARAMETERS))
    return engine, result.statistics


def matches(name: str, got: dict[str, str]) -> tuple[bool, bool]:
    """(Total Orders exact, End Equity within 0.01 %)."""
    exp = CORPUS[name]["expected_statistics"]
    orders = got.get("Total Orders") == exp["Total Orders"]
    e, g = num(exp["End Equity"]), num(got.get("End Equity", "nan"))
    return orders, abs(g - e) <= 1e-4 * abs(e)
