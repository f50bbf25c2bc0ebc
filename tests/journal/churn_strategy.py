"""A test strategy that trades all the time, to give the crash test many orders and fills.

Every ``every``-th book update of a market's first token it acts, cycling through four moves:
buy at the ask (FAK, a taker fill), rest a buy at the bid (GTC: a maker fill when a trade or
the book reaches it, else it stays open), sell what it holds at the bid (FAK), and cancel its
resting orders in the market. Its move counter is persisted (``persist``/``restore``), so a
restarted process continues the cycle where the journal's last snapshot left it.
"""

from collections.abc import Sequence
from typing import ClassVar

import msgspec

from prediction_engine.core.events import BookDelta, BookSnapshot, Event, Side
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import OrderIntent, TimeInForce
from prediction_engine.strategy.base import CancelOrders, Intent, StateView, Subscriptions


class ChurnParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How often to act and how many shares per order."""

    every: int = 3
    shares: int = 5


class Churn:
    """Buys, rests, sells and cancels in turn (see the module docstring)."""

    name: ClassVar[str] = "churn"
    params_type: ClassVar[type[ChurnParams]] = ChurnParams

    def __init__(self, params: ChurnParams | None = None, *, id: str | None = None) -> None:
        self.params = params or ChurnParams()
        self._id = id or self.name
        self.updates = 0
        self.moves = 0

    @property
    def id(self) -> str:
        return self._id

    def subscriptions(self, markets: Sequence[Market]) -> Subscriptions:
        return Subscriptions.for_markets(markets)

    def persist(self) -> object:
        return {"updates": self.updates, "moves": self.moves}

    def restore(self, state: object) -> None:
        assert isinstance(state, dict)
        self.updates, self.moves = int(state["updates"]), int(state["moves"])

    def on_event(self, event: Event, view: StateView) -> Sequence[Intent]:
        if not isinstance(event, BookDelta | BookSnapshot):
            return ()
        market = view.market_of(event.token)
        if market is None or event.token != market.tokens[0]:
            return ()
        self.updates += 1
        book = view.book(event.token)
        if self.updates % self.params.every or book is None:
            return ()
        bid, ask = book.best_bid, book.best_ask
        if bid is None or ask is None or not 0 < bid < ask < ONE:
            return ()
        self.moves += 1
        size = self.params.shares * ONE
        move = self.moves % 4
        held = view.shares(event.token)
        common = {"market": market.condition_id, "token": event.token, "size": size}
        if move == 0:
            return (CancelOrders(market=market.condition_id, reason="churn"),)
        if move == 3 and held >= size:
            return (OrderIntent(side=Side.SELL, price=bid, time_in_force=TimeInForce.FAK,
                                **common),)
        if move == 2:
            return (OrderIntent(side=Side.BUY, price=bid, **common),)
        return (OrderIntent(side=Side.BUY, price=ask, time_in_force=TimeInForce.FAK, **common),)
