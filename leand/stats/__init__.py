"""Performance statistics with LEAN's definitions (docs: lean-statistics.md, "Statistics definitions").

Estimated Strategy Capacity, Lowest Capacity Asset and OrderListHash are LEAN-internal (a market-impact
model and a hash of LEAN's own JSON) and are not computed.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from itertools import pairwise

import msgspec

from leand.stats.inputs import StatisticsInput

KEYS = [
    "Total Orders", "Average Win", "Average Loss", "Compounding Annual Return", "Drawdown", "Expectancy",
    "Start Equity", "End Equity", "Net Profit", "Sharpe Ratio", "Sortino Ratio", "Probabilistic Sharpe Ratio",
    "Loss Rate", "Win Rate", "Profit-Loss Ratio", "Alpha", "Beta", "Annual Standard Deviation",
    "Annual Variance", "Information Ratio", "Tracking Error", "Treynor Ratio", "Total Fees",
    "Portfolio Turnover", "Drawdown Recovery",
]
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "USDT": "₮", "ETH": "Ξ", "BTC": "₿",
                    "INR": "₹"}


class Statistics(msgspec.Struct):
    values: dict[str, float]
    formatted: dict[str, str]


# ---- small numeric helpers (sample statistics as MathNet computes them) ------------------------------
def _mean(x: list[float]) -> float:
    return sum(x) / len(x) if x else 0.0


def _var(x: list[float]) -> float:
    n = len(x)
    if n < 2:
        return 0.0
    m = _mean(x)
    return sum((v - m) ** 2 for v in x) / (n - 1)


def _cov(x: list[float], y: list[float]) -> float:
    n = len(x)
    if n < 2:
        return 0.0
    mx, my = _mean(x), _mean(y)
    return sum((a - mx) * (b - my) for a, b in zip(x, y)) / (n - 1)


def _skewness(x: list[float]) -> float:
    n = len(x)
    s = math.sqrt(_var(x))
    if n < 3 or s == 0:
        return 0.0
    m = _mean(x)
    return n / ((n - 1) * (n - 2)) * sum(((v - m) / s) ** 3 for v in x)


def _kurtosis(x: list[float]) -> float:
    """Bias-corrected excess kurtosis (MathNet ``Statistics.Kurtosis``)."""
    n = len(x)
    s = math.sqrt(_var(x))
    if n < 4 or s == 0:
        return 0.0
    m = _mean(x)
    k = sum(((v - m) / s) ** 4 for v in x)
    return n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * k - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))


def _phi(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def smart_round(v: float) -> float:
    """LEAN's SmartRounding: values above 1000 to 4 decimals, others to 7 significant digits."""
    if v == 0 or not math.isfinite(v):
        return v
    if abs(v) > 1000:
        return round(v, 4)
    digits = 7 - math.floor(math.log10(abs(v))) - 1
    return round(v, digits)


# ---- formatting as LEAN prints --------------------------------------------------------------------------
def _dec(v: float, places: int, mode=ROUND_HALF_EVEN) -> Decimal:
    return Decimal(repr(v)).quantize(Decimal(1).scaleb(-places), rounding=mode)


def _fixed(v: float, places: int, suffix: str = "") -> str:
    """Exactly ``places`` decimals (LEAN's decimal keeps its scale), but an exact zero prints as ``0``."""
    if v == 0 or not math.isfinite(v):
        return "0" + suffix
    return f"{_dec(v, places):f}{suffix}"


def _trim(v: float, places: int, suffix: str = "") -> str:
    if v == 0 or not math.isfinite(v):
        return "0" + suffix
    d = _dec(v, places)
    if d == 0:
        return "0" + suffix
    text = f"{d:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + suffix


def _format(values: dict[str, float], currency: str, computed: bool = True) -> dict[str, str]:
    v = values
    sym = CURRENCY_SYMBOLS.get(currency, currency + " ")
    fees = _dec(v["Total Fees"], 2, ROUND_HALF_UP)
    out = {
        "Total Orders": str(int(v["Total Orders"])),
        "Average Win": _fixed(v["Average Win"] * 100, 2, "%"),
        "Average Loss": _fixed(v["Average Loss"] * 100, 2, "%"),
        "Compounding Annual Return": _fixed(v["Compounding Annual Return"] * 100, 3, "%"),
        # a computed drawdown keeps LEAN's decimal scale even at zero ("0.000%"); an uncomputed one is "0%"
        "Drawdown": f"{_dec(v['Drawdown'] * 100, 3):f}%" if computed else "0%",
        "Expectancy": _fixed(v["Expectancy"], 3),
        "Start Equity": _trim(v["Start Equity"], 2),
        "End Equity": _trim(v["End Equity"], 2),
        "Net Profit": _fixed(v["Net Profit"] * 100, 3, "%"),
        "Sharpe Ratio": _trim(v["Sharpe Ratio"], 3),
        "Sortino Ratio": _trim(v["Sortino Ratio"], 3),
        "Probabilistic Sharpe Ratio": _fixed(v["Probabilistic Sharpe Ratio"] * 100, 3, "%"),
        "Loss Rate": _fixed(v["Loss Rate"] * 100, 0) + "%",
        "Win Rate": _fixed(v["Win Rate"] * 100, 0) + "%",
        "Profit-Loss Ratio": _fixed(v["Profit-Loss Ratio"], 2),
        "Alpha": _trim(v["Alpha"], 3),
        "Beta": _trim(v["Beta"], 3),
        "Annual Standard Deviation": _trim(v["Annual Standard Deviation"], 3),
        "Annual Variance": _trim(v["Annual Variance"], 3),
        "Information Ratio": _trim(v["Information Ratio"], 3),
        "Tracking Error": _trim(v["Tracking Error"], 3),
        "Treynor Ratio": _trim(v["Treynor Ratio"], 3),
        "Total Fees": f"{sym}{fees:f}",
        "Portfolio Turnover": _fixed(v["Portfolio Turnover"] * 100, 2, "%"),
        "Drawdown Recovery": str(int(v["Drawdown Recovery"])),
    }
    return out


# ---- the statistics ---------------------------------------------------------------------------------------
def _drawdown(equity: list[tuple[int, float]]) -> tuple[float, int]:
    peak = -math.inf
    peak_t = 0
    worst = 0.0
    longest = 0
    open_peak: tuple[int, float] | None = None
    for t, v in equity:
        if v >= peak:
            if open_peak is not None and v >= open_peak[1]:
                longest = max(longest, int((t - open_peak[0]) // 86_400_000_000_000))
                open_peak = None
            peak, peak_t = v, t
        else:
            if open_peak is None:
                open_peak = (peak_t, peak)
            if peak > 0:
                worst = max(worst, 1 - v / peak)
    return round(worst, 3), longest


def compute(inp: StatisticsInput) -> Statistics:
    n_year = inp.trading_days_per_year
    start = inp.start_equity
    end = inp.end_equity
    daily = inp.daily
    # daily returns, LEAN's way: percent rounded to 10 places, first two samples dropped
    perf = [0.0]
    for (_, v0, _, _), (_, v1, _, _) in pairwise(daily):
        perf.append(round((v1 - v0) / v0 * 100, 10) if v0 else 0.0)
    R = [p / 100 for p in perf[2:]]
    bench = [smart_round(b) for _, _, b, _ in daily]
    changes = [((b1 - b0) / b0 if b0 else 0.0) for b0, b1 in pairwise(bench)]
    Rb = changes[1:]
    if len(Rb) != len(R):
        raise ValueError(f"benchmark and strategy return series differ in length: {len(Rb)} vs {len(R)}")

    times = [t for t, _ in inp.equity]
    rf = inp.risk_free.average_over(times) if inp.risk_free is not None and times else 0.0

    vals = dict.fromkeys(KEYS, 0.0)
    vals["Total Orders"] = inp.total_orders
    vals["Start Equity"] = start
    vals["End Equity"] = end
    vals["Total Fees"] = inp.total_fees

    # turnover: mean over daily samples (except the start) of sales volume / portfolio value
    turns = [s / v for _, v, _, s in daily[1:] if v]
    vals["Portfolio Turnover"] = _mean(turns)

    enough = len(R) >= 2 and len(Rb) >= 2
    if enough:  # LEAN leaves every ratio and trade statistic at 0 for shorter runs
        # transaction records -> win/loss statistics
        wins = losses = 0
        win_sum = loss_sum = 0.0
        capital = start
        for _, pnl in inp.transactions:
            rel = pnl / capital if capital else 0.0
            if pnl > 0:
                wins += 1
                win_sum += rel
            else:
                losses += 1
                loss_sum += rel
            capital += pnl
        n_tr = wins + losses
        avg_win = win_sum / wins if wins else 0.0
        avg_loss = loss_sum / losses if losses else 0.0
        win_rate = wins / n_tr if n_tr else 0.0
        loss_rate = losses / n_tr if n_tr else 0.0
        pl_ratio = avg_win / abs(avg_loss) if avg_loss else 0.0
        vals.update({"Average Win": avg_win, "Average Loss": avg_loss, "Win Rate": win_rate, "Loss Rate": loss_rate,
                     "Profit-Loss Ratio": pl_ratio, "Expectancy": win_rate * pl_ratio - loss_rate})

        vals["Net Profit"] = end / start - 1 if start else 0.0
        if len(times) >= 2 and start > 0 and end > 0:
            years = (times[-1] - times[0]) / 86_400e9 / 365
            vals["Compounding Annual Return"] = (end / start) ** (1 / years) - 1 if years > 0 else 0.0
        dd, recovery = _drawdown(inp.equity)
        vals["Drawdown"] = dd
        vals["Drawdown Recovery"] = recovery
        mean_r = _mean(R)
        ap = (mean_r + 1) ** n_year - 1
        var_r = _var(R)
        ann_var = var_r * n_year
        ann_std = math.sqrt(ann_var)
        vals["Annual Variance"] = ann_var
        vals["Annual Standard Deviation"] = ann_std
        vals["Sharpe Ratio"] = (ap - rf) / ann_std if ann_std else 0.0
        neg = [r for r in R if r < 0]
        down = math.sqrt(_var(neg) * n_year) if len(neg) >= 2 else 0.0
        vals["Sortino Ratio"] = (ap - rf) / down if down else 0.0
        std_r = math.sqrt(var_r)
        if std_r:
            sr = (mean_r - rf / n_year) / std_r
            sr_star = 1 / math.sqrt(n_year)  # LEAN's benchmark: an annual Sharpe of 1, made daily
            g3, g4 = _skewness(R), _kurtosis(R)
            denom = (1 - g3 * sr + (g4 - 1) / 4 * sr * sr) / (len(R) - 1)
            vals["Probabilistic Sharpe Ratio"] = _phi((sr - sr_star) / math.sqrt(denom)) if denom > 0 else 0.0
        var_b = _var(Rb)
        ap_b = (_mean(Rb) + 1) ** n_year - 1
        if var_b:
            beta = _cov(R, Rb) / var_b
            vals["Beta"] = beta
            vals["Alpha"] = ap - (rf + beta * (ap_b - rf))
            vals["Treynor Ratio"] = (ap - rf) / beta if beta else 0.0
        te = math.sqrt(_var([a - b for a, b in zip(R, Rb)]) * n_year)
        vals["Tracking Error"] = te
        vals["Information Ratio"] = (ap - ap_b) / te if te else 0.0

    formatted = _format(vals, inp.account_currency, enough)
    for k, v in inp.custom.items():
        formatted[k] = v
    return Statistics(values=vals, formatted=formatted)
