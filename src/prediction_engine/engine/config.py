"""The engine's configuration: money, risk limits, sizing and staleness.

Kept apart from :mod:`.loop` and :mod:`.state` (compiled with mypyc) so that these stay plain
frozen msgspec structs that backtest and CLI configurations can nest.
"""

from __future__ import annotations

import msgspec

from prediction_engine.core.ids import Venue
from prediction_engine.core.numbers import ONE
from prediction_engine.risk import RiskLimits
from prediction_engine.strategy.sizing import DEFAULT_KELLY_MULTIPLIER

__all__ = ["EngineConfig", "StaleLimits"]

_S = 1_000_000_000


class StaleLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How long each feed may stay silent before its data counts as stale (seconds).

    ``feeds`` is keyed by venue name (``polymarket``, ``binance``, ``polymarket-rtds``): when a
    feed has sent nothing for that long, every book (or reference symbol) it serves is stale.
    ``book_max_age_s`` optionally also limits the age of each single book.
    """

    feeds: dict[str, float] = msgspec.field(
        default_factory=lambda: {"polymarket": 15.0, "binance": 5.0, "polymarket-rtds": 10.0}
    )
    book_max_age_s: float | None = None
    default_s: float = 15.0

    def limit_ns(self, feed: str) -> int:
        """The silence limit of ``feed`` in nanoseconds."""
        return int(self.feeds.get(feed, self.default_s) * _S)


class EngineConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the engine trades: money, limits, sizing and staleness."""

    starting_cash: int = 1_000 * ONE
    limits: RiskLimits = RiskLimits()
    kelly_multiplier: float = DEFAULT_KELLY_MULTIPLIER
    stale: StaleLimits = StaleLimits()
    strike_venue: Venue | None = None
    """Only reference prices from this venue set Up/Down strikes (any venue when ``None``)."""
    cancel_on_stale: bool = True
