"""``leand ctl``: administer a running daemon over its Unix socket.

Only the standard library is imported here, so the command starts fast. Exit codes: 0 done, 1 the daemon
refused or failed the command, 2 bad usage, 3 no daemon is listening.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sys
import time
import urllib.parse
from pathlib import Path
from typing import NoReturn

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_NO_DAEMON = 0, 1, 2, 3


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 10.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def default_socket() -> str:
    env = os.environ.get("LEAND_SOCKET")
    if env:
        return env
    rt = os.environ.get("RUNTIME_DIRECTORY")
    for p in ([Path(rt) / "leand.sock"] if rt else []) + [Path("/run/leand/leand.sock"), Path("state/leand.sock")]:
        if p.exists():
            return str(p)
    return "state/leand.sock"


def request(sock: str, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
    conn = _UnixConnection(sock)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    try:
        return resp.status, json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return resp.status, {"error": raw.decode(errors="replace")}


def _table(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return "(none)"
    cols = columns or list(rows[0])
    cells = [[("" if r.get(c) is None else f"{r.get(c):.8g}" if isinstance(r.get(c), float) else str(r.get(c)))
              for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _kv(d: dict) -> str:
    w = max((len(str(k)) for k in d), default=0)
    return "\n".join(f"{k!s:<{w}}  {json.dumps(v) if isinstance(v, (dict, list)) else v}" for k, v in d.items())


class _Parser(argparse.ArgumentParser):
    """Bad usage is one line on stderr and exit 2 (EXIT_USAGE), not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="leand ctl", description="Administer a running leand daemon.")
    p.add_argument("--socket", default=None, help="control socket (default: $LEAND_SOCKET, "
                                                  "$RUNTIME_DIRECTORY/leand.sock, /run/leand/leand.sock, "
                                                  "state/leand.sock)")
    p.add_argument("--json", action="store_true", help="print the daemon's JSON answer")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    sub.add_parser("status", help="daemon state, strategies, trading state")
    sub.add_parser("health", help="loop lag and feed staleness (exit 1 when unhealthy)")
    s = sub.add_parser("strategies", help="list, start, stop, pause, resume")
    s.add_argument("action", nargs="?", default="list", choices=["list", "start", "stop", "pause", "resume"])
    s.add_argument("id", nargs="?")
    o = sub.add_parser("orders", help="list, cancel ID, cancel-all")
    o.add_argument("action", nargs="?", default="list", choices=["list", "cancel", "cancel-all"])
    o.add_argument("id", nargs="?", help="client order id (for cancel)")
    sub.add_parser("positions", help="positions per strategy")
    sub.add_parser("balances", help="venue and strategy balances")
    fl = sub.add_parser("fills", help="recent fills, oldest first")
    fl.add_argument("--strategy", help="only this strategy's fills")
    fl.add_argument("--limit", type=int, default=100, help="how many of the newest (default 100)")
    eq = sub.add_parser("equity", help="equity history (samples every equity_interval_s)")
    who = eq.add_mutually_exclusive_group()
    who.add_argument("--strategy", help="one strategy's curve")
    who.add_argument("--account", help="one venue account's curve")
    eq.add_argument("--limit", type=int, default=1000, help="how many of the newest samples (default 1000)")
    h = sub.add_parser("halt", help="kill switch: nothing passes the risk gate until resume")
    h.add_argument("--reason", default="kill switch (leand ctl halt)")
    hw = h.add_mutually_exclusive_group()
    hw.add_argument("--strategy", help="halt one strategy only")
    hw.add_argument("--account", help="halt every strategy on one venue account")
    h.add_argument("--cancel-all", action="store_true")
    rs = sub.add_parser("resume", help="resume trading after a halt or a breach")
    rw = rs.add_mutually_exclusive_group()
    rw.add_argument("--strategy", help="resume one strategy only")
    rw.add_argument("--account", help="resume one venue account")
    f = sub.add_parser("flatten", help="close positions (all, or one symbol)")
    f.add_argument("symbol", nargs="?")
    r = sub.add_parser("risk", help="show or set risk limits")
    r.add_argument("action", choices=["show", "set"])
    r.add_argument("config", nargs="?", help="JSON (or @file.json) with the full risk config, for set")
    sub.add_parser("reload", help="re-read the config file (risk limits, log level)")
    lv = sub.add_parser("log-level", help="change the log level")
    lv.add_argument("level", type=str.lower, choices=["debug", "info", "warning", "error"])
    return p


def _route(args: argparse.Namespace) -> tuple[str, str, dict | None]:
    c = args.cmd
    if c in ("status", "health", "positions", "balances"):
        return "GET", f"/{c}", None
    if c == "strategies":
        if args.action == "list":
            return "GET", "/strategies", None
        if not args.id:
            raise ValueError(f"strategies {args.action} needs a strategy id")
        return "POST", f"/strategies/{args.id}/{args.action}", None
    if c == "orders":
        if args.action == "list":
            return "GET", "/orders", None
        if args.action == "cancel-all":
            return "POST", "/orders/cancel-all", None
        if not args.id:
            raise ValueError("orders cancel needs a client order id")
        return "POST", f"/orders/{args.id}/cancel", None
    if c in ("fills", "equity"):
        q = {k: v for k in ("strategy", "account", "limit") if (v := getattr(args, k, None)) is not None}
        return "GET", f"/{c}?{urllib.parse.urlencode(q)}" if q else f"/{c}", None
    if c in ("halt", "resume"):
        body = {"reason": args.reason, "cancel_all": args.cancel_all} if c == "halt" else {}
        if args.strategy:
            body["strategy"] = args.strategy
        if args.account:
            body["account"] = args.account
        return "POST", f"/{c}", body or None
    if c == "flatten":
        return "POST", "/flatten", {"symbol": args.symbol}
    if c == "risk":
        if args.action == "show":
            return "GET", "/risk", None
        if not args.config:
            raise ValueError("risk set needs the new config as JSON or @file.json")
        text = Path(args.config[1:]).read_text() if args.config.startswith("@") else args.config
        try:
            return "POST", "/risk", {"config": json.loads(text)}
        except json.JSONDecodeError as e:
            raise ValueError(f"risk set: not JSON: {e}") from None
    if c == "reload":
        return "POST", "/reload", None
    if c == "log-level":
        return "POST", "/log-level", {"level": args.level}
    raise ValueError(f"unknown command {c}")


def _human(cmd: str, data) -> str:
    if cmd == "equity" and isinstance(data, list):
        return _table([{"time": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r["time_ns"] / 1e9)),
                        "scope": r["scope"], "owner": r["owner"], "equity": r["equity"],
                        "positions": " ".join(f"{k}={v:g}" for k, v in r["positions"].items())} for r in data])
    if isinstance(data, list):
        return _table(data)
    if cmd == "balances" and isinstance(data, dict):
        accounts = data.get("accounts") or {}
        out = ("venue\n" + _kv(data.get("venue", {})) + "\n\n") if len(accounts) <= 1 else ""
        out += "strategies (cash of every account)\n" + _kv(data.get("strategies", {}))
        for name, a in accounts.items():
            out += f"\n\naccount {name} ({a.get('state', '?')})\n" + _kv(a.get("balances", {}))
            out += f"\n\naccount {name}: allocations\n" + _kv(a.get("allocations", {}))
            out += f"\n\naccount {name}: each strategy's share now\n" + _kv(a.get("strategies", {}))
        return out
    return _kv(data) if isinstance(data, dict) else str(data)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return EXIT_USAGE if e.code else EXIT_OK
    try:
        method, path, body = _route(args)
    except (ValueError, OSError) as e:
        print(f"leand ctl: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    sock = args.socket or default_socket()
    try:
        status, data = request(sock, method, path, body)
    except FileNotFoundError:
        print(f"leand ctl: the daemon is not running (no control socket at {sock})", file=sys.stderr)
        return EXIT_NO_DAEMON
    except ConnectionRefusedError:
        print(f"leand ctl: the daemon is not running (nothing listens on {sock})", file=sys.stderr)
        return EXIT_NO_DAEMON
    except PermissionError:
        print(f"leand ctl: permission denied on {sock}: the control socket belongs to the daemon's user",
              file=sys.stderr)
        return EXIT_REFUSED
    except (OSError, http.client.HTTPException) as e:
        print(f"leand ctl: cannot talk to the daemon at {sock}: {e}", file=sys.stderr)
        return EXIT_NO_DAEMON
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
    elif status < 400:
        print(_human(args.cmd, data))
    if status >= 400:
        msg = data.get("error", data) if isinstance(data, dict) else data
        if not args.json:
            print(f"leand ctl: {msg}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK
