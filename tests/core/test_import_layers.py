"""Imports point one way (ARCHITECTURE.md, "Layers"): model <- core <- domain <- engine <- modes <- edges.

Every module of the package is parsed (``leand/`` and the ``adapters/`` and ``simulator/`` folders that install
inside it) and each ``import`` it makes of another leand module is checked against the layer rules, so a
forbidden dependency fails here instead of creeping back. Imports under ``if TYPE_CHECKING:`` are type-only
back references and may point up (an engine parameter's annotation, say), except where a rule below says
"never", which counts them too. Venues are reached through :mod:`leand.venue`'s registry, which loads their
registration modules by name: that is a lookup, not an import, and the only way in.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: top-level leand module or package -> layer (0 lowest). One not listed counts as a mode (like the backtest or
#: the daemon): place it here when something below imports it.
LAYERS = {
    "model": 0,
    "clock": 1, "venue": 1, "bundled": 1, "scheduling": 1, "tracebacks": 1, "dotnet_random": 1,
    "data": 2, "indicators": 2, "portfolio": 2, "orders": 2, "risk": 2, "stats": 2, "security": 2, "slice": 2,
    "execution": 2, "consolidators": 2, "fees": 2, "brokerage_models": 2, "lean_models": 2,
    # order tickets are made by the order manager (leand.orders) and import only the model and the clock
    "tickets": 2,
    "engine": 3, "strategy": 3, "engine_context": 3, "transactions": 3, "registration": 3,
    "sizing": 3, "algorithm_imports": 3, "framework": 3,
    "backtest": 4, "live": 4, "replay": 4, "report": 4, "ctl": 4, "optimize": 4,
    # the package itself (``from leand import Strategy, __version__``): the API strategies import
    "__init__": 3,
    "cli": 5, "adapters": 5, "simulator": 5, "__main__": 5,
}
NAMES = {0: "model", 1: "core", 2: "domain", 3: "engine", 4: "modes", 5: "edges"}

#: what adapters and the simulator may import from leand besides themselves (type-only imports included)
ADAPTER_MAY_IMPORT = {"model", "venue"}
SIMULATOR_MAY_IMPORT = {"model", "venue", "bundled"}
#: documented exceptions, each with its reason
EXCEPTIONS = {
    # the paper venue is the simulator's account in real time, and it can replay LEAN tick quotes as its feed
    ("adapters.paper", "simulator"),
    ("adapters.paper", "data"),
}
#: single module-to-module exceptions, each with its reason
MODULE_EXCEPTIONS = {
    # the catalogue stores book recordings in leand's .l2d format, whose reader and writer the simulator owns
    ("leand.data.catalog.l2", "leand.simulator.l2file"),
}
#: layers that may use the simulator as a library: the backtest (its in-process exchange) and the CLI
#: (``leand sim serve``, ``leand data l2-from-lean``)
SIMULATOR_USERS = {"backtest", "cli", "simulator"}


def _modules(root: Path) -> list[tuple[str, Path]]:
    out = []
    for base, prefix in ((root / "leand", "leand"), (root / "adapters", "leand.adapters"),
                         (root / "simulator", "leand.simulator")):
        for p in sorted(base.rglob("*.py")):
            rel = p.relative_to(base)
            if rel.parts[0] in ("adapters", "simulator", "_bundled") and base.name == "leand":
                continue  # symlinks to the folders scanned on their own; shipped example strategies
            parts = [prefix, *rel.with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.append((".".join(parts), p))
    return out


def _imports(module: str, path: Path, root: Path) -> list[tuple[str, bool, int]]:
    """(imported leand module, type-only?, line) for every import of a leand module."""
    tree = ast.parse(path.read_text(), str(path))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                for n in ast.walk(sub):
                    type_only.add(id(n))
    out = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names = [".".join([*base, node.module] if node.module else base)]
            elif node.module == "leand":  # a submodule, or a name the package itself defines
                names = [f"leand.{a.name}" if (root / "leand" / a.name).exists()
                         or (root / "leand" / f"{a.name}.py").exists() else "leand" for a in node.names]
            elif node.module:
                names = [node.module]
        for n in names:
            if n == "leand" or n.startswith("leand."):
                out.append((n, id(node) in type_only, node.lineno))
    return out


def _layer(top: str) -> int:
    return LAYERS.get(top, LAYERS["backtest"])


def _unit(module: str) -> str:
    """``leand.adapters.paper.data`` -> ``adapters.paper``; ``leand.live.daemon`` -> ``live``."""
    parts = module.split(".")[1:] or ["__init__"]
    if parts[0] == "adapters" and len(parts) > 1:
        return f"adapters.{parts[1]}"
    return parts[0]


def _violations(root: Path = ROOT) -> list[str]:
    bad = []
    for module, path in _modules(root):
        src = _unit(module)
        src_top = src.split(".")[0]
        for target, type_only, line in _imports(module, path, root):
            dst = _unit(target)
            dst_top = dst.split(".")[0]
            where = f"{path.relative_to(root)}:{line}: {module} imports {target}"
            if dst_top == src_top and dst == src:
                continue
            if (module, target) in MODULE_EXCEPTIONS or (src, dst_top) in EXCEPTIONS or (dst_top == "simulator" and src_top in SIMULATOR_USERS):
                continue
            if dst_top == "adapters" and src_top != "adapters":
                bad.append(f"{where}: never (venues are found through leand.venue's registry)")
            elif src_top == "adapters" and dst_top not in ADAPTER_MAY_IMPORT and not (
                    dst_top == "adapters" and dst == src):
                bad.append(f"{where}: never (an adapter depends on leand's model and venue boundary only)")
            elif src_top == "simulator" and dst_top not in SIMULATOR_MAY_IMPORT:
                bad.append(f"{where}: never (the simulator depends on leand's model only)")
            elif dst_top == "simulator" and src_top not in SIMULATOR_USERS:
                bad.append(f"{where}: never (only the backtest and the CLI use the simulator)")
            elif _layer(src_top) <= LAYERS["engine"] and dst_top in ("backtest", "live", "replay"):
                bad.append(f"{where}: never (the engine and below know no mode)")
            elif not type_only and _layer(dst_top) > _layer(src_top):
                unplaced = "" if dst_top in LAYERS else f" (if {dst_top} belongs lower, place it in LAYERS)"
                bad.append(f"{where}: {NAMES[_layer(src_top)]} may not import {NAMES[_layer(dst_top)]}{unplaced}")
    return bad


def test_imports_point_one_way() -> None:
    bad = _violations()
    assert not bad, "layer violations:\n" + "\n".join(bad)


@pytest.mark.parametrize(("src", "line", "expect"), [
    ("leand/live/x.py", "from leand.adapters.paper.data import SyntheticQuotes", "registry"),
    ("leand/engine.py", "from leand.backtest.runner import run_backtest", "know no mode"),
    ("leand/engine.py", "from leand.simulator.book import Book", "simulator"),
    ("adapters/paper/x.py", "from leand.live.journal import Journal", "venue boundary"),
    ("simulator/x.py", "from leand.engine import Engine", "model only"),
    ("leand/model/x.py", "from leand.clock import LiveClock", "model may not import core"),
])
def test_the_checker_catches_each_rule(tmp_path: Path, src: str, line: str, expect: str) -> None:
    """Plant one bad import in an empty copy of the layout and see it reported."""
    fake = tmp_path / src
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text(line + "\n")
    bad = _violations(tmp_path)
    assert any(expect in b for b in bad), bad
