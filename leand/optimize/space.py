"""The parameter space of a sweep: ``--param`` specs, the grid over them and seeded random draws.

``fast=5:50:5`` is an inclusive range (ints when all three are ints, floats otherwise), ``mode=a,b`` a list of
choices and ``x=3`` a fixed value. Values convert as ``leand backtest --param`` converts them (int, then float,
else the text), so a strategy's ``get_parameter`` sees the same types in both commands.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np


class SpaceError(ValueError):
    """A bad ``--param`` spec: the message names the spec and what was expected."""


def convert(text: str) -> Any:
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


class Param(msgspec.Struct, frozen=True):
    name: str
    values: tuple[Any, ...]
    #: ``range`` (lo:hi:step), ``choice`` (a,b,c) or ``fixed``
    kind: str
    lo: float = 0.0
    hi: float = 0.0
    step: float = 0.0

    @property
    def is_int(self) -> bool:
        return all(isinstance(v, int) for v in self.values)


def _range(name: str, text: str) -> Param:
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise SpaceError(f"--param {name}={text}: a range is LO:HI or LO:HI:STEP")
    nums = [convert(p) for p in parts]
    if not all(isinstance(x, int | float) for x in nums):
        raise SpaceError(f"--param {name}={text}: range bounds and step must be numbers")
    lo, hi = nums[0], nums[1]
    step = nums[2] if len(nums) == 3 else 1
    if step <= 0:
        raise SpaceError(f"--param {name}={text}: the step must be positive")
    if hi < lo:
        raise SpaceError(f"--param {name}={text}: HI is below LO")
    count = math.floor((hi - lo) / step + 1e-9) + 1
    if all(isinstance(x, int) for x in nums):
        values: tuple[Any, ...] = tuple(lo + i * step for i in range(count))
    else:
        values = tuple(round(lo + i * step, 12) for i in range(count))
    return Param(name, values, "range", float(lo), float(values[-1]), float(step))


def parse_param(spec: str) -> Param:
    if "=" not in spec:
        raise SpaceError(f"--param wants NAME=VALUES (LO:HI[:STEP], A,B,… or one value), got {spec!r}")
    name, text = (s.strip() for s in spec.split("=", 1))
    if not name or not text:
        raise SpaceError(f"--param {spec!r}: empty name or value")
    if ":" in text:
        return _range(name, text)
    if "," in text:
        values = tuple(convert(v.strip()) for v in text.split(","))
        if len(set(values)) != len(values):
            raise SpaceError(f"--param {spec}: repeated choice")
        return Param(name, values, "choice")
    return Param(name, (convert(text),), "fixed")


class Space:
    """An ordered list of parameters; grid order is the last parameter varying fastest."""

    def __init__(self, params: list[Param]) -> None:
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise SpaceError(f"--param {dup} given twice")
        self.params = params
        self.sizes = [len(p.values) for p in params]

    @classmethod
    def parse(cls, specs: list[str]) -> Space:
        return cls([parse_param(s) for s in specs])

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    @property
    def varying(self) -> list[Param]:
        return [p for p in self.params if len(p.values) > 1]

    @property
    def fixed(self) -> dict[str, Any]:
        return {p.name: p.values[0] for p in self.params if len(p.values) == 1}

    def __len__(self) -> int:
        return math.prod(self.sizes)

    def at(self, index: int) -> dict[str, Any]:
        """The grid point number ``index`` (mixed radix, last parameter fastest)."""
        out: dict[str, Any] = {}
        for p, n in zip(reversed(self.params), reversed(self.sizes)):
            index, i = divmod(index, n)
            out[p.name] = p.values[i]
        return {p.name: out[p.name] for p in self.params}

    def grid(self) -> Iterator[dict[str, Any]]:
        for i in range(len(self)):
            yield self.at(i)

    def random(self, n: int, seed: int) -> list[dict[str, Any]]:
        """``n`` distinct grid points drawn with a seeded generator (all of them, shuffled, if n >= the grid)."""
        total = len(self)
        rng = np.random.default_rng(seed)
        n = min(n, total)
        picks = rng.choice(total, size=n, replace=False) if total < 2**62 else rng.integers(0, total, n)
        return [self.at(int(i)) for i in picks]


def key(params: dict[str, Any]) -> str:
    """Canonical text of a parameter set: the identity of a trial across a resume."""
    return msgspec.json.encode(dict(sorted(params.items()))).decode()
