"""Fault injection the adapter tests need: a scripted bad day at the venue, armed by config or by
``POST /_sim/faults``."""

from __future__ import annotations

from dataclasses import dataclass

from .config import FaultConfig


@dataclass(slots=True)
class Faults:
    http_status: int = 0
    http_count: int = 0
    http_mode: str = "before"
    delay_ms: int = 0
    delay_count: int = -1
    drop_http: int = 0

    @classmethod
    def from_config(cls, f: FaultConfig) -> Faults:
        return cls(f.http_status, f.http_count, f.http_mode, f.delay_ms, f.delay_count, f.drop_http)

    def take_drop(self) -> bool:
        """True if this request's connection is to be dropped (a network failure mid-request)."""
        if self.drop_http > 0:
            self.drop_http -= 1
            return True
        return False

    def take_http(self) -> tuple[int, str]:
        """(status, mode) for this request if an HTTP fault is armed, else (0, "")."""
        if self.http_status and self.http_count > 0:
            self.http_count -= 1
            return self.http_status, self.http_mode
        return 0, ""

    def take_delay(self) -> int:
        if self.delay_ms <= 0 or self.delay_count == 0:
            return 0
        if self.delay_count > 0:
            self.delay_count -= 1
        return self.delay_ms

    def as_dict(self) -> dict[str, object]:
        return {"http_status": self.http_status, "http_count": self.http_count, "http_mode": self.http_mode,
                "delay_ms": self.delay_ms, "delay_count": self.delay_count, "drop_http": self.drop_http}
