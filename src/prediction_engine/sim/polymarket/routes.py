"""HTTP routes of the simulated venue: Gamma under /gamma, CLOB REST under /clob.

Handlers only translate between aiohttp and the pure modules (`queries`, `clob`, `world`).
A middleware counts requests and injects the faults armed with `fail_http`.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field

import msgspec
from aiohttp import web

from prediction_engine.sim.polymarket import clob, queries
from prediction_engine.sim.polymarket.queries import QueryError
from prediction_engine.sim.polymarket.units import encode
from prediction_engine.sim.polymarket.world import World

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
NO_BOOK = "No orderbook exists for the requested token id"
_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass
class Fault:
    """The next `remaining` requests under `prefix` answer `status`."""

    prefix: str
    status: int
    remaining: int


@dataclass
class Routes:
    """Request handlers bound to one world."""

    world: World
    counters: MutableMapping[str, int]
    clob_page_size: int
    faults: list[Fault] = field(default_factory=list)
    error_rate: float = 0.0
    """Probability that any HTTP request (not the WebSocket upgrade) fails at random."""
    error_statuses: tuple[int, ...] = (429, 503)
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def install(self, app: web.Application) -> None:
        """Register every HTTP route and the fault middleware."""
        app.middlewares.append(self.middleware)
        get = app.router.add_get
        get("/gamma/markets", self.gamma_markets)
        get("/gamma/markets/keyset", self.gamma_markets_keyset)
        get("/gamma/markets/slug/{slug}", self.gamma_market_by_slug)
        get("/gamma/events", self.gamma_events)
        get("/gamma/events/slug/{slug}", self.gamma_event_by_slug)
        get("/gamma/series", self.gamma_series)
        get("/clob/book", self.clob_book)
        app.router.add_post("/clob/books", self.clob_books)
        get("/clob/markets", self.clob_markets)
        get("/clob/markets/{condition_id}", self.clob_market)
        get("/clob/prices-history", self.clob_prices_history)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Count the request, answer an armed fault, map `QueryError` to its status."""
        if not request.path.startswith("/ws/"):
            self.counters["http_requests"] += 1
        fault = next((f for f in self.faults if request.path.startswith(f.prefix)), None)
        if fault is None and not request.path.startswith("/ws/") and self._unlucky():
            fault = Fault(request.path, self.rng.choice(self.error_statuses), 1)
            self.faults.append(fault)
        if fault is not None:
            return self._fail(fault)
        try:
            return await handler(request)
        except QueryError as error:
            return _json({"error": error.message}, error.status)

    async def gamma_markets(self, request: web.Request) -> web.Response:
        """`GET /gamma/markets`."""
        return _json(queries.list_markets(self.world, _params(request)))

    async def gamma_markets_keyset(self, request: web.Request) -> web.Response:
        """`GET /gamma/markets/keyset`."""
        return _json(queries.keyset_markets(self.world, _params(request)))

    async def gamma_market_by_slug(self, request: web.Request) -> web.Response:
        """`GET /gamma/markets/slug/{slug}`."""
        found = queries.market_by_slug(self.world, request.match_info["slug"])
        return _json({"error": "market not found"}, 404) if found is None else _json(found)

    async def gamma_events(self, request: web.Request) -> web.Response:
        """`GET /gamma/events`."""
        return _json(queries.list_events(self.world, _params(request)))

    async def gamma_event_by_slug(self, request: web.Request) -> web.Response:
        """`GET /gamma/events/slug/{slug}`."""
        found = queries.event_by_slug(self.world, request.match_info["slug"])
        return _json({"error": "event not found"}, 404) if found is None else _json(found)

    async def gamma_series(self, request: web.Request) -> web.Response:
        """`GET /gamma/series`."""
        return _json(queries.list_series(self.world, _params(request)))

    async def clob_book(self, request: web.Request) -> web.Response:
        """`GET /clob/book?token_id=`."""
        token = request.query.get("token_id", "")
        if not token:
            return _json({"error": "Invalid payload"}, 400)
        found = self.world.locate(token)
        if found is None:
            return _json({"error": NO_BOOK}, 404)
        return _json(self.world.summary(*found))

    async def clob_books(self, request: web.Request) -> web.Response:
        """`POST /clob/books` with `[{"token_id": ...}]`; unknown tokens are left out."""
        try:
            body = msgspec.json.decode(await request.read(), type=list[dict[str, str]])
        except msgspec.DecodeError:
            return _json({"error": "Invalid payload"}, 400)
        found = [self.world.locate(item.get("token_id", "")) for item in body]
        return _json([self.world.summary(*hit) for hit in found if hit is not None])

    async def clob_markets(self, request: web.Request) -> web.Response:
        """`GET /clob/markets?next_cursor=`."""
        cursor = request.query.get("next_cursor")
        return _json(clob.markets_page(self.world, cursor, self.clob_page_size))

    async def clob_market(self, request: web.Request) -> web.Response:
        """`GET /clob/markets/{condition_id}`."""
        market = self.world.catalog.by_condition(request.match_info["condition_id"])
        if market is None:
            return _json({"error": "market not found"}, 404)
        return _json(clob.market_json(self.world, market))

    async def clob_prices_history(self, request: web.Request) -> web.Response:
        """`GET /clob/prices-history`."""
        return _json(clob.price_history(self.world, dict(request.query)))

    def _unlucky(self) -> bool:
        return bool(self.error_rate) and self.rng.random() < self.error_rate

    def _fail(self, fault: Fault) -> web.Response:
        fault.remaining -= 1
        if fault.remaining <= 0:
            self.faults.remove(fault)
        self.counters["faults"] += 1
        self.counters[f"fault_http_{fault.status}"] += 1
        reason = _REASONS.get(fault.status, "Injected fault")
        headers = {"Retry-After": "1"} if fault.status == 429 else None
        return _json({"error": reason}, fault.status, headers)


def _params(request: web.Request) -> dict[str, list[str]]:
    return {key: request.query.getall(key) for key in request.query}


def _json(
    payload: object, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=encode(payload), status=status, content_type="application/json", headers=headers
    )
