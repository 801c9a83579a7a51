"""The HTML report: statistics equal the result JSON, every figure is there, and a real headless Chromium
renders it without console errors into a non-blank screenshot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from leand.report.html import PLOTS

ROOT = Path(__file__).resolve().parents[2]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stats: dict[str, str] = {}
        self.sections: dict[str, int] = {}
        self._in_stats = False
        self._cell: list[str] = []
        self._section: str | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id") == "statistics":
            self._in_stats = True
        if tag == "section" and a.get("id", "").startswith("plot-"):
            self._section = a["id"][5:]
            self.sections[self._section] = 0
        if tag == "svg" and self._section:
            self.sections[self._section] += 1
        if self._in_stats and tag == "div" and a.get("id") != "statistics":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = None
            self._in_stats = False
        if self._in_stats and tag == "div" and len(self._cell) == 2:
            self.stats[self._cell[0]] = self._cell[1]
            self._cell = []

    def handle_data(self, data):
        if self._in_stats and data.strip():
            self._cell.append(data.strip())


def backtest(tmp: Path, strategy: str, *extra: str) -> Path:
    out = tmp / strategy
    p = subprocess.run([sys.executable, "-m", "leand.cli", "backtest", str(ROOT / "strategies" / f"{strategy}.py"),
                        "--out", str(out), "--report", *extra], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert f"report: {out / 'report.html'}" in p.stdout
    return out


@pytest.fixture(scope="module")
def daily(tmp_path_factory) -> Path:
    return backtest(tmp_path_factory.mktemp("r"), "sma_crossover")


def test_statistics_in_html_equal_the_result_json(daily: Path) -> None:
    c = _Collect()
    c.feed((daily / "report.html").read_text())
    expected = json.loads((daily / "statistics.json").read_text())["statistics"]
    assert c.stats == expected


def test_every_figure_is_present_as_inline_svg(daily: Path) -> None:
    c = _Collect()
    c.feed((daily / "report.html").read_text())
    assert sorted(c.sections) == sorted(PLOTS)
    assert all(n == 1 for n in c.sections.values()), c.sections


def test_self_contained_and_tables(daily: Path) -> None:
    text = (daily / "report.html").read_text()
    assert not re.search(r"""(src|href)=["']https?://""", text)  # nothing fetched from the network
    meta = json.loads((daily / "meta.json").read_text())
    assert meta["code_sha256"][:12] in text and 'id="trades"' in text and 'id="orders"' in text
    assert text.count("<tr>") > 95  # 95 orders plus trades, paginated in the browser


def test_one_day_intraday_report(tmp_path: Path) -> None:
    out = backtest(tmp_path, "buy_and_hold", "--end", "2013-10-07")
    c = _Collect()
    c.feed((out / "report.html").read_text())
    assert sorted(c.sections) == sorted(PLOTS)


def test_leand_report_rebuilds_from_a_result_folder(daily: Path) -> None:
    (daily / "report.html").unlink()
    p = subprocess.run([sys.executable, "-m", "leand.cli", "report", str(daily)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0 and (daily / "report.html").is_file()
    p = subprocess.run([sys.executable, "-m", "leand.cli", "report", str(daily / "nope")], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 2 and "not a result folder" in p.stderr


def test_headless_chromium_renders_without_console_errors(daily: Path, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    shot = tmp_path / "report.png"
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    url = (daily / "report.html").as_uri()
    p = subprocess.run([*base, f"--screenshot={shot}", "--window-size=1280,2000", url], capture_output=True,
                       text=True, timeout=120)
    console = [line for line in p.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    assert shot.is_file()
    import matplotlib.image

    img = matplotlib.image.imread(shot)
    assert img.shape[0] > 500 and float(np.std(img)) > 0.05  # not a blank page
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    assert 'class="pager"' in dom  # the paging script ran
