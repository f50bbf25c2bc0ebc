"""The engine's configuration: money, risk limits, sizing and staleness.

Kept apart from :mod:`.loop` (which may be compiled with mypyc) so that it stays a plain
frozen msgspec struct that backtest and CLI configurations can nest.
"""

from __future__ import annotations

import msgspec

from prediction_engine.core.ids import Venue
from prediction_engine.core.numbers import ONE
from prediction_engine.engine.state import StaleLimits
from prediction_engine.risk import RiskLimits
from prediction_engine.strategy.sizing import DEFAULT_KELLY_MULTIPLIER

__all__ = ["EngineConfig"]


class EngineConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the engine trades: money, limits, sizing and staleness."""

    starting_cash: int = 1_000 * ONE
    limits: RiskLimits = RiskLimits()
    kelly_multiplier: float = DEFAULT_KELLY_MULTIPLIER
    stale: StaleLimits = StaleLimits()
    strike_venue: Venue | None = None
    """Only reference prices from this venue set Up/Down strikes (any venue when ``None``)."""
    cancel_on_stale: bool = True
