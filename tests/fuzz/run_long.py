"""The long fuzz run: every target of ``targets.py`` for >= 1M inputs in total, then a report of the count and
of each finding (the shrunk input and the error).

    python tests/fuzz/run_long.py                    # 1,000,000 inputs (about 20 min on one idle core)
    python tests/fuzz/run_long.py --total 20000      # a quick look

Each target runs in two phases: hypothesis (``--hypothesis`` examples: generation that knows the input's
structure, and shrinking of any failure), then a seeded mutation phase that takes the inputs hypothesis
generated as a corpus and mutates them structurally (a number field becomes ``nan``, ``1e308`` or 400 digits,
a string loses or gains bytes, a key disappears...). Hypothesis spends milliseconds per input; mutation spends
the check's own time, which is what makes a million inputs affordable. Both phases call the same check.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fuzz.targets import NASTY_NUMBERS, TARGETS, Target

_EDGE_INTS = [0, -1, 1, 2**31, -(2**31), 2**63 - 1, -(2**63), 2**64 - 1, 10**19, 99999]
_EDGE_FLOATS = [0.0, -0.0, 1e308, -1e308, 5e-324, 1e-9, 0.5, 60000.01]
_EDGE_BYTES = [b"", b"\x00", b"\xff\xfe", b"{", b"}", b"[]", b"null", b'"', b"\n", b",", b"nan", b"1e999"]


def mutate(x: Any, rng: random.Random, depth: int = 0) -> Any:
    """One structural mutation of a generated input (the shapes hypothesis produced: tuples, dicts, lists,
    str, bytes, numbers, booleans, None)."""
    if isinstance(x, bool) or x is None:
        return rng.choice([True, False, None, 0, "", "true"])
    if isinstance(x, int):
        return rng.choice([rng.choice(_EDGE_INTS), x + rng.randint(-3, 3), -x, x * 10**rng.randint(1, 20),
                           str(x)])
    if isinstance(x, float):
        return rng.choice([rng.choice(_EDGE_FLOATS), x * 10**rng.randint(-30, 30), -x, repr(x)])
    if isinstance(x, str):
        r = rng.random()
        if r < 0.3:
            return rng.choice(NASTY_NUMBERS)
        if r < 0.5 and x:
            i = rng.randrange(len(x))
            return x[:i] + rng.choice(["", "\x00", "é", "9" * rng.randint(1, 40), ".", "-", "e", " ", "\n",
                                       "\u2028"]) + x[i + 1:]
        if r < 0.6:
            return x * rng.randint(2, 50)
        if r < 0.7:
            return ""
        return x + rng.choice(NASTY_NUMBERS)
    if isinstance(x, bytes | bytearray):
        b = bytearray(x)
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            if op < 0.3 and b:
                b[rng.randrange(len(b))] = rng.randrange(256)
            elif op < 0.5 and b:
                del b[rng.randrange(len(b))]
            elif op < 0.7:
                i = rng.randint(0, len(b))
                b[i:i] = rng.choice(_EDGE_BYTES)
            elif op < 0.8 and b:
                i, j = sorted(rng.randrange(len(b) + 1) for _ in range(2))
                b[i:i] = b[i:j]
            else:
                i = rng.randint(0, len(b))
                b[i:i] = rng.choice(NASTY_NUMBERS).encode("utf-8", "replace")
        return bytes(b)
    if isinstance(x, tuple):
        if not x:
            return x
        i = rng.randrange(len(x))
        return (*x[:i], mutate(x[i], rng, depth + 1), *x[i + 1:])
    if isinstance(x, list):
        y = list(x)
        r = rng.random()
        if y and r < 0.5:
            i = rng.randrange(len(y))
            y[i] = mutate(y[i], rng, depth + 1)
        elif y and r < 0.7:
            del y[rng.randrange(len(y))]
        elif y:
            y.insert(rng.randrange(len(y) + 1), rng.choice(y))
        return y
    if isinstance(x, dict):
        y = dict(x)
        r = rng.random()
        if y and r < 0.6:
            k = rng.choice(list(y))
            y[k] = mutate(y[k], rng, depth + 1)
        elif y and r < 0.8:
            del y[rng.choice(list(y))]
        elif y:
            k = rng.choice(list(y))
            y[mutate(k, rng, depth + 1) if isinstance(k, str) else k] = rng.choice(list(y.values()))
        return y
    return x


def _typed_like(x: Any, original: Any) -> bool:
    """Mutation may change any nested value's type, but not the input's top-level shape (what the transport
    delivers: a str stays a str, a tuple keeps the type of each member, a target name stays a target name)."""
    if isinstance(original, tuple):
        return (isinstance(x, tuple) and len(x) == len(original) and x[0] == original[0]
                and all(type(a) is type(b) or a is None or b is None for a, b in zip(x, original)))
    return type(x) is type(original)


def run(t: Target, n_total: int, n_hyp: int, seed: int, findings: list[str]) -> int:
    from fuzz.test_fuzz import run_target

    corpus: list[Any] = []
    check = t.check

    def recording(x: Any) -> None:
        corpus.append(x)
        check(x)

    t.check = recording
    start = t.count
    try:
        run_target(t, n_hyp, seed=seed)
    except Exception as e:
        findings.append(f"{t.name} (hypothesis): {type(e).__name__}: {_short(e)}")
        print(f"  finding: {findings[-1]}", file=sys.stderr, flush=True)
    finally:
        t.check = check
    done = t.count - start
    rng = random.Random(seed)
    if not corpus:
        return done
    seen: set[str] = set()
    while done < n_total:
        original = rng.choice(corpus)
        x = original
        for _ in range(rng.randint(1, 3)):
            x = mutate(x, rng)
        if not _typed_like(x, original):
            continue
        done += 1
        t.count += 1
        try:
            check(x)
        except Exception as e:
            key = f"{type(e).__name__}:{str(e)[:80]}"
            if key not in seen:
                seen.add(key)
                findings.append(f"{t.name} (mutation): {type(e).__name__}: {_short(e)}\n    input: {x!r:.300}\n"
                                f"    at: {_where(e)}")
                print(f"  finding: {findings[-1]}", file=sys.stderr, flush=True)  # seen even if the run is cut
            if len(seen) > 20:
                break
    return done


def _short(e: BaseException) -> str:
    return str(e).strip().splitlines()[0][:300] if str(e).strip() else ""


def _where(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    inner = [f for f in tb if "/tests/fuzz/" not in f.filename] or tb
    f = inner[-1]
    return f"{Path(f.filename).name}:{f.lineno} in {f.name}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--total", type=int, default=1_000_000, help="inputs in total, over all targets")
    ap.add_argument("--hypothesis", type=int, default=1000, help="hypothesis examples per target")
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--only", nargs="*", default=None, help="target names")
    ap.add_argument("--count", action="append", default=[], metavar="NAME=N",
                    help="inputs for one target, instead of its share of --total")
    args = ap.parse_args()
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    targets = [t for t in TARGETS if not args.only or t.name in args.only]
    weight = sum(t.long_examples for t in targets)
    findings: list[str] = []
    grand = 0
    t0 = time.perf_counter()
    try:
        for t in targets:
            n = max(args.hypothesis, round(args.total * t.long_examples / weight))
            n = int(dict(c.split("=", 1) for c in args.count).get(t.name, n))
            s0 = time.perf_counter()
            k = run(t, n, min(args.hypothesis, n), args.seed, findings)
            grand += k
            dt = time.perf_counter() - s0
            print(f"{t.name:<22} {k:>9,} inputs  {dt:7.1f} s  {k / dt:8.0f}/s", flush=True)
    finally:
        for t in targets:
            if t.close is not None:
                t.close()
    print(f"{'total':<22} {grand:>9,} inputs  {time.perf_counter() - t0:7.1f} s")
    print(f"findings: {len(findings)}")
    for f in findings:
        print(" -", f)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
