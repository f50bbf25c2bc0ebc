"""A dict-backed :class:`~prediction_engine.strategy.base.StateView` for strategy tests.

Holds real :class:`OrderBook`s; every other piece of state is a plain dict or set that a test
fills through the helpers (``add_market``, ``set_book``, ``set_reference``...). Also builds
the markets and events strategies react to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from prediction_engine.core.book import OrderBook
from prediction_engine.core.events import BookSnapshot, ReferencePrice, Side
from prediction_engine.core.ids import ConditionId, TokenId, Venue
from prediction_engine.core.markets import FeeSchedule, Market
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import Order
from prediction_engine.core.updown import UpDownWindow

__all__ = ["FakeView", "binary_market", "book_event", "reference_event"]


def binary_market(
    name: str,
    *,
    fee_schedule: FeeSchedule | None = None,
    neg_risk: bool = False,
    event_slug: str | None = None,
    slug: str | None = None,
    outcomes: tuple[str, str] = ("Yes", "No"),
) -> Market:
    """A two-token market ``0x<name>`` with tokens ``<name>-yes``/``<name>-no`` (or Up/Down)."""
    return Market(
        venue=Venue.POLYMARKET,
        condition_id=ConditionId(f"0x{name}"),
        market_id=name,
        slug=slug or name,
        question=f"{name}?",
        outcomes=outcomes,
        tokens=tuple(TokenId(f"{name}-{o.lower()}") for o in outcomes),
        neg_risk=neg_risk,
        event_slug=event_slug,
        fee_schedule=fee_schedule,
        fees_enabled=fee_schedule is not None,
        active=True,
        accepting_orders=True,
        enable_order_book=True,
    )


@dataclass
class FakeView:
    """The engine's read-only state, as dicts a test sets directly."""

    now_ns: int = 0
    cash: int = 1_000 * ONE
    books: dict[TokenId, OrderBook] = field(default_factory=dict)
    markets: dict[ConditionId, Market] = field(default_factory=dict)
    references: dict[str, ReferencePrice] = field(default_factory=dict)
    windows: dict[ConditionId, UpDownWindow] = field(default_factory=dict)
    positions: dict[TokenId, int] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    stale: set[TokenId] = field(default_factory=set)
    stale_symbols: set[str] = field(default_factory=set)

    # -- setting state -----------------------------------------------------------------------

    def add_market(self, *markets: Market) -> None:
        """Make ``markets`` known (and open unless ``closed``)."""
        for market in markets:
            self.markets[market.condition_id] = market

    def set_book(
        self,
        token: TokenId,
        bids: Iterable[tuple[int, int]] = (),
        asks: Iterable[tuple[int, int]] = (),
        tick_size: int = 10_000,
    ) -> OrderBook:
        """Give ``token`` a valid book with these levels (micro-units, any order)."""
        book = OrderBook(tick_size)
        book.apply_snapshot(bids, asks)
        self.books[token] = book
        return book

    def set_reference(self, symbol: str, price: str) -> ReferencePrice:
        """Make ``price`` the latest reference price of ``symbol`` at ``now_ns``."""
        event = reference_event(symbol, price, self.now_ns)
        self.references[symbol] = event
        return event

    # -- the StateView protocol --------------------------------------------------------------

    def book(self, token: TokenId) -> OrderBook | None:
        return self.books.get(token)

    def market(self, market: ConditionId) -> Market | None:
        return self.markets.get(market)

    def market_of(self, token: TokenId) -> Market | None:
        return next((m for m in self.markets.values() if token in m.tokens), None)

    def event_markets(self, event_slug: str) -> Sequence[Market]:
        return [
            m
            for m in self.markets.values()
            if m.event_slug == event_slug and not (m.closed or m.resolved)
        ]

    def reference(self, symbol: str) -> ReferencePrice | None:
        return self.references.get(symbol)

    def reference_price(self, symbol: str) -> Decimal | None:
        event = self.references.get(symbol)
        return None if event is None else event.price

    def updown(self, market: ConditionId) -> UpDownWindow | None:
        return self.windows.get(market)

    def shares(self, token: TokenId) -> int:
        return self.positions.get(token, 0)

    def open_orders(self, market: ConditionId | None = None) -> Sequence[Order]:
        return [o for o in self.orders if o.is_open and market in (None, o.market)]

    def is_stale(self, token: TokenId) -> bool:
        return token in self.stale or token not in self.books

    def is_symbol_stale(self, symbol: str) -> bool:
        return symbol in self.stale_symbols or symbol not in self.references


def book_event(view: FakeView, token: TokenId, ts_ns: int | None = None) -> BookSnapshot:
    """A snapshot event equal to the token's book in ``view`` (what the engine would route)."""
    book = view.books[token]
    market = view.market_of(token)
    assert market is not None, f"no market holds {token}"
    ts = view.now_ns if ts_ns is None else ts_ns
    return BookSnapshot(
        venue=Venue.POLYMARKET,
        ts_event=ts,
        ts_recv=ts,
        market=market.condition_id,
        token=token,
        bids=tuple(book.bids()),
        asks=tuple(book.asks()),
    )


def reference_event(
    symbol: str,
    price: str,
    ts_ns: int,
    *,
    size: str | None = None,
    aggressor: Side | None = None,
) -> ReferencePrice:
    """A reference print (a trade when ``size`` and ``aggressor`` are given)."""
    return ReferencePrice(
        venue=Venue.BINANCE,
        ts_event=ts_ns,
        ts_recv=ts_ns,
        symbol=symbol,
        price=Decimal(price),
        size=None if size is None else Decimal(size),
        aggressor=aggressor,
    )
