"""Market metadata used for discovery and by strategies (venue-neutral)."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from prediction_engine.core.ids import ConditionId, TokenId, Venue

__all__ = ["FeeSchedule", "Market"]


class FeeSchedule(msgspec.Struct, frozen=True, kw_only=True):
    """A market's taker fee: ``fee = shares x rate x (p x (1 - p)) ** exponent``.

    Rounded down to 5 decimals by Polymarket (V2); makers pay nothing and share
    ``rebate_rate`` of the fee pool.
    """

    rate: Decimal
    exponent: int = 1
    taker_only: bool = True
    rebate_rate: Decimal = Decimal(0)


class Market(msgspec.Struct, frozen=True, kw_only=True):
    """A tradable market: one question, one token per outcome (``tokens[i]`` <-> ``outcomes[i]``).

    Times are integer nanoseconds since the epoch (``None`` when the venue did not say).
    ``volume``/``liquidity`` are the venue's USD figures, exact as sent.
    """

    venue: Venue
    condition_id: ConditionId
    market_id: str
    slug: str
    question: str
    description: str = ""
    outcomes: tuple[str, ...] = ()
    tokens: tuple[TokenId, ...] = ()
    outcome_prices: tuple[Decimal, ...] = ()
    tick_size: int | None = None
    min_order_size: int | None = None
    neg_risk: bool = False
    neg_risk_market_id: str | None = None
    active: bool = False
    closed: bool = False
    archived: bool = False
    accepting_orders: bool = False
    enable_order_book: bool = False
    volume: Decimal = Decimal(0)
    liquidity: Decimal = Decimal(0)
    fee_schedule: FeeSchedule | None = None
    fees_enabled: bool = False
    tags: tuple[str, ...] = ()
    event_id: str | None = None
    event_slug: str | None = None
    event_title: str | None = None
    series_slug: str | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    event_start_ns: int | None = None
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    resolved: bool = False
    winning_outcome: str | None = None

    def token_for(self, outcome: str) -> TokenId:
        """Return the token paying out on ``outcome`` (case-insensitive)."""
        wanted = outcome.casefold()
        for name, token in zip(self.outcomes, self.tokens, strict=False):
            if name.casefold() == wanted:
                return token
        raise KeyError(f"market {self.slug!r} has no outcome {outcome!r} (has {self.outcomes})")
