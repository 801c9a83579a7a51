"""The daemon's deferring recorder: frames kept until drained (after the callback that made them), then written
in the order they were made, exactly what an immediate recorder writes."""

from __future__ import annotations

from pathlib import Path

from leand.model import QuoteTick, SecurityType, Symbol
from leand.replay.reader import read_frames
from leand.replay.recorder import DEFER_MAX, Recorder
from leand.replay.records import MarketData, Outbound, Slice

BTC = Symbol("BTCUSD", SecurityType.CRYPTO, "coinbase")


def _frames(n: int) -> list:
    out: list = []
    for i in range(n):
        out.append(MarketData(i, QuoteTick(BTC, i, 100.0 + i, 1.0, 101.0 + i, 1.0)))
        out.append(Slice(i, "s", i))
        if i % 7 == 0:
            out.append(Outbound(recv_ns=i, client_order_id=f"s-1-{i}", kind="submit"))
    return out


def test_deferred_frames_are_written_in_order_on_drain_sync_and_close(tmp_path: Path) -> None:
    frames = _frames(500)
    plain = Recorder(tmp_path / "a", "s", fsync="never")
    for f in frames:
        plain.write(f)
    plain.close()
    rec = Recorder(tmp_path / "b", "s", fsync="never", deferred=True)
    for f in frames[:5]:
        rec.write(f)
    assert rec.frames == 0  # kept, not encoded
    rec.drain()
    assert rec.frames == 5
    for f in frames[5:]:  # past DEFER_MAX: encoded on the way, the rest at close
        rec.write(f)
    assert DEFER_MAX <= rec.frames < len(frames)
    rec.close()
    got = list(read_frames(tmp_path / "b" / "s"))
    assert got == list(read_frames(tmp_path / "a" / "s")) == frames
    assert rec.frames == len(frames)


def test_flush_if_due_drains_first(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, "s", fsync="interval", fsync_interval_s=0.0, background_sync=True, deferred=True)
    for f in _frames(3):
        rec.write(f)
    assert rec.flush_if_due() is not None
    assert len(list(read_frames(tmp_path / "s"))) == rec.frames == 7
    rec.close()


def _segment_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.glob("segment-*")))


def test_a_drain_with_a_secret_masks_it_exactly_as_frame_by_frame_writes(tmp_path: Path) -> None:
    from leand.live import secrets

    secret = "sEcReT-key-0123456789abcdef"
    frames = _frames(40)
    frames.insert(17, Outbound(recv_ns=5, client_order_id=secret, kind="submit"))
    secrets.register(secret)
    try:
        plain = Recorder(tmp_path / "a", "s", fsync="never")
        for f in frames:
            plain.write(f)
        plain.close()
        rec = Recorder(tmp_path / "b", "s", fsync="never", deferred=True)
        for f in frames:
            rec.write(f)
        rec.drain()
        rec.close()
    finally:
        secrets._KNOWN.discard(secret)
    written = _segment_bytes(tmp_path / "b" / "s")
    assert secret.encode() not in written and b"*" * len(secret) in written
    assert written == _segment_bytes(tmp_path / "a" / "s")
    assert rec.frames == plain.frames == len(frames) and rec.bytes == plain.bytes


async def test_drain_soon_writes_once_the_callback_returned(tmp_path: Path) -> None:
    import asyncio

    rec = Recorder(tmp_path, "s", fsync="never", deferred=True)
    frames = _frames(10)
    for f in frames[:5]:
        rec.write(f)
        rec.drain_soon()
    assert rec.frames == 0  # nothing encoded inside the callback
    await asyncio.sleep(0)
    assert rec.frames == 5
    for f in frames[5:]:
        rec.write(f)
        rec.drain_soon()
    rec.close()  # drains itself; the drain still due finds nothing
    await asyncio.sleep(0)
    assert list(read_frames(tmp_path / "s")) == frames
