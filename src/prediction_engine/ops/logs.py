"""Structured logs: one JSON object per line, with the run and the venue/market/token context.

:func:`configure_logging` sets up the root logger once at start-up, either human-readable text
or JSON lines::

    {"ts": "2025-01-01T12:00:00.123456Z", "level": "WARNING", "logger": "prediction_engine.x",
     "message": "feed stale", "run_id": "r1", "venue": "polymarket", "market": "0xabc"}

Context fields come from ``extra={"market": ...}`` on one call or from :func:`log_context`, a
context manager backed by :mod:`contextvars` (so it follows an asyncio task and what it
awaits, and never leaks into sibling tasks). Exceptions are rendered into ``exception``.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TextIO

__all__ = [
    "CONTEXT_FIELDS",
    "JsonFormatter",
    "configure_logging",
    "current_context",
    "log_context",
]

CONTEXT_FIELDS = ("venue", "market", "token", "strategy", "session", "client_id")
"""Record attributes copied into a JSON line when present (from ``extra=`` or the context)."""

_context: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "prediction_engine_log_context", default=None
)

_TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def current_context() -> Mapping[str, str]:
    """The fields :func:`log_context` set for the running task (empty outside any)."""
    return _context.get() or {}


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add ``fields`` (e.g. ``venue=``, ``market=``, ``token=``) to every record logged inside.

    Nested contexts merge; ``None`` values are left out. Values are logged as strings.
    """
    merged = dict(current_context())
    merged.update({key: str(value) for key, value in fields.items() if value is not None})
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object (no newlines inside) with ``run_id`` and context."""

    def __init__(self, run_id: str | None = None) -> None:
        super().__init__()
        self.run_id = run_id

    def format(self, record: logging.LogRecord) -> str:
        """Return the JSON line of ``record`` (without the trailing newline)."""
        line: dict[str, object] = {
            "ts": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.run_id is not None:
            line["run_id"] = self.run_id
        line.update(current_context())
        for name in CONTEXT_FIELDS:  # extra= on the call wins over the task's context
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _level(level: int | str) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}: use DEBUG, INFO, WARNING or ERROR")
    return number


class _ConfiguredHandler(logging.StreamHandler[TextIO]):
    """The handler :func:`configure_logging` installs (so a second call replaces it)."""


def configure_logging(
    json: bool,
    level: int | str = logging.INFO,
    run_id: str | None = None,
    *,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as JSON lines (``json=True``) or text.

    Replaces the handlers this function installed before (calling it twice is safe) and leaves
    other handlers (pytest's, a notifier's) in place. Returns the installed handler.
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old, _ConfiguredHandler):
            root.removeHandler(old)
    handler = _ConfiguredHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(run_id) if json else logging.Formatter(_TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(_level(level))
    return handler
