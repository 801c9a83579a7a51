"""LEAN's ``MarketOnCloseOrder.submission_time_buffer``: how long before the close a market-on-close order
may still be placed (15.5 minutes by default). Settable, and global as in LEAN:

    MarketOnCloseOrder.submission_time_buffer = timedelta(minutes=10)
"""

from __future__ import annotations

from datetime import timedelta

DEFAULT_BUFFER = timedelta(minutes=15.5)


class MarketOnCloseOrder:
    submission_time_buffer: timedelta = DEFAULT_BUFFER

    @classmethod
    def buffer_ns(cls) -> int:
        return int(cls.submission_time_buffer.total_seconds() * 1_000_000_000)
