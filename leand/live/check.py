"""``leand run --check``: everything that can be known wrong about a config without trading, one line each."""

from __future__ import annotations

from pathlib import Path

from leand.backtest.runner import load_strategy_class
from leand.live.config import DaemonConfig
from leand.tracebacks import one_line


def check_config(cfg: DaemonConfig) -> list[str]:
    """Load every enabled strategy's file and class and build an instance; return one line per problem.

    ``initialize`` is not called: it subscribes to data and may touch the venue, which a check must not do.
    """
    problems: list[str] = []
    seen: set[str] = set()
    for sc in cfg.strategies:
        if sc.id in seen:
            problems.append(f"strategy id {sc.id!r} is used twice")
        seen.add(sc.id)
        if not sc.enabled:
            continue
        path = Path(sc.file)
        if not path.is_file():
            problems.append(f"strategy {sc.id!r}: file not found: {path}")
            continue
        try:
            cls = load_strategy_class(path, sc.class_name)
            cls()
        except Exception as e:
            cause = e.__cause__ if e.__cause__ is not None else e
            problems.append(f"strategy {sc.id!r}: {one_line(cause, path)}")
    for v in cfg.venues:  # each venue is an account: the fractions of the strategies on it
        fractions = []
        for sc in cfg.strategies:
            if sc.enabled and (not sc.venues or v.name in sc.venues):
                raw = sc.allocations.get(v.name, sc.allocation)
                if isinstance(raw, (int, float)):
                    fractions.append((sc.id, float(raw)))
        if sum(f for _, f in fractions) > 1 + 1e-12:
            parts = ", ".join(f"{sid} {f:g}" for sid, f in fractions)
            problems.append(f"allocations of account {v.name!r} add up to more than all of it ({parts})")
    data = cfg.data_path
    if not (data / "symbol-properties" / "symbol-properties-database.csv").is_file():
        problems.append(f"data folder {data} has no symbol-properties/symbol-properties-database.csv")
    return problems
