"""The strategy API: what a strategy declares, what it sees, and what it may return.

A strategy is a deterministic policy. It declares, per market it is offered, the instruments
and reference feeds it needs (:class:`Subscriptions`); the engine aggregates every strategy's
subscriptions into one set of venue connections and routes each event only to the strategies
that asked for its token, market or symbol. On each event the strategy reads a read-only
:class:`StateView` and returns intents:

- :class:`~prediction_engine.strategy.sizing.Signal`: a view (side, edge, confidence, fair
  price). Per market the highest ``edge x confidence`` wins; the engine sizes it with
  fractional Kelly (half by default) within the risk room and the depth at the touch, and
  takes it as a fill-and-kill order at the touch.
- :class:`~prediction_engine.core.orders.OrderIntent`: an order exactly as wanted.
- :class:`Basket`: orders that make sense only together (the legs of an arbitrage); risk
  approves all of them or none.
- :class:`CancelOrders`: cancel this strategy's open orders (in one market, or all).

Book events are conflated per token within one engine batch (one venue message, or what
arrived together): the strategy gets the last one, and the view already holds the book after
the whole batch, so the two tokens of a market are never seen half-updated.

Strategies may keep state built from the events they were given; they do no I/O, read no
clock (time is ``view.now_ns`` or the event's) and keep no globals, so a backtest replays them
exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import ClassVar, Protocol, runtime_checkable

import msgspec

from prediction_engine.core.book import OrderBook
from prediction_engine.core.events import Event, ReferencePrice
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.markets import Market
from prediction_engine.core.orders import Order, OrderIntent
from prediction_engine.core.updown import UpDownWindow
from prediction_engine.strategy.sizing import Signal

__all__ = [
    "Basket",
    "CancelOrders",
    "Intent",
    "StateView",
    "Strategy",
    "Subscriptions",
]


class Subscriptions(msgspec.Struct, frozen=True, kw_only=True):
    """What a strategy needs: order books of ``tokens``, lifecycle events of ``markets`` and
    reference prices of ``symbols`` (``btcusdt``...)."""

    tokens: frozenset[TokenId] = frozenset()
    markets: frozenset[ConditionId] = frozenset()
    symbols: frozenset[str] = frozenset()

    @classmethod
    def for_markets(cls, markets: Iterable[Market], symbols: Iterable[str] = ()) -> Subscriptions:
        """Every token and lifecycle event of ``markets``, plus ``symbols``."""
        markets = list(markets)
        return cls(
            tokens=frozenset(t for m in markets for t in m.tokens),
            markets=frozenset(m.condition_id for m in markets),
            symbols=frozenset(symbols),
        )

    def __or__(self, other: Subscriptions) -> Subscriptions:
        return Subscriptions(
            tokens=self.tokens | other.tokens,
            markets=self.markets | other.markets,
            symbols=self.symbols | other.symbols,
        )

    def __bool__(self) -> bool:
        return bool(self.tokens or self.markets or self.symbols)


class Basket(msgspec.Struct, frozen=True, kw_only=True):
    """Orders to send together or not at all (risk checks every leg before any is sent)."""

    legs: tuple[OrderIntent, ...]
    reason: str = ""


class CancelOrders(msgspec.Struct, frozen=True, kw_only=True):
    """Cancel the strategy's own open orders in ``market`` (all markets when ``None``)."""

    market: ConditionId | None = None
    reason: str = ""


Intent = Signal | OrderIntent | Basket | CancelOrders


class StateView(Protocol):
    """Read-only view of the engine's state, as of the end of the current batch."""

    @property
    def now_ns(self) -> int:
        """The engine's time (the latest event's receive time, or the timer's)."""
        ...

    @property
    def cash(self) -> int:
        """Free cash in micro-units of USD (before open orders reserve any)."""
        ...

    def book(self, token: TokenId) -> OrderBook | None:
        """The token's book, or ``None`` while it is not in sync."""
        ...

    def market(self, market: ConditionId) -> Market | None:
        """The market's metadata (fee schedule, tokens, tick, neg-risk event)."""
        ...

    def market_of(self, token: TokenId) -> Market | None:
        """The market a token belongs to."""
        ...

    def event_markets(self, event_slug: str) -> Sequence[Market]:
        """The open markets of one event (the outcomes of a neg-risk event)."""
        ...

    def reference(self, symbol: str) -> ReferencePrice | None:
        """The latest reference price of ``symbol``."""
        ...

    def reference_price(self, symbol: str) -> Decimal | None:
        """The latest reference price of ``symbol`` as a number."""
        ...

    def updown(self, market: ConditionId) -> UpDownWindow | None:
        """The Up/Down window of ``market`` with its strike once the window started."""
        ...

    def shares(self, token: TokenId) -> int:
        """Signed shares held of ``token`` (micro-shares)."""
        ...

    def open_orders(self, market: ConditionId | None = None) -> Sequence[Order]:
        """Open orders, in ``market`` or everywhere."""
        ...

    def is_stale(self, token: TokenId) -> bool:
        """Whether the token's book is out of sync or has not updated within its feed's limit."""
        ...

    def is_symbol_stale(self, symbol: str) -> bool:
        """Whether the reference feed of ``symbol`` has gone quiet past its limit."""
        ...


class Strategy(Protocol):
    """A trading policy. Construct it from its ``Params`` struct (``Strategy(params)``)."""

    name: ClassVar[str]
    """Registry name (``arbitrage``, ``mean_reversion``...)."""

    @property
    def id(self) -> str:
        """Instance name used in telemetry and order attribution (defaults to ``name``)."""
        ...

    def subscriptions(self, markets: Sequence[Market]) -> Subscriptions:
        """Return what this strategy needs from ``markets`` (newly known ones; may be empty)."""
        ...

    def on_event(self, event: Event, view: StateView) -> Sequence[Intent]:
        """React to one routed event; return intents (an empty sequence for none)."""
        ...


@runtime_checkable
class PersistentStrategy(Protocol):
    """A strategy whose own state survives a restart (moving averages, counters...).

    The engine calls :meth:`persist` at each journal snapshot and :meth:`restore` once, with
    what :meth:`persist` returned after a JSON round trip (dicts, lists, str, int, float,
    bool, None), before the first event of a restarted process.
    """

    def persist(self) -> object:
        """Return this strategy's state as JSON-encodable data."""
        ...

    def restore(self, state: object) -> None:
        """Take back a state :meth:`persist` returned (decoded from JSON)."""
        ...


__all__ += ["PersistentStrategy", "Signal"]
