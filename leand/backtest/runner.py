"""Run a strategy file as a backtest and collect its result."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
import time as _time
import traceback
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from leand import __version__
from leand.backtest.book_brokerage import SimulatedBooks
from leand.bundled import SAMPLE_DATA
from leand.engine import Engine, EngineError
from leand.strategy import Strategy

DEFAULT_DATA = SAMPLE_DATA


class BacktestError(Exception):
    """One clear message for the user; the CLI prints it and exits non-zero."""


class StrategyError(BacktestError):
    """The strategy's own code raised: the message names the file and line; ``detail`` is the full traceback
    and ``result`` what ran until then (``meta["incomplete"]`` is true), for the CLI to write."""

    def __init__(self, message: str, detail: str, result: Any) -> None:
        super().__init__(message)
        self.detail = detail
        self.result = result


_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def guess_value(text: str) -> Any:
    """A value without a declared default: int, else float, else the text."""
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def typed_parameter(name: str, text: Any, default: Any) -> Any:
    """``text`` converted to the type of the parameter's ``default``; BacktestError naming both otherwise."""
    if not isinstance(text, str):
        return text
    if default is None:
        return guess_value(text)
    try:
        if isinstance(default, bool):
            low = text.strip().lower()
            if low in _TRUE or low in _FALSE:
                return low in _TRUE
            raise ValueError
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            v = float(text)
            if v != v or v in (float("inf"), float("-inf")):
                raise ValueError
            return v
        if isinstance(default, str):
            return text
    except ValueError:
        pass
    else:
        raise BacktestError(f"--param {name}: the default {default!r} is a {type(default).__name__}, which cannot "
                            "be set from the command line")
    kind = {bool: "true or false", int: "an integer", float: "a finite number"}[type(default)]
    raise BacktestError(f"--param {name}={text}: expected {kind} like the default {default!r}")


def typed_parameters(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Command-line parameters checked against the strategy's declared defaults (undeclared ones are guessed)."""
    return {k: typed_parameter(k, v, defaults.get(k)) for k, v in given.items()}


def _strategy_frame(exc: BaseException, path: Path) -> traceback.FrameSummary | None:
    """The innermost frame of the traceback inside the strategy file."""
    want = path.resolve()
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == want]
    return frames[-1] if frames else None


def _describe_failure(exc: BaseException, path: Path) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    what = text[0] if text else type(exc).__name__
    f = _strategy_frame(exc, path)
    if f is not None:
        return f"{path}:{f.lineno} in {f.name}: {what}"
    last = traceback.extract_tb(exc.__traceback__)[-1:]
    where = f" (raised in {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{path}: {what}{where}"


def load_strategy_class(path: Path, class_name: str | None = None) -> type[Strategy]:
    path = Path(path)
    if not path.is_file():
        raise BacktestError(f"strategy file not found: {path}")
    mod_name = f"leand_user_strategy_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise BacktestError(f"cannot load strategy file {path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise BacktestError(f"strategy file {path} does not load: syntax error at line {e.lineno}: {e.msg}") from e
    except Exception as e:
        raise BacktestError(f"strategy file {path} does not load: {type(e).__name__}: {e}") from e
    candidates = [obj for _, obj in inspect.getmembers(module, inspect.isclass)
                  if issubclass(obj, Strategy) and obj is not Strategy and obj.__module__ == mod_name]
    if class_name:
        candidates = [c for c in candidates if c.__name__ == class_name]
    if len(candidates) != 1:
        names = ", ".join(c.__name__ for c in candidates) or "none"
        raise BacktestError(f"strategy file {path} must define exactly one Strategy subclass"
                            f"{' named ' + class_name if class_name else ''} (found: {names})")
    return candidates[0]


def run_backtest(strategy_path: Path, *, data_dir: Path | None = None, start: date | None = None,
                 end: date | None = None, cash: float | None = None, parameters: dict[str, Any] | None = None,
                 class_name: str | None = None, progress: bool = False, strategy: Strategy | None = None,
                 catalog: Path | None = None, data_source: Any = None, source: str | None = None,
                 venue: str | None = None):
    """Run a backtest; returns ``(engine, result)`` where result is a ``BacktestResult``.

    ``data_dir`` is a LEAN ``Data/`` folder or a leand catalogue (``leand data``). Catalogued data is read
    first: ``data_dir`` itself when it is one, else ``catalog`` (the CLI passes the default catalogue).
    ``data_source`` is the reader to use instead of a new one (an optimizer's worker keeps one across runs, so each
    file is read once); ``source`` is the strategy's code when ``strategy`` is given, for ``code_sha256``.
    ``venue`` names a venue kind leand can simulate (``"paper"``): orders then match in that venue (its default
    config) through the order manager's emulation, as ``leand run`` on it would
    (:mod:`leand.backtest.venue_brokerage`), instead of LEAN's fill models."""
    from leand.data.catalog.index import is_catalog

    data_dir = Path(data_dir) if data_dir else DEFAULT_DATA
    if is_catalog(data_dir):
        catalog = data_dir
        # reference databases: the catalogue's own (import-lean copies them) or the shipped ones
        data_dir = data_dir if (data_dir / "market-hours" / "market-hours-database.json").is_file() else DEFAULT_DATA
    elif catalog is not None and not is_catalog(catalog):
        raise BacktestError(f"no data catalogue at {catalog}")
    if not data_dir.is_dir():
        raise BacktestError(f"data folder not found: {data_dir}")
    if not (data_dir / "market-hours" / "market-hours-database.json").is_file():
        raise BacktestError(f"data folder {data_dir} has no market-hours/market-hours-database.json "
                            "(expected LEAN's Data/ layout)")
    source = source or ""
    if strategy is None:
        cls = load_strategy_class(Path(strategy_path), class_name)
        strategy = cls()
        source = Path(strategy_path).read_text()
    if cash is not None and not 0 < cash <= 1e15:
        raise BacktestError(f"cash must be > 0 and at most 1e15, got {cash}")
    if parameters:
        declared = dict(getattr(strategy, "parameters", {}) or {})
        strategy.parameters = {**declared, **typed_parameters(declared, parameters)}
    brokerage = None if venue is None else _venue_brokerage(venue)
    engine = Engine(strategy, data_dir, parameters=strategy.parameters, start=start, end=end, cash=cash,
                    catalog=Path(catalog) if catalog else None, data_source=data_source,
                    order_books=SimulatedBooks(), brokerage=brokerage)
    bar = _Progress() if progress else None
    t0 = _time.perf_counter()
    try:
        engine.run(progress=bar)
    except EngineError as e:
        f = _strategy_frame(e, Path(strategy_path)) if strategy_path else None
        raise BacktestError(f"{strategy_path}:{f.lineno}: {e}" if f else str(e)) from e
    except Exception as e:  # the strategy's own code (or a bug it triggered): keep what ran until then
        if bar is not None:
            bar.close()
            bar = None
        message = _describe_failure(e, Path(strategy_path))
        detail = "".join(traceback.format_exception(e))
        raise StrategyError(message, detail, _partial_result(engine, strategy_path, source,
                                                              _time.perf_counter() - t0, message)) from e
    finally:
        if bar is not None:
            bar.close()
    elapsed = _time.perf_counter() - t0
    if engine.last_data_ns is None:
        raise BacktestError(f"no data between {engine.start_date} and {engine.end_date} for "
                            f"{', '.join(str(s) for s in engine.securities)} in {data_dir}")
    result = build_result(engine, strategy_path, source, elapsed)
    return engine, result


def _venue_brokerage(kind: str):
    from leand import venue as venues
    from leand.backtest.venue_brokerage import VenueBrokerage

    try:
        reg = venues.venue(kind)
    except venues.UnknownVenueKind as e:
        raise BacktestError(f"--venue: {e}") from None
    simulate = reg.simulate
    if simulate is None:
        simulable = [k for k in venues.kinds() if venues.venue(k).simulate is not None]
        raise BacktestError(f"--venue {kind}: leand cannot simulate that venue (it can: {', '.join(simulable)})")
    cfg = reg.config()
    return VenueBrokerage.factory(lambda instruments, balances: simulate(cfg, instruments, balances))


def _partial_result(engine: Engine, strategy_path: Path | str, source: str, elapsed: float, error: str):
    """What ran until the failure, marked incomplete; just the metadata when even that cannot be summarized."""
    from leand.backtest.result import BacktestResult

    try:
        result = build_result(engine, strategy_path, source, elapsed)
    except Exception:  # e.g. initialize() failed before the account existed
        result = BacktestResult(meta={"strategy": type(engine.strategy).__name__, "strategy_file": str(strategy_path),
                                      "code_sha256": hashlib.sha256(source.encode()).hexdigest(),
                                      "leand_version": __version__},
                                statistics={}, statistic_values={}, equity=[], benchmark=[], daily=[],
                                orders=list(engine.orders.values()), fills=list(engine.fills), logs=list(engine.logs))
    from leand.clock import ns_to_datetime

    result.meta["incomplete"] = True
    result.meta["error"] = error
    result.meta["failed_at"] = ns_to_datetime(engine.clock.now_ns()).isoformat() if engine.clock.now_ns() else ""
    return result


def build_result(engine: Engine, strategy_path: Path | str, source: str, elapsed: float):
    """Collect statistics and records. Wall-clock figures stay out of it: same inputs, same bytes."""
    from leand.backtest.result import BacktestResult
    from leand.stats import compute
    from leand.stats.inputs import StatisticsInput
    from leand.stats.interest_rate import InterestRateProvider
    from leand.stats.trades import build_trades

    rf_path = engine.data_root / "alternative" / "interest-rate" / "usa" / "interest-rate.csv"
    rates = InterestRateProvider.load(rf_path) if rf_path.is_file() else None
    inp = StatisticsInput(
        start_equity=engine.start_equity,
        end_equity=engine.equity_samples[-1][1] if engine.equity_samples else engine.start_equity,
        equity=engine.equity_samples,
        daily=engine.daily_samples,
        transactions=list(engine.portfolio.transactions),
        total_fees=engine.portfolio.total_fees,
        total_orders=len(engine.orders),
        trading_days_per_year=engine.trading_days_per_year,
        account_currency=engine.portfolio.account_currency,
        risk_free=rates,
        custom=engine.custom_statistics,
    )
    stats = compute(inp)
    from leand.clock import ns_to_datetime

    meta = {
        "strategy": type(engine.strategy).__name__,
        "strategy_file": str(strategy_path),
        "code_sha256": hashlib.sha256(source.encode()).hexdigest(),
        "parameters": {k: v for k, v in (engine.parameters or {}).items()},
        "start": engine.start_date.isoformat(),
        "end": engine.end_date.isoformat(),
        "data_first": ns_to_datetime(engine.daily_samples[0][0]).isoformat() if engine.daily_samples else "",
        "data_last": ns_to_datetime(engine.last_data_ns).isoformat() if engine.last_data_ns else "",
        "cash": engine.start_equity,
        "account_currency": engine.portfolio.account_currency,
        "leand_version": __version__,
        "benchmark": str(engine.benchmark),
        "data_points": engine.data_points,
    }
    return BacktestResult(
        meta=meta,
        statistics=stats.formatted,
        statistic_values=stats.values,
        equity=engine.equity_samples,
        benchmark=[(t, b) for t, _, b, _ in engine.daily_samples],
        daily=engine.daily_samples,
        exposure=engine.exposure_samples,
        orders=list(engine.orders.values()),
        fills=list(engine.fills),
        trades=build_trades(engine.fills),
        logs=list(engine.logs),
        charts=engine.charts,
    )


class _Progress:
    """One line on stderr, drawn only on a terminal: simulated date, percent, events/s and time left.

    The engine calls it once per batch of events (not per event); it looks at the wall clock there and redraws
    at most five times a second, so the cost per event is nil."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.t0 = _time.perf_counter()
        self.next_draw = 0.0
        self.width = 0

    def __call__(self, t: int, start: int, end: int, events: int = 0) -> None:
        if not self.enabled or end <= start:
            return
        now = _time.perf_counter()
        if now < self.next_draw:
            return
        self.next_draw = now + 0.2
        frac = max(0.0, min(1.0, (t - start) / (end - start)))
        elapsed = now - self.t0
        rate = events / elapsed if elapsed > 0 else 0.0
        left = _duration(elapsed * (1 - frac) / frac) if frac > 0.002 and elapsed > 0.5 else "--"
        day = datetime.fromtimestamp(t / 1e9, UTC).date().isoformat()
        cells = int(frac * 30)
        line = f"{day} [{'#' * cells}{'.' * (30 - cells)}] {frac * 100:5.1f}%  {rate:,.0f} events/s  {left} left"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def close(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def _duration(s: float) -> str:
    s = int(s + 0.5)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"
