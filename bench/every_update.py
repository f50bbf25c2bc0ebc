"""The benchmark strategy of bench_backtest.py, loaded as a strategy file (`path.py:Class`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

import msgspec

from prediction_engine.core.events import BookDelta, BookSnapshot, Event, Side
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import OrderIntent, TimeInForce
from prediction_engine.strategy.base import Intent, StateView, Subscriptions

_BOOK = (BookDelta, BookSnapshot)


class EveryUpdateParams(msgspec.Struct, frozen=True, kw_only=True):
    """Every how many book updates to send an order."""

    order_every: int = 1000


class EveryUpdate:
    """Called on every book update of its tokens; a FAK buy at the best ask every 1000th."""

    name = "every_update"
    summary = "benchmark strategy: looks at every book update, orders every 1000th"
    params_type: ClassVar[type[EveryUpdateParams]] = EveryUpdateParams

    def __init__(self, params: EveryUpdateParams, *, id: str | None = None) -> None:
        self.id = id or self.name
        self.every = params.order_every
        self.updates = 0

    def subscriptions(self, markets: Sequence[Market]) -> Subscriptions:
        return Subscriptions(
            tokens=frozenset(t for m in markets for t in m.tokens),
            markets=frozenset(m.condition_id for m in markets),
        )

    def on_event(self, event: Event, view: StateView) -> Iterable[Intent]:
        if not isinstance(event, _BOOK):
            return ()
        self.updates += 1
        if self.updates % self.every:
            return ()
        book = view.book(event.token)
        ask = None if book is None else book.best_ask
        if ask is None:
            return ()
        return (OrderIntent(market=event.market, token=event.token, side=Side.BUY, price=ask,
                            size=5 * ONE, time_in_force=TimeInForce.FAK),)
