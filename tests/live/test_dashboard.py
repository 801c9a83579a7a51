"""The live dashboard in Debian's headless Chromium, driven over the DevTools protocol."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from cdp import Browser, find_chromium
from daemon_util import Daemon, ctl, rows, write_config
from http_util import free_port

pytestmark = pytest.mark.slow
TOKEN = "dashboard-test-token-0123456789"


def test_dashboard_shows_live_state_and_halts(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    port = free_port()
    d = Daemon(write_config(tmp_path, extra=f'equity_interval_s = 0.5\n[http]\nlisten = "127.0.0.1:{port}"\n'),
               env={"LEAND_HTTP_TOKEN": TOKEN})
    browser = None
    try:
        d.wait_ready()
        (tmp_path / "profile").mkdir()
        browser = Browser(chromium, tmp_path / "profile")
        browser.call("Page.navigate", url=f"http://127.0.0.1:{port}/#token={TOKEN}")
        # the strategy and a fill appear within a few seconds, live
        browser.wait("document.querySelector('#strategies tbody').innerText.includes('scalper')", 10)
        browser.wait("document.querySelectorAll('#fills tbody td.buy, #fills tbody td.sell').length > 0", 15)
        assert browser.eval("location.hash") == ""  # the token left the address bar
        assert browser.eval("document.getElementById('trading-state').textContent") == "trading: active"
        browser.wait("document.querySelectorAll('#equity polyline').length > 0", 10)
        if os.environ.get("LEAND_DASHBOARD_SCREENSHOT"):  # refresh docs/dashboard.png: let the curve grow first
            browser.wait("document.querySelector('#equity polyline.account') && "
                         "document.querySelector('#equity polyline.account').points.length > 25", 30)
            browser.screenshot(Path(os.environ["LEAND_DASHBOARD_SCREENSHOT"]))
        shot = tmp_path / "dashboard.png"
        browser.screenshot(shot)
        assert shot.stat().st_size > 10_000
        # Halt: the daemon halts, ctl agrees, the command is journaled as from the dashboard's peer
        browser.eval("document.getElementById('halt').click()")
        browser.wait("document.getElementById('trading-state').textContent === 'trading: halted'", 10)
        code, out, _ = ctl(d.sock, "--json", "status")
        assert code == 0 and json.loads(out)["trading_state"] == "halted"
        audit = rows(d.state / "journal.sqlite", "SELECT who, command, args FROM ctl_audit")
        assert audit[-1][:2] == ("http 127.0.0.1", "halt") and "dashboard" in audit[-1][2]
        assert browser.eval("document.getElementById('halt').disabled") is True
        assert browser.errors() == []
        # a wrong token: the page asks again instead of showing anything
        browser.call("Page.navigate", url=f"http://127.0.0.1:{port}/#token=wrong-token-wrong-token")
        browser.wait("!document.getElementById('login').hidden && "
                     "document.getElementById('login-error').textContent.includes('refused')", 10)
    finally:
        if browser is not None:
            browser.close()
        if d.proc.poll() is None:
            d.stop()
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)
