"""Make ``data/``: a small LEAN-format recording of BAC tick quotes and trades on 2013-10-07, cut from the
shipped sample (``leand.bundled.SAMPLE_DATA``: LEAN's own data, see NOTICE): the last minutes before the open,
the first twenty minutes of the session and the half hour around the close, thinned to keep it small.

    python tests/parity/make_recording.py
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from leand.bundled import SAMPLE_DATA

HERE = Path(__file__).resolve().parent
#: (from, to) in hours after midnight New York time, and keep every n-th row
WINDOWS = ((9.35, 9.5, 3), (9.5, 9.85, 11), (15.6, 16.15, 39))  # odd: quote rows come in bid/ask pairs


def cut(kind: str) -> None:
    src = SAMPLE_DATA / "equity" / "usa" / "tick" / "bac" / f"20131007_{kind}.zip"
    with zipfile.ZipFile(src) as z:
        name = z.namelist()[0]
        rows = z.read(name).decode().splitlines()
    keep = []
    for lo, hi, every in WINDOWS:
        inside = [r for r in rows if lo * 3_600_000 <= int(r.split(",", 1)[0]) < hi * 3_600_000]
        keep += inside[::every]
    out = HERE / "data" / "equity" / "usa" / "tick" / "bac" / f"20131007_{kind}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(name, date_time=(2021, 2, 26, 6, 4, 0))  # fixed: the same bytes every time
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, "\n".join(keep) + "\n")
    out.write_bytes(buf.getvalue())
    print(f"{out.relative_to(HERE)}: {len(keep)} rows")


if __name__ == "__main__":
    cut("quote")
    cut("trade")
