"""Parity: a paper session, recorded by the recorder, replays to the same decisions.

A paper-trading runtime (the production sessions, engine, strategies, risk and paper client)
trades the simulator while the recorder writes every frame it receives to tapes and the event
store. The backtester then replays that store with zero latency. Every signal, order state and
fill the live engine recorded must come out of the replay equal, field for field. The replay
engine's timer fires on a grid of replay time rather than at the live wall-clock ticks, so
timestamps are compared too but allowed to differ where a tick moved the engine's clock.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import msgspec

from prediction_engine.backtest.results import RunRecorder
from prediction_engine.backtest.runner import Backtest, BacktestConfig
from prediction_engine.backtest.source import ReplaySource
from prediction_engine.core.numbers import ONE
from prediction_engine.engine.clock import LiveClock
from prediction_engine.engine.config import EngineConfig
from prediction_engine.record.recorder import Recorder
from prediction_engine.risk.limits import RiskLimits
from prediction_engine.sim.polymarket import SimConfig, SimPolymarket
from prediction_engine.strategy.registry import build_strategies
from prediction_engine.trading.runtime import TradingRuntime
from tests.integration.harness import polymarket_config, tradable_markets, wait_for

STRATEGIES = ("arbitrage", "mean_reversion")
PARAMS = ("arbitrage.max_notional=200", "mean_reversion.entry_edge=0.01")
# No per-market cooldown: it compares the engine's clock with the market's last order, and a
# live timer tick can move that clock past the receive time of frames still queued behind it
# (hundreds of ms on a loaded machine), while the replay ticks on a grid of replay time; an
# order near the end of a cooldown was then refused in one run and sent in the other.
ENGINE = EngineConfig(
    starting_cash=10_000 * ONE,
    limits=RiskLimits(max_position_per_market=1_000 * ONE, max_total_exposure=5_000 * ONE,
                      max_daily_loss=5_000 * ONE, cooldown_ns=0),
)


def _without_time(records: list[msgspec.Struct]) -> list[tuple[object, ...]]:
    return [msgspec.structs.astuple(r)[1:] for r in records]


async def _inject(sim: SimPolymarket, event_slug: str) -> None:
    """Put an arbitrage on the event. The simulator refuses while an episode is still running
    or when the outcome it picked cannot be made cheap enough at that moment: try again."""
    for _ in range(50):
        try:
            await sim.inject_arbitrage(event_slug, edge_ticks=60, lifetime_s=1)
            return
        except ValueError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"the simulator would not put an arbitrage on {event_slug}")


async def _paper_session(out: Path) -> RunRecorder:
    sim_config = SimConfig(seed=7, updates_per_second=120, reference_feeds=False,
                           updown_assets=())
    async with SimPolymarket(sim_config) as sim, aiohttp.ClientSession() as http:
        config = polymarket_config(sim)
        clock = LiveClock()
        markets = await tradable_markets(http, config, clock)
        recorder = Recorder(out, clock=clock, source="parity test")
        recorder.add_markets(markets)
        runtime = TradingRuntime(
            config, build_strategies(STRATEGIES, PARAMS), http=http, clock=clock,
            engine_config=ENGINE, reference_feeds=(), hooks=recorder.hooks(),
        )
        live = RunRecorder()
        runtime.engine.telemetry = live
        runtime.add_markets(markets)
        engine = runtime.engine
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        try:
            tokens = [t for m in markets for t in m.tokens]
            await wait_for(lambda: all(engine.state.books.book(t) for t in tokens), 10)
            event_slug = next(m.event_slug for m in markets if m.neg_risk and m.event_slug)
            for _ in range(2):
                before = engine.counters.fills
                await _inject(sim, event_slug)
                await wait_for(lambda b=before: engine.counters.fills > b, 5)  # type: ignore[misc]
                await asyncio.sleep(1.5)
            plain = next(m for m in markets if not m.neg_risk)
            await sim.resolve_market(plain.condition_id, winner=0)
            await asyncio.sleep(3)
        finally:
            stop.set()
            await task
            recorder.close()
    return live


async def test_a_recorded_paper_session_replays_to_the_same_signals_orders_and_fills(
    tmp_path: Path,
) -> None:
    live = await _paper_session(tmp_path / "recording")
    # Two arbitrage baskets (5 legs each) at least, and mean reversion's signals: a
    # comparison of nothing would prove nothing.
    assert len(live.fills) >= 10 and len(live.signals) >= 20 and len(live.orders) >= 20

    replay = Backtest(build_strategies(STRATEGIES, PARAMS), BacktestConfig(engine=ENGINE))
    replay.run(ReplaySource(tmp_path / "recording").frames())
    got = replay.recorder

    assert _without_time(got.signals) == _without_time(live.signals)  # type: ignore[arg-type]
    assert _without_time(got.orders) == _without_time(live.orders)  # type: ignore[arg-type]
    assert _without_time(got.fills) == _without_time(live.fills)  # type: ignore[arg-type]
    # Timestamps come from the frames' receive times, except where a live timer tick had
    # moved the engine's clock past the last frame (at most one timer interval).
    for a, b in zip(got.orders + got.fills + got.signals,  # type: ignore[operator]
                    live.orders + live.fills + live.signals, strict=True):
        assert abs(a.ts_ns - b.ts_ns) <= 300_000_000
