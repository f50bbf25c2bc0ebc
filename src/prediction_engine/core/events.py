"""Domain events: frozen, exact, doubly timestamped.

Every event carries ``ts_event`` (the venue's time) and ``ts_recv`` (our receive time), both
integer nanoseconds since the Unix epoch. Prices and sizes are micro-units (see
:mod:`prediction_engine.core.numbers`). Events are tagged msgspec structs, so
``msgspec.json.encode(event)`` gives ``{"type": "BookDelta", ...}`` and decodes back.

The market-data events (books, trades, top of book, tick sizes, reference prices) also take
their fields positionally, in declaration order, base fields first (``venue``, ``ts_event``,
``ts_recv``, then ``market``, ``token``): the event store's reader builds them that way, a
C loop without keyword matching. Everywhere else, name them.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import msgspec

from prediction_engine.core.ids import ConditionId, TokenId, Venue

__all__ = [
    "BookDelta",
    "BookSnapshot",
    "Event",
    "MakerFill",
    "MarketListed",
    "MarketResolved",
    "OrderUpdateKind",
    "OrderUpdated",
    "ReferencePrice",
    "Side",
    "TickSizeChanged",
    "TopOfBook",
    "Trade",
    "UserTradeUpdated",
]


class Side(enum.StrEnum):
    """Order or level side. For a book level, BUY is a bid and SELL an ask."""

    BUY = "BUY"
    SELL = "SELL"


class _Base(msgspec.Struct, frozen=True, gc=False, tag_field="type", tag=True):
    venue: Venue
    ts_event: int
    ts_recv: int


class _MarketBase(_Base, frozen=True, gc=False):
    market: ConditionId
    token: TokenId


class BookSnapshot(_MarketBase, frozen=True, gc=False):
    """Full book of one token; replaces whatever was known. Levels are best first."""

    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]
    tick_size: int | None = None
    min_order_size: int | None = None
    last_trade_price: int | None = None
    neg_risk: bool | None = None
    hash: str = ""


class BookDelta(_MarketBase, frozen=True, gc=False):
    """One level of one token set to an absolute ``size`` (0 deletes the level).

    ``venue_best_bid``/``venue_best_ask`` are the venue's own top of book after the update,
    when it sends one (Polymarket sends ``0``/``1000000`` for an empty side). ``checkpoint``
    marks the last delta of this token within one venue message: the point where the local
    book should agree with the venue's top of book.
    """

    side: Side
    price: int
    size: int
    venue_best_bid: int | None = None
    venue_best_ask: int | None = None
    checkpoint: bool = True
    hash: str = ""


class Trade(_MarketBase, frozen=True, gc=False):
    """A public trade. ``aggressor`` is the taker's side."""

    price: int
    size: int
    aggressor: Side | None
    trade_id: str
    fee_rate_bps: int | None = None
    transaction_hash: str | None = None


class TopOfBook(_MarketBase, frozen=True, gc=False):
    """The venue's best bid and ask of one token (``None`` for an empty side)."""

    best_bid: int | None
    best_ask: int | None


class TickSizeChanged(_MarketBase, frozen=True, gc=False):
    """The token's price grid changed; the local book must wait for a fresh snapshot."""

    old_tick_size: int
    new_tick_size: int


class MarketListed(_Base, frozen=True, gc=False, kw_only=True):
    """A new market opened. ``tokens[i]`` pays out if ``outcomes[i]`` happens."""

    market: ConditionId
    market_id: str
    question: str
    slug: str
    tokens: tuple[TokenId, ...]
    outcomes: tuple[str, ...]
    tick_size: int | None = None
    tags: tuple[str, ...] = ()
    event_slug: str | None = None
    description: str = ""


class MarketResolved(_Base, frozen=True, gc=False, kw_only=True):
    """A market settled: ``winning_token`` pays 1, every other token 0."""

    market: ConditionId
    market_id: str
    tokens: tuple[TokenId, ...]
    winning_token: TokenId
    winning_outcome: str


class ReferencePrice(_Base, frozen=True, gc=False):
    """A price of an underlying (spot trade, oracle print) used as a reference.

    ``size`` and ``aggressor`` are set for trade prints (Binance), absent for index prints.
    """

    symbol: str
    price: Decimal
    size: Decimal | None = None
    aggressor: Side | None = None
    trade_id: str | None = None


class OrderUpdateKind(enum.StrEnum):
    """What happened to one of our orders at the venue."""

    PLACEMENT = "PLACEMENT"
    UPDATE = "UPDATE"
    CANCELLATION = "CANCELLATION"


class OrderUpdated(_MarketBase, frozen=True, gc=False, kw_only=True):
    """The venue reported on one of our orders (user channel).

    ``status`` is the venue's status word (``LIVE``, ``MATCHED``, ``CANCELED``, ``INVALID``);
    ``reason`` carries the text the venue appended to it, if any.
    """

    kind: OrderUpdateKind
    order_id: str
    side: Side
    price: int
    original_size: int
    size_matched: int
    status: str
    reason: str = ""
    order_type: str = ""
    outcome: str = ""
    expiration_s: int = 0
    associate_trades: tuple[str, ...] = ()


class MakerFill(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """One resting order's share of a match."""

    order_id: str
    token: TokenId
    price: int
    matched_size: int
    outcome: str
    side: Side | None = None
    fee_rate_bps: int | None = None


class UserTradeUpdated(_MarketBase, frozen=True, gc=False, kw_only=True):
    """A match involving us moved through MATCHED, MINED, CONFIRMED (or RETRYING, FAILED).

    When ``trader_side`` is ``MAKER`` our fill is in ``maker_fills``; the top-level side and
    price are the taker's.
    """

    trade_id: str
    taker_order_id: str
    status: str
    trader_side: str
    side: Side
    price: int
    size: int
    outcome: str
    fee_rate_bps: int | None
    maker_fills: tuple[MakerFill, ...]
    transaction_hash: str | None = None


Event = (
    BookSnapshot
    | BookDelta
    | Trade
    | TopOfBook
    | TickSizeChanged
    | MarketListed
    | MarketResolved
    | ReferencePrice
    | OrderUpdated
    | UserTradeUpdated
)
"""Every event the venues produce."""
