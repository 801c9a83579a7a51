"""The wheel installs like a package: built from a copy of the checkout, installed into a fresh virtual
environment, ``leand backtest`` and ``leand run --for 5`` work from an empty directory, and nothing generic
(``adapters``, ``simulator``, ``data``, ``strategies``) lands at the top of site-packages.

Dependencies are not downloaded again: the fresh venv gets the wheel alone (``--no-deps``) and a ``.pth`` line
naming this interpreter's site-packages, as a plain path, so numpy & co. import from there while this
environment's own (editable) leand does not.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# .mypy_cache: tests/test_typecheck.py may be writing it at the same moment (pytest -n 2), and it is not the package
SKIP_DIRS = {".git", ".venv", "build", "dist", "results", "state", "out", ".pytest_cache", ".ruff_cache",
             ".mypy_cache", ".hypothesis", "__pycache__", "tests", "benchmarks"}
GENERIC = {"adapters", "simulator", "data", "strategies", "tests", "benchmarks", "examples"}

pytestmark = pytest.mark.slow


def _have_setuptools() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


def _copy_checkout(dst: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or n.endswith(".egg-info")}

    shutil.copytree(ROOT, dst, symlinks=True, ignore=ignore)


def _run(cmd: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run with a clean environment: no PYTHONPATH pointing back at this checkout."""
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                       env={"PATH": str(Path(cmd[0]).parent) + ":/usr/bin:/bin", "HOME": str(cwd),
                            "LANG": "C.UTF-8"})
    assert r.returncode == 0, f"{' '.join(cmd)} exited {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    return r


def _purelib(env: Path) -> Path:
    return Path(_run([str(env / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     env).stdout.strip())


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    if not _have_setuptools():
        pytest.skip("building the wheel offline needs setuptools>=77 in this environment (the [test] extra)")
    tmp = tmp_path_factory.mktemp("pkg")
    src = tmp / "src"
    _copy_checkout(src)
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
          str(src)], tmp, timeout=300)
    wheels = list(dist.glob("leand-*.whl"))
    assert len(wheels) == 1
    names = zipfile.ZipFile(wheels[0]).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops - {"leand"} == {w for w in tops if w.endswith(".dist-info")}, sorted(tops)
    env = tmp / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env)
    py = env / "bin" / "python"
    purelib = _purelib(env)
    ours = [p for p in {sysconfig.get_paths()["purelib"], *site.getsitepackages()} if Path(p).is_dir()]
    (purelib / "zz_leand_test_deps.pth").write_text("\n".join(sorted(ours)) + "\n")  # plain paths: no .pth inside
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q",
          str(wheels[0])], tmp, timeout=300)
    return env


def test_wheel_puts_only_leand_in_site_packages(installed):
    py = installed / "bin" / "python"
    purelib = _purelib(installed)
    present = {p.name for p in purelib.iterdir()}
    assert not present & GENERIC, sorted(present & GENERIC)
    assert "leand" in present
    where = _run([str(py), "-c", "import leand, leand.simulator.book, leand.adapters, leand.bundled as b; "
                  "print(leand.__file__); print(b.SAMPLE_DATA); print(b.STRATEGIES)"], installed).stdout.split()
    for w in where:
        assert w.startswith(str(purelib)), where  # the wheel's copy, not this checkout
    assert (Path(where[1]) / "market-hours" / "market-hours-database.json").is_file()
    assert (Path(where[2]) / "sma_crossover.py").is_file() and not Path(where[2]).is_symlink()


def test_installed_commands_work_from_an_empty_directory(installed, tmp_path):
    leand = str(installed / "bin" / "leand")
    strategy = _purelib(installed) / "leand" / "_bundled" / "strategies" / "sma_crossover.py"
    work = tmp_path / "empty"
    work.mkdir()
    r = _run([leand, "backtest", str(strategy), "--json"], work)
    assert '"Total Orders"' in r.stdout
    assert (work / "results" / "sma_crossover" / "statistics.json").is_file()
    r = _run([leand, "run", "--for", "5"], work, timeout=120)
    assert (work / "state" / "journal.sqlite").is_file(), r.stdout + r.stderr
