"""The ``leand`` command. Subcommands import what they need lazily so ``leand ctl`` starts fast."""

from __future__ import annotations

import argparse
import contextlib
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _param(text: str) -> tuple[str, str]:
    """NAME=VALUE; the value stays text until it is checked against the parameter's default."""
    if "=" not in text or not text.split("=", 1)[0]:
        raise argparse.ArgumentTypeError(f"--param wants NAME=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    return k, v


def _number(text: str, *, lo: float, hi: float, what: str, integer: bool = False, lo_open: bool = False
            ) -> float | int:
    try:
        v: float | int = int(text) if integer else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {'an integer' if integer else 'a number'}: {text!r}") from None
    if not (lo < v if lo_open else lo <= v) or not v <= hi:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: {what}")
    return v


def _cash(text: str) -> float:
    return float(_number(text, lo=0, hi=1e15, what="starting cash must be > 0 and at most 1e15", lo_open=True))


def _seconds(text: str) -> float:
    return float(_number(text, lo=0, hi=10 * 365 * 86400, what="seconds must be > 0", lo_open=True))


def _port(text: str) -> int:
    return int(_number(text, lo=0, hi=65535, what="a TCP port is 0-65535 (0: any free port)", integer=True))


def _seed(text: str) -> int:
    return int(_number(text, lo=0, hi=2**63 - 1, what="a seed is 0..2**63-1", integer=True))


class _Parser(argparse.ArgumentParser):
    """Bad usage is one line on stderr (``leand backtest: error: ...``) and exit 2, not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="leand", description="leand: backtest, run live, replay.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    b = sub.add_parser("backtest", help="backtest a strategy file on recorded data",
                       description="Backtest STRATEGY.py on LEAN-format data; print statistics and write a "
                                   "result folder (statistics.json, orders, fills, equity curve).")
    b.add_argument("strategy", type=Path, help="the strategy file (one Strategy subclass)")
    b.add_argument("--data", type=Path, default=None,
                   help="LEAN Data/ folder or leand data catalogue (default: shipped sample data)")
    b.add_argument("--catalog", type=Path, default=None,
                   help="data catalogue read before --data (default: $LEAND_CATALOG or ~/.local/share/leand/catalog "
                        "when it exists)")
    b.add_argument("--start", type=_date, help="start date, overrides the strategy's")
    b.add_argument("--end", type=_date, help="end date, overrides the strategy's")
    b.add_argument("--cash", type=_cash, help="starting cash in the account currency")
    b.add_argument("--out", type=Path, default=None, help="result folder (default: results/<strategy>)")
    b.add_argument("--param", type=_param, action="append", default=[], metavar="NAME=VALUE",
                   help="strategy parameter (repeatable)")
    b.add_argument("--class", dest="class_name", help="the Strategy class, if the file has several")
    b.add_argument("--venue", metavar="KIND", default=None,
                   help="match orders in this simulated venue (paper: the L3 book on the recorded quotes, with "
                        "leand's emulation of what it lacks), as leand run would; default: LEAN's fill models")
    b.add_argument("--report", action="store_true", help="also write report.html into the result folder")
    b.add_argument("--json", action="store_true", help="print the statistics as JSON instead of a table")
    b.add_argument("--verbose", "-v", action="store_true",
                   help="on a strategy error, print the full traceback, not just the file and line")

    from leand.optimize.cli import add_parser as add_optimize

    add_optimize(sub)

    r = sub.add_parser("report", help="write report.html for an existing result folder")
    r.add_argument("result_dir", type=Path)

    run = sub.add_parser("run", help="run the live daemon (paper venue by default)",
                         description="Run strategies live under supervision. Without --config: the embedded "
                                     "default (paper venue, synthetic BTCUSD quotes, strategies/paper_scalper.py).")
    run.add_argument("--config", type=Path, default=None, help="TOML config file")
    run.add_argument("--check", action="store_true", help="validate the config and exit")
    run.add_argument("--for", dest="duration", type=_seconds, default=None, metavar="SECONDS",
                     help="stop gracefully after this many seconds and print a summary (demos, smoke tests)")

    sub.add_parser("ctl", help="administer a running daemon (leand ctl --help)", add_help=False)

    rp = sub.add_parser("replay", help="replay a recorded session and report the first divergence",
                        description="Re-run a recorded session's strategies on the virtual clock against the "
                                    "recorded data and compare every decision; or, with --strategy, run other code "
                                    "on the captured data as a backtest. Exit 1 when decisions diverge.")
    rp.add_argument("session", help="session id (see leand sessions) or a session directory")
    rp.add_argument("--recordings", type=Path, default=None, help="recordings folder (default state/recordings)")
    rp.add_argument("--strategy", type=Path, default=None, help="what-if: another strategy file")
    rp.add_argument("--param", type=_param, action="append", default=[], metavar="NAME=VALUE")
    rp.add_argument("--out", type=Path, default=None, help="also write the report (or what-if result) here")

    ss = sub.add_parser("sessions", help="list recorded sessions")
    ss.add_argument("--recordings", type=Path, default=None)
    ss.add_argument("--json", action="store_true")

    dt = sub.add_parser("data", help="data utilities")
    dsub = dt.add_subparsers(dest="data_command", required=True)
    from leand.data.catalog.commands import add_parsers as add_catalog_parsers

    add_catalog_parsers(dsub)
    imp = dsub.add_parser("import-session", help="turn a recording's quotes into LEAN tick data for backtests")
    imp.add_argument("session")
    imp.add_argument("--out", type=Path, required=True, help="a LEAN data folder to write into")
    imp.add_argument("--recordings", type=Path, default=None)
    l2 = dsub.add_parser("l2-from-lean", help="convert a day of LEAN tick quotes (and trades) to a .l2d book recording",
                         description="Writes leand's market-by-price format (simulator/l2file.py) from LEAN tick "
                                     "data: each quote becomes level deltas, each trade a trade record. Replay it in "
                                     "a backtest with Strategy.add_book_data.")
    l2.add_argument("ticker")
    l2.add_argument("date", help="YYYY-MM-DD")
    l2.add_argument("--out", type=Path, required=True, help="the .l2d file to write")
    l2.add_argument("--security-type", default="equity", choices=["equity", "crypto", "forex"])
    l2.add_argument("--market", default=None)
    l2.add_argument("--data", type=Path, default=None, help="LEAN data folder (default: the shipped data)")

    sim = sub.add_parser("sim", help="simulated venues served over the network")
    simsub = sim.add_subparsers(dest="sim_command", required=True)
    srv = simsub.add_parser("serve", help="serve the simulated exchange speaking the Binance Spot protocol",
                            description="A Binance Spot REST + WebSocket venue on loopback, backed by the L3 "
                                        "simulator (defaults: see simulator/binance/__init__.py).")
    srv.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    srv.add_argument("--port", type=_port, default=None, help="port (default 8765; 0 = ephemeral)")
    srv.add_argument("--config", type=Path, default=None, help="TOML config file")
    srv.add_argument("--seed", type=_seed, default=None, help="seed of the synthetic market")
    return p


def cmd_l2_from_lean(args: argparse.Namespace) -> int:
    from datetime import date

    from leand.backtest.runner import DEFAULT_DATA
    from leand.data.feed import _events
    from leand.data.lean import DataFormatError, LeanDataSource
    from leand.data.market_hours import MarketHoursDatabase
    from leand.data.symbol_properties import SymbolPropertiesDatabase
    from leand.model import Resolution, SecurityType, Symbol, TickType
    from leand.simulator.l2file import L2Header, L2Writer, from_lean_ticks

    root = args.data or DEFAULT_DATA
    try:
        d = date.fromisoformat(args.date)
    except ValueError:
        print(f"error: date must be YYYY-MM-DD, got {args.date!r}", file=sys.stderr)
        return 2
    st = SecurityType(args.security_type)
    sym = Symbol(args.ticker.upper(), st, args.market or {"equity": "usa", "crypto": "coinbase", "forex": "oanda"}[st])
    try:
        hours = MarketHoursDatabase.load(root / "market-hours" / "market-hours-database.json").get(
            st, sym.market, sym.value)
        inst = SymbolPropertiesDatabase.load(root / "symbol-properties" / "symbol-properties-database.csv").get(sym)
        src = LeanDataSource(root)
        q = src.read_day(sym, Resolution.TICK, TickType.QUOTE, d, hours)
        t = src.read_day(sym, Resolution.TICK, TickType.TRADE, d, hours)
    except (OSError, DataFormatError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if q is None:
        print(f"error: no tick quotes for {sym.value} on {d} under {root}", file=sys.stderr)
        return 2
    quotes = [x for x in _events(q, sym) if not x.suspicious]
    trades = [x for x in _events(t, sym) if not x.suspicious] if t is not None and len(t) else []
    recs = from_lean_ticks(quotes, trades)
    with L2Writer(args.out, L2Header(sym.value, inst.tick_size, inst.lot_size, f"lean ticks {d}")) as w:
        w.write(recs)
    print(f"wrote {len(recs):,} records ({len(quotes):,} quotes, {len(trades):,} trades) to {args.out}")
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    from leand.simulator.binance import ConfigError, load_config, serve

    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(f"leand sim serve: error: {e}", file=sys.stderr)
        return 2
    if args.seed is not None:
        cfg.seed = args.seed
    try:
        return serve(cfg, host=args.host, port=args.port)
    except ConfigError as e:
        print(f"leand sim serve: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"leand sim serve: error: cannot listen: {e}", file=sys.stderr)
        return 2


def cmd_backtest(args: argparse.Namespace) -> int:
    from leand.backtest.result import format_table, write_result
    from leand.backtest.runner import BacktestError, StrategyError, run_backtest
    from leand.data.catalog.index import default_catalog_path, is_catalog

    catalog = args.catalog or (default_catalog_path() if is_catalog(default_catalog_path()) else None)

    out = args.out or Path("results") / args.strategy.stem
    try:
        engine, result = run_backtest(args.strategy, data_dir=args.data, start=args.start, end=args.end,
                                      cash=args.cash, parameters=dict(args.param), class_name=args.class_name,
                                      progress=True, catalog=catalog, venue=args.venue)
    except StrategyError as e:
        if args.verbose:
            sys.stderr.write(e.detail)
        write_result(e.result, out)
        (out / "error.txt").write_text(e.detail)
        (out / "report.html").unlink(missing_ok=True)  # a report of an earlier run would not match
        hint = "" if args.verbose else "; --verbose for the traceback"
        print(f"leand backtest: strategy error: {e} (partial result, marked incomplete, in {out}{hint})",
              file=sys.stderr)
        return 1
    except BacktestError as e:
        print(f"leand backtest: error: {e}", file=sys.stderr)
        return 2
    write_result(result, out)
    (out / "error.txt").unlink(missing_ok=True)  # from an earlier, failed run
    if args.json:
        import orjson

        sys.stdout.write(orjson.dumps(result.statistics, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(format_table(result.statistics))
        print(f"\nresult folder: {out}")
    if args.report:
        from leand.report.html import write_report

        path = write_report(out)
        print(f"report: {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from leand.report.html import write_report

    if not (args.result_dir / "result.msgpack").is_file():
        print(f"leand report: error: {args.result_dir} is not a result folder (no result.msgpack)",
              file=sys.stderr)
        return 2
    print(write_report(args.result_dir))
    return 0


def _log_to_stderr() -> None:
    """Structured events (risk rejections, state changes) go to stderr, so stdout stays the result."""
    import structlog

    from leand.live.logs import _stderr_logger

    structlog.configure(logger_factory=_stderr_logger, cache_logger_on_first_use=False)


def cmd_run(args: argparse.Namespace) -> int:
    from leand.live.config import ConfigError, load_config

    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        for line in e.lines or [str(e)]:  # one line per problem
            print(f"leand run{' --check' if args.check else ''}: error: {line}", file=sys.stderr)
        return 2
    if args.check:
        from leand.live.check import check_config

        problems = check_config(cfg)
        for line in problems:
            print(f"leand run --check: {line}", file=sys.stderr)
        if problems:
            return 2
        names = ", ".join(v.name for v in cfg.venues)
        print(f"config ok: {len(cfg.strategies)} strategies, venue{'s' if len(cfg.venues) > 1 else ''} {names}")
        return 0
    from leand.live.accounts import AllocationError
    from leand.live.daemon import StrategyStartError, VenueUnavailable, run_daemon
    from leand.live.secrets import SecretError
    from leand.live.statelock import StateLocked

    try:
        return run_daemon(args.config, duration=args.duration)
    except (ConfigError, SecretError, VenueUnavailable, StateLocked, StrategyStartError, AllocationError) as e:
        print(f"leand run: error: {e}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `leand sessions | head`: the reader left; say nothing more
        import os

        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush cannot fail again
        return 1  # as the Python docs advise: the output was cut short


def _main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ctl"]:  # fast path: the control client imports nothing heavy
        from leand.ctl import main as ctl_main

        return ctl_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "run":
        _log_to_stderr()
    if args.command == "replay":
        from leand.backtest.runner import guess_value
        from leand.replay.cli import cmd_replay

        params = {k: guess_value(v) for k, v in args.param}
        return cmd_replay(args.session, args.recordings, args.strategy, params, args.out)
    if args.command == "optimize":
        from leand.optimize.cli import cmd_optimize

        return cmd_optimize(args)
    if args.command == "sessions":
        from leand.replay.cli import cmd_sessions

        return cmd_sessions(args.recordings, args.json)
    if args.command == "data" and args.data_command in ("import", "download", "import-lean", "ls", "show", "rm",
                                                        "validate"):
        from leand.data.catalog.commands import run as run_data

        return run_data(args)
    if args.command == "data" and args.data_command == "l2-from-lean":
        return cmd_l2_from_lean(args)
    if args.command == "data":
        from leand.live.config import DEFAULT_DATA
        from leand.replay.cli import cmd_import_session

        return cmd_import_session(args.session, args.recordings, args.out, DEFAULT_DATA)
    handler = {"backtest": cmd_backtest, "report": cmd_report, "run": cmd_run, "sim": cmd_sim}[args.command]
    return handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
