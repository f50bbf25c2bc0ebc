"""Builders for engine tests: markets, book events, a recording strategy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import ClassVar

from prediction_engine.core.events import BookDelta, BookSnapshot, Event, Side
from prediction_engine.core.ids import ConditionId, TokenId, Venue
from prediction_engine.core.markets import FeeSchedule, Market
from prediction_engine.core.numbers import ONE
from prediction_engine.strategy.base import Intent, StateView, Subscriptions

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
    """A binary market ``name`` with tokens ``name-yes`` and ``name-no``."""
    return Market(
        venue=Venue.POLYMARKET,
        condition_id=ConditionId(f"0x{name}"),
        market_id=name,
        slug=slug or name,
        question=f"{name}?",
        outcomes=("Yes", "No"),
        tokens=(TokenId(f"{name}-yes"), TokenId(f"{name}-no")),
        tick_size=CENT,
        min_order_size=5 * ONE,
        neg_risk=neg_risk,
        active=True,
        accepting_orders=True,
        enable_order_book=True,
        fee_schedule=None if fee_rate is None else FeeSchedule(rate=Decimal(fee_rate)),
        event_slug=event_slug,
    )


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
