"""The Up/Down bot on the simulator: current window, warm roll to the next, strike, clean-up."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

from prediction_engine.config import BinanceConfig, Config, PolymarketConfig
from prediction_engine.engine.clock import OffsetClock
from prediction_engine.sim.polymarket import SimConfig, SimPolymarket
from prediction_engine.trading.updown import UpDownOptions, WindowReport, run_updown

S = 1_000_000_000


async def test_bot_rolls_from_the_current_window_to_the_next_with_the_feed_strike(
    tmp_path: Path,
) -> None:
    now_s = int(time.time())
    boundary = now_s - now_s % 60 + 60
    sim_config = SimConfig(seed=5, updates_per_second=100, updown_assets=("btc",),
                           updown_minutes=(1,), clock_start_s=boundary - 4)
    finished: list[WindowReport] = []
    async with SimPolymarket(sim_config) as sim:
        clock = OffsetClock(sim_config.clock_start_s * S - time.time_ns())
        config = Config(
            polymarket=PolymarketConfig(gamma_url=sim.gamma_url, clob_url=sim.clob_url,
                                        ws_market_url=sim.ws_market_url, rtds_url=sim.rtds_url),
            binance=BinanceConfig(ws_url=sim.binance_url),
        )
        options = UpDownOptions(asset="btc", interval="1m", duration_s=9, warmup_s=2,
                                out_dir=tmp_path)
        status, windows = await asyncio.wait_for(
            run_updown(config, options, clock=clock, on_window=finished.append), 30
        )
        strike = sim.strike(windows[1].slug) if len(windows) > 1 else None
    current, following = windows[0], windows[1]
    assert current.found_by == "slug" and current.end_ns == boundary * S
    assert following.start_ns == boundary * S  # found before it started, then traded
    # The first window was joined 4 s late: no strike, no trading. The next one's strike is
    # the first RTDS price at or after its start, as the venue's own.
    assert current.strike is None
    assert strike is not None and following.strike == Decimal(strike)
    assert finished and finished[0].slug == current.slug  # cleaned up at its end
    assert current.resolved  # the venue resolved it and the engine settled and dropped it
    assert status.engine["evaluations"] > 0
    assert (tmp_path / "summary.json").exists()
