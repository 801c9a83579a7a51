"""The ``leand data`` catalogue commands: import, download, import-lean, ls, show, rm, validate.

Exit codes: 0 done (``validate``: clean), 1 the data was refused (a ``fail`` policy fired; ``validate``: findings),
2 bad usage or unreadable input, with one line naming what and where.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

import orjson

from leand.data.catalog.index import Catalog, CatalogError, Dataset, default_catalog_path, parse_resolution
from leand.data.catalog.validate import CHECKS, DEFAULT_POLICY, Params, Report, ValidationError, parse_policies

SHOW_FINDINGS = 20


def add_parsers(dsub: argparse._SubParsersAction) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--catalog", type=Path, default=None,
                       help="catalogue folder (default: $LEAND_CATALOG or ~/.local/share/leand/catalog)")

    def policies(p: argparse.ArgumentParser) -> None:
        p.add_argument("--policy", action="append", default=[], metavar="CHECK=drop|flag|fail",
                       help=f"what to do with a finding (repeatable; CHECK one of all, {', '.join(CHECKS)}; defaults "
                            + ", ".join(f"{k}={v}" for k, v in DEFAULT_POLICY.items()) + ")")
        p.add_argument("--spike-k", type=float, default=None, help="spike rule: robust deviations (default 10)")
        p.add_argument("--spike-window", type=int, default=None, help="spike rule: rows in the window (default 31)")
        p.add_argument("--stale-run", type=int, default=None, help="bars with unchanged prices that count as stale "
                                                                   "(default 60)")

    imp = dsub.add_parser("import", help="import CSV/Parquet bars or ticks into the catalogue",
                          description="Stream vendor files into the catalogue, validating every row. Header or not, "
                                      "epoch or ISO times, any column order (name them with --columns).")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument("--symbol", required=True, help="ticker, e.g. SPY or BTCUSDT (BTC/USDT is stored as BTCUSDT)")
    imp.add_argument("--security-type", required=True, choices=["equity", "crypto", "forex"])
    imp.add_argument("--market", default=None, help="market (default usa, coinbase, oanda by security type)")
    imp.add_argument("--kind", required=True,
                     choices=["trade_bar", "quote_bar", "trade_tick", "quote_tick", "l2_delta",
                              "trade-bar", "quote-bar", "trade-tick", "quote-tick", "l2-delta"],
                     help="l2_delta: leand book recordings (.l2d), e.g. from leand data l2-from-lean")
    imp.add_argument("--resolution", required=True, help="tick, second, minute, hour or daily (1s, 1m, 1h, 1d)")
    imp.add_argument("--format", choices=["csv", "parquet"], default=None, help="default: by file suffix")
    imp.add_argument("--columns", default=None, metavar="FIELD=COLUMN,...",
                     help="map fields to the file's columns by name or 0-based index, e.g. time=ts,open=o,volume=5")
    imp.add_argument("--tz", default=None, help="time zone of naive times (default: the market's data time zone)")
    imp.add_argument("--time-unit", choices=["s", "ms", "us", "ns"], default=None,
                     help="unit of epoch times (default: guessed from the magnitude)")
    common(imp)
    policies(imp)

    dl = dsub.add_parser("download", help="download exchange candles through ccxt into the catalogue",
                         description="Pages through an exchange's OHLCV history with ccxt, respecting its rate limit, "
                                     "retrying dropped connections and 429s, and resuming after what is stored.")
    dl.add_argument("--exchange", required=True, help="ccxt exchange id, e.g. binance")
    dl.add_argument("--symbol", required=True, help="unified symbol, e.g. BTC/USDT")
    dl.add_argument("--timeframe", default="1m", help="1s, 1m, 1h or 1d (default 1m)")
    dl.add_argument("--since", required=True, help="start, ISO date/time (UTC) or epoch ms")
    dl.add_argument("--until", default=None, help="end (exclusive), ISO date/time (UTC) or epoch ms (default: now)")
    dl.add_argument("--url", default=None, help="a Binance-protocol REST root to use instead, e.g. "
                                                "http://127.0.0.1:8765 (leand sim serve)")
    dl.add_argument("--market", default=None, help="catalogue market (default: the exchange id)")
    dl.add_argument("--limit", type=int, default=1000, help="candles per request (default 1000)")
    dl.add_argument("--commit-every", type=int, default=10_000, metavar="N",
                    help="store every N candles, so an interrupted download resumes from there (default 10000)")
    common(dl)
    policies(dl)

    il = dsub.add_parser("import-lean", help="catalogue a LEAN Data/ folder",
                         description="Catalogue every dataset of a LEAN folder (raw, with its factor/map files); "
                                     "findings are flagged, nothing is changed unless --policy says so.")
    il.add_argument("folder", type=Path, nargs="?", default=None, help="LEAN Data/ folder (default: shipped sample)")
    il.add_argument("--symbol", action="append", default=[], help="only these tickers (repeatable)")
    common(il)
    il.add_argument("--policy", action="append", default=[], metavar="CHECK=drop|flag|fail")

    ls = dsub.add_parser("ls", help="list catalogued datasets")
    ls.add_argument("--json", action="store_true")
    common(ls)

    sh = dsub.add_parser("show", help="one symbol's datasets: range, rows, checksum, verdict, findings")
    sh.add_argument("symbol")
    sh.add_argument("--json", action="store_true")
    common(sh)

    rm = dsub.add_parser("rm", help="remove a symbol's datasets (files and index rows)")
    rm.add_argument("symbol")
    rm.add_argument("--kind", default=None)
    rm.add_argument("--resolution", default=None)
    rm.add_argument("--security-type", default=None, choices=["equity", "crypto", "forex"])
    rm.add_argument("--market", default=None)
    common(rm)

    va = dsub.add_parser("validate", help="re-run the checks on stored data (and verify checksums)")
    va.add_argument("symbols", nargs="+", metavar="SYMBOL")
    va.add_argument("--json", action="store_true")
    common(va)
    policies(va)


COMMANDS = {"import", "download", "import-lean", "ls", "show", "rm", "validate"}


def run(args: argparse.Namespace) -> int:
    root = args.catalog or default_catalog_path()
    cmd = args.data_command
    try:
        if cmd in ("import", "download", "import-lean"):
            with Catalog(root, create=True) as cat:
                return {"import": _import, "download": _download, "import-lean": _import_lean}[cmd](cat, args)
        with Catalog(root) as cat:
            return {"ls": _ls, "show": _show, "rm": _rm, "validate": _validate}[cmd](cat, args)
    except ValidationError as e:
        print(f"leand data {cmd}: refused: {e}", file=sys.stderr)
        return 1
    except (CatalogError, ValueError, OSError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"leand data {cmd}: error: {msg}", file=sys.stderr)
        return 2


def _params(args: argparse.Namespace) -> Params:
    p = Params()
    if getattr(args, "spike_k", None) is not None:
        p.spike_k = args.spike_k
    if getattr(args, "spike_window", None) is not None:
        p.spike_window = args.spike_window
    if getattr(args, "stale_run", None) is not None:
        p.stale_run = args.stale_run
    return p


def print_report(label: str, ds: Dataset, report: Report, out: TextIO | None = None) -> None:
    out = out or sys.stdout  # looked up now: stdout may have been replaced since import
    s = report.summary()
    print(f"{label}: {s['rows_in']:,} rows read, {s['rows_kept']:,} stored, {s['rows_dropped']:,} dropped, "
          f"{s['rows_skipped']:,} already stored; {ds.rows:,} rows over {ds.days} file(s), {ds.start} .. {ds.end}; "
          f"verdict: {report.verdict()}", file=out)
    for f in report.findings[:SHOW_FINDINGS]:
        print("  " + f.line(), file=out)
    more = sum(report.counts.values()) - min(len(report.findings), SHOW_FINDINGS)
    if more > 0:
        print(f"  ... {more:,} more findings in {ds.key.folder}/report.json (dropped rows in quarantine.csv)",
              file=out)


def _import(cat: Catalog, args: argparse.Namespace) -> int:
    from leand.data.catalog.importer import dataset_key, import_files
    from leand.data.catalog.readers import parse_columns

    key = dataset_key(args.symbol, args.security_type, args.market, args.kind, parse_resolution(args.resolution))
    policy = parse_policies(args.policy)
    if key.kind == "l2_delta":
        from leand.data.catalog.importer import reference_hours
        from leand.data.catalog.l2 import import_l2

        ds, report = import_l2(cat, args.files, key, reference_hours(key.security_type, key.market, key.symbol),
                               policy)
        print_report(key.label(), ds, report)
        return 0
    ds, report = import_files(cat, args.files, key, fmt=args.format, columns=parse_columns(args.columns), tz=args.tz,
                              time_unit=args.time_unit, policy=policy, params=_params(args))
    print_report(key.label(), ds, report)
    return 0


def _import_lean(cat: Catalog, args: argparse.Namespace) -> int:
    from leand.bundled import SAMPLE_DATA
    from leand.data.catalog.lean_import import LEAN_POLICY, import_lean

    folder = args.folder or SAMPLE_DATA
    if not folder.is_dir():
        raise CatalogError(f"LEAN data folder not found: {folder}")
    policy = parse_policies(args.policy, LEAN_POLICY)
    done = import_lean(cat, folder, symbols={s.upper() for s in args.symbol} or None, policy=policy,
                       on_dataset=lambda ds, rep: print(
                           f"{ds.key.label()}: {ds.rows:,} rows, {ds.days} file(s), {ds.start} .. {ds.end}; "
                           f"{rep.verdict()}"))
    if not done:
        print(f"no LEAN datasets found under {folder}", file=sys.stderr)
        return 2
    return 0


def _download(cat: Catalog, args: argparse.Namespace) -> int:
    from leand.data.catalog.download import DownloadError, download, parse_when

    try:
        since = parse_when(args.since)
        until = parse_when(args.until) if args.until else None
        ds, report = download(cat, exchange=args.exchange, symbol=args.symbol, timeframe=args.timeframe, since_ms=since,
                              until_ms=until, url=args.url, market=args.market, limit=args.limit,
                              policy=parse_policies(args.policy), params=_params(args),
                              commit_every=max(args.commit_every, 1))
    except DownloadError as e:
        print(f"leand data download: error: {e}", file=sys.stderr)
        return 2
    print_report(ds.key.label(), ds, report)
    return 0


def _ls(cat: Catalog, args: argparse.Namespace) -> int:
    rows = cat.datasets()
    if args.json:
        sys.stdout.write(orjson.dumps([d.as_dict() for d in rows], option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    if not rows:
        print(f"(no datasets in {cat.root})")
        return 0
    head = ("SYMBOL", "TYPE/MARKET", "KIND", "RES", "START", "END", "ROWS", "VERDICT")
    table = [(d.key.symbol, f"{d.key.security_type.value}/{d.key.market}", d.key.kind, d.key.resolution.name.lower(),
              d.start[:19], d.end[:19], f"{d.rows:,}", d.verdict) for d in rows]
    widths = [max(len(str(r[i])) for r in [head, *table]) for i in range(len(head))]
    for r in [head, *table]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    return 0


def _show(cat: Catalog, args: argparse.Namespace) -> int:
    from leand.data.catalog.ingest import QUARANTINE, REPORT

    rows = cat.datasets(args.symbol.replace("/", ""))
    if not rows:
        print(f"leand data show: no datasets for {args.symbol} in {cat.root}", file=sys.stderr)
        return 2
    out = []
    for d in rows:
        info = d.as_dict()
        folder = cat.folder_of(d.key)
        q = folder / QUARANTINE
        info["quarantined_rows"] = max(sum(1 for _ in q.open()) - 1, 0) if q.is_file() else 0
        rep = folder / REPORT
        info["last_report"] = orjson.loads(rep.read_bytes()) if rep.is_file() else None
        out.append(info)
    if args.json:
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    for info in out:
        print(f"{info['symbol']} {info['security_type']}/{info['market']} {info['kind']} {info['resolution']}")
        for k in ("start", "end", "rows", "days", "source", "checksum", "verdict", "quarantined_rows", "path"):
            print(f"  {k:<17}{info[k]}")
        counts = info["findings"].get("counts", {}) if info["findings"] else {}
        if counts:
            print("  findings         " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        rep = info["last_report"]
        for f in (rep or {}).get("findings", [])[:10]:
            where = f"{f['source']}:{f['row']}" if f["row"] else f["source"]
            print(f"    {f['check']:<12} {f['action']:<8} {where}  {f['time'] or '-'}  {f['reason']}")
    return 0


def _rm(cat: Catalog, args: argparse.Namespace) -> int:
    rows = cat.datasets(args.symbol.replace("/", ""))
    res = parse_resolution(args.resolution) if args.resolution else None
    kind = args.kind.replace("-", "_") if args.kind else None
    gone = [d for d in rows if (kind is None or d.key.kind == kind) and (res is None or d.key.resolution is res)
            and (args.security_type is None or d.key.security_type.value == args.security_type)
            and (args.market is None or d.key.market == args.market.lower())]
    if not gone:
        print(f"leand data rm: nothing matches {args.symbol} in {cat.root}", file=sys.stderr)
        return 2
    for d in gone:
        cat.remove(d)
        print(f"removed {d.key.label()} ({d.rows:,} rows)")
    return 0


def _validate(cat: Catalog, args: argparse.Namespace) -> int:
    from leand.data.catalog.revalidate import revalidate

    policy = parse_policies(args.policy, dict.fromkeys(CHECKS, "flag"))
    results = []
    missing = []
    for sym in args.symbols:
        rows = cat.datasets(sym.replace("/", ""))
        if not rows:
            missing.append(sym)
        for d in rows:
            results.append((d, revalidate(cat, d, policy, _params(args))))
    if missing:
        print(f"leand data validate: no datasets for {', '.join(missing)} in {cat.root}", file=sys.stderr)
        if not results:
            return 2
    if args.json:
        sys.stdout.write(orjson.dumps([{"dataset": d.as_dict(), "report": r.as_dict()} for d, r in results],
                                      option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        for d, r in results:
            print_report(d.key.label(), d, r)
    return 0 if all(r.clean for _, r in results) else 1
