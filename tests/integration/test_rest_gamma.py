"""GammaClient and the Up/Down lookup against local servers: a scripted Gamma and the simulator."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web

from prediction_engine.venues.http import HttpClient, RetryPolicy, VenueRejectedError
from prediction_engine.venues.polymarket.catalog import find_updown, refresh_catalog
from prediction_engine.venues.polymarket.rest import GAMMA_MAX_OFFSET, GammaClient, MarketQuery

Json = dict[str, Any]


def market_json(n: int, slug: str | None = None, **extra: Any) -> Json:
    """A small but well-formed Gamma market."""
    return {
        "id": str(n), "conditionId": f"0x{n:064x}", "slug": slug or f"market-{n}",
        "question": f"Question {n}?", "outcomes": "[\"Yes\", \"No\"]",
        "clobTokenIds": f"[\"{n * 2 + 1}\", \"{n * 2 + 2}\"]",
        "outcomePrices": "[\"0.5\", \"0.5\"]",
        "active": True, "closed": False, "enableOrderBook": True, "acceptingOrders": True,
        "volume": str(n), "liquidity": 100, "orderPriceMinTickSize": 0.01, "orderMinSize": 5,
        **extra,
    }


class FakeGamma:
    """Scripted Gamma: a market list for both pagination kinds, slugs, events, series."""

    def __init__(self, markets: list[Json] | None = None, endless: bool = False) -> None:
        self.markets = markets or []
        self.endless = endless
        self.by_slug: dict[str, Json] = {}
        self.events: dict[str, Json] = {}
        self.series: list[Json] = []
        self.requests: list[tuple[str, dict[str, str]]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/markets", self.offset_page)
        app.router.add_get("/markets/keyset", self.keyset_page)
        app.router.add_get("/markets/slug/{slug}", self.market)
        app.router.add_get("/events/slug/{slug}", self.event)
        app.router.add_get("/series", self.series_list)
        return app

    def _log(self, request: web.Request) -> dict[str, str]:
        params = dict(request.query)
        self.requests.append((request.path, params))
        return params

    async def offset_page(self, request: web.Request) -> web.Response:
        params = self._log(request)
        limit, offset = min(int(params["limit"]), 100), int(params["offset"])
        if offset > GAMMA_MAX_OFFSET:
            return web.Response(status=422, text='{"error": "offset too large"}')
        if self.endless:
            return web.json_response([market_json(offset + i) for i in range(limit)])
        return web.json_response(self.markets[offset : offset + limit])

    async def keyset_page(self, request: web.Request) -> web.Response:
        params = self._log(request)
        assert "offset" not in params
        start = int(params.get("cursor", "0"))
        end = start + min(int(params["limit"]), 100)
        body: Json = {"markets": self.markets[start:end]}
        if end < len(self.markets):
            body["next_cursor"] = str(end)
        return web.json_response(body)

    async def market(self, request: web.Request) -> web.Response:
        self._log(request)
        found = self.by_slug.get(request.match_info["slug"])
        return web.json_response(found) if found else web.Response(status=404, text="{}")

    async def event(self, request: web.Request) -> web.Response:
        self._log(request)
        found = self.events.get(request.match_info["slug"])
        return web.json_response(found) if found else web.Response(status=404, text="{}")

    async def series_list(self, request: web.Request) -> web.Response:
        params = self._log(request)
        return web.json_response([s for s in self.series if s["slug"] == params.get("slug")])


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def _serve(fake: FakeGamma) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(fake.app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def _client(session: aiohttp.ClientSession, url: str) -> GammaClient:
    async def no_sleep(_: float) -> None:
        return None

    http = HttpClient(session, requests_per_second=10_000.0, sleep=no_sleep,
                      rng=random.Random(1), policy=RetryPolicy(max_attempts=2))
    return GammaClient(http, url)


async def test_offset_pagination_reads_every_page(session: aiohttp.ClientSession) -> None:
    fake = FakeGamma([market_json(i) for i in range(250)])
    runner, url = await _serve(fake)
    try:
        pages: list[tuple[int, int]] = []
        gamma = _client(session, url)
        def on_page(page: int, count: int) -> None:
            pages.append((page, count))

        got = [m async for m in gamma.markets(page_size=500, on_page=on_page)]
    finally:
        await runner.cleanup()
    assert [m.slug for m in got] == [f"market-{i}" for i in range(250)]
    assert [p["offset"] for _, p in fake.requests] == ["0", "100", "200"]
    assert {p["limit"] for _, p in fake.requests} == {"100"}  # capped at 100
    assert fake.requests[0][1]["active"] == "true"
    assert fake.requests[0][1]["closed"] == "false"
    assert pages == [(1, 100), (2, 200), (3, 250)]


async def test_offset_pagination_stops_before_the_offset_limit(
    session: aiohttp.ClientSession,
) -> None:
    fake = FakeGamma(endless=True)
    runner, url = await _serve(fake)
    try:
        count = sum([1 async for _ in _client(session, url).markets()])
    finally:
        await runner.cleanup()
    offsets = [int(p["offset"]) for _, p in fake.requests]
    assert max(offsets) == GAMMA_MAX_OFFSET
    assert count == GAMMA_MAX_OFFSET + 100


async def test_keyset_pagination_follows_cursor_until_absent(
    session: aiohttp.ClientSession,
) -> None:
    fake = FakeGamma([market_json(i) for i in range(230)])
    runner, url = await _serve(fake)
    try:
        got = [m async for m in _client(session, url).markets(keyset=True)]
    finally:
        await runner.cleanup()
    assert len(got) == 230
    assert [p.get("cursor") for _, p in fake.requests] == [None, "100", "200"]


async def test_filters_are_sent_and_applied_client_side(session: aiohttp.ClientSession) -> None:
    markets = [market_json(1, volume="5"), market_json(2, volume="5000"),
               market_json(3, volume="9000", acceptingOrders=False),
               market_json(4, volume="9000", liquidity="1")]
    fake = FakeGamma(markets)
    runner, url = await _serve(fake)
    query = MarketQuery(min_volume=Decimal(1000), min_liquidity=Decimal(50), tag_id=21,
                        accepting_orders=True, enable_order_book=True)
    try:
        got = [m async for m in _client(session, url).markets(query)]
    finally:
        await runner.cleanup()
    assert [m.slug for m in got] == ["market-2"]
    sent = fake.requests[0][1]
    assert sent["volume_num_min"] == "1000"
    assert (sent["liquidity_num_min"], sent["tag_id"]) == ("50", "21")


async def test_slug_lookups_return_none_on_404(session: aiohttp.ClientSession) -> None:
    fake = FakeGamma()
    fake.by_slug["known"] = market_json(5, slug="known")
    runner, url = await _serve(fake)
    try:
        gamma = _client(session, url)
        known = await gamma.market_by_slug("known")
        assert known is not None
        assert known.market_id == "5"
        assert await gamma.market_by_slug("unknown") is None
        assert await gamma.event_by_slug("unknown") is None
        assert await gamma.series_by_slug("unknown") is None
    finally:
        await runner.cleanup()


async def test_bad_items_are_counted_and_skipped(session: aiohttp.ClientSession) -> None:
    fake = FakeGamma([market_json(1), {"id": "2", "slug": "broken"}, market_json(3)])
    runner, url = await _serve(fake)
    try:
        gamma = _client(session, url)
        got = [m async for m in gamma.markets()]
    finally:
        await runner.cleanup()
    assert [m.market_id for m in got] == ["1", "3"]
    assert gamma.dropped == 1


async def test_offset_past_limit_is_a_venue_rejection(session: aiohttp.ClientSession) -> None:
    runner, url = await _serve(FakeGamma())
    try:
        params = {"limit": "1", "offset": "10001"}
        with pytest.raises(VenueRejectedError) as info:
            await _client(session, url).http.get(url + "/markets", params)
    finally:
        await runner.cleanup()
    assert info.value.status == 422


# ---------------------------------------------------------------- Up/Down lookup

T0 = 1_773_302_400  # 2026-03-12T08:00:00Z, aligned to 5m, 15m, 1h and 4h


def _event(slug: str, start_s: int, length_s: int, markets: list[Json] | None = None) -> Json:
    event: Json = {"id": str(start_s), "slug": slug, "title": slug,
                   "startTime": _iso(start_s), "endDate": _iso(start_s + length_s)}
    if markets is not None:
        event["markets"] = markets
    return event


def _iso(seconds: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("interval", "length"), [("5m", 300), ("15m", 900), ("1h", 3600), ("4h", 14400)]
)
async def test_updown_current_window_by_slug(
    session: aiohttp.ClientSession, interval: str, length: int
) -> None:
    fake = FakeGamma()
    slug = f"eth-updown-{interval}-{T0}"
    fake.by_slug[slug] = market_json(1, slug=slug)
    runner, url = await _serve(fake)
    try:
        match = await find_updown(_client(session, url), "eth", interval, (T0 + length - 1) * 10**9)
    finally:
        await runner.cleanup()
    assert match is not None
    assert match.market.slug == slug
    assert (match.start_s, match.end_s, match.found_by) == (T0, T0 + length, "slug")


async def test_updown_next_window_when_current_is_missing(session: aiohttp.ClientSession) -> None:
    fake = FakeGamma()
    slug = f"btc-updown-15m-{T0 + 900}"
    fake.events[slug] = _event(slug, T0 + 900, 900, [market_json(2, slug=slug)])
    runner, url = await _serve(fake)
    try:
        match = await find_updown(_client(session, url), "btc", "15m", (T0 + 60) * 10**9)
    finally:
        await runner.cleanup()
    assert match is not None
    assert match.found_by == "next"
    assert match.start_s == T0 + 900
    paths = [path for path, _ in fake.requests]
    assert paths[:2] == [f"/markets/slug/btc-updown-15m-{T0}", f"/events/slug/btc-updown-15m-{T0}"]


async def test_updown_series_fallback_with_old_slug_form(session: aiohttp.ClientSession) -> None:
    fake = FakeGamma()
    old = f"btc-up-or-down-15m-{T0}"
    fake.series = [{"id": "9", "slug": "btc-up-or-down-15m", "recurrence": "15m", "events": [
        _event(f"btc-up-or-down-15m-{T0 - 900}", T0 - 900, 900),
        _event(old, T0, 900),
        _event(f"btc-up-or-down-15m-{T0 + 900}", T0 + 900, 900),
    ]}]
    fake.events[old] = _event(old, T0, 900, [market_json(3, slug=old)])
    runner, url = await _serve(fake)
    try:
        match = await find_updown(_client(session, url), "btc", "15m", (T0 + 100) * 10**9)
    finally:
        await runner.cleanup()
    assert match is not None
    assert match.found_by == "series"
    assert (match.market.slug, match.start_s) == (old, T0)


async def test_updown_series_fallback_takes_the_next_window(session: aiohttp.ClientSession) -> None:
    fake = FakeGamma()
    later = f"sol-updown-1h-{T0 + 7200}"
    fake.series = [{"id": "9", "slug": "sol-up-or-down-1h", "events": [
        _event(f"sol-updown-1h-{T0 - 3600}", T0 - 3600, 3600),
        _event(later, T0 + 7200, 3600, [market_json(4, slug=later)]),
    ]}]
    runner, url = await _serve(fake)
    try:
        match = await find_updown(_client(session, url), "sol", "1h", (T0 + 10) * 10**9)
    finally:
        await runner.cleanup()
    assert match is not None
    assert match.market.slug == later
    assert match.start_s == T0 + 7200


async def test_updown_nothing_found(session: aiohttp.ClientSession) -> None:
    runner, url = await _serve(FakeGamma())
    try:
        assert await find_updown(_client(session, url), "xrp", "4h", T0 * 10**9) is None
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------- against the simulator

sim_module = pytest.importorskip("prediction_engine.sim.polymarket.server")


@pytest.fixture
async def sim() -> AsyncIterator[Any]:
    venue = sim_module.SimPolymarket(sim_module.SimConfig(start_paused=True))
    await venue.start(host="127.0.0.1", port=0)
    yield venue
    await venue.stop()


async def test_sim_both_paginations_agree_and_refresh_builds_a_catalog(
    sim: Any, session: aiohttp.ClientSession
) -> None:
    gamma = _client(session, sim.gamma_url)
    offset = [m.slug async for m in gamma.markets(page_size=7)]
    keyset = [m.slug async for m in gamma.markets(keyset=True, page_size=7)]
    assert offset
    assert sorted(offset) == sorted(keyset)
    assert gamma.dropped == 0
    catalog = await refresh_catalog(gamma, 123, MarketQuery())
    assert len(catalog) == len(offset)
    assert catalog.fetched_at_ns == 123
    assert set(offset) == {m.slug for m in sim.markets() if not m.closed}


async def test_sim_updown_and_event_series_lookups(
    sim: Any, session: aiohttp.ClientSession
) -> None:
    gamma = _client(session, sim.gamma_url)
    slug = sim.updown_slug("btc", 5)
    start = int(slug.rsplit("-", 1)[1])
    match = await find_updown(gamma, "btc", "5m", (start + 30) * 10**9)
    assert match is not None
    assert match.market.slug == slug
    info = next(m for m in sim.markets() if m.slug == slug)
    assert match.market.tokens == info.token_ids
    event = await gamma.event_by_slug(slug)
    assert event is not None
    assert event.series_slug == "btc-up-or-down-5m"
    series_slugs = [m.slug async for m in gamma.series_markets("btc-up-or-down-5m")]
    assert slug in series_slugs


async def test_sim_http_fault_is_retried(sim: Any, session: aiohttp.ClientSession) -> None:
    gamma = _client(session, sim.gamma_url)
    sim.fail_http("/gamma/markets", 503, times=1)
    got = [m async for m in gamma.markets()]
    assert got
    assert gamma.http.counters.retries == 1


def test_market_json_helper_is_valid() -> None:
    from prediction_engine.venues.polymarket.gamma_parse import parse_gamma_market

    assert parse_gamma_market(msgspec.json.encode(market_json(7))).tokens == ("15", "16")
