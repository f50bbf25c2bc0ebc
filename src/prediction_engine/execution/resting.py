"""Our resting orders, indexed the ways the paper client reads them on every market event.

Bookkeeping for :class:`~prediction_engine.execution.paper.PaperExecution`: orders by client
id, each token's orders in time order, and per token the highest bid and the lowest ask we
rest, so that a book change beyond them is dismissed without looking at any order.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from prediction_engine.core.events import Side
from prediction_engine.core.ids import TokenId
from prediction_engine.core.numbers import ONE
from prediction_engine.core.orders import Order, is_marketable

__all__ = ["RestingOrders"]


class RestingOrders:
    """Open GTC/GTD orders; a token is in :attr:`reach` only while an order of ours rests on it."""

    def __init__(self) -> None:
        self._orders: dict[str, Order] = {}
        self._by_token: dict[TokenId, dict[str, None]] = {}  # client ids, oldest first
        self.reach: dict[TokenId, tuple[int, int]] = {}
        """Read-only for callers: token -> (our highest bid or 0, our lowest ask or ONE)."""
        self.view: Mapping[str, Order] = MappingProxyType(self._orders)
        """Orders by client id: a read-only live view."""

    def add(self, order: Order) -> None:
        """Start holding a newly resting ``order``."""
        self._orders[order.client_id] = order
        self._by_token.setdefault(order.token, {})[order.client_id] = None
        self._set_reach(order.token)

    def store(self, order: Order) -> None:
        """Keep an order's new state, or drop it once it is closed."""
        if order.is_open:
            self._orders[order.client_id] = order
            return
        del self._orders[order.client_id]
        ids = self._by_token[order.token]
        del ids[order.client_id]
        if ids:
            self._set_reach(order.token)
        else:
            del self._by_token[order.token], self.reach[order.token]

    def by_priority(self, token: TokenId) -> list[Order]:
        """Return ``token``'s orders best price first, then oldest first."""
        return _by_priority([self._orders[cid] for cid in self._by_token[token]])

    def crossed(self, token: TokenId, best_bid: int | None, best_ask: int | None) -> list[Order]:
        """Return ``token``'s orders that this top of book crosses, by priority."""
        orders = map(self._orders.__getitem__, self._by_token[token])
        crossed = [o for o in orders if is_marketable(o.side, o.price, best_bid, best_ask)]
        return _by_priority(crossed) if crossed else crossed  # mostly none: nothing to sort

    def _set_reach(self, token: TokenId) -> None:
        orders = [self._orders[cid] for cid in self._by_token[token]]
        bids = [o.price for o in orders if o.side is Side.BUY]
        asks = [o.price for o in orders if o.side is Side.SELL]
        self.reach[token] = (max(bids, default=0), min(asks, default=ONE))


def _by_priority(orders: list[Order]) -> list[Order]:
    """``orders`` best price first, then in their given (time) order."""
    return sorted(orders, key=lambda o: -o.price if o.side is Side.BUY else o.price)
