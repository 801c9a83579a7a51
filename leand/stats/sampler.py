"""Sampling for statistics: equity every few minutes of data time, a daily row at each midnight (equity,
benchmark, sales volume) and exposure, on the engine's clock, as LEAN samples them."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from leand.clock import datetime_to_ns, ns_to_datetime

if TYPE_CHECKING:
    from leand.engine import Engine


class StatisticsSampler:
    """The engine's statistics collaborator. ``begin`` takes the starting equity and arms the timers; the lists
    it fills are what the statistics and the report read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.equity_samples: list[tuple[int, float]] = []
        self.daily_samples: list[tuple[int, float, float, float]] = []
        self.exposure_samples: list[tuple[int, float, float]] = []
        self.start_equity = 0.0
        self.peak_equity = 0.0

    def begin(self, start_ns: int, end_ns: int) -> None:
        e = self.engine
        e.refresh_rates()
        pf = e.portfolio
        self.start_equity = pf.total_portfolio_value
        self.daily_samples.append((start_ns, self.start_equity, e.benchmark_value(), 0.0))
        self.equity_samples.append((start_ns, self.start_equity))
        self.arm(start_ns, end_ns)
        pf.sales_volume = 0.0

    def sample_daily(self, t: int) -> None:
        e = self.engine
        e.refresh_rates()
        pf = e.portfolio
        tpv = pf.total_portfolio_value
        self.daily_samples.append((t, tpv, e.benchmark_value(), pf.sales_volume))
        pf.sales_volume = 0.0
        self.sample_equity(t, tpv)

    def sample_equity(self, t: int, tpv: float | None = None) -> None:
        e = self.engine
        pf = e.portfolio
        if tpv is None:
            e.refresh_rates()
            tpv = pf.total_portfolio_value
        self.equity_samples.append((t, tpv))
        if tpv > self.peak_equity:
            self.peak_equity = tpv
        e.risk_gate.on_equity(tpv, t)
        if tpv:
            gross, net = pf.exposure()
            self.exposure_samples.append((t, gross / tpv, net / tpv))

    def arm(self, start_ns: int, end_ns: int) -> None:
        clock = self.engine.clock
        span_min = (end_ns - start_ns) / 60e9
        resample = int(4 * 60e9) if span_min < 16000 else int((end_ns - start_ns) / 4000)
        clock.set_timer("equity-sample", resample, lambda t: self.sample_equity(t),
                        start_ns=start_ns + resample, stop_ns=end_ns)
        tz = self.engine.time_zone

        def arm_midnight(after_ns: int) -> None:
            d = ns_to_datetime(after_ns, tz).date() + timedelta(days=1)
            t = datetime_to_ns(datetime.combine(d, time(0), tz))
            if t <= end_ns:
                clock.set_time_alert("daily-sample", t, on_midnight)

        def on_midnight(t: int) -> None:
            self.sample_daily(t)
            arm_midnight(t)

        arm_midnight(start_ns)
