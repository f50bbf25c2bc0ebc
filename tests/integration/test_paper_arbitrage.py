"""End to end on the simulator: the arbitrage strategy takes an injected sub-1 ask sum.

The simulated venue makes one neg-risk event's YES asks sum below 1; the engine, fed by the
normal sessions, runs the arbitrage strategy and the paper execution client; every leg fills;
then the venue resolves the event (one outcome YES, the others NO) and the PnL at resolution
equals the locked-in edge minus the taker fees paid.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

from prediction_engine.core.numbers import ONE
from prediction_engine.engine.clock import LiveClock
from prediction_engine.engine.loop import EngineConfig
from prediction_engine.risk.limits import RiskLimits
from prediction_engine.sim.polymarket import SimConfig, SimPolymarket
from prediction_engine.strategy.registry import create
from prediction_engine.trading.runtime import TradingRuntime
from tests.integration.harness import neg_risk_event, polymarket_config, wait_for


async def test_arbitrage_takes_an_injected_sub_one_sum_and_earns_the_edge_minus_fees() -> None:
    sim_config = SimConfig(seed=3, updates_per_second=100, reference_feeds=False,
                           updown_assets=())
    async with SimPolymarket(sim_config) as sim, aiohttp.ClientSession() as http:
        config = polymarket_config(sim)
        clock = LiveClock()
        event = await neg_risk_event(http, config, clock)
        event_slug = event[0].event_slug
        assert event_slug is not None
        assert len(event) >= 3
        limits = RiskLimits(max_position_per_market=1_000 * ONE, max_total_exposure=5_000 * ONE)
        runtime = TradingRuntime(
            config, [create("arbitrage", {"max_notional": "200"})], http=http, clock=clock,
            engine_config=EngineConfig(starting_cash=10_000 * ONE, limits=limits),
            reference_feeds=(),
        )
        runtime.add_markets(event)
        engine = runtime.engine
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        try:
            tokens = [t for m in event for t in m.tokens]
            await wait_for(lambda: all(engine.state.books.book(t) for t in tokens), 10)
            assert engine.counters.orders == 0  # the simulator makes no arbitrage by itself
            sim.pause()
            episode = await sim.inject_arbitrage(event_slug, edge_ticks=60, lifetime_s=30)
            await wait_for(lambda: engine.counters.fills >= len(event), 5)
            await wait_for(lambda: not engine.state.open_orders, 2)
            fills = [r for r in engine.state.orders.values() if r.filled]
            assert len(fills) == len(event), "one FOK order per outcome, all filled"
            shares = {o.filled for o in fills}
            assert len(shares) == 1, f"every leg the same size: {shares}"
            (size,) = shares
            paid = sum(o.price * o.filled // ONE for o in fills)
            assert sum(o.price for o in fills) == ONE - episode.edge  # the injected sub-1 sum
            portfolio = engine.state.portfolio
            fees = portfolio.fees
            assert portfolio.cash == 10_000 * ONE - paid - fees
            # Resolve the event: the first outcome wins, the others lose.
            for index, market in enumerate(event):
                await sim.resolve_market(market.condition_id, winner=0 if index == 0 else 1)
            await wait_for(lambda: engine.counters.settlements == len(event), 5)
            pnl = portfolio.cash - 10_000 * ONE
            edge = size - paid  # each basket of one share per outcome pays exactly 1
            assert edge == size * episode.edge // ONE
            assert fees > 0, "sports markets charge taker fees"
            assert pnl == edge - fees
            assert pnl > 0
            assert not any(p.shares for p in portfolio.positions.values())
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
