"""The shared reconnecting WebSocket: keepalive, stale detection, backoff, bounded attempts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from prediction_engine.engine.clock import LiveClock
from prediction_engine.venues.websocket import FeedFailedError, ReconnectPolicy, WebSocketFeed
from tests.ports import free_port


class SilentServer:
    """Accepts WebSockets, sends one frame, then says nothing (socket open): a stalled feed."""

    def __init__(self) -> None:
        self.connections = 0
        self.pings = 0

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        self.connections += 1
        await ws.send_str("hello")
        async for msg in ws:
            if msg.data == "PING":
                self.pings += 1  # a stalled venue does not answer
        return ws


@pytest.fixture
async def silent() -> AsyncIterator[tuple[SilentServer, str]]:
    server = SilentServer()
    app = web.Application()
    app.router.add_get("/ws", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield server, f"ws://127.0.0.1:{port}/ws"
    await runner.cleanup()


async def test_stalled_socket_is_detected_and_reconnected(silent: tuple[SilentServer, str]) -> None:
    server, url = silent
    frames: list[str] = []

    async def on_frame(frame: bytes | str, recv_ns: int) -> None:
        assert recv_ns > 0
        frames.append(str(frame))

    async with aiohttp.ClientSession() as http:
        feed = WebSocketFeed(url, name="t", http=http, clock=LiveClock(), on_frame=on_frame,
                             ping_interval_s=0.05, stale_after_s=0.3,
                             policy=ReconnectPolicy(base_delay_s=0.01))
        task = asyncio.create_task(feed.run())
        while server.connections < 3:
            await asyncio.sleep(0.02)
        await feed.close()
        await task
    assert feed.counters.stale >= 2
    assert feed.counters.connects >= 3
    assert frames.count("hello") >= 3
    assert server.pings >= 2
    assert feed.counters.pings >= 2


async def test_gives_up_with_a_clear_error_after_max_attempts() -> None:
    async def on_frame(frame: bytes | str, recv_ns: int) -> None:
        raise AssertionError("no frames expected")

    async with aiohttp.ClientSession() as http:
        feed = WebSocketFeed(f"ws://127.0.0.1:{free_port()}/ws", name="dead", http=http,
                             clock=LiveClock(), on_frame=on_frame,
                             policy=ReconnectPolicy(max_attempts=3, base_delay_s=0.01))
        with pytest.raises(FeedFailedError, match="3 consecutive connection attempts"):
            await asyncio.wait_for(feed.run(), timeout=5)
    assert feed.counters.failed_attempts == 3
    assert feed.counters.connects == 0


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    policy = ReconnectPolicy(base_delay_s=0.5, max_delay_s=8.0)
    rng = random.Random(1)
    for attempt, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0), (9, 8.0)]:
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(cap / 2 <= d <= cap for d in delays)
        assert max(delays) - min(delays) > cap / 4  # jitter spreads reconnects
