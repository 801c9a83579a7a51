"""structlog for the daemon: JSON lines on stdout for journald, readable console output on a terminal."""

from __future__ import annotations

import logging
import sys

import structlog

from leand.live.secrets import redact

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class Enabled:
    """Whether an info line would be written now. The hot path reads it before building a log call: a call the
    level filters out still costs a logger bind through structlog's proxy (loggers are not cached, so a reload
    can change the level), a few µs per order."""

    info = True


enabled = Enabled()


def configure(level: str = "info", fmt: str = "auto") -> None:
    console = fmt == "console" or (fmt == "auto" and sys.stdout.isatty())
    renderer = structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer(sort_keys=True)
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True), redact,
                    structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS[level]),
        logger_factory=_stdout_logger,
        cache_logger_on_first_use=False,
    )
    enabled.info = LEVELS[level] <= logging.INFO


def _stdout_logger(*_args) -> structlog.PrintLogger:
    """The stream is looked up when a logger is made, not when logging is configured: whoever replaced
    sys.stdout since (a test harness, a redirect) gets the output, and a closed stream is never written."""
    return structlog.PrintLogger(sys.stdout)


def _stderr_logger(*_args) -> structlog.PrintLogger:
    return structlog.PrintLogger(sys.stderr)


def set_level(level: str) -> None:
    level = level.lower()
    if level not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, got {level!r}")
    cfg = structlog.get_config()
    structlog.configure(**{**cfg, "wrapper_class": structlog.make_filtering_bound_logger(LEVELS[level])})
    enabled.info = LEVELS[level] <= logging.INFO
