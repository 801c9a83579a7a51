"""Name where an exception came from in a user's file, for one-line error messages."""

from __future__ import annotations

import traceback
from pathlib import Path


def origin(exc: BaseException, prefer: str | Path | None = None) -> str:
    """``file:line`` of the deepest frame in ``prefer`` (a strategy file), else of the deepest frame at all.

    A strategy's bug is reported where the user can fix it, not inside leand's own code that called it.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    if not frames:
        return str(prefer) if prefer else "?"
    if prefer is not None:
        want = str(Path(prefer).resolve())
        mine = [f for f in frames if str(Path(f.filename).resolve()) == want]
        if mine:
            return f"{mine[-1].filename}:{mine[-1].lineno}"
    return f"{frames[-1].filename}:{frames[-1].lineno}"


def one_line(exc: BaseException, prefer: str | Path | None = None) -> str:
    """``file:line: Type: message`` on one line (newlines in the message folded)."""
    msg = " ".join(str(exc).split())
    return f"{origin(exc, prefer)}: {type(exc).__name__}{': ' + msg if msg else ''}"
