"""Liquidity consumption: the displayed size our fills took, so the same size never fills twice.

Bookkeeping for :class:`~prediction_engine.execution.paper.PaperExecution`, whose module
docstring states the rules. Prices and sizes are micro-units.
"""

from __future__ import annotations

from collections.abc import Iterator

from prediction_engine.core.book import OrderBook
from prediction_engine.core.events import BookDelta, Side
from prediction_engine.core.ids import TokenId
from prediction_engine.core.numbers import ONE

__all__ = ["SIZE_STEP", "Consumption", "crossing_levels", "lot", "opposite"]

SIZE_STEP = 10_000
"""The venue's size step in micro-shares (0.01 share)."""


def opposite(side: Side) -> Side:
    """Return the other side."""
    return Side.SELL if side is Side.BUY else Side.BUY


def lot(available: int, wanted: int) -> int:
    """Return how much of ``wanted`` a level with ``available`` gives, in whole size steps."""
    if wanted <= available:
        return wanted
    available = max(available, 0)
    return available - available % SIZE_STEP


def crossing_levels(book: OrderBook, side: Side, limit: int) -> Iterator[tuple[int, int]]:
    """Yield the opposite levels ``(price, size)`` an order of ``side`` at ``limit`` reaches."""
    tick = book.tick_size
    if side is Side.BUY:
        price = book.best_ask
        while price is not None and price <= limit and price < ONE:
            if size := book.ask_size(price):
                yield price, size
            price += tick
    else:
        price = book.best_bid
        while price is not None and price >= limit and price > 0:
            if size := book.bid_size(price):
                yield price, size
            price -= tick


class _Consumed:
    __slots__ = ("consumed", "displayed")

    def __init__(self, consumed: int, displayed: int) -> None:
        self.consumed = consumed
        self.displayed = displayed


class Consumption:
    """Displayed size we took, per (token, level side, price); ``Side.BUY`` levels are bids."""

    def __init__(self) -> None:
        self.tokens: dict[TokenId, dict[tuple[Side, int], _Consumed]] = {}
        """Read-only for callers: a token is here only while we consumed something of it."""

    def get(self, token: TokenId, side: Side, price: int) -> int:
        """Return what we consumed at a level."""
        levels = self.tokens.get(token)
        record = levels.get((side, price)) if levels else None
        return record.consumed if record else 0

    def consume(self, token: TokenId, side: Side, price: int, size: int, displayed: int) -> None:
        """Remember that a fill took ``size`` of a level displaying ``displayed``."""
        levels = self.tokens.setdefault(token, {})
        record = levels.get((side, price))
        if record is None:
            record = levels[side, price] = _Consumed(0, displayed)
        record.consumed += size
        record.displayed = displayed

    def release(self, delta: BookDelta) -> None:
        """Update the record of the level ``delta`` sets: a shrink releases that much."""
        levels = self.tokens.get(delta.token)
        record = levels.get((delta.side, delta.price)) if levels else None
        if levels is None or record is None:
            return
        if delta.size < record.displayed:
            record.consumed = max(0, record.consumed - (record.displayed - delta.size))
        record.displayed = delta.size
        if not delta.size or not record.consumed:
            del levels[delta.side, delta.price]
            if not levels:
                del self.tokens[delta.token]

    def forget(self, token: TokenId) -> None:
        """Forget a token's records (a snapshot or a tick-size change replaced its book)."""
        self.tokens.pop(token, None)
