"""``leand data download``: exchange candles through ccxt into the catalogue.

Pages forward from ``since`` with ``fetch_ohlcv`` (``limit`` candles a request) under ccxt's own rate limiter;
a network failure (dropped connection, timeout, 429/418 rate limiting, 5xx) is retried with exponential
backoff, honouring ``Retry-After`` when the exchange sends one. Rows are committed to the catalogue every
``commit_every`` candles, so an interrupted download keeps what it had; the next run starts after the last
stored candle (resume), and a candle that is stored already is skipped, never duplicated. ``url`` points ccxt
at any Binance-protocol REST root (``leand sim serve`` in the tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from leand.data.catalog.index import Catalog, Dataset, DatasetKey
from leand.data.catalog.ingest import Ingest
from leand.data.catalog.progress import Progress
from leand.data.catalog.validate import Params, Report, Validator
from leand.data.lean import Columns
from leand.data.market_hours import ExchangeHours
from leand.model import Resolution, SecurityType

TIMEFRAMES = {"1s": Resolution.SECOND, "1m": Resolution.MINUTE, "1h": Resolution.HOUR, "1d": Resolution.DAILY}


class DownloadError(RuntimeError):
    """The download cannot go on (bad arguments, no ccxt, retries exhausted): one line, what was kept."""


def parse_when(text: str) -> int:
    """ISO date/time (naive = UTC) or epoch ms -> epoch ms."""
    t = text.strip()
    if t.isdigit():
        return int(t)
    try:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise DownloadError(f"not a time: {text!r} (want ISO-8601 like 2024-01-01 or 2024-01-01T12:00, or epoch ms)"
                            ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def make_exchange(exchange: str, url: str | None) -> Any:
    try:
        import ccxt
    except ImportError:
        raise DownloadError("downloading needs ccxt: pip install 'leand[data]'") from None
    if exchange not in ccxt.exchanges:
        raise DownloadError(f"unknown exchange {exchange!r} (a ccxt id, e.g. binance, kraken, coinbase)")
    options: dict[str, Any] = {"enableRateLimit": True}
    if url:
        options["options"] = {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False,
                              "adjustForTimeDifference": False}
    ex = getattr(ccxt, exchange)(options)
    if url:  # every https REST root onto the given host, the path kept (Binance's layout)
        root = url.rstrip("/")
        api = ex.urls.get("api", {})
        for k, v in list(api.items()):
            if isinstance(v, str) and v.startswith("https://"):
                api[k] = root + "/" + v.split("/", 3)[3]
    return ex


def _hours(market: str, ticker: str) -> ExchangeHours:
    from leand.data.catalog.importer import reference_hours

    for m in (market, "binance", "coinbase"):
        try:
            return reference_hours(SecurityType.CRYPTO, m, ticker)
        except KeyError:
            continue
    raise DownloadError(f"no crypto market hours for {market}")


def download(catalog: Catalog, *, exchange: str, symbol: str, timeframe: str, since_ms: int,
             until_ms: int | None = None, url: str | None = None, market: str | None = None, limit: int = 1000,
             policy: dict[str, str], params: Params | None = None, commit_every: int = 10_000,
             retries: int = 8, backoff_s: float = 1.0, progress: bool | None = None,
             on_page: Callable[[int, int], None] | None = None,
             sleep: Callable[[float], None] = time.sleep) -> tuple[Dataset, Report]:
    """Download [since, until) into the catalogue; returns the dataset and the validation report."""
    res = TIMEFRAMES.get(timeframe)
    if res is None:
        raise DownloadError(f"timeframe {timeframe!r}: leand stores 1s, 1m, 1h or 1d bars")
    if not 1 <= limit <= 5000:
        raise DownloadError(f"--limit {limit}: want 1..5000")
    ex = make_exchange(exchange, url)
    tf_ms = res.value // 1_000_000
    until = until_ms if until_ms is not None else int(time.time() * 1000)  # the present, as the exchange sees it
    key = DatasetKey(SecurityType.CRYPTO, (market or exchange).lower(), symbol.replace("/", "").upper(), "trade_bar",
                     res)
    hours = _hours(key.market, key.symbol)
    start = since_ms - since_ms % tf_ms
    existing = catalog.get(key)
    if existing is not None and existing.last_ns is not None and existing.rows:
        start = max(start, existing.last_ns // 1_000_000 + tf_ms)  # resume after the last stored candle
    source = f"ccxt:{exchange}" + (f"@{url}" if url else "")
    validator = Validator(key.kind, key.resolution, hours, policy, [], params)
    bar = Progress(until - start, f"{key.symbol} {timeframe}", "candles", enabled=progress)
    cursor, pages, got = start, 0, 0
    ing: Ingest | None = None
    pending = 0
    dataset = existing
    report = validator.report

    def commit() -> None:
        nonlocal ing, pending, dataset
        if ing is not None:
            dataset, _ = ing.finish()
        ing, pending = None, 0

    try:
        while cursor < until:
            page = _fetch(ex, symbol, timeframe, cursor, until, limit, retries, backoff_s, sleep, got)
            rows = [r for r in page if cursor <= int(r[0]) < until and r[1] is not None]
            if not rows:
                break
            arr = np.array([r[:6] for r in rows], dtype=np.float64)
            t = arr[:, 0].astype(np.int64) * 1_000_000
            cols = Columns("trade_bar", t, t + res.value, {"open": arr[:, 1], "high": arr[:, 2], "low": arr[:, 3],
                                                           "close": arr[:, 4], "volume": arr[:, 5]})
            if ing is None:
                ing = Ingest(catalog, key, hours, policy, source, params, validator)
            src = ing.add_source(f"{exchange} page {pages + 1}")
            ing.add(cols, src, np.arange(1, len(rows) + 1, dtype=np.int64))
            pages += 1
            got += len(rows)
            pending += len(rows)
            cursor = int(rows[-1][0]) + tf_ms
            bar.update(cursor - start, got)
            if on_page is not None:
                on_page(pages, got)
            if pending >= commit_every:
                commit()
        commit()
    except BaseException:
        # keep every page received before the failure: commit what is pending, then say how to resume
        try:
            commit()
        except Exception:
            if ing is not None:
                ing.abort()
        raise
    finally:
        bar.close()
    if dataset is None:
        dataset = catalog.ensure(key, source)
    return dataset, report


def _fetch(ex: Any, symbol: str, timeframe: str, since: int, until: int, limit: int, retries: int,
           backoff_s: float, sleep: Callable[[float], None], got: int) -> list:
    import ccxt

    delay = backoff_s
    for attempt in range(retries + 1):
        try:
            return ex.fetch_ohlcv(symbol, timeframe, since=since, limit=limit, params={"until": until - 1})
        except ccxt.BadSymbol as e:
            raise DownloadError(f"{symbol} on {ex.id}: {e}") from None
        except (ccxt.NetworkError, ccxt.ExchangeNotAvailable) as e:
            if attempt == retries:
                raise DownloadError(f"{ex.id} {symbol}: giving up after {retries} retries ({type(e).__name__}); "
                                    f"{got:,} candles kept; run the same command again to resume") from None
            wait = delay
            headers = getattr(ex, "last_response_headers", None) or {}
            retry_after = {k.lower(): v for k, v in headers.items()}.get("retry-after")
            if retry_after:
                try:
                    wait = max(wait, float(retry_after))
                except ValueError:
                    pass
            sleep(min(wait, 60.0))
            delay = min(delay * 2, 30.0)
        except ccxt.BaseError as e:
            raise DownloadError(f"{ex.id} {symbol}: {type(e).__name__}: {str(e)[:200]}") from None
    raise AssertionError("unreachable")
