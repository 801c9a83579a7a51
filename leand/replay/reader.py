"""Read a recorded session's frames in order, across segments; a truncated final frame ends the stream with
a warning instead of an error (that is what a crash leaves behind)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import msgspec

from leand.replay.recorder import SEGMENT_PREFIX, SEGMENT_SUFFIX
from leand.replay.records import Frame

_LEN = struct.Struct("<I")


class RecordingError(ValueError):
    pass


def segments(session_dir: Path) -> list[Path]:
    return sorted(session_dir.glob(f"{SEGMENT_PREFIX}*{SEGMENT_SUFFIX}"))


def read_frames(session_dir: Path, warnings: list[str] | None = None) -> Iterator[Frame]:
    segs = segments(session_dir)
    if not segs:
        raise RecordingError(f"{session_dir}: no recording segments")
    dec = msgspec.msgpack.Decoder(Frame)
    for seg in segs:
        data = seg.read_bytes()
        view = memoryview(data)  # frames decoded from slices of it, not from copies of their bytes
        pos, n = 0, len(data)
        while pos < n:
            if pos + 4 > n:
                _warn(warnings, f"{seg.name}: truncated frame header at byte {pos} (a crash?): stopping here")
                return
            (size,) = _LEN.unpack_from(data, pos)
            if pos + 4 + size > n:
                _warn(warnings, f"{seg.name}: truncated frame at byte {pos} ({n - pos - 4} of {size} bytes; a "
                                "crash?): stopping here")
                return
            try:
                yield dec.decode(view[pos + 4:pos + 4 + size])
            except msgspec.DecodeError as e:
                _warn(warnings, f"{seg.name}: undecodable frame at byte {pos}: {e}: stopping here")
                return
            pos += 4 + size


def _warn(warnings: list[str] | None, msg: str) -> None:
    if warnings is not None:
        warnings.append(msg)
    import sys

    print(f"warning: {msg}", file=sys.stderr)
