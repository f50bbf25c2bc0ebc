"""Mean reversion on the mid price: the reference example to copy when writing a strategy.

The idea: a token's mid wanders around a slowly moving average; an ask well below that
average is cheap, a bid well above it (while we hold shares) is a good exit. The average is an
exponentially weighted moving average (EWMA) with a *time* half-life, so it behaves the same
whether the book updates ten times a second or once a minute.

Read this file top to bottom: it shows each part a strategy has.

1. A ``Params`` struct: frozen, every field with a default, a range and a description. The
   registry turns ``--param mean_reversion.entry_edge=0.05`` into it, and
   ``pengine strategies`` prints the descriptions.
2. Class attributes ``name`` (registry name), ``summary`` (one line) and ``params_type``.
3. ``subscriptions(markets)``: called with markets as they become known; return what you need.
4. ``on_event(event, view)``: called with each routed event; read the state from ``view`` and
   return intents (here :class:`~prediction_engine.strategy.sizing.Signal`: the engine sizes
   them with half Kelly and sends fill-and-kill orders at the touch).

Rules every strategy follows: no I/O, no clock (time is the event's or ``view.now_ns``), no
globals. State built from events (the averages here) is fine: a backtest replays it exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, ClassVar

import msgspec

from prediction_engine.core.events import BookDelta, BookSnapshot, Event, Side, TopOfBook
from prediction_engine.core.ids import TokenId
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.strategy.base import Intent, StateView, Subscriptions
from prediction_engine.strategy.sizing import Signal

__all__ = ["Ewma", "MeanReversion", "MeanReversionParams"]

NS_PER_S = 1_000_000_000
BookEvent = BookSnapshot | BookDelta | TopOfBook
"""The events that carry a token's book change."""


class MeanReversionParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of :class:`MeanReversion` (each ``Meta`` bounds what the CLI accepts)."""

    half_life_s: Annotated[
        float,
        msgspec.Meta(gt=0, le=86_400, description="Half-life of the mid's EWMA, in seconds."),
    ] = 30.0
    entry_edge: Annotated[
        float,
        msgspec.Meta(gt=0, lt=1, description="Buy when the best ask is this far below the EWMA."),
    ] = 0.03
    exit_edge: Annotated[
        float,
        msgspec.Meta(
            ge=0, lt=1, description="Sell held shares when the best bid is this far above the EWMA."
        ),
    ] = 0.0
    confidence: Annotated[
        float,
        msgspec.Meta(ge=0, le=1, description="Confidence attached to each signal (ranks them)."),
    ] = 0.5
    warmup: Annotated[
        int,
        msgspec.Meta(ge=1, description="Mid updates a token needs before it may be traded."),
    ] = 20
    max_markets: Annotated[
        int,
        msgspec.Meta(ge=0, description="Trade at most this many markets (0: every one offered)."),
    ] = 0


class Ewma:
    """Exponentially weighted average of a series sampled at irregular times.

    Each sample moves the average by ``alpha = 1 - 2 ** (-dt / half_life)`` of the gap, so a
    sample weighs the same per second of history however often samples arrive.
    """

    __slots__ = ("count", "half_life_ns", "last_ns", "value")

    def __init__(self, half_life_ns: int) -> None:
        self.half_life_ns = half_life_ns
        self.value = 0.0
        self.count = 0
        self.last_ns = 0

    def update(self, x: float, ts_ns: int) -> float:
        """Add sample ``x`` taken at ``ts_ns``; return the new average."""
        if self.count == 0:
            self.value = x
        else:
            # An out-of-order or same-instant sample gets no weight rather than a negative one.
            dt = max(ts_ns - self.last_ns, 0)
            alpha = 1.0 - math.pow(2.0, -dt / self.half_life_ns)
            self.value += alpha * (x - self.value)
        self.count += 1
        self.last_ns = max(ts_ns, self.last_ns)
        return self.value


class MeanReversion:
    """Buy asks below the mid's moving average; sell held shares into bids above it."""

    # The registry name: `--strategy mean_reversion`, `--param mean_reversion.KEY=VALUE`.
    name: ClassVar[str] = "mean_reversion"
    summary: ClassVar[str] = (
        "Buy when the best ask drops below the mid's moving average; sell held shares "
        "when the bid rises above it (template to copy)."
    )
    params_type: ClassVar[type[MeanReversionParams]] = MeanReversionParams

    def __init__(self, params: MeanReversionParams | None = None, *, id: str | None = None) -> None:
        self.params = params or MeanReversionParams()
        # `id` tells two instances of one strategy apart in telemetry (`--id` on the CLI).
        self._id = id or self.name
        self._averages: dict[TokenId, Ewma] = {}
        self._markets = 0

    @property
    def id(self) -> str:
        """Instance name used in telemetry and order attribution."""
        return self._id

    def subscriptions(self, markets: Sequence[Market]) -> Subscriptions:
        """Ask for the books of every token of the markets offered (up to ``max_markets``).

        The engine calls this again as new markets are listed, with only the new ones; keep
        count across calls when a limit applies.
        """
        limit = self.params.max_markets
        if limit:
            markets = list(markets)[: max(limit - self._markets, 0)]
        self._markets += len(markets)
        return Subscriptions.for_markets(markets)

    def on_event(self, event: Event, view: StateView) -> Sequence[Intent]:
        """Update the token's average on each book change and look for an entry or an exit."""
        # Only book events carry news for this strategy; ignore trades, lifecycle, etc.
        if not isinstance(event, BookEvent):
            return ()
        book = view.book(event.token)
        # A stale or missing book is not a price: skip rather than trade on it.
        if book is None or view.is_stale(event.token) or book.mid is None:
            return ()
        average = self._averages.get(event.token)
        if average is None:
            average = self._averages[event.token] = Ewma(round(self.params.half_life_s * NS_PER_S))
        # ts_recv is on the engine's clock (the one view.now_ns reads), monotonic per feed.
        fair = average.update(book.mid / ONE, event.ts_recv)
        if average.count < self.params.warmup:
            return ()
        signal = self._entry(event, fair, book.best_ask) or self._exit(
            event, fair, book.best_bid, view.shares(event.token)
        )
        return (signal,) if signal is not None else ()

    def _entry(self, event: BookEvent, fair: float, ask: int | None) -> Signal | None:
        """A BUY when the ask is at least ``entry_edge`` below the average."""
        if ask is None or fair - ask / ONE < self.params.entry_edge:
            return None
        return self._signal(event, Side.BUY, fair - ask / ONE, fair)

    def _exit(self, event: BookEvent, fair: float, bid: int | None, held: int) -> Signal | None:
        """A SELL of held shares when the bid is more than ``exit_edge`` above the average."""
        if held <= 0 or bid is None or bid / ONE - fair <= self.params.exit_edge:
            return None
        return self._signal(event, Side.SELL, bid / ONE - fair, fair)

    def _signal(self, event: BookEvent, side: Side, edge: float, fair: float) -> Signal:
        # `fair_price` is the probability the token pays out: Kelly sizes the order from it.
        return Signal(
            market=event.market,
            token=event.token,
            side=side,
            edge=edge,
            confidence=self.params.confidence,
            fair_price=min(max(fair, 0.0), 1.0),
            strategy=self.id,
        )
