"""ClobClient against the local simulated Polymarket (and a scripted server for edge cases)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from prediction_engine.core.ids import TokenId
from prediction_engine.engine.clock import ManualClock
from prediction_engine.venues.http import HttpClient, RetryPolicy, TransportError
from prediction_engine.venues.polymarket.rest import CLOB_FIRST_CURSOR, CLOB_LAST_CURSOR, ClobClient

sim_module = pytest.importorskip("prediction_engine.sim.polymarket.server")

RECV_NS = 1_773_307_201_000_000_000


async def _no_sleep(_: float) -> None:
    return None


def _client(session: aiohttp.ClientSession, url: str, attempts: int = 3) -> ClobClient:
    http = HttpClient(session, requests_per_second=10_000.0, sleep=_no_sleep,
                      rng=random.Random(3), policy=RetryPolicy(max_attempts=attempts))
    return ClobClient(http, url, ManualClock(RECV_NS))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def sim() -> AsyncIterator[Any]:
    config = sim_module.SimConfig(start_paused=True, clob_markets_page_size=5)
    venue = sim_module.SimPolymarket(config)
    await venue.start(host="127.0.0.1", port=0)
    yield venue
    await venue.stop()


async def test_book_and_books(sim: Any, session: aiohttp.ClientSession) -> None:
    clob = _client(session, sim.clob_url)
    tokens = [TokenId(t) for t in sim.token_ids()[:3]]
    one = await clob.book(tokens[0])
    assert one.token == tokens[0]
    assert one.ts_recv == RECV_NS
    assert one.bids
    assert one.asks
    many = await clob.books(tokens)
    assert [b.token for b in many] == tokens
    assert await clob.books([]) == []


async def test_markets_follow_cursor_to_the_end(sim: Any, session: aiohttp.ClientSession) -> None:
    clob = _client(session, sim.clob_url)
    pages: list[int] = []
    got = [m async for m in clob.markets(on_page=lambda p, _: pages.append(p))]
    assert {m.condition_id for m in got} == {m.condition_id for m in sim.markets()}
    assert len(pages) >= 2  # page size 5


async def test_market_by_condition_and_unknown(sim: Any, session: aiohttp.ClientSession) -> None:
    clob = _client(session, sim.clob_url)
    info = sim.markets()[0]
    market = await clob.market(info.condition_id)
    assert market is not None
    assert market.tokens == info.token_ids
    assert await clob.market("0x" + "ab" * 32) is None


async def test_prices_history(sim: Any, session: aiohttp.ClientSession) -> None:
    clob = _client(session, sim.clob_url)
    token = TokenId(sim.token_ids()[0])
    points = await clob.prices_history(token, interval="1d", fidelity_min=5)
    assert points
    assert all(0 <= p.price <= 1 for p in points)
    with pytest.raises(ValueError, match="interval"):
        await clob.prices_history(token, interval="2d")
    with pytest.raises(ValueError, match="not both"):
        await clob.prices_history(token, interval="1d", start_s=1, end_s=2)


async def test_snapshots_report_failures_and_keep_the_rest(
    sim: Any, session: aiohttp.ClientSession
) -> None:
    clob = _client(session, sim.clob_url, attempts=2)
    tokens = [TokenId(t) for t in sim.token_ids()[:6]]
    batch = await clob.snapshots([*tokens, TokenId("123")], concurrency=3)
    assert {b.token for b in batch.books} == set(tokens)
    assert [t for t, _ in batch.failures] == ["123"]


async def test_sim_fault_retried_then_transport_error(
    sim: Any, session: aiohttp.ClientSession
) -> None:
    clob = _client(session, sim.clob_url, attempts=2)
    token = TokenId(sim.token_ids()[0])
    sim.fail_http("/clob/book", 500, times=1)
    assert (await clob.book(token)).token == token
    sim.fail_http("/clob/book", 503, times=5)
    with pytest.raises(TransportError):
        await clob.book(token)


async def test_snapshots_never_exceed_the_concurrency(session: aiohttp.ClientSession) -> None:
    in_flight = peak = 0
    book = ('{"market":"0x01","asset_id":"%s","timestamp":"1","hash":"h",'
            '"bids":[{"price":"0.4","size":"10"}],"asks":[{"price":"0.6","size":"10"}]}')

    async def slow_book(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return web.Response(text=book % request.query["token_id"])

    app = web.Application()
    app.router.add_get("/book", slow_book)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        clob = _client(session, f"http://127.0.0.1:{runner.addresses[0][1]}")
        batch = await clob.snapshots([TokenId(str(i)) for i in range(1, 31)], concurrency=4)
    finally:
        await runner.cleanup()
    assert len(batch.books) == 30
    assert not batch.failures
    assert peak == 4


async def test_clob_cursor_constants() -> None:
    assert (CLOB_FIRST_CURSOR, CLOB_LAST_CURSOR) == ("MA==", "LTE=")
