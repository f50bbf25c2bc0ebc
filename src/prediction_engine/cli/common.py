"""What every command shares: how it fails, how it loads the config, how it reads numbers."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import NoReturn

import typer

from prediction_engine.config import Config, ConfigError, load_config

__all__ = ["fail", "load_settings", "nonnegative_decimal"]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code`` (2: bad input, 1: venue)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def load_settings() -> Config:
    """The validated configuration; a bad one stops the command with what to fix."""
    try:
        return load_config()
    except ConfigError as e:
        fail(str(e))


def nonnegative_decimal(text: str, option: str) -> Decimal:
    """Parse an option's number (finite, >= 0), or fail naming the option."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"not a number: {text!r}", param_hint=option) from None
    if not value.is_finite() or value < 0:
        raise typer.BadParameter(f"must be a non-negative number, got {text!r}", param_hint=option)
    return value
