"""The package type-checks: mypy over ``leand`` (adapters and simulator included, as installed), configured in
pyproject.toml's ``[tool.mypy]``, finds nothing. A real bug it flags gets fixed, not ignored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_errors() -> None:
    pytest.importorskip("mypy", reason="mypy comes with the test extra: pip install -e '.[test]'")
    p = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, "mypy:\n" + (p.stdout + p.stderr)[-6000:]
