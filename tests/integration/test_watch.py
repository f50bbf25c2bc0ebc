"""`pengine watch`: resolving targets and the live table, against the local simulator."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
import pytest

from prediction_engine.config import PolymarketConfig
from prediction_engine.core.numbers import format_micro, parse_micro
from prediction_engine.engine.clock import LiveClock
from prediction_engine.sim.polymarket import SimConfig, SimPolymarket
from prediction_engine.venues.polymarket.catalog import load_sample
from prediction_engine.venues.polymarket.rest import GammaClient
from prediction_engine.venues.polymarket.session import SessionCounters
from prediction_engine.venues.polymarket.watch import (
    TopRow,
    WatchTargetError,
    resolve_markets,
    watch_books,
)


async def test_resolve_then_watch_reports_rows_matching_the_venue() -> None:
    async with SimPolymarket(SimConfig(seed=2, updates_per_second=100)) as sim, \
            aiohttp.ClientSession() as http:
        config = PolymarketConfig(gamma_url=sim.gamma_url, clob_url=sim.clob_url,
                                  ws_market_url=sim.ws_market_url)
        gamma = GammaClient.from_config(http, config)
        slug = sim.markets()[0].slug
        markets = await resolve_markets(slug, load_sample(), gamma)  # not in the sample: Gamma
        assert [m.slug for m in markets] == [slug]
        with pytest.raises(WatchTargetError):
            await resolve_markets("qqq zzz nothing", load_sample(), gamma)
        seen: list[list[TopRow]] = []

        def on_update(rows: list[TopRow], counters: SessionCounters) -> None:
            seen.append(rows)

        counters = await watch_books(config, markets, http=http, clock=LiveClock(),
                                     on_update=on_update, duration_s=1.0, refresh_s=0.1)
        assert counters.frames > 0 and counters.decode_errors == 0
        final = seen[-1]
        assert {r.outcome for r in final} == set(markets[0].outcomes)
        for row in final:
            assert row.synced
            bids, asks = sim.truth(row.token)
            # the last rows were taken after the venue kept moving; top prices are on its grid
            assert row.bid is not None and row.ask is not None and row.bid < row.ask
            assert bids and asks


def test_resolve_uses_catalog_lookups_first() -> None:
    catalog = load_sample()
    market = catalog.markets[0]

    class NoGamma:
        async def market_by_slug(self, slug: str) -> None:
            raise AssertionError("catalog hit must not call Gamma")

    for target in (market.slug, market.tokens[0], market.condition_id):
        found = asyncio.run(resolve_markets(target, catalog, NoGamma()))  # type: ignore[arg-type]
        assert found == [market]


async def test_cli_watch_prints_a_live_table(tmp_path: Path) -> None:
    async with SimPolymarket(SimConfig(seed=3, updates_per_second=100)) as sim:
        market = sim.markets()[0]
        # Hold the books still: the table printed last must show the venue's book as it is
        # when the test reads it (a moving book raced the process's last refresh).
        sim.pause()
        env = {**os.environ, "PENGINE_DATA_DIR": str(tmp_path), "COLUMNS": "160", **sim.env()}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "prediction_engine.cli", "watch", market.slug,
            "--duration", "1.5", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 0, err.decode()
        text = out.decode()
        assert "Polymarket top of book" in text and market.slug[:20] in text
        bids, _ = sim.truth(market.token_ids[0])
        assert any(format_micro(parse_micro(p)) in text for p in bids)
        # No catalog had been fetched: watch refreshed it from the venue in the background.
        assert "refreshing it in the background" in text
        assert (tmp_path / "catalog" / "polymarket.json").exists()
