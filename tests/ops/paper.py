"""A paper run of the arbitrage strategy on the in-process simulator (one neg-risk event),
for the end-to-end arbitrage test and the observer tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import aiohttp

from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import ONE
from prediction_engine.engine.clock import LiveClock
from prediction_engine.engine.loop import EngineConfig
from prediction_engine.engine.telemetry import TelemetrySink
from prediction_engine.risk.limits import RiskLimits
from prediction_engine.sim.polymarket import SimConfig, SimPolymarket
from prediction_engine.sim.polymarket.scenarios import Episode
from prediction_engine.strategy.registry import create
from prediction_engine.trading.runtime import Service, TradingRuntime
from tests.integration.harness import neg_risk_event, polymarket_config, wait_for


@dataclass
class PaperRun:
    """A running runtime, its simulator and the neg-risk event it trades."""

    sim: SimPolymarket
    runtime: TradingRuntime
    event: list[Market]
    event_slug: str

    async def arbitrage(self) -> Episode:
        """Make the event's YES asks sum below 1 and wait until every leg filled."""
        engine = self.runtime.engine
        before = engine.counters.fills
        episode = await self.sim.inject_arbitrage(self.event_slug, edge_ticks=60, lifetime_s=30)
        await wait_for(lambda: engine.counters.fills >= before + len(self.event), 10)
        return episode


@contextlib.asynccontextmanager
async def paper_run(
    sinks: Sequence[TelemetrySink] = (), services: Sequence[Service] = (),
    updates_per_second: int = 100,
) -> AsyncIterator[PaperRun]:
    """Start a paper run on a fresh simulator; once every book of the event synced, pause
    its random updates (books change by injected arbitrage only) and yield."""
    sim_config = SimConfig(seed=3, updates_per_second=updates_per_second,
                           reference_feeds=False, updown_assets=())
    async with SimPolymarket(sim_config) as sim, aiohttp.ClientSession() as http:
        config = polymarket_config(sim)
        clock = LiveClock()
        event = await neg_risk_event(http, config, clock)
        event_slug = event[0].event_slug
        assert event_slug is not None
        limits = RiskLimits(max_position_per_market=1_000 * ONE, max_total_exposure=5_000 * ONE)
        runtime = TradingRuntime(
            config, [create("arbitrage", {"max_notional": "200"})], http=http, clock=clock,
            engine_config=EngineConfig(starting_cash=10_000 * ONE, limits=limits),
            reference_feeds=(), sinks=sinks, services=services,
        )
        runtime.add_markets(event)
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        try:
            tokens = [t for m in event for t in m.tokens]
            books = runtime.engine.state.books
            await wait_for(lambda: all(books.book(t) for t in tokens), 10)
            sim.pause()  # random updates would, in time, leave no room for an arbitrage
            yield PaperRun(sim, runtime, event, event_slug)
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 15)
