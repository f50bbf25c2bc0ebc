"""`pengine demo` end to end (shortened) and `pengine sim` as a user runs it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from prediction_engine.demo import DemoOptions, run_demo
from prediction_engine.tape import BINANCE_TRADE, POLYMARKET_MARKET, RTDS_CRYPTO, TapeReader
from prediction_engine.venues.polymarket.catalog import CatalogStore
from tests.ports import free_port


async def test_demo_streams_every_book_records_and_summarises(tmp_path: Path) -> None:
    seen: list[float] = []
    options = DemoOptions(
        tmp_path / "out", duration_s=6, seed=3, updates_per_second=300, arb_every_s=1.5
    )
    result = await run_demo(options, on_tick=lambda stats, _: seen.append(stats.elapsed_s))
    stats = result.stats
    assert seen and seen == sorted(seen)  # the progress display got regular updates
    assert stats.markets_discovered >= 10
    assert stats.books_synced == stats.tokens_streamed > 0
    assert stats.decode_errors == 0
    assert stats.events["BookDelta"] > 100
    assert set(stats.reference_prices) == {"btcusdt", "ethusdt"}
    # Our books see every arbitrage the simulator made: its cheap ask while the sum was < 1.
    assert result.injected
    assert set(result.injected) <= result.cheap_asks
    records = list(TapeReader(result.paths["tape"]))
    assert len(records) == stats.tape_frames
    assert {r.ch for r in records} == {POLYMARKET_MARKET, BINANCE_TRADE, RTDS_CRYPTO}
    catalog = CatalogStore(result.paths["catalog"]).load()
    assert catalog is not None
    assert len(catalog.markets) == stats.markets_discovered
    summary = json.loads(result.paths["summary"].read_text())
    assert summary["stats"]["frames"] == stats.frames
    assert summary["paths"]["tape"] == str(result.paths["tape"])


async def test_pengine_sim_serves_until_interrupted() -> None:
    port, feeds_port = free_port(), free_port()
    command = [sys.executable, "-m", "prediction_engine.cli", "sim", "--port", str(port),
               "--feeds-port", str(feeds_port), "--seed", "4", "--malformed", "0.01"]
    env = {**os.environ, "COLUMNS": "120"}
    process = await asyncio.create_subprocess_exec(
        *command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    try:
        async with aiohttp.ClientSession() as http:
            markets = None
            deadline = time.monotonic() + 20
            while markets is None:
                assert time.monotonic() < deadline, "pengine sim did not come up"
                try:
                    async with http.get(f"http://127.0.0.1:{port}/gamma/markets") as response:
                        markets = await response.json()
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            assert len(markets) >= 10
            url = f"ws://127.0.0.1:{feeds_port}/ws/btcusdt@trade"
            async with http.ws_connect(url) as ws:
                trade = json.loads((await ws.receive(timeout=5)).data)
            assert trade["e"] == "trade"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=10)
    text = output.decode()
    assert process.returncode == 0, text
    assert f"PENGINE_POLYMARKET_GAMMA_URL=http://127.0.0.1:{port}/gamma" in text
    assert "malformed 1.0% of frames" in text
