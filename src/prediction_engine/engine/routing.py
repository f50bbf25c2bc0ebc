"""Which strategies get which events: the aggregate of every strategy's subscriptions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.strategy.base import Strategy, Subscriptions

__all__ = ["Routes"]

K = TypeVar("K")


class Routes:
    """Strategies by token, market and reference symbol (each strategy once per key)."""

    def __init__(self) -> None:
        self.by_token: dict[TokenId, list[Strategy]] = {}
        self.by_market: dict[ConditionId, list[Strategy]] = {}
        self.by_symbol: dict[str, list[Strategy]] = {}

    @property
    def markets(self) -> set[ConditionId]:
        """Markets some strategy follows."""
        return set(self.by_market)

    def subscriptions(self) -> Subscriptions:
        """The union of every strategy's subscriptions."""
        return Subscriptions(
            tokens=frozenset(self.by_token),
            markets=frozenset(self.by_market),
            symbols=frozenset(self.by_symbol),
        )

    def add(self, strategy: Strategy, wanted: Subscriptions) -> Subscriptions:
        """Route ``wanted`` to ``strategy``; return the keys nobody had subscribed before."""
        tokens = _add(self.by_token, wanted.tokens, strategy)
        markets = _add(self.by_market, wanted.markets, strategy)
        symbols = _add(self.by_symbol, (s.lower() for s in wanted.symbols), strategy)
        return Subscriptions(
            tokens=frozenset(tokens), markets=frozenset(markets), symbols=frozenset(symbols)
        )

    def remove_market(self, market: ConditionId, tokens: Iterable[TokenId]) -> Subscriptions:
        """Forget a finished market and its tokens; return what is no longer needed."""
        gone_tokens = [t for t in tokens if self.by_token.pop(t, None) is not None]
        gone_market = [market] if self.by_market.pop(market, None) is not None else []
        return Subscriptions(tokens=frozenset(gone_tokens), markets=frozenset(gone_market))


def _add(routes: dict[K, list[Strategy]], keys: Iterable[K], strategy: Strategy) -> list[K]:
    fresh: list[K] = []
    for key in keys:
        owners = routes.get(key)
        if owners is None:
            routes[key] = [strategy]
            fresh.append(key)
        elif strategy not in owners:
            owners.append(strategy)
    return fresh
