"""The report's figures, drawn with matplotlib (Agg) as inline SVG. Series are downsampled first so a
10-year daily run and a one-day tick run both draw in well under a second per figure."""

from __future__ import annotations

import io
import math
import re
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np

plt.rcParams.update({
    "svg.hashsalt": "leand", "svg.fonttype": "none", "path.simplify": True, "path.simplify_threshold": 0.5,
    "font.size": 9, "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
    "figure.dpi": 100,
})
MAX_POINTS = 2000
BLUE, GREY, RED, GREEN = "#1f5fa8", "#8a8f98", "#c0392b", "#2e8b57"


def _dates(t_ns: np.ndarray) -> np.ndarray:
    return np.array([datetime.fromtimestamp(t / 1e9, UTC).replace(tzinfo=None) for t in t_ns])


def downsample(t: np.ndarray, *ys: np.ndarray, n: int = MAX_POINTS):
    if len(t) <= n:
        return (t, *ys)
    idx = np.unique(np.linspace(0, len(t) - 1, n).astype(int))
    return (t[idx], *(y[idx] for y in ys))


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r"\s+<metadata>.*?</metadata>", "", text, flags=re.S)


def _fig(h: float = 2.6):
    return plt.subplots(figsize=(9.5, h))


def _time_axis(ax) -> None:
    loc = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=GREY)
    ax.set_xticks([])
    ax.set_yticks([])


def equity(t: np.ndarray, eq: np.ndarray, bt: np.ndarray, bench: np.ndarray, bench_name: str) -> str:
    fig, ax = _fig(3.2)
    t1, e1 = downsample(t, eq)
    ax.plot(_dates(t1), e1, color=BLUE, lw=1.2, label="strategy")
    if len(bench) and np.any(bench > 0):
        first = bench[np.argmax(bench > 0)]
        norm = np.where(bench > 0, bench / first * eq[0], np.nan)
        t2, b2 = downsample(bt, norm)
        ax.plot(_dates(t2), b2, color=GREY, lw=1.0, label=f"buy and hold {bench_name}")
    ax.set_ylabel("equity")
    ax.legend(loc="upper left", frameon=False)
    _time_axis(ax)
    return _svg(fig)


def drawdown(t: np.ndarray, eq: np.ndarray) -> str:
    fig, ax = _fig()
    peak = np.maximum.accumulate(eq)
    dd = np.where(peak > 0, eq / peak - 1, 0.0) * 100
    t1, d1 = downsample(t, dd)
    ax.fill_between(_dates(t1), d1, 0, color=RED, alpha=0.35, lw=0)
    ax.plot(_dates(t1), d1, color=RED, lw=0.8)
    ax.set_ylabel("drawdown %")
    _time_axis(ax)
    return _svg(fig)


def monthly_heatmap(months: dict[tuple[int, int], float]) -> str:
    fig, ax = _fig(max(1.6, 0.32 * (len({y for y, _ in months}) + 2)))
    if not months:
        _empty(ax, "no complete month")
        return _svg(fig)
    years = sorted({y for y, _ in months})
    grid = np.full((len(years), 12), np.nan)
    for (y, m), r in months.items():
        grid[years.index(y), m - 1] = r * 100
    lim = max(1e-9, np.nanmax(np.abs(grid)))
    ax.imshow(grid, cmap="RdYlGn", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(12), ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])
    ax.set_yticks(range(len(years)), [str(y) for y in years])
    ax.grid(False)
    for i in range(len(years)):
        for j in range(12):
            if not math.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.1f}", ha="center", va="center", fontsize=7)
    return _svg(fig)


def annual_returns(years: dict[int, float]) -> str:
    fig, ax = _fig()
    if not years:
        _empty(ax, "no data")
        return _svg(fig)
    ys = sorted(years)
    vals = [years[y] * 100 for y in ys]
    ax.bar([str(y) for y in ys], vals, color=[GREEN if v >= 0 else RED for v in vals])
    ax.axhline(0, color=GREY, lw=0.8)
    ax.set_ylabel("return %")
    return _svg(fig)


def rolling(t: np.ndarray, values: np.ndarray, label: str, window: int) -> str:
    fig, ax = _fig()
    ok = ~np.isnan(values)
    if ok.sum() < 2:
        _empty(ax, f"fewer than {window} daily returns: no rolling {label}")
        return _svg(fig)
    t1, v1 = downsample(t[ok], values[ok])
    ax.plot(_dates(t1), v1, color=BLUE, lw=1.0)
    ax.axhline(0, color=GREY, lw=0.8)
    ax.set_ylabel(f"{label} ({window} d)")
    _time_axis(ax)
    return _svg(fig)


def distribution(returns: np.ndarray) -> str:
    fig, ax = _fig()
    r = returns[returns != 0] * 100
    if len(r) < 2:
        _empty(ax, "fewer than two daily returns")
        return _svg(fig)
    ax.hist(r, bins=min(60, max(10, len(r) // 10)), color=BLUE, alpha=0.8)
    ax.axvline(float(np.mean(r)), color=RED, lw=1, label=f"mean {np.mean(r):.3f} %")
    ax.set_xlabel("daily return %")
    ax.legend(frameon=False)
    return _svg(fig)


def exposure(t: np.ndarray, gross: np.ndarray, net: np.ndarray) -> str:
    fig, ax = _fig()
    if len(t) < 2:
        _empty(ax, "no exposure samples")
        return _svg(fig)
    t1, g1, n1 = downsample(t, gross * 100, net * 100)
    d = _dates(t1)
    ax.plot(d, g1, color=BLUE, lw=1.0, label="gross")
    ax.plot(d, n1, color=GREY, lw=1.0, label="net")
    ax.set_ylabel("% of equity")
    ax.legend(loc="upper left", frameon=False)
    _time_axis(ax)
    return _svg(fig)


def custom_chart(series: dict[str, list[tuple[int, float]]]) -> str:
    """A strategy's own chart (``plot``/``plot_indicator``): one line per series."""
    fig, ax = _fig()
    drawn = False
    for name, points in series.items():
        if not points:
            continue
        t = np.array([p[0] for p in points], dtype=np.int64)
        v = np.array([p[1] for p in points], dtype=float)
        t1, v1 = downsample(t, v)
        ax.plot(_dates(t1), v1, lw=1.0, label=name)
        drawn = True
    if not drawn:
        _empty(ax, "no points")
        return _svg(fig)
    ax.legend(loc="upper left", frameon=False)
    _time_axis(ax)
    return _svg(fig)


# shared with other reports (leand.optimize.report) under public names
to_svg = _svg
to_dates = _dates
time_axis = _time_axis
