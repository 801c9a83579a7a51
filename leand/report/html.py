"""One self-contained HTML file per backtest: statistics, figures (inline SVG), trades, orders, metadata.

No network is needed to view it: styles and the small table-paging script are inline, figures are SVG.
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from leand.backtest.result import BacktestResult, read_result
from leand.report import plots

PLOTS = ["equity", "drawdown", "monthly", "annual", "rolling-sharpe", "rolling-beta", "distribution", "exposure"]
ROLLING_DAYS = 90
PAGE = 50

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c7ccd5;font-size:13px}main{padding:18px 28px;max-width:1100px}
section{background:#fff;border:1px solid #e1e4ea;border-radius:6px;padding:14px 18px;margin:0 0 16px}
h2{font-size:15px;margin:0 0 10px}table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{padding:4px 8px;border-bottom:1px solid #eef0f3;text-align:left}th{background:#f0f2f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}.stats{columns:2;column-gap:36px}
.stats div{display:flex;justify-content:space-between;border-bottom:1px solid #eef0f3;padding:3px 0;font-size:13px}
.pager{margin-top:8px;font-size:12px}.pager button{margin-right:6px}svg{max-width:100%;height:auto}
"""

JS = """
document.querySelectorAll('table.paged').forEach(function(t){
  var rows=Array.prototype.slice.call(t.tBodies[0].rows),size=PAGE_SIZE,page=0,pages=Math.max(1,Math.ceil(rows.length/size));
  var bar=document.createElement('div');bar.className='pager';
  var prev=document.createElement('button'),next=document.createElement('button'),info=document.createElement('span');
  prev.textContent='previous';next.textContent='next';bar.append(prev,next,info);t.after(bar);
  function show(){rows.forEach(function(r,i){r.style.display=(i>=page*size&&i<(page+1)*size)?'':'none';});
    info.textContent='page '+(page+1)+' of '+pages+' ('+rows.length+' rows)';prev.disabled=page==0;next.disabled=page>=pages-1;}
  prev.onclick=function(){page--;show();};next.onclick=function(){page++;show();};show();
});
""".replace("PAGE_SIZE", str(PAGE))


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _duration(ns: int) -> str:
    s = ns // 1_000_000_000
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{d}d {h:02d}:{m:02d}:{s:02d}" if d else f"{h:02d}:{m:02d}:{s:02d}"


def _table(tid: str, header: list[str], rows: list[list], numeric: frozenset[int] | set[int] = frozenset(),
           paged: bool = True) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for r in rows:
        cells = []
        for i, v in enumerate(r):
            text = f"{v:,.6g}" if isinstance(v, float) else str(v)
            cells.append(f"<td class=\"num\">{html.escape(text)}</td>" if i in numeric else f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cls = ' class="paged"' if paged else ""
    return f'<table id="{tid}"{cls}><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def daily_series(result: BacktestResult):
    d = result.daily
    t = np.array([x[0] for x in d], dtype=np.int64)
    v = np.array([x[1] for x in d], dtype=float)
    b = np.array([x[2] for x in d], dtype=float)
    r = np.where(v[:-1] > 0, v[1:] / np.where(v[:-1] > 0, v[:-1], 1) - 1, 0.0) if len(v) > 1 else np.zeros(0)
    rb = np.where(b[:-1] > 0, b[1:] / np.where(b[:-1] > 0, b[:-1], 1) - 1, 0.0) if len(b) > 1 else np.zeros(0)
    return t, v, b, r, rb


def _rolling(r: np.ndarray, rb: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(r)
    sharpe = np.full(n, np.nan)
    beta = np.full(n, np.nan)
    if n < w:
        return sharpe, beta
    from numpy.lib.stride_tricks import sliding_window_view

    wr = sliding_window_view(r, w)
    wb = sliding_window_view(rb, w)
    sd = wr.std(axis=1, ddof=1)
    sharpe[w - 1:] = np.where(sd > 0, wr.mean(axis=1) / np.where(sd > 0, sd, 1) * np.sqrt(365), np.nan)
    cov = ((wr - wr.mean(axis=1, keepdims=True)) * (wb - wb.mean(axis=1, keepdims=True))).sum(axis=1) / (w - 1)
    vb = wb.var(axis=1, ddof=1)
    beta[w - 1:] = np.where(vb > 0, cov / np.where(vb > 0, vb, 1), np.nan)
    return sharpe, beta


def build_report(result: BacktestResult) -> str:
    meta = result.meta
    t, v, b, r, rb = daily_series(result)
    eq_t = np.array([x[0] for x in result.equity], dtype=np.int64)
    eq_v = np.array([x[1] for x in result.equity], dtype=float)
    months: dict[tuple[int, int], float] = defaultdict(lambda: 1.0)
    years: dict[int, float] = defaultdict(lambda: 1.0)
    for ti, ri in zip(t[1:], r):
        dt = datetime.fromtimestamp((int(ti) - 1) / 1e9, UTC)  # a midnight sample closes the previous day
        months[(dt.year, dt.month)] *= 1 + ri
        years[dt.year] *= 1 + ri
    sharpe, beta = _rolling(r, rb, ROLLING_DAYS)
    ex = result.exposure
    ex_t = np.array([x[0] for x in ex], dtype=np.int64)
    figures = {
        "equity": ("Equity against the benchmark", plots.equity(eq_t, eq_v, t, b, str(meta.get("benchmark", "")))),
        "drawdown": ("Drawdown (underwater)", plots.drawdown(eq_t, eq_v)),
        "monthly": ("Monthly returns %", plots.monthly_heatmap({k: x - 1 for k, x in months.items()})),
        "annual": ("Annual returns", plots.annual_returns({k: x - 1 for k, x in years.items()})),
        "rolling-sharpe": (f"Rolling Sharpe ratio ({ROLLING_DAYS} days)", plots.rolling(t[1:], sharpe, "Sharpe",
                                                                                       ROLLING_DAYS)),
        "rolling-beta": (f"Rolling beta ({ROLLING_DAYS} days)", plots.rolling(t[1:], beta, "beta", ROLLING_DAYS)),
        "distribution": ("Distribution of daily returns", plots.distribution(r)),
        "exposure": ("Exposure", plots.exposure(ex_t, np.array([x[1] for x in ex]), np.array([x[2] for x in ex]))),
    }
    for name, series in result.charts.items():  # the strategy's own charts, after leand's
        figures[f"chart-{name}"] = (name, plots.custom_chart(series))
    stats = "".join(f'<div><span>{html.escape(k)}</span><b>{html.escape(val)}</b></div>'
                    for k, val in result.statistics.items())
    trades = _table("trades", ["symbol", "entry", "exit", "side", "quantity", "entry price", "exit price", "P&L",
                               "fees", "duration"],
                    [[tr.symbol.value, _iso(tr.entry_time), _iso(tr.exit_time), "long" if tr.direction > 0 else
                      "short", tr.quantity, tr.entry_price, tr.exit_price, tr.pnl, tr.fees,
                      _duration(tr.exit_time - tr.entry_time)] for tr in result.trades], {4, 5, 6, 7, 8})
    orders = _table("orders", ["id", "time", "symbol", "type", "quantity", "limit", "stop", "status", "filled",
                               "avg price", "tag"],
                    [[o.id, _iso(o.created_time), o.symbol.value, o.type.value, o.quantity,
                      "" if o.limit_price is None else o.limit_price, "" if o.stop_price is None else o.stop_price,
                      o.status.value, o.filled_quantity, o.average_fill_price, o.tag] for o in result.orders],
                    {4, 5, 6, 8, 9})
    params = meta.get("parameters") or {}
    meta_rows = [[k, str(meta.get(k, ""))] for k in ("strategy", "strategy_file", "code_sha256", "start", "end",
                                                     "data_first", "data_last", "cash", "account_currency",
                                                     "benchmark", "leand_version")]
    meta_rows += [[f"parameter {k}", str(v)] for k, v in sorted(params.items())]
    sections = "".join(f'<section class="plot" id="plot-{k}"><h2>{html.escape(title)}</h2>{svg}</section>'
                       for k, (title, svg) in figures.items())
    title = html.escape(str(meta.get("strategy", "backtest")))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} — leand backtest report</title><style>{CSS}</style></head>
<body><header><h1>{title}</h1><p>{html.escape(str(meta.get('start', '')))} → {html.escape(str(meta.get('end', '')))}
 · leand {html.escape(str(meta.get('leand_version', '')))} · code {html.escape(str(meta.get('code_sha256', ''))[:12])}</p>
</header><main>
<section id="statistics-section"><h2>Statistics</h2><div class="stats" id="statistics">{stats}</div></section>
{sections}
<section><h2>Trades ({len(result.trades)})</h2>{trades}</section>
<section><h2>Orders ({len(result.orders)})</h2>{orders}</section>
<section><h2>Run</h2>{_table("meta", ["key", "value"], meta_rows, paged=False)}</section>
</main><script>{JS}</script></body></html>
"""


def write_report(result_dir: Path) -> Path:
    result_dir = Path(result_dir)
    out = result_dir / "report.html"
    text = build_report(read_result(result_dir))
    out.write_text(text)
    return out


#: the paged HTML table, shared with other reports (leand.optimize.report)
table = _table
