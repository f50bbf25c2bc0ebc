"""The one-line error of a server that cannot listen (metrics, dashboard, the CLI's check)."""

from __future__ import annotations

import errno
import os

from prediction_engine.config import ConfigError

__all__ = ["listen_error"]


def listen_error(what: str, host: str, port: int, error: OSError, flags: str) -> ConfigError:
    """Say that ``what`` cannot listen on ``host:port``, why (without asyncio's "error while
    attempting to bind" prose) and which flag to change: ``<flags>-port`` when the port is
    taken, ``<flags>-host`` otherwise (e.g. ``flags="--metrics"``)."""
    reason = os.strerror(error.errno).lower() if error.errno else str(error)
    fix = (f"choose another {flags}-port" if error.errno == errno.EADDRINUSE
           else f"check {flags}-host")
    return ConfigError(f"{what} cannot listen on {host}:{port} ({reason}); {fix}")
