"""A quote's fills are pushed even when the daemon stops on that quote.

The paper venue's data client matches each quote against the book (the venue commits the fills) and yields the
quote before pushing the fills to the execution client's report channel, where the daemon journals them. The
daemon's feed stops by returning from its ``async for`` when the stop event is set: before, the stream was left
suspended at that ``yield`` and the quote's fills were never pushed, so a clean stop left a fill the venue has
and the journal lacks (``lost_fills: [77]`` in test_every_kill_point_is_recovered under load; the next start
would have recovered it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from leand.adapters.paper.data import PaperDataClient
from leand.live.daemon import Daemon


class Quotes:
    """Two quotes, then the stream would wait forever (as a live feed does)."""

    async def stream(self) -> AsyncIterator[Any]:
        yield "q1"
        yield "q2"
        await asyncio.Event().wait()


class Venue:
    """The execution client's side: each quote 'fills' (the venue has committed it); pushed reports kept."""

    def __init__(self) -> None:
        self.matched: list[str] = []
        self.pushed: list[str] = []

    def match(self, q: Any) -> list[str]:
        self.matched.append(q)
        return [f"fill of {q}"]

    def push(self, reports: list[str]) -> None:
        self.pushed.extend(reports)


def test_stream_pushes_the_last_quotes_fills_when_closed_there() -> None:
    venue = Venue()
    client = PaperDataClient(Quotes(), venue)  # type: ignore[arg-type]

    async def run() -> None:
        stream = client.stream()
        assert await stream.__anext__() == "q1"
        await stream.aclose()  # the consumer stops on q1

    asyncio.run(run())
    assert venue.matched == ["q1"] and venue.pushed == ["fill of q1"]


def test_daemon_feed_stopping_on_a_quote_pushes_its_fills() -> None:
    """Daemon._feed returns on the first event (on_event False: the stop event is set); the stream is closed
    then, so the fills of that quote reach the report channel before the daemon goes on to stop."""
    venue = Venue()
    v = SimpleNamespace(data=PaperDataClient(Quotes(), venue))  # type: ignore[arg-type]
    seen: list[Any] = []

    def consumer(_v: Any) -> Any:
        def on_event(q: Any) -> bool:
            seen.append(q)
            return False
        return on_event

    async def run() -> None:
        await Daemon._feed(SimpleNamespace(_market_consumer=consumer), v)  # type: ignore[arg-type]
        assert venue.pushed == ["fill of q1"]  # at once, not when a collector gets to the stream

    asyncio.run(run())
    assert seen == ["q1"] and venue.matched == ["q1"]
