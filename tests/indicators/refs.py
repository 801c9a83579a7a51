"""Load LEAN's indicator reference files (copied into ``data/indicator-refs/``, see data/NOTICE).

Each file holds input bars and indicator output columns; empty or NaN cells mean "not ready"."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

REFS = Path(__file__).resolve().parents[2] / "data" / "indicator-refs"


class Bar(msgspec.Struct):
    end_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


def _num(s: str) -> float:
    s = s.strip().replace(",", "")
    if not s or s.lower() in ("nan", "none", "null"):
        return math.nan
    try:
        return float(s)
    except ValueError:
        return math.nan


def load(name: str, symbol: str | None = None) -> dict[str, Any]:
    """Columns of reference file ``name`` keyed by stripped, lower-cased header; numbers as float arrays
    (NaN where empty), the first column also kept raw under ``"_raw0"``. ``symbol`` filters files that
    hold several symbols (a ``Symbol`` column)."""
    with open(REFS / name, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header = [h.strip().lower() for h in rows[0]]
    body = [r for r in rows[1:] if r and any(c.strip() for c in r)]
    if symbol is not None and "symbol" in header:
        i = header.index("symbol")
        body = [r for r in body if r[i].strip().upper() == symbol.upper()]
    cols: dict[str, Any] = {"_raw0": [r[0] for r in body]}
    for j, h in enumerate(header):
        cols[h] = np.array([_num(r[j]) if j < len(r) else math.nan for r in body])
    return cols


def bars(cols: dict[str, Any]) -> list[Bar]:
    """Bars from a loaded file's open/high/low/close/volume columns (a missing OHLV column takes close);
    ``end_time`` is the row index (the files' date formats vary; only order matters to an indicator)."""
    c = cols["close"]
    o = cols.get("open", c)
    h = cols.get("high", c)
    lo = cols.get("low", c)
    v = cols.get("volume", np.zeros(len(c)))
    return [Bar(i, float(o[i]), float(h[i]), float(lo[i]), float(c[i]), float(v[i])) for i in range(len(c))]


def assert_close(got: list[float] | np.ndarray, want: np.ndarray, rel: float = 1e-6, abs_: float = 0.0,
                 *, ready: list[bool] | None = None, label: str = "", min_checked: int = 10) -> int:
    """Compare ``got`` to every non-NaN reference value (optionally only where ``ready`` is true).
    Returns how many values were compared; fails naming the first row that differs."""
    n = 0
    for i, w in enumerate(want):
        if math.isnan(w) or (ready is not None and not ready[i]):
            continue
        g = got[i]
        tol = max(rel * abs(w), abs_)
        assert abs(g - w) <= tol, f"{label} row {i}: got {g!r}, reference {w!r} (tolerance {tol:g})"
        n += 1
    assert n >= min_checked, f"{label}: only {n} reference values compared"
    return n
