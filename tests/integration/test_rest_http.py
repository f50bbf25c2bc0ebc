"""HttpClient against a local aiohttp server: retries, backoff, Retry-After, typed errors."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from prediction_engine.venues.http import (
    HttpClient,
    RetryPolicy,
    TokenBucket,
    TransportError,
    VenueRejectedError,
)
from tests.ports import free_port


class FakeTime:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Script:
    """Answers to send in order (status, headers), then 200."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.hits = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.answers:
            status, headers = self.answers.pop(0)
            return web.Response(status=status, headers=headers, text=f"status {status}")
        return web.Response(body=b'{"ok": true}', content_type="application/json")


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Script]]:
    script = Script()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", script.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", script
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def _client(session: aiohttp.ClientSession, time: FakeTime, attempts: int = 4) -> HttpClient:
    return HttpClient(
        session, requests_per_second=1000.0, sleep=time.sleep, monotonic=time.monotonic,
        rng=random.Random(7), policy=RetryPolicy(max_attempts=attempts, base_delay_s=1.0),
    )


async def test_retries_5xx_and_429_with_jittered_backoff(
    server: tuple[str, Script], session: aiohttp.ClientSession
) -> None:
    url, script = server
    script.answers = [(503, {}), (429, {}), (500, {})]
    time = FakeTime()
    client = _client(session, time)
    assert await client.get(url + "/markets") == b'{"ok": true}'
    assert script.hits == 4
    counters = client.counters
    assert (counters.requests, counters.retries, counters.failures) == (4, 3, 0)
    assert len(time.sleeps) == 3  # the limiter never waited: 1000/s with a full bucket
    for attempt, delay in enumerate(time.sleeps, start=1):
        assert 0 <= delay <= 2 ** (attempt - 1)  # full jitter under the exponential ceiling


async def test_retry_after_is_honoured(
    server: tuple[str, Script], session: aiohttp.ClientSession
) -> None:
    url, script = server
    script.answers = [(429, {"Retry-After": "7"})]
    time = FakeTime()
    client = _client(session, time)
    await client.get(url + "/x")
    assert 7.0 in time.sleeps


async def test_gives_up_with_transport_error(
    server: tuple[str, Script], session: aiohttp.ClientSession
) -> None:
    url, script = server
    script.answers = [(502, {})] * 10
    time = FakeTime()
    client = _client(session, time, attempts=3)
    with pytest.raises(TransportError) as info:
        await client.get(url + "/book")
    assert info.value.attempts == 3
    assert "HTTP 502" in str(info.value)
    assert script.hits == 3
    assert (client.counters.retries, client.counters.failures) == (2, 1)


async def test_client_error_is_venue_rejection_without_retry(
    server: tuple[str, Script], session: aiohttp.ClientSession
) -> None:
    url, script = server
    script.answers = [(422, {})]
    client = _client(session, FakeTime())
    with pytest.raises(VenueRejectedError) as info:
        await client.get(url + "/markets", [("offset", "10100")])
    assert info.value.status == 422
    assert "status 422" in info.value.body_excerpt
    assert script.hits == 1
    assert client.counters.rejected == 1


async def test_connection_refused_is_retried_then_transport_error(
    session: aiohttp.ClientSession,
) -> None:
    port = free_port()  # nobody listens on it
    time = FakeTime()
    client = _client(session, time, attempts=3)
    with pytest.raises(TransportError) as info:
        await client.get(f"http://127.0.0.1:{port}/")
    assert "ClientConnectorError" in info.value.last_failure
    assert client.counters.retries == 2


async def test_post_sends_json_body(session: aiohttp.ClientSession) -> None:
    seen: list[bytes] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(await request.read())
        return web.Response(body=b"[]")

    app = web.Application()
    app.router.add_post("/books", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        client = _client(session, FakeTime())
        body = await client.post(f"http://127.0.0.1:{runner.addresses[0][1]}/books", b'[{"a":1}]')
        assert body == b"[]"
        assert seen == [b'[{"a":1}]']
    finally:
        await runner.cleanup()


async def test_token_bucket_spaces_requests_after_the_burst() -> None:
    time = FakeTime()
    bucket = TokenBucket(10.0, burst=2, sleep=time.sleep, monotonic=time.monotonic)
    for _ in range(6):
        await bucket.acquire()
    # Two free (the burst), then one every 0.1 s.
    assert time.sleeps == pytest.approx([0.1, 0.1, 0.1, 0.1])
    assert time.now == pytest.approx(0.4)


async def test_token_bucket_refills_while_idle() -> None:
    time = FakeTime()
    bucket = TokenBucket(5.0, burst=1, sleep=time.sleep, monotonic=time.monotonic)
    await bucket.acquire()
    time.now += 10.0
    await bucket.acquire()
    assert time.sleeps == []
