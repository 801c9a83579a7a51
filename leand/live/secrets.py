"""Secrets from the environment or systemd credentials, and the log processor that redacts them.

A secret read through :func:`secret` is remembered so that no log line (and no recording) can carry it:
the structlog processor :func:`redact` replaces any occurrence with ``[REDACTED]``.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

_KNOWN: set[str] = set()
REDACTED = "[REDACTED]"


class SecretError(LookupError):
    pass


def secret(*, env: str | None = None, credential: str | None = None) -> str:
    """Read a secret from ``$env`` or from ``$CREDENTIALS_DIRECTORY/credential`` (systemd LoadCredential=)."""
    value = None
    if credential:
        cdir = os.environ.get("CREDENTIALS_DIRECTORY")
        if cdir and (Path(cdir) / credential).is_file():
            value = (Path(cdir) / credential).read_text().strip()
    if value is None and env:
        value = os.environ.get(env)
    if not value:
        where = " or ".join(x for x in (f"${env}" if env else "", f"credential {credential!r}" if credential else "")
                            if x)
        raise SecretError(f"secret not found: set {where}")
    register(value)
    return value


def register(value: str) -> None:
    if value and len(value) >= 4:
        _KNOWN.add(value)


def scrub(text: str) -> str:
    for s in _KNOWN:
        if s in text:
            text = text.replace(s, REDACTED)
    return text


def _scrub_value(v: Any) -> Any:
    if isinstance(v, str):
        return scrub(v)
    if isinstance(v, dict):
        return {k: _scrub_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_scrub_value(x) for x in v)
    return v


def redact(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: no registered secret survives into a log line."""
    if not _KNOWN:
        return event
    return {k: _scrub_value(v) for k, v in event.items()}
