"""What every command shares: how it fails, how it loads the config, how it reads numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, NoReturn

import typer

from prediction_engine.config import Config, ConfigError, load_config
from prediction_engine.core.ids import Venue
from prediction_engine.core.numbers import ONE
from prediction_engine.engine.config import EngineConfig
from prediction_engine.risk.limits import RiskLimits

__all__ = [
    "CashOption",
    "KellyOption",
    "MaxExposureOption",
    "MaxLossOption",
    "MaxPositionOption",
    "ParamOption",
    "StrategyOption",
    "engine_config",
    "fail",
    "load_settings",
    "nonnegative_decimal",
    "parse_time",
]


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


StrategyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--strategy", "-s",
        help="Strategy to run (repeat for several): a name from `pengine strategies`, or a "
        "file written by `pengine new-strategy` (./mine.py).",
    ),
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param", "-p",
        help="Override a strategy parameter: [STRATEGY.]KEY=VALUE, e.g. "
        "arbitrage.min_edge=0.01 (repeatable).",
    ),
]
CashOption = Annotated[str, typer.Option(help="Starting paper cash in USD.")]
MaxPositionOption = Annotated[str, typer.Option(help="Most USD at risk per market.")]
MaxExposureOption = Annotated[str, typer.Option(help="Most USD at risk in total.")]
MaxLossOption = Annotated[
    str, typer.Option(help="Daily loss in USD that engages the kill switch.")
]
KellyOption = Annotated[
    float, typer.Option(help="Fraction of full Kelly to bet (0.5 = half Kelly).", min=0, max=1)
]
def _usd(text: str, option: str) -> int:
    return int(nonnegative_decimal(text, option) * ONE)


def engine_config(  # noqa: PLR0917 - the CLI's money options, passed straight on
    cash: str, max_position: str, max_exposure: str, max_loss: str, kelly: float,
    strike_venue: Venue | None = None,
) -> EngineConfig:
    """The engine configuration from the money and risk options every trading command has."""
    limits = RiskLimits(
        max_position_per_market=_usd(max_position, "--max-position"),
        max_total_exposure=_usd(max_exposure, "--max-exposure"),
        max_daily_loss=_usd(max_loss, "--max-daily-loss"),
    )
    return EngineConfig(
        starting_cash=_usd(cash, "--cash"), limits=limits, kelly_multiplier=kelly,
        strike_venue=strike_venue,
    )


def parse_time(text: str, option: str) -> int:
    """A point in time as integer nanoseconds since the epoch: ``1763700000000000000`` or
    ISO-8601 (``2026-11-21``, ``2026-11-21T10:30``, ``...Z`` or with an offset; UTC if none)."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"want ISO-8601 (2026-11-21T10:30Z) or integer nanoseconds, got {text!r}",
            param_hint=option,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000
