"""``leand replay``, ``leand sessions`` and ``leand data import-session``."""

from __future__ import annotations

import sys
import zipfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from leand.replay.reader import RecordingError
from leand.replay.recorder import Catalog


def resolve_session(session: str, recordings: Path | None) -> Path:
    p = Path(session)
    if p.is_dir():
        return p
    root = recordings or Path("state/recordings")
    row = Catalog(root).get(session) if root.is_dir() else None
    if row is not None:
        return Path(row["path"])
    if (root / session).is_dir():
        return root / session
    raise RecordingError(f"no session {session!r} in {root} (list them with: leand sessions --recordings {root})")


def cmd_sessions(recordings: Path | None, as_json: bool) -> int:
    import orjson

    root = recordings or Path("state/recordings")
    if not (root / "catalog.sqlite").is_file():
        print(f"leand sessions: no recordings in {root}", file=sys.stderr)
        return 1
    rows = Catalog(root).sessions()
    if as_json:
        print(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return 0

    def t(ns: int) -> str:
        return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S") if ns else "(open)"

    print(f"{'SESSION':<26}{'START (UTC)':<21}{'END (UTC)':<21}{'VENUES':<8}{'SYMBOLS':<16}{'SIZE':>10}")
    for r in rows:
        print(f"{r['session']:<26}{t(r['started_ns']):<21}{t(r['ended_ns']):<21}{r['venues']:<8}"
              f"{r['symbols']:<16}{r['bytes'] / 1024:>8.1f}KB")
    return 0


def cmd_replay(session: str, recordings: Path | None, strategy: Path | None, params: dict, out: Path | None) -> int:
    from leand.replay.replayer import load, replay_strategy, report_text

    try:
        rec = load(resolve_session(session, recordings))
    except (RecordingError, FileNotFoundError) as e:
        print(f"leand replay: error: {e}", file=sys.stderr)
        return 2
    if strategy is not None:
        return _what_if(rec, strategy, params, out)
    results = [replay_strategy(rec, sid, parameters=params) for sid in rec.sources]
    text = report_text(rec, results)
    sys.stdout.write(text)
    if out is not None:
        out.write_text(text)
    return 0 if all(r.first_divergence is None for r in results) else 1


def _what_if(rec, strategy: Path, params: dict, out: Path | None) -> int:
    from leand.backtest.result import format_table, write_result
    from leand.backtest.runner import build_result
    from leand.replay.replayer import replay_strategy

    if not strategy.is_file():
        print(f"leand replay: error: strategy file not found: {strategy}", file=sys.stderr)
        return 2
    sid = next(iter(rec.sources))
    r = replay_strategy(rec, sid, source_path=strategy, parameters=params, what_if=True)
    engine = r.engine
    engine.finish()
    engine.last_data_ns = rec.md[-1].recv_ns if rec.md else None
    result = build_result(engine, strategy, strategy.read_text(), 0.0)
    print(f"what-if: {strategy} on session {rec.header.session} ({len(rec.md)} market-data messages)")
    print(format_table(result.statistics))
    if out is not None:
        write_result(result, out)
        print(f"\nresult folder: {out}")
    return 0


def cmd_import_session(session: str, recordings: Path | None, out: Path, data_root: Path) -> int:
    """Write the session's quotes as LEAN tick-quote files (one zip per symbol and UTC day) under ``out``, with
    the market-hours and symbol-properties databases, so ``leand backtest --data OUT`` can use them."""
    import shutil

    from leand.replay.reader import read_frames
    from leand.replay.records import MarketData

    try:
        sdir = resolve_session(session, recordings)
    except RecordingError as e:
        print(f"leand data import-session: error: {e}", file=sys.stderr)
        return 2
    days: dict[tuple, list[str]] = defaultdict(list)
    for f in read_frames(sdir):
        if type(f) is MarketData and hasattr(f.event, "bid_price"):
            q = f.event
            dt = datetime.fromtimestamp(q.time / 1e9, UTC)
            ms = (dt.hour * 3600 + dt.minute * 60 + dt.second) * 1000 + dt.microsecond / 1000
            days[(q.symbol, dt.date())].append(f"{ms:.3f},{q.bid_price},{q.bid_size},{q.ask_price},{q.ask_size}")
    for sub in ("market-hours", "symbol-properties"):
        if not (out / sub).exists():
            shutil.copytree(data_root / sub, out / sub)
    n = 0
    for (sym, d), lines in sorted(days.items(), key=lambda kv: (kv[0][0].id, kv[0][1])):
        folder = out / sym.security_type.value / sym.market / "tick" / sym.value.lower()
        folder.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(folder / f"{d:%Y%m%d}_quote.zip", "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"{d:%Y%m%d}_{sym.value.lower()}_tick_quote.csv", "\n".join(lines) + "\n")
        n += len(lines)
    print(f"imported {n} quotes for {len({k[0] for k in days})} symbols over {len({k[1] for k in days})} days "
          f"into {out}")
    return 0
