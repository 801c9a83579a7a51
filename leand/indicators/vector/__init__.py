"""Vectorized twins of the streaming indicators, for research over whole numpy arrays.

Each function returns, for every input row, the value the streaming indicator's ``.value`` holds after
that row's update (warm-up rows included; readiness is the streaming ``warm_up_period``), so a notebook
and a live strategy see the same numbers. Recursive filters run in C through ``scipy.signal.lfilter``;
the few inherently path-dependent indicators (Parabolic SAR, KAMA's adaptive constant...) run a tight
loop over the arrays, which is still far cheaper than per-object streaming updates."""

from leand.indicators.vector._core import (
    atr,
    bollinger,
    ema,
    macd,
    rolling_max,
    rolling_min,
    rolling_sum,
    rsi,
    sma,
    std,
    true_range,
    wilder,
)

__all__ = ["all_twins", "atr", "bollinger", "ema", "macd", "rolling_max", "rolling_min", "rolling_sum", "rsi", "sma",
           "std", "true_range", "wilder"]


def all_twins() -> list:
    """Every (streaming, vectorized) pair, for the shared property tests."""
    import importlib

    out = []
    for mod in ("_core", "_averages", "_oscillators", "_trend"):
        try:
            m = importlib.import_module(f"leand.indicators.vector.{mod}")
        except ModuleNotFoundError:
            continue
        out.extend(m.TWINS)
    return out
