"""leand data download against `leand sim serve` in a real subprocess on loopback: the stored candles equal
the server's klines; a dropped connection and a 429 mid-download are retried; an interrupted download resumes
without duplicates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from leand.data.catalog import Catalog
from leand.data.catalog.download import DownloadError, download, parse_when
from leand.data.catalog.index import DatasetKey
from leand.data.catalog.store import read_block, unpack
from leand.data.catalog.validate import parse_policies
from leand.model import Resolution, SecurityType
from leand.simulator.binance.config import default_account

pytest.importorskip("ccxt")

ROOT = Path(__file__).resolve().parents[2]
SINCE, UNTIL = "2024-01-01", "2024-01-03"
KEY = DatasetKey(SecurityType.CRYPTO, "binance", "BTCUSDT", "trade_bar", Resolution.MINUTE)
API_KEY = default_account().api_key


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    cfg = tmp_path_factory.mktemp("sim") / "sim.toml"
    cfg.write_text('port = 0\n[generator]\nrate_hz = 0\nwarmup_steps = 5\nhistory_minutes = 3000\n'
                   'history_end = "2024-01-03T02:00:00Z"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "leand.cli", "sim", "serve", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe drained
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def faults(url: str, body: dict) -> dict:
    req = urllib.request.Request(url + "/_sim/faults", data=json.dumps(body).encode(), method="POST",
                                 headers={"X-MBX-APIKEY": API_KEY, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise AssertionError(f"POST /_sim/faults {body}: {e.code} {e.read()!r}") from None


def server_klines(url: str) -> np.ndarray:
    out, start, end = [], parse_when(SINCE), parse_when(UNTIL)
    while start < end:
        q = f"{url}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={start}&endTime={end - 1}&limit=1000"
        with urllib.request.urlopen(q, timeout=10) as r:
            page = json.loads(r.read())
        if not page:
            break
        out += [[float(x) for x in k[:6]] for k in page]
        start = page[-1][0] + 60_000
    return np.array(out)


def stored(root: Path) -> np.ndarray:
    with Catalog(root) as cat:
        ds = cat.get(KEY)
        parts = [unpack("trade_bar", read_block(cat.path_of(KEY, d))) for d in sorted(cat.day_files(ds))]
    t = np.concatenate([p.time for p in parts]) // 1_000_000
    cols = [np.concatenate([p.cols[k] for p in parts]) for k in ("open", "high", "low", "close", "volume")]
    return np.column_stack([t.astype(np.float64), *cols])


def run_download(root: Path, url: str, **kw):
    with Catalog(root, create=True) as cat:
        return download(cat, exchange="binance", symbol="BTC/USDT", timeframe="1m", since_ms=parse_when(SINCE),
                        until_ms=parse_when(UNTIL), url=url, policy=parse_policies([]), progress=False, **kw)


def test_cli_download_equals_the_servers_klines(sim: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run([sys.executable, "-m", "leand.cli", "data", "download", "--catalog", str(tmp_path / "c"),
                        "--exchange", "binance", "--symbol", "BTC/USDT", "--timeframe", "1m", "--since", SINCE,
                        "--until", UNTIL, "--url", sim, "--limit", "500"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "2,880 stored" in r.stdout and "verdict: clean" in r.stdout
    assert r.stderr == ""  # no progress bar when stderr is not a terminal
    want = server_klines(sim)
    assert len(want) == 2880
    assert np.array_equal(stored(tmp_path / "c"), want)


def test_dropped_connection_and_429_mid_download_are_retried(sim: str, tmp_path: Path) -> None:
    sleeps: list[float] = []

    def on_page(pages: int, _got: int) -> None:
        if pages == 2:
            faults(sim, {"drop_http": 1})
        if pages == 4:
            faults(sim, {"http_status": 429, "http_count": 2})

    ds, report = run_download(tmp_path / "c", sim, limit=300, on_page=on_page, sleep=sleeps.append)
    state = faults(sim, {})
    assert state["drop_http"] == 0 and state["http_count"] == 0  # every armed fault was hit
    assert len(sleeps) == 3 and max(sleeps) >= 1.0  # the 429's Retry-After: 1 is honoured
    assert report.clean and ds.rows == 2880
    assert np.array_equal(stored(tmp_path / "c"), server_klines(sim))


def test_interrupted_download_resumes_without_duplicates(sim: str, tmp_path: Path) -> None:
    def stop(pages: int, _got: int) -> None:
        if pages == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_download(tmp_path / "c", sim, limit=400, commit_every=800, on_page=stop)
    assert len(stored(tmp_path / "c")) == 1200  # every page received is kept

    # the exchange keeps failing: retries run out, what came is kept, the message says how to resume
    def outage(pages: int, _got: int) -> None:
        if pages == 1:
            faults(sim, {"http_status": 503, "http_count": 50})

    with pytest.raises(DownloadError, match="run the same command again to resume"):
        run_download(tmp_path / "c", sim, limit=400, retries=2, on_page=outage, sleep=lambda s: None)
    faults(sim, {"http_status": 0})
    partial = stored(tmp_path / "c")
    assert len(partial) == 1600

    ds, report = run_download(tmp_path / "c", sim, limit=400)
    got = stored(tmp_path / "c")
    assert ds.rows == 2880 and len(np.unique(got[:, 0])) == 2880
    assert report.rows_in == 1280 and report.rows_skipped == 0  # started after the last stored candle
    assert np.array_equal(got, server_klines(sim))
    assert not list((tmp_path / "c").rglob(".staging-*"))


def test_progress_bar_draws_only_on_a_terminal() -> None:
    import io

    from leand.data.catalog.progress import Progress

    quiet = io.StringIO()
    p = Progress(100, "BTCUSDT 1m", stream=quiet)  # StringIO is not a TTY
    p.update(50, 50)
    p.close()
    assert quiet.getvalue() == ""
    tty = io.StringIO()
    p = Progress(100, "BTCUSDT 1m", stream=tty, enabled=True)
    p.update(100, 1000)
    p.close()
    out = tty.getvalue()
    assert "BTCUSDT 1m" in out and "100.0%" in out and "1,000 candles" not in out and "1,000 rows" in out
    assert out.endswith("\n")
