from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from leand.clock import datetime_to_ns
from leand.data.lean import LeanDataSource
from leand.data.market_hours import MarketHoursDatabase

DATA = Path(__file__).resolve().parents[2] / "data" / "lean"
NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


def ns(*args: int, tz=NY) -> int:
    return datetime_to_ns(datetime(*args, tzinfo=tz))


@pytest.fixture(scope="session")
def source() -> LeanDataSource:
    return LeanDataSource(DATA)


@pytest.fixture(scope="session")
def mhdb() -> MarketHoursDatabase:
    return MarketHoursDatabase.load(DATA / "market-hours" / "market-hours-database.json")
