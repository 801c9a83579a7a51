"""Where the shipped sample data and example strategies are, in a checkout and after a plain install.

In a checkout ``leand/_bundled/`` holds symlinks to the repository's ``data/lean`` and ``strategies``; a wheel
carries the files themselves there, so the defaults work from any working directory either way.
"""

from pathlib import Path

_BUNDLED = Path(__file__).resolve().parent / "_bundled"

#: LEAN-format sample data (market-hours and symbol-properties databases, a few symbols).
SAMPLE_DATA = (_BUNDLED / "lean").resolve()
#: The example strategies users copy.
STRATEGIES = (_BUNDLED / "strategies").resolve()
