"""Listing data model of the simulated venue: series, events, markets, tags (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prediction_engine.sim.polymarket.units import MICRO


@dataclass(frozen=True)
class Frame:
    """One market-channel message and who receives it.

    `assets` are the tokens it concerns: a connection receives it if subscribed to any of
    them (`price_change` entries are further filtered per connection). `custom_only` frames
    need `custom_feature_enabled`; `everyone` frames go to all such connections.
    """

    assets: tuple[str, ...]
    payload: dict[str, Any]
    custom_only: bool = False
    everyone: bool = False


@dataclass(frozen=True)
class Tag:
    """A Gamma tag; events carry full tag objects, CLOB markets only labels."""

    id: str
    label: str
    slug: str


@dataclass(frozen=True)
class FeeSchedule:
    """Gamma `feeSchedule` of a fee-enabled market; rates are decimal strings."""

    rate: str
    rebate_rate: str
    fee_type: str
    exponent: int = 1
    taker_only: bool = True


@dataclass(frozen=True)
class Series:
    """A recurring series such as `btc-up-or-down-5m`."""

    id: str
    slug: str
    title: str
    recurrence: str


@dataclass
class Event:
    """A Gamma event grouping one or more markets."""

    id: str
    slug: str
    title: str
    description: str
    tags: tuple[Tag, ...]
    created_s: int
    end_s: int
    series: Series | None = None
    neg_risk_market_id: str | None = None
    start_time_s: int | None = None
    resolution_source: str = ""
    markets: list[Market] = field(default_factory=list)
    series_slug: str | None = None
    """`seriesSlug` of an event that has no `series` object (a game names its league)."""

    @property
    def closed(self) -> bool:
        """An event closes when all its markets have."""
        return all(market.closed for market in self.markets)


@dataclass
class Market:
    """A binary market: two outcome tokens, index-aligned with `outcomes`."""

    id: str
    condition_id: str
    question_id: str
    slug: str
    question: str
    description: str
    outcomes: tuple[str, str]
    token_ids: tuple[str, str]
    event: Event
    tick: int
    fair: int
    created_s: int
    end_s: int
    fee: FeeSchedule | None = None
    neg_risk_request_id: str | None = None
    group_item_title: str | None = None
    event_start_s: int | None = None
    base_volume: int = 0
    traded: bool = True
    closed: bool = False
    winner: int | None = None
    min_order_size: int = 5 * MICRO
    game_start_s: int | None = None
    """Kick-off of a sports game market (Gamma `gameStartTime`)."""

    @property
    def neg_risk(self) -> bool:
        """Whether the market belongs to a neg-risk event."""
        return self.event.neg_risk_market_id is not None


@dataclass
class Catalog:
    """Everything listed, in listing order, with lookups."""

    series: list[Series] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    markets: list[Market] = field(default_factory=list)

    def add(self, event: Event, markets: list[Market]) -> None:
        """List an event with its markets."""
        event.markets.extend(markets)
        self.events.append(event)
        self.markets.extend(markets)

    def by_token(self, token_id: str) -> tuple[Market, int] | None:
        """The market and outcome index of a token."""
        for market in self.markets:
            if token_id in market.token_ids:
                return market, market.token_ids.index(token_id)
        return None

    def by_slug(self, slug: str) -> Market | None:
        """The market with this slug."""
        return next((m for m in self.markets if m.slug == slug), None)

    def by_condition(self, condition_id: str) -> Market | None:
        """The market with this condition id."""
        return next((m for m in self.markets if m.condition_id == condition_id), None)


def updown_window_start(clock_start_s: int, minutes: int) -> int:
    """Start of the Up/Down window containing `clock_start_s` (unix seconds)."""
    return clock_start_s - clock_start_s % (minutes * 60)


def updown_slug(asset: str, minutes: int, window_start_s: int) -> str:
    """Event/market slug of a crypto Up/Down window, e.g. `btc-updown-5m-1773307200`."""
    return f"{asset}-updown-{minutes}m-{window_start_s}"
