"""A client harness against the local Polymarket simulator: discovery through Gamma, a
`MarketDataSession` streaming 16 tokens over several shards, and checks of its books
against the simulator's truth."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import msgspec

from prediction_engine.config import Config, PolymarketConfig
from prediction_engine.core.events import Event
from prediction_engine.core.ids import TokenId
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import micro_to_decimal
from prediction_engine.engine.clock import LiveClock
from prediction_engine.sim.polymarket import SimConfig, SimPolymarket
from prediction_engine.trading.paper import pick_markets
from prediction_engine.venues.polymarket.catalog import refresh_catalog
from prediction_engine.venues.polymarket.rest import ClobClient, GammaClient, MarketQuery
from prediction_engine.venues.polymarket.session import MarketDataSession
from prediction_engine.venues.websocket import ReconnectPolicy
from tests.threads import served_in_thread

RECOVERY_S = 2.0


def polymarket_config(sim: SimPolymarket) -> Config:
    """A configuration pointing the Polymarket clients at ``sim`` (everything else default)."""
    return Config(polymarket=PolymarketConfig(
        gamma_url=sim.gamma_url, clob_url=sim.clob_url, ws_market_url=sim.ws_market_url))


async def tradable_markets(
    http: aiohttp.ClientSession, config: Config, clock: LiveClock
) -> list[Market]:
    """The simulator's open order-book markets, discovered through Gamma as `pengine paper`
    does (most traded first, neg-risk siblings included)."""
    catalog = await refresh_catalog(GammaClient.from_config(http, config.polymarket),
                                    clock.now_ns(), MarketQuery(enable_order_book=True))
    return pick_markets(catalog, None, 100)


async def neg_risk_event(
    http: aiohttp.ClientSession, config: Config, clock: LiveClock
) -> list[Market]:
    """Every outcome market of the simulator's first neg-risk event."""
    neg_risk = [m for m in await tradable_markets(http, config, clock) if m.neg_risk]
    event_slug = neg_risk[0].event_slug
    assert event_slug is not None
    return [m for m in neg_risk if m.event_slug == event_slug]


@contextlib.contextmanager
def sim_in_thread(config: SimConfig) -> Iterator[dict[str, str]]:
    """Serve a simulator from its own thread and loop (for CLI subprocesses); yield the
    environment variables that point pengine at it."""
    with served_in_thread(lambda: SimPolymarket(config)) as sim:
        yield sim.env()


@dataclass
class Harness:
    sim: SimPolymarket
    session: MarketDataSession
    tokens: list[TokenId]
    events: list[Event]
    clob: ClobClient

    async def quiesce(self) -> None:
        """Pause the venue and wait until every frame it sent has been processed."""
        self.sim.pause()
        before = self.session.counters.text_frames
        await self.sim.broadcast_raw("MARK")
        shards = len(self.session.feeds)
        await wait_for(lambda: self.session.counters.text_frames >= before + shards)

    def mismatches(self) -> list[TokenId]:
        """Tokens whose local book differs from the simulator's truth (or is not synced)."""
        bad = []
        for token in self.tokens:
            book = self.session.books.book(token)
            if book is None or _as_decimals(book.bids(), book.asks()) != _truth(self.sim, token):
                bad.append(token)
        return bad

    async def converged_within(self, seconds: float) -> float:
        """Time until all books equal the truth; keep the venue live while waiting."""
        start = time.monotonic()
        while True:
            await self.quiesce()
            if not self.mismatches():
                return time.monotonic() - start
            assert time.monotonic() - start < seconds, f"books still wrong: {self.mismatches()}"
            self.sim.resume()
            await asyncio.sleep(0.05)


def _as_decimals(bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> object:
    def conv(levels: list[tuple[int, int]]) -> dict[Decimal, Decimal]:
        return {micro_to_decimal(p): micro_to_decimal(s) for p, s in levels}

    return conv(bids), conv(asks)


def _truth(sim: SimPolymarket, token: str) -> object:
    bids, asks = sim.truth(token)
    return ({Decimal(p): Decimal(s) for p, s in bids.items()},
            {Decimal(p): Decimal(s) for p, s in asks.items()})


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def open_harness(
    sim_config: SimConfig | None = None, **client: Any
) -> AsyncIterator[Harness]:
    """A running simulator and a synced session (client settings overridable)."""
    sim_config = sim_config or SimConfig(seed=5, updates_per_second=300)
    async with SimPolymarket(sim_config) as sim, aiohttp.ClientSession() as http:
        config = PolymarketConfig(
            gamma_url=sim.gamma_url, clob_url=sim.clob_url, ws_market_url=sim.ws_market_url,
            max_assets_per_connection=6, snapshot_timeout_s=0.3, ping_interval_s=0.5,
            stale_after_s=3.0,
        )
        config = msgspec.structs.replace(config, **client)
        clock = LiveClock()
        gamma = GammaClient.from_config(http, config)
        clob = ClobClient.from_config(http, config, clock)
        markets = [m async for m in gamma.markets(MarketQuery(enable_order_book=True))]
        tokens = [t for m in markets for t in m.tokens][:16]
        assert len(tokens) == 16
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=10_000)
        session = MarketDataSession(config, http=http, clock=clock, sink=queue,
                                    fetch_book=clob.book,
                                    policy=ReconnectPolicy(max_attempts=5, base_delay_s=0.05))
        events: list[Event] = []

        async def drain() -> None:
            while True:
                events.append(await queue.get())

        async with asyncio.TaskGroup() as group:
            runner = group.create_task(session.run(tokens))
            drainer = group.create_task(drain())
            h = Harness(sim, session, tokens, events, clob)
            await wait_for(lambda: all(session.books.book(t) for t in tokens))
            yield h
            await session.close()
            await runner
            drainer.cancel()
