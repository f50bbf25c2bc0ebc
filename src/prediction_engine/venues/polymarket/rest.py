"""Polymarket REST clients: Gamma (discovery) and the public CLOB endpoints.

Network code only: every body goes through a pure codec (:mod:`.gamma_parse`, :mod:`.parse`)
and callers see domain structs. Base URLs come from :class:`PolymarketConfig`, so the same
clients talk to the venue or to a local simulator on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from decimal import Decimal
from typing import Final
from urllib.parse import quote

import aiohttp
import msgspec

from prediction_engine.config import PolymarketConfig
from prediction_engine.core.events import BookSnapshot
from prediction_engine.core.ids import TokenId
from prediction_engine.core.markets import Market
from prediction_engine.engine.clock import Clock
from prediction_engine.venues.errors import DecodeError
from prediction_engine.venues.http import HttpClient, Params, TransportError, VenueRejectedError
from prediction_engine.venues.polymarket.gamma_parse import (
    EventSummary,
    Page,
    PricePoint,
    SeriesSummary,
    parse_clob_market,
    parse_clob_markets_page,
    parse_gamma_event,
    parse_gamma_events,
    parse_gamma_market,
    parse_gamma_markets,
    parse_gamma_markets_keyset,
    parse_gamma_series_list,
    parse_prices_history,
)
from prediction_engine.venues.polymarket.parse import parse_rest_book, parse_rest_books

__all__ = [
    "CLOB_FIRST_CURSOR",
    "CLOB_LAST_CURSOR",
    "GAMMA_MAX_OFFSET",
    "GAMMA_PAGE_LIMIT",
    "PRICE_HISTORY_INTERVALS",
    "ClobClient",
    "GammaClient",
    "MarketQuery",
    "OnPage",
    "SnapshotBatch",
]

GAMMA_PAGE_LIMIT: Final = 100
"""Gamma caps ``limit`` at 100 per page (silently) on ``/markets`` and ``/markets/keyset``."""

GAMMA_MAX_OFFSET: Final = 10_000
"""Gamma answers 422 past this ``offset``; use keyset pagination to go further."""

CLOB_FIRST_CURSOR: Final = "MA=="
CLOB_LAST_CURSOR: Final = "LTE="
PRICE_HISTORY_INTERVALS: Final = frozenset({"1h", "6h", "1d", "1w", "max"})

OnPage = Callable[[int, int], None]
"""Progress callback: ``(pages fetched so far, markets yielded so far)``."""


def _flag(value: bool) -> str:
    return "true" if value else "false"


class MarketQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Which markets to list. ``None`` means "do not filter on this"."""

    active: bool | None = True
    closed: bool | None = False
    min_volume: Decimal | None = None
    min_liquidity: Decimal | None = None
    tag_id: int | None = None
    enable_order_book: bool | None = None
    accepting_orders: bool | None = None
    order: str | None = None
    ascending: bool | None = None

    def params(self) -> list[tuple[str, str]]:
        """Query parameters Gamma understands (order-book flags are filtered client-side)."""
        pairs: list[tuple[str, str]] = []
        for key, flag in (("active", self.active), ("closed", self.closed)):
            if flag is not None:
                pairs.append((key, _flag(flag)))
        for key, number in (("volume_num_min", self.min_volume),
                            ("liquidity_num_min", self.min_liquidity)):
            if number is not None:
                pairs.append((key, str(number)))
        if self.tag_id is not None:
            pairs.append(("tag_id", str(self.tag_id)))
        if self.order is not None:
            pairs.append(("order", self.order))
        if self.ascending is not None:
            pairs.append(("ascending", _flag(self.ascending)))
        return pairs

    def accepts(self, market: Market) -> bool:
        """Apply every filter locally too (a server may ignore a parameter)."""
        checks = (
            (self.active, market.active),
            (self.closed, market.closed),
            (self.enable_order_book, market.enable_order_book),
            (self.accepting_orders, market.accepting_orders),
        )
        if any(wanted is not None and wanted != actual for wanted, actual in checks):
            return False
        if self.min_volume is not None and market.volume < self.min_volume:
            return False
        return self.min_liquidity is None or market.liquidity >= self.min_liquidity


class GammaClient:
    """Market discovery over Gamma: markets (offset or keyset pages), events, series."""

    def __init__(self, http: HttpClient, base_url: str) -> None:
        self.http = http
        self._base = base_url.rstrip("/")
        self.dropped = 0
        """Items the venue sent that did not parse (counted, skipped)."""

    @classmethod
    def from_config(cls, session: aiohttp.ClientSession, config: PolymarketConfig) -> GammaClient:
        """Build a client on ``session`` with the configured URL and rate limit."""
        http = HttpClient(session, requests_per_second=config.gamma_requests_per_second)
        return cls(http, config.gamma_url)

    async def _get(self, path: str, params: Params | None = None) -> bytes:
        return await self.http.get(self._base + path, params)

    async def _get_or_none(self, path: str, params: Params | None = None) -> bytes | None:
        try:
            return await self._get(path, params)
        except VenueRejectedError as e:
            if e.status == 404:
                return None
            raise

    def _take(self, page: Page[Market], query: MarketQuery) -> list[Market]:
        self.dropped += len(page.dropped)
        return [m for m in page.items if query.accepts(m)]

    async def markets(
        self,
        query: MarketQuery | None = None,
        *,
        keyset: bool = False,
        page_size: int = GAMMA_PAGE_LIMIT,
        on_page: OnPage | None = None,
    ) -> AsyncIterator[Market]:
        """Yield every market matching ``query``, page by page."""
        query = query or MarketQuery()
        limit = max(1, min(page_size, GAMMA_PAGE_LIMIT))
        pages = self._keyset_pages(query, limit) if keyset else self._offset_pages(query, limit)
        count = 0
        async for number, page in _numbered(pages):
            for market in self._take(page, query):
                count += 1
                yield market
            if on_page is not None:
                on_page(number, count)

    async def _offset_pages(self, query: MarketQuery, limit: int) -> AsyncIterator[Page[Market]]:
        offset = 0
        while offset <= GAMMA_MAX_OFFSET:
            params = [*query.params(), ("limit", str(limit)), ("offset", str(offset))]
            page = parse_gamma_markets(await self._get("/markets", params))
            yield page
            if len(page.items) + len(page.dropped) < limit:
                return
            offset += limit

    async def _keyset_pages(self, query: MarketQuery, limit: int) -> AsyncIterator[Page[Market]]:
        cursor: str | None = None
        while True:
            params = [*query.params(), ("limit", str(limit))]
            if cursor is not None:
                params.append(("cursor", cursor))
            page = parse_gamma_markets_keyset(await self._get("/markets/keyset", params))
            yield page
            if not page.next_cursor or page.next_cursor == cursor:
                return
            cursor = page.next_cursor

    async def market_by_slug(self, slug: str) -> Market | None:
        """Return the market with this slug, or ``None`` when Gamma has none."""
        body = await self._get_or_none(f"/markets/slug/{quote(slug, safe='')}")
        return parse_gamma_market(body) if body is not None else None

    async def event_by_slug(self, slug: str) -> EventSummary | None:
        """Return the event with this slug (with its markets), or ``None``."""
        body = await self._get_or_none(f"/events/slug/{quote(slug, safe='')}")
        return parse_gamma_event(body) if body is not None else None

    async def series_by_slug(self, slug: str) -> SeriesSummary | None:
        """Return the series with this slug and the events Gamma lists in it, or ``None``."""
        page = parse_gamma_series_list(await self._get("/series", [("slug", slug)]))
        self.dropped += len(page.dropped)
        return next((s for s in page.items if s.slug == slug), None)

    async def events(
        self, *, tag_id: int | None = None, active: bool | None = True,
        closed: bool | None = False, limit: int = GAMMA_PAGE_LIMIT,
    ) -> AsyncIterator[EventSummary]:
        """Yield events (with their markets) by offset pages."""
        base = MarketQuery(active=active, closed=closed, tag_id=tag_id).params()
        offset = 0
        while offset <= GAMMA_MAX_OFFSET:
            params = [*base, ("limit", str(limit)), ("offset", str(offset))]
            page = parse_gamma_events(await self._get("/events", params))
            self.dropped += len(page.dropped)
            for event in page.items:
                yield event
            if len(page.items) + len(page.dropped) < limit:
                return
            offset += limit

    async def event_markets(self, slug: str, query: MarketQuery | None = None) -> list[Market]:
        """Return the markets of one event (``[]`` when the event does not exist)."""
        event = await self.event_by_slug(slug)
        query = query or MarketQuery(active=None, closed=None)
        return [m for m in event.markets if query.accepts(m)] if event else []

    async def series_markets(
        self, slug: str, query: MarketQuery | None = None
    ) -> AsyncIterator[Market]:
        """Yield the markets of every event of a series (fetched event by event)."""
        query = query or MarketQuery()
        series = await self.series_by_slug(slug)
        for listed in series.events if series else ():
            if query.closed is False and listed.closed:
                continue
            for market in await self.event_markets(listed.slug, query):
                yield market


async def _numbered(pages: AsyncIterator[Page[Market]]) -> AsyncIterator[tuple[int, Page[Market]]]:
    number = 0
    async for page in pages:
        number += 1
        yield number, page


class SnapshotBatch(msgspec.Struct, frozen=True):
    """Books fetched by :meth:`ClobClient.snapshots`, and the tokens that failed (and why)."""

    books: tuple[BookSnapshot, ...]
    failures: tuple[tuple[TokenId, str], ...] = ()


class ClobClient:
    """Public CLOB REST: books, markets, price history."""

    def __init__(self, http: HttpClient, base_url: str, clock: Clock) -> None:
        self.http = http
        self._base = base_url.rstrip("/")
        self._clock = clock
        self.dropped = 0

    @classmethod
    def from_config(
        cls, session: aiohttp.ClientSession, config: PolymarketConfig, clock: Clock
    ) -> ClobClient:
        """Build a client on ``session`` with the configured URL and rate limit."""
        http = HttpClient(session, requests_per_second=config.clob_requests_per_second)
        return cls(http, config.clob_url, clock)

    async def book(self, token: TokenId) -> BookSnapshot:
        """Fetch one token's book (``GET /book``)."""
        body = await self.http.get(self._base + "/book", [("token_id", token)])
        return parse_rest_book(body, self._clock.now_ns())

    async def books(self, tokens: Sequence[TokenId]) -> list[BookSnapshot]:
        """Fetch several books in one request (``POST /books``)."""
        if not tokens:
            return []
        payload = msgspec.json.encode([{"token_id": t} for t in tokens])
        body = await self.http.post(self._base + "/books", payload)
        return parse_rest_books(body, self._clock.now_ns())

    async def snapshots(self, tokens: Iterable[TokenId], concurrency: int = 10) -> SnapshotBatch:
        """Fetch many books with at most ``concurrency`` requests in flight.

        A token that fails (transport, rejection, bad body) is reported, not fatal.
        """
        gate = asyncio.Semaphore(max(1, concurrency))
        unique = list(dict.fromkeys(tokens))
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._guarded_book(token, gate)) for token in unique]
        results = [task.result() for task in tasks]
        books = tuple(r for r in results if isinstance(r, BookSnapshot))
        failures = tuple((t, r) for t, r in zip(unique, results, strict=True) if isinstance(r, str))
        return SnapshotBatch(books, failures)

    async def _guarded_book(self, token: TokenId, gate: asyncio.Semaphore) -> BookSnapshot | str:
        async with gate:
            try:
                return await self.book(token)
            except (TransportError, VenueRejectedError, DecodeError) as e:
                return str(e)

    async def markets(self, on_page: OnPage | None = None) -> AsyncIterator[Market]:
        """Yield every CLOB market, following ``next_cursor`` from ``MA==`` to ``LTE=``."""
        cursor, pages, count = CLOB_FIRST_CURSOR, 0, 0
        while True:
            body = await self.http.get(self._base + "/markets", [("next_cursor", cursor)])
            page = parse_clob_markets_page(body)
            self.dropped += len(page.dropped)
            pages += 1
            for market in page.items:
                count += 1
                yield market
            if on_page is not None:
                on_page(pages, count)
            if not page.next_cursor or page.next_cursor in (CLOB_LAST_CURSOR, cursor):
                return
            cursor = page.next_cursor

    async def market(self, condition_id: str) -> Market | None:
        """Return one CLOB market, or ``None`` when the CLOB does not know it (yet)."""
        try:
            body = await self.http.get(f"{self._base}/markets/{quote(condition_id, safe='')}")
        except VenueRejectedError as e:
            if e.status == 404:
                return None
            raise
        return parse_clob_market(body)

    async def prices_history(
        self,
        token: TokenId,
        *,
        interval: str | None = None,
        start_s: int | None = None,
        end_s: int | None = None,
        fidelity_min: int | None = None,
    ) -> tuple[PricePoint, ...]:
        """Fetch a token's price history: either ``interval`` or ``start_s``/``end_s``."""
        params = [("market", str(token)), *_history_window(interval, start_s, end_s)]
        if fidelity_min is not None:
            params.append(("fidelity", str(fidelity_min)))
        return parse_prices_history(await self.http.get(self._base + "/prices-history", params))


def _history_window(
    interval: str | None, start_s: int | None, end_s: int | None
) -> list[tuple[str, str]]:
    if interval is not None:
        if start_s is not None or end_s is not None:
            raise ValueError("give either interval or start_s/end_s, not both")
        if interval not in PRICE_HISTORY_INTERVALS:
            raise ValueError(f"interval must be one of {sorted(PRICE_HISTORY_INTERVALS)}")
        return [("interval", interval)]
    if start_s is None or end_s is None or end_s < start_s:
        raise ValueError("give interval, or both start_s and end_s with start_s <= end_s")
    return [("startTs", str(start_s)), ("endTs", str(end_s))]
