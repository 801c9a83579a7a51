"""Recorded order books (``.l2d``, see :mod:`leand.simulator.l2file`) as a backtest data stream: records become
``BookDelta`` / ``BookSnapshot`` / ``TradeTick`` events, streamed a chunk at a time and merged by time with
every other subscription."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from pathlib import Path

import numpy as np

from leand.model import BookDelta, BookLevel, BookSnapshot, Symbol, TradeTick
from leand.simulator.l2file import DELTA, SNAP_END, SNAP_LEVEL, SNAP_START, TRADE, iter_chunks, read_header


def l2_stream(symbol: Symbol, path: Path | Sequence[Path]) -> Callable[[int, int], Iterator[tuple[np.ndarray, list]]]:
    """A factory for the feed: ``(start_ns, end_ns) -> chunks`` of events with ``start < time <= end``, from one
    recording or several in time order (a catalogue's day files). The files are checked now, so a bad path or
    header fails before the run starts."""
    paths = [Path(path)] if isinstance(path, str | Path) else [Path(p) for p in path]
    for p in paths:
        read_header(p)

    def records() -> Iterator[np.ndarray]:
        for p in paths:
            yield from iter_chunks(p)

    def chunks(start_ns: int, end_ns: int) -> Iterator[tuple[np.ndarray, list]]:
        snap: BookSnapshot | None = None
        for rec in records():
            t = rec["time"]
            rec = rec[(t > start_ns) & (t <= end_ns)]
            if not len(rec):
                if len(t) and t[0] > end_ns:
                    return
                continue
            kind = rec["kind"]
            if bool((kind == DELTA).all()):  # the common case: a run of deltas, built in C
                n = len(rec)
                events = list(map(BookDelta, repeat(symbol, n), rec["time"].tolist(), rec["seq"].tolist(),
                                  (rec["side"] > 0).tolist(), rec["price"].tolist(), rec["size"].tolist()))
                yield rec["time"], events
                continue
            times: list[int] = []
            mixed: list[BookDelta | BookSnapshot | TradeTick] = []
            for tt, sq, k, sd, px, sz in zip(rec["time"].tolist(), rec["seq"].tolist(), kind.tolist(),
                                             rec["side"].tolist(), rec["price"].tolist(), rec["size"].tolist()):
                if k == DELTA:
                    mixed.append(BookDelta(symbol, tt, sq, sd > 0, px, sz))
                elif k == TRADE:
                    mixed.append(TradeTick(symbol, tt, px, sz))
                elif k == SNAP_START:
                    snap = BookSnapshot(symbol, tt, sq, [], [])
                    continue
                elif k == SNAP_LEVEL and snap is not None:
                    (snap.bids if sd > 0 else snap.asks).append(BookLevel(px, sz))
                    continue
                elif k == SNAP_END and snap is not None:
                    snap.time = tt
                    mixed.append(snap)
                    snap = None
                else:
                    continue
                times.append(tt)
            if mixed:
                yield np.asarray(times, dtype=np.int64), mixed
    return chunks
