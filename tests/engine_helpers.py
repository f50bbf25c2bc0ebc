"""Builders for engine tests: markets, book events, a recording strategy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import ClassVar

import msgspec

from prediction_engine.core.events import BookDelta, BookSnapshot, Event, Side
from prediction_engine.core.ids import TokenId, Venue
from prediction_engine.core.markets import FeeSchedule, Market
from prediction_engine.core.numbers import ONE
from prediction_engine.strategy.base import Intent, StateView, Subscriptions
from tests.strategy_view import binary_market

S = 1_000_000_000
CENT = ONE // 100


def market(
    name: str,
    *,
    fee_rate: str | None = None,
    event_slug: str | None = None,
    neg_risk: bool = False,
    slug: str | None = None,
) -> Market:
    """The strategy tests' binary market ``name`` on a 0.01 grid with a 5-share minimum."""
    schedule = None if fee_rate is None else FeeSchedule(rate=Decimal(fee_rate))
    base = binary_market(
        name, fee_schedule=schedule, neg_risk=neg_risk, event_slug=event_slug, slug=slug
    )
    return msgspec.structs.replace(base, tick_size=CENT, min_order_size=5 * ONE)


def snapshot(
    m: Market,
    outcome: int,
    bids: Sequence[tuple[float, float]],
    asks: Sequence[tuple[float, float]],
    ts: int = S,
) -> BookSnapshot:
    """A snapshot of one token; prices and sizes as floats (converted to micro-units)."""

    def levels(side: Sequence[tuple[float, float]]) -> tuple[tuple[int, int], ...]:
        return tuple((round(p * ONE), round(s * ONE)) for p, s in side)

    return BookSnapshot(
        venue=Venue.POLYMARKET,
        ts_event=ts,
        ts_recv=ts,
        market=m.condition_id,
        token=m.tokens[outcome],
        bids=levels(bids),
        asks=levels(asks),
        tick_size=CENT,
    )


def delta(m: Market, outcome: int, side: Side, price: float, size: float, ts: int) -> BookDelta:
    """One level of one token set to ``size`` (no venue top-of-book check)."""
    return BookDelta(
        venue=Venue.POLYMARKET,
        ts_event=ts,
        ts_recv=ts,
        market=m.condition_id,
        token=m.tokens[outcome],
        side=side,
        price=round(price * ONE),
        size=round(size * ONE),
    )


def token_of(event: Event) -> TokenId | None:
    """The token an event is about, if any."""
    token: TokenId | None = getattr(event, "token", None)
    return token


class Recorder:
    """A strategy that records what it is given and returns what ``decide`` says."""

    name: ClassVar[str] = "recorder"

    def __init__(
        self,
        wanted: Callable[[Sequence[Market]], Subscriptions] | None = None,
        decide: Callable[[Event, StateView], Sequence[Intent]] | None = None,
        id: str = "recorder",
    ) -> None:
        self._wanted = wanted or Subscriptions.for_markets
        self._decide = decide or (lambda event, view: ())
        self._id = id
        self.seen: list[Event] = []

    @property
    def id(self) -> str:
        return self._id

    def subscriptions(self, markets: Sequence[Market]) -> Subscriptions:
        return self._wanted(markets)

    def on_event(self, event: Event, view: StateView) -> Sequence[Intent]:
        self.seen.append(event)
        return self._decide(event, view)
