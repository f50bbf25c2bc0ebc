"""Binance and RTDS sessions end to end against the local reference-feed server.

What a user would notice: prices arrive, the session survives a dropped socket, a silent
socket and a garbage frame, and gives up loudly when the venue is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import pytest

from prediction_engine.config import BinanceConfig, Config, PolymarketConfig
from prediction_engine.core.events import Event, ReferencePrice
from prediction_engine.core.ids import Venue
from prediction_engine.engine.clock import LiveClock
from prediction_engine.sim.reference_feeds import ReferenceFeedServer, ReferenceFeedSpec
from prediction_engine.venues.binance.session import BinanceTradeSession
from prediction_engine.venues.polymarket.rtds_session import RtdsSession
from prediction_engine.venues.websocket import FeedFailedError, ReconnectPolicy, WebSocketFeed

Kind = Literal["binance", "rtds"]
FAST = ReconnectPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)


@dataclass
class Harness:
    """One running session, its sink and what its raw hook saw."""

    session: BinanceTradeSession | RtdsSession
    queue: asyncio.Queue[Event]
    raw: list[tuple[str, bytes | str, int]] = field(default_factory=list)
    seen: list[ReferencePrice] = field(default_factory=list)

    @property
    def feed(self) -> WebSocketFeed:
        return self.session.feed

    def drain(self) -> list[ReferencePrice]:
        while not self.queue.empty():
            event = self.queue.get_nowait()
            assert isinstance(event, ReferencePrice)
            self.seen.append(event)
        return self.seen

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(5.0):
            while not condition():
                await asyncio.sleep(0.01)
                self.drain()

    async def more_events(self, count: int = 5) -> None:
        target = len(self.drain()) + count
        await self.wait_for(lambda: len(self.seen) >= target)


@pytest.fixture
async def server() -> AsyncIterator[ReferenceFeedServer]:
    srv = ReferenceFeedServer(seed=7, spec=ReferenceFeedSpec(rate_hz=50, rtds_pong_text="PONG"))
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def config_for(srv: ReferenceFeedServer) -> Config:
    return Config(
        binance=BinanceConfig(ws_url=srv.binance_url),
        polymarket=PolymarketConfig(rtds_url=srv.rtds_url),
    )


def make_session(
    kind: Kind, cfg: Config, http: aiohttp.ClientSession, **options: Any
) -> Harness:
    queue: asyncio.Queue[Event] = asyncio.Queue()
    raw: list[tuple[str, bytes | str, int]] = []

    def on_raw(source: str, frame: bytes | str, recv_ns: int) -> None:
        raw.append((source, frame, recv_ns))

    options.setdefault("policy", FAST)
    session: BinanceTradeSession | RtdsSession
    if kind == "binance":
        pair = ["btcusdt", "ethusdt"]
        session = BinanceTradeSession(cfg, pair, http, LiveClock(), queue, on_raw=on_raw, **options)
    else:
        session = RtdsSession(cfg, ["btcusdt"], http, LiveClock(), queue, on_raw=on_raw, **options)
    return Harness(session, queue, raw)


@asynccontextmanager
async def running(harness: Harness) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(harness.session.run())
    try:
        yield task
    finally:
        await harness.session.close()
        await asyncio.wait_for(task, 5)


async def test_binance_trades_arrive(
    server: ReferenceFeedServer, http: aiohttp.ClientSession
) -> None:
    harness = make_session("binance", config_for(server), http)
    async with running(harness):
        await harness.wait_for(lambda: {e.symbol for e in harness.seen} == {"btcusdt", "ethusdt"})
        await harness.more_events(10)
    events = harness.seen
    assert all(e.venue is Venue.BINANCE and e.size and e.aggressor is not None for e in events)
    btc = [int(e.trade_id or 0) for e in events if e.symbol == "btcusdt"]
    assert btc == sorted(btc)
    assert len(set(btc)) == len(btc)  # no duplicates
    assert len(harness.raw) == harness.feed.counters.frames
    assert harness.feed.counters.last_frame_ns == harness.raw[-1][2], "the last frame's time"
    assert all(source == "binance" for source, _, _ in harness.raw)


async def test_rtds_snapshot_then_updates_for_wanted_symbols(
    server: ReferenceFeedServer, http: aiohttp.ClientSession
) -> None:
    await asyncio.sleep(0.2)  # let the server build some history for the snapshot
    harness = make_session("rtds", config_for(server), http)
    async with running(harness):
        await harness.more_events(20)
    events = harness.seen
    assert {e.symbol for e in events} == {"btcusdt"}  # ethusdt is filtered out here
    assert all(e.venue is Venue.POLYMARKET_RTDS and e.size is None for e in events)
    times = [e.ts_event for e in events]
    assert times == sorted(times)
    assert any(b'"type":"subscribe"' in _bytes(frame) for _, frame, _ in harness.raw)


@pytest.mark.parametrize("kind", ["binance", "rtds"])
async def test_reconnects_after_drop(
    kind: Kind, server: ReferenceFeedServer, http: aiohttp.ClientSession
) -> None:
    harness = make_session(kind, config_for(server), http)
    async with running(harness):
        await harness.more_events()
        await server.drop_connections()
        await harness.wait_for(lambda: harness.feed.counters.connects == 2)
        await harness.more_events()
    assert harness.feed.counters.disconnects == 2  # the drop, then our own close


@pytest.mark.parametrize("kind", ["binance", "rtds"])
async def test_reconnects_after_silent_socket(
    kind: Kind, server: ReferenceFeedServer, http: aiohttp.ClientSession
) -> None:
    harness = make_session(kind, config_for(server), http, stale_after_s=0.3)
    async with running(harness):
        await harness.more_events()
        server.stall(30.0)
        await harness.wait_for(lambda: harness.feed.counters.connects == 2)
        await harness.more_events()
    assert harness.feed.counters.stale == 1


async def test_rtds_watchdog_catches_a_stall_that_still_answers_pings(
    server: ReferenceFeedServer, http: aiohttp.ClientSession
) -> None:
    cfg = config_for(server)
    harness = make_session("rtds", cfg, http, stale_after_s=0.4, ping_interval_s=0.05)
    session = harness.session
    assert isinstance(session, RtdsSession)
    async with running(harness):
        await harness.more_events()
        server.stall(30.0, answer_pings=True)
        await harness.wait_for(lambda: harness.feed.counters.connects == 2)
        await harness.more_events()
    assert harness.feed.counters.stale == 0  # PONGs kept the socket "alive"...
    assert session.counters.data_stale == 1  # ...but no prices came, so we reconnected
    assert harness.feed.counters.pings > 0


@pytest.mark.parametrize("kind", ["binance", "rtds"])
async def test_malformed_frame_is_counted_not_fatal(
    kind: Kind, server: ReferenceFeedServer, http: aiohttp.ClientSession
) -> None:
    harness = make_session(kind, config_for(server), http)
    async with running(harness) as task:
        await harness.more_events()
        await server.broadcast_raw('{"stream":"btcusdt@trade","data":{"e":"trade"', kind)
        await server.broadcast_raw('{"topic":"crypto_prices","type":"update","payload":{}}', kind)
        await harness.wait_for(lambda: harness.session.counters.decode_errors == 2)
        await harness.more_events()
        assert not task.done()
    assert harness.feed.counters.connects == 1  # dropped the frames, kept the socket


@pytest.mark.parametrize("kind", ["binance", "rtds"])
async def test_gives_up_when_the_venue_is_gone(
    kind: Kind, server: ReferenceFeedServer, http: aiohttp.ClientSession
) -> None:
    cfg = config_for(server)
    await server.stop()
    harness = make_session(kind, cfg, http)
    with pytest.raises(FeedFailedError, match="3 consecutive"):
        await asyncio.wait_for(harness.session.run(), 5)
    assert harness.feed.counters.failed_attempts == 3
    assert harness.queue.empty()


def _bytes(frame: bytes | str) -> bytes:
    return frame.encode() if isinstance(frame, str) else frame
