"""The engine's state and the read-only view strategies get of it.

:class:`EngineState` holds books, markets, reference prices, orders, the portfolio and the
kill switch. Only the engine mutates it (through the ``apply_*`` methods, from its own task);
strategies read it through :class:`EngineView`, risk through :meth:`EngineState.risk_state`.

Compiled with mypyc (see ``setup.py``) so the engine loop reads and writes it at C speed; its
one msgspec struct, :class:`~.config.StaleLimits`, lives in :mod:`.config` for that reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import msgspec

from prediction_engine.core.book import OrderBook
from prediction_engine.core.book_sync import BookSet
from prediction_engine.core.events import MarketListed, ReferencePrice
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import FeeSchedule, Market
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import Order
from prediction_engine.core.portfolio import Portfolio, Position
from prediction_engine.core.updown import UpDownWindow, window_of
from prediction_engine.engine.config import StaleLimits
from prediction_engine.risk.limits import InstrumentView, KillSwitch, RiskState

__all__ = ["EngineState", "EngineView", "TokenSlot", "market_from_listing"]

_S = 1_000_000_000
_ONE: Final = ONE
_ASTUPLE: Final = msgspec.structs.astuple
if Position.__struct_fields__[:4] != ("market", "token", "shares", "basis"):
    raise ImportError(f"Position's fields changed: {Position.__struct_fields__}")


def market_from_listing(event: MarketListed) -> Market:
    """A :class:`Market` from a ``new_market`` announcement (what the venue told us)."""
    return Market(
        venue=event.venue,
        condition_id=event.market,
        market_id=event.market_id,
        slug=event.slug,
        question=event.question,
        description=event.description,
        outcomes=event.outcomes,
        tokens=event.tokens,
        tick_size=event.tick_size,
        active=True,
        accepting_orders=True,
        enable_order_book=True,
        tags=event.tags,
        event_slug=event.event_slug,
    )


class _Instruments(Mapping[TokenId, InstrumentView]):
    """Risk's per-token view, built on demand from the live book and the market rules.

    Views are cached until :meth:`forget` (the engine calls it whenever books or markets may
    have changed, before it decides), so the legs of a basket share them.
    """

    __slots__ = ("_cache", "_state")

    def __init__(self, state: EngineState) -> None:
        self._state = state
        self._cache: dict[TokenId, InstrumentView] = {}

    def forget(self) -> None:
        """Drop cached views: books or markets changed."""
        if self._cache:
            self._cache.clear()

    def __getitem__(self, token: TokenId) -> InstrumentView:
        view = self._cache.get(token)
        if view is None:
            view = self._cache[token] = self._build(token)
        return view

    def _build(self, token: TokenId) -> InstrumentView:
        state = self._state
        market = state.market_of.get(token)
        book = state.books.book(token)
        if market is None or book is None:
            raise KeyError(token)
        return InstrumentView(
            tick_size=book.tick_size,
            min_order_size=market.min_order_size,
            best_bid=book.best_bid,
            best_ask=book.best_ask,
            accepting_orders=not market.closed and token not in state.closed_tokens,
            fee_schedule=market.fee_schedule,
        )

    def __iter__(self) -> Iterator[TokenId]:
        return iter(self._state.market_of)

    def __len__(self) -> int:
        return len(self._state.market_of)


class TokenSlot:
    """What the engine keeps of one token, reached with one dict lookup per event (the
    backtest's hot path): its book once it has one (the very object in ``books.books``),
    the receive time of its last event, and the engine's routing of the current batch."""

    def __init__(self, token: TokenId) -> None:
        self.token = token
        self.book: OrderBook | None = None
        self.seen_ns: Any = None
        """The ``ts_recv`` object of the token's last event (``None`` before any)."""
        self.strategies: list[Any] | None = None
        """The strategies routed this token's events, as of ``routes_version``."""
        self.routes_version = -1
        self.event: Any = None
        """The batch's last book event of this token (the one strategies are offered)."""
        self.batch = 0
        """The batch the token was last touched in."""


class EngineState:
    """Everything the engine knows. Mutated only by the engine."""

    def __init__(self, starting_cash: int, stale: StaleLimits | None = None) -> None:
        self.books = BookSet()
        self.markets: dict[ConditionId, Market] = {}
        self.market_of: dict[TokenId, Market] = {}
        self.event_members: dict[str, list[ConditionId]] = {}
        self.closed_tokens: set[TokenId] = set()
        self.windows: dict[ConditionId, UpDownWindow] = {}
        self.references: dict[str, ReferencePrice] = {}
        self.strike_references: dict[str, ReferencePrice] = {}
        """The latest price per symbol from the strike venue (what strikes are judged by)."""
        self.orders: dict[str, Order] = {}
        self.open_orders: dict[str, Order] = {}
        self.order_strategy: dict[str, str] = {}
        self.last_order_ns: dict[ConditionId, int] = {}
        self.portfolio = Portfolio(starting_cash)
        self.kill_switch = KillSwitch()
        self.daily_pnl = 0
        self.day_start_equity = starting_cash
        self.now_ns = 0
        self.stale = stale or StaleLimits()
        self._feed_seen_ns: dict[str, int] = {}
        self._pending_feed: str | None = None  # the venue whose last frame is not stored yet
        self._pending_seen: Any = None
        self.tokens: dict[TokenId, TokenSlot] = {}
        self.symbol_feed: dict[str, str] = {}
        self.instruments = _Instruments(self)

    @property
    def feed_seen_ns(self) -> dict[str, int]:
        """When each feed (venue) last sent us anything (receive time)."""
        if self._pending_feed is not None:
            self._feed_seen_ns[self._pending_feed] = self._pending_seen
            self._pending_feed = None
        return self._feed_seen_ns

    def feed_seen(self, venue: str, recv: Any) -> None:
        """``venue`` sent a frame received at ``recv`` (stored when read, or when another
        venue speaks: a dict store per frame cost more than the rest of a frame's
        bookkeeping)."""
        pending = self._pending_feed
        if pending is not None and pending is not venue:
            self._feed_seen_ns[pending] = self._pending_seen
        self._pending_feed = venue
        self._pending_seen = recv

    @property
    def book_seen_ns(self) -> dict[TokenId, int]:
        """When we last heard of each token (receive time of its last event)."""
        return {t: s.seen_ns for t, s in self.tokens.items() if s.seen_ns is not None}

    def slot(self, token: TokenId) -> TokenSlot:
        """The token's slot (made on first use, with its book if it has one)."""
        slot = self.tokens.get(token)
        if slot is None:
            slot = self.tokens[token] = TokenSlot(token)
            slot.book = self.books.books.get(token)
        return slot

    # -- markets ---------------------------------------------------------------------------

    def add_market(self, market: Market) -> bool:
        """Know ``market`` (its tokens, event, Up/Down window); False if already known."""
        if market.condition_id in self.markets:
            return False
        self.markets[market.condition_id] = market
        for token in market.tokens:
            self.market_of[token] = market
        if market.event_slug and not market.closed:
            self.event_members.setdefault(market.event_slug, []).append(market.condition_id)
        window = window_of(market)
        if window is not None:
            self.windows[market.condition_id] = window
        return True

    def close_market(self, market: ConditionId) -> None:
        """The market resolved: no more orders, out of its event's open outcomes."""
        known = self.markets.get(market)
        if known is None:
            return
        self.markets[market] = msgspec.structs.replace(
            known, closed=True, accepting_orders=False
        )
        self.closed_tokens.update(known.tokens)
        for token in known.tokens:
            self.market_of[token] = self.markets[market]
        members = self.event_members.get(known.event_slug or "")
        if members and market in members:
            members.remove(market)

    def set_strike(self, price: ReferencePrice, previous: ReferencePrice | None) -> None:
        """Record ``price`` as the strike of every window of its symbol it is the first price of.

        The strike is the first price at or after the start, which we know only if the feed
        also gave us a price before the start (``previous``); otherwise the window is marked
        ``joined_late`` and keeps no strike. The caller passes only prices of the strike feed.
        """
        symbol = price.symbol.lower()
        for key, window in self.windows.items():
            if window.strike is not None or window.joined_late or window.symbol != symbol:
                continue
            if price.ts_event < window.start_ns:
                continue
            if previous is None or previous.ts_event >= window.start_ns:
                self.windows[key] = msgspec.structs.replace(window, joined_late=True)
            else:
                self.windows[key] = msgspec.structs.replace(window, strike=price.price)

    # -- reads -----------------------------------------------------------------------------

    def fee_schedule(self, token: TokenId) -> FeeSchedule | None:
        """The fee schedule of the token's market."""
        market = self.market_of.get(token)
        return market.fee_schedule if market else None

    def feed_stale(self, feed: str) -> bool:
        """Whether ``feed`` has been silent past its limit (never heard counts as stale)."""
        seen = self.feed_seen_ns.get(feed)
        return seen is None or self.now_ns - seen > self.stale.limit_ns(feed)

    def book_stale(self, token: TokenId) -> bool:
        """Whether the token's book is unsynced, its venue's feed silent, or (optionally) too
        old."""
        market = self.market_of.get(token)
        if market is None or self.books.book(token) is None:
            return True
        if self.feed_stale(market.venue.value):
            return True
        max_age = self.stale.book_max_age_s
        if max_age is None:
            return False
        slot = self.tokens.get(token)
        seen: int = 0 if slot is None or slot.seen_ns is None else slot.seen_ns
        return self.now_ns - seen > max_age * _S

    def symbol_stale(self, symbol: str) -> bool:
        """Whether the reference feed of ``symbol`` is silent (or never spoke)."""
        feed = self.symbol_feed.get(symbol.lower())
        return feed is None or self.feed_stale(feed)

    def bankroll(self) -> int:
        """Cash plus the cost of held positions: what Kelly sizes against."""
        held = sum(p.basis for p in self.portfolio.open_positions() if p.shares > 0)
        return self.portfolio.cash + held

    def marks(self) -> dict[TokenId, int]:
        """Mid prices of held tokens (for valuation); held tokens without a book are absent."""
        prices: dict[TokenId, int] = {}
        for position in self.portfolio.open_positions():
            book = self.books.book(position.token)
            mid = book.mid if book is not None else None
            if mid is not None:
                prices[position.token] = mid
        return prices

    def equity(self) -> int:
        """Cash plus positions marked at mid (at cost when no book): the equity of
        ``portfolio.mark(marks())``, summed without building the valuation (the engine's timer
        asks every tick)."""
        total = self.portfolio.cash
        books = self.books.books
        for position in self.portfolio.positions.values():
            # One astuple reads the fields (compiled, each attribute is a generic lookup).
            fields = _ASTUPLE(position)
            shares: int = fields[2]
            if shares:
                book = books.get(fields[1])
                mid = book.mid if book is not None and book.valid else None
                # Position.value, inline: a method of a Python class costs 20x the sum here.
                total += fields[3] if mid is None else shares * mid // _ONE
        return total

    def risk_state(self) -> RiskState:
        """Risk's read-only view of this state."""
        return RiskState(
            cash=self.portfolio.cash,
            positions=self.portfolio.positions,
            open_orders=list(self.open_orders.values()),
            instruments=self.instruments,
            last_order_ns=self.last_order_ns,
            daily_pnl=self.daily_pnl,
            kill_switch=self.kill_switch,
        )


class EngineView:
    """The read-only :class:`~prediction_engine.strategy.base.StateView` strategies get."""

    __slots__ = ("_state",)

    def __init__(self, state: EngineState) -> None:
        self._state = state

    @property
    def now_ns(self) -> int:
        """The engine's time."""
        return self._state.now_ns

    @property
    def cash(self) -> int:
        """Free cash before open orders reserve any (micro-units)."""
        return self._state.portfolio.cash

    def book(self, token: TokenId) -> OrderBook | None:
        """The token's book while in sync."""
        return self._state.books.book(token)

    def market(self, market: ConditionId) -> Market | None:
        """Metadata of a known market."""
        return self._state.markets.get(market)

    def market_of(self, token: TokenId) -> Market | None:
        """The market of a token."""
        return self._state.market_of.get(token)

    def event_markets(self, event_slug: str) -> Sequence[Market]:
        """The open markets of an event."""
        markets = self._state.markets
        return [markets[c] for c in self._state.event_members.get(event_slug, ())]

    def reference(self, symbol: str) -> ReferencePrice | None:
        """The latest reference price event of ``symbol``."""
        return self._state.references.get(symbol.lower())

    def reference_price(self, symbol: str) -> Decimal | None:
        """The latest reference price of ``symbol``."""
        price = self._state.references.get(symbol.lower())
        return price.price if price else None

    def updown(self, market: ConditionId) -> UpDownWindow | None:
        """The Up/Down window of ``market`` (strike set once started)."""
        return self._state.windows.get(market)

    def shares(self, token: TokenId) -> int:
        """Signed shares held."""
        return self._state.portfolio.shares(token)

    def open_orders(self, market: ConditionId | None = None) -> Sequence[Order]:
        """Open orders in ``market`` (everywhere when ``None``)."""
        orders = self._state.open_orders.values()
        return [o for o in orders if market is None or o.market == market]

    def is_stale(self, token: TokenId) -> bool:
        """Whether the book of ``token`` is stale or unsynced."""
        return self._state.book_stale(token)

    def is_symbol_stale(self, symbol: str) -> bool:
        """Whether the reference feed of ``symbol`` is stale."""
        return self._state.symbol_stale(symbol)

