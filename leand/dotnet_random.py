""".NET's ``System.Random(seed)``, number for number, for LEAN algorithms that draw from it.

A LEAN Python algorithm gets ``Random`` from ``System`` (``from AlgorithmImports import *``); a port that
draws the same numbers must reproduce .NET's generator, not Python's. A seeded ``System.Random`` is Knuth's
subtractive generator as .NET implements it (``Net5CompatSeedImpl``, unchanged since .NET Framework): a
56-entry table filled from the seed, then ``x[n] = x[n-55] - x[n-24] mod (2**31 - 1)``.
"""

from __future__ import annotations

_MBIG = 2_147_483_647  # int.MaxValue
_MSEED = 161_803_398
_INT_MIN = -2_147_483_648


class DotNetRandom:
    """``System.Random(seed)``: ``next()``, ``next(max)``, ``next(min, max)``, ``next_double()``."""

    __slots__ = ("_inext", "_inextp", "_seed_array")

    def __init__(self, seed: int = 0) -> None:
        seed = int(seed)
        if not _INT_MIN <= seed <= _MBIG:
            raise ValueError(f"Random seed {seed} is not a 32-bit integer")
        a = [0] * 56
        subtraction = _MBIG if seed == _INT_MIN else abs(seed)
        mj = _MSEED - subtraction
        a[55] = mj
        mk = 1
        ii = 0
        for _ in range(1, 55):
            ii += 21
            if ii >= 55:
                ii -= 55
            a[ii] = mk
            mk = mj - mk
            if mk < 0:
                mk += _MBIG
            mj = a[ii]
        for _ in range(4):
            for i in range(1, 56):
                n = i + 30
                if n >= 55:
                    n -= 55
                a[i] -= a[1 + n]
                if a[i] < 0:
                    a[i] += _MBIG
        self._seed_array = a
        self._inext = 0
        self._inextp = 21

    def _internal_sample(self) -> int:
        a = self._seed_array
        i = self._inext + 1
        if i >= 56:
            i = 1
        p = self._inextp + 1
        if p >= 56:
            p = 1
        r = a[i] - a[p]
        if r == _MBIG:
            r -= 1
        if r < 0:
            r += _MBIG
        a[i] = r
        self._inext, self._inextp = i, p
        return r

    def _sample(self) -> float:
        return self._internal_sample() * (1.0 / _MBIG)

    def _large_range_sample(self) -> float:
        r = self._internal_sample()
        if self._internal_sample() % 2 == 0:
            r = -r
        return (r + (_MBIG - 1.0)) / (2.0 * _MBIG - 1.0)

    def next(self, a: int | None = None, b: int | None = None) -> int:
        """``Next()``: [0, int.MaxValue); ``Next(max)``: [0, max); ``Next(min, max)``: [min, max)."""
        if a is None:
            return self._internal_sample()
        if b is None:
            if a < 0:
                raise ValueError(f"Random.next: max {a} is negative")
            return int(self._sample() * a)
        lo, hi = int(a), int(b)
        if lo > hi:
            raise ValueError(f"Random.next: min {lo} is greater than max {hi}")
        span = hi - lo
        if span <= _MBIG:
            return int(self._sample() * span) + lo
        return int(self._large_range_sample() * span) + lo

    def next_double(self) -> float:
        """``NextDouble()``: [0.0, 1.0)."""
        return self._sample()

    # LEAN's Python API reaches .NET methods under both spellings
    Next = next
    NextDouble = next_double
