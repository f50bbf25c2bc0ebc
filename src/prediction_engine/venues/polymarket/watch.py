"""Watch live top of book: resolve what the user named to markets, stream their books.

``resolve_markets`` turns a slug, token id, condition id or free text into markets (the local
catalog first, then Gamma by slug). ``watch_books`` runs a :class:`MarketDataSession` and calls
back with plain rows a few times a second; rendering is the caller's business.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiohttp

from prediction_engine.config import PolymarketConfig
from prediction_engine.core.book_sync import BookSet
from prediction_engine.core.events import Event, Trade
from prediction_engine.core.ids import TokenId
from prediction_engine.core.markets import Market
from prediction_engine.engine.clock import Clock
from prediction_engine.venues.polymarket.catalog import Catalog
from prediction_engine.venues.polymarket.rest import ClobClient, GammaClient
from prediction_engine.venues.polymarket.session import MarketDataSession, SessionCounters

__all__ = ["TopRow", "WatchTargetError", "resolve_markets", "top_rows", "watch_books"]


class WatchTargetError(LookupError):
    """Nothing matches what the user asked to watch."""


@dataclass(frozen=True)
class TopRow:
    """Top of book of one outcome token (micro-units; ``None`` for an empty side)."""

    slug: str
    outcome: str
    token: TokenId
    synced: bool
    bid: int | None
    bid_size: int
    ask: int | None
    ask_size: int
    last_trade: int | None


async def resolve_markets(
    target: str, catalog: Catalog, gamma: GammaClient, limit: int = 5
) -> list[Market]:
    """Markets for ``target``: exact slug, token id, condition id, Gamma slug, else text search."""
    exact = catalog.by_slug(target) or catalog.by_token(target) or catalog.by_condition(target)
    if exact is not None:
        return [exact]
    if "-" in target and " " not in target:
        remote = await gamma.market_by_slug(target)
        if remote is not None:
            return [remote]
    hits = [h.market for h in catalog.search(target, limit=limit, open_only=True)]
    if not hits:
        raise WatchTargetError(
            f"no market matches {target!r}; try `pengine markets search {target}` or "
            "`pengine markets refresh` to update the catalog"
        )
    return hits


def top_rows(markets: Sequence[Market], books: BookSet, last: dict[TokenId, int]) -> list[TopRow]:
    """One row per outcome token of ``markets``, from the current books."""
    rows = []
    for market in markets:
        for outcome, token in zip(market.outcomes, market.tokens, strict=False):
            book = books.book(token)
            rows.append(
                TopRow(
                    slug=market.slug,
                    outcome=outcome,
                    token=token,
                    synced=book is not None,
                    bid=book.best_bid if book else None,
                    bid_size=book.best_bid_size() if book else 0,
                    ask=book.best_ask if book else None,
                    ask_size=book.best_ask_size() if book else 0,
                    last_trade=last.get(token),
                )
            )
    return rows


async def watch_books(
    config: PolymarketConfig,
    markets: Sequence[Market],
    *,
    http: aiohttp.ClientSession,
    clock: Clock,
    on_update: Callable[[list[TopRow], SessionCounters], None],
    duration_s: float | None = None,
    refresh_s: float = 0.25,
) -> SessionCounters:
    """Stream the books of ``markets`` and report rows every ``refresh_s`` until ``duration_s``."""
    tokens = [t for m in markets for t in m.tokens]
    if not tokens:
        raise WatchTargetError("the selected markets have no order-book tokens")
    queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=10_000)
    clob = ClobClient.from_config(http, config, clock)
    session = MarketDataSession(config, http=http, clock=clock, sink=queue, fetch_book=clob.book)
    last: dict[TokenId, int] = {}

    async def consume() -> None:
        while True:
            event = await queue.get()
            if isinstance(event, Trade):
                last[event.token] = event.price

    async def report() -> None:
        loop = asyncio.get_running_loop()
        end = None if duration_s is None else loop.time() + duration_s
        while end is None or loop.time() < end:
            on_update(top_rows(markets, session.books, last), session.counters)
            await asyncio.sleep(refresh_s)
        on_update(top_rows(markets, session.books, last), session.counters)
        await session.close()

    async with asyncio.TaskGroup() as group:
        consumer = group.create_task(consume())
        group.create_task(report())
        try:
            await session.run(tokens)
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
    return session.counters
