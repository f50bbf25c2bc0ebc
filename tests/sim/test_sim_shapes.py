"""Served objects have the keys and JSON types of the real captured messages."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import aiohttp
from sim_helpers import fixture, kind, kinds, read_until, subscribe

from prediction_engine.sim.polymarket import SimPolymarket

# Keys of the real BTC Up/Down market that describe that capture, not the market shape.
_CAPTURE_ONLY = {"competitive", "pagerDutyNotificationEnabled", "showGmpSeries", "showGmpOutcome"}


async def _get(http: aiohttp.ClientSession, url: str, **params: str) -> Any:
    async with http.get(url, params=params) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_updown_market_matches_the_real_gamma_capture(
    sim: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    real = fixture("gamma_market_btc_updown_5m.json")
    ours = await _get(http, f"{sim.gamma_url}/markets/slug/{sim.updown_slug('btc', 5)}")
    assert set(real) - _CAPTURE_ONLY <= set(ours)
    assert set(ours) - set(real) <= {"feeSchedule"}
    shared = set(real) & set(ours)
    assert {k: kinds(ours)[k] for k in shared} == {k: kinds(real)[k] for k in shared}
    for key in ("outcomes", "outcomePrices", "clobTokenIds"):
        assert isinstance(json.loads(ours[key]), list)
    assert json.loads(ours["outcomes"]) == ["Up", "Down"]
    assert ours["feeSchedule"] == {
        "exponent": 1,
        "rate": 0.07,
        "takerOnly": True,
        "rebateRate": 0.2,
    }
    event, real_event = ours["events"][0], real["events"][0]
    assert set(real_event) - {"competitive"} <= set(event) | {
        "volume24hr",
        "volume1wk",
        "volume1mo",
        "volume1yr",
    }
    assert event["series"][0]["slug"] == "btc-up-or-down-5m"
    assert set(event["series"][0]) == set(real_event["series"][0])
    start = int(ours["slug"].rsplit("-", 1)[1])
    assert start % 300 == 0
    assert ours["eventStartTime"] == event["startTime"]


async def test_neg_risk_event_nests_outcome_markets(
    sim: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    events = await _get(http, f"{sim.gamma_url}/events", slug="2026-nba-champion")
    assert len(events) == 1
    event = events[0]
    real = fixture("gamma_events_negrisk.json")[0]
    assert event["negRisk"] is True
    assert len(event["markets"]) >= 3
    assert kind(event["liquidity"]) == kind(event["volume"]) == "number"
    assert {m["negRiskMarketID"] for m in event["markets"]} == {event["negRiskMarketID"]}
    real_market = real["markets"][0]
    for market in event["markets"]:
        assert "events" not in market
        assert market["negRisk"] is True
        assert set(market) >= {"groupItemTitle", "negRiskRequestID", "questionID"}
        shared = set(market) & set(real_market) - {"feeType"}
        assert {k: kinds(market)[k] for k in shared} == {k: kinds(real_market)[k] for k in shared}
    assert {tag["slug"] for tag in event["tags"]} >= {"sports"}
    assert set(event["tags"][0]) <= set(real["tags"][0])


async def test_series_lists_its_windows(sim: SimPolymarket, http: aiohttp.ClientSession) -> None:
    series = await _get(http, f"{sim.gamma_url}/series", slug="btc-up-or-down-5m")
    assert [s["slug"] for s in series] == ["btc-up-or-down-5m"]
    slugs = [e["slug"] for e in series[0]["events"]]
    assert slugs == [sim.updown_slug("btc", 5, 0), sim.updown_slug("btc", 5, 1)]
    event = await _get(http, f"{sim.gamma_url}/events/slug/{slugs[0]}")
    assert event["seriesSlug"] == "btc-up-or-down-5m"


async def test_rest_book_has_the_2026_shape(
    sim: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    token = sim.token_ids()[0]
    book = await _get(http, f"{sim.clob_url}/book", token_id=token)
    assert list(book) == [
        "market",
        "asset_id",
        "timestamp",
        "hash",
        "bids",
        "asks",
        "min_order_size",
        "tick_size",
        "neg_risk",
        "last_trade_price",
    ]
    assert kinds(book) == {
        "market": "str",
        "asset_id": "str",
        "timestamp": "str",
        "hash": "str",
        "bids": "list",
        "asks": "list",
        "min_order_size": "str",
        "tick_size": "str",
        "neg_risk": "bool",
        "last_trade_price": "str",
    }
    real = fixture("rest_clob_book.json")
    assert set(real) <= set(book)
    assert len(book["hash"]) == 40
    assert len(book["timestamp"]) == 13
    bids = [Decimal(level["price"]) for level in book["bids"]]
    asks = [Decimal(level["price"]) for level in book["asks"]]
    assert bids == sorted(bids)
    assert asks == sorted(asks, reverse=True)


async def test_unknown_token_book_is_404(sim: SimPolymarket, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{sim.clob_url}/book", params={"token_id": "123"}) as response:
        assert response.status == 404
        assert await response.json() == {"error": "No orderbook exists for the requested token id"}


async def test_post_books_returns_a_list(sim: SimPolymarket, http: aiohttp.ClientSession) -> None:
    tokens = sim.token_ids()[:3]
    body = [{"token_id": token} for token in tokens]
    async with http.post(f"{sim.clob_url}/books", json=body) as response:
        books = await response.json()
    assert [book["asset_id"] for book in books] == tokens


async def test_clob_market_matches_the_real_capture(
    sim: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    real = fixture("rest_clob_market.json")
    condition_id = sim.markets()[0].condition_id
    ours = await _get(http, f"{sim.clob_url}/markets/{condition_id}")
    assert set(ours) == set(real)
    same_kind = set(real) - {"accepting_order_timestamp"}  # null in the 2024 capture
    assert {k: kinds(ours)[k] for k in same_kind} == {k: kinds(real)[k] for k in same_kind}
    assert set(ours["tokens"][0]) == set(real["tokens"][0])


async def test_prices_history_points(sim: SimPolymarket, http: aiohttp.ClientSession) -> None:
    token = sim.token_ids()[0]
    hour = await _get(http, f"{sim.clob_url}/prices-history", market=token, interval="1h")
    points = hour["history"]
    assert len(points) >= 59
    assert all(kind(p["t"]) == "number" and isinstance(p["t"], int) for p in points)
    assert all(0 < p["p"] < 1 for p in points)
    start, end = points[0]["t"], points[-1]["t"]
    ranged = await _get(
        http,
        f"{sim.clob_url}/prices-history",
        market=token,
        startTs=str(start),
        endTs=str(end),
        fidelity="1",
    )
    assert ranged["history"] == points


async def test_streamed_frames_have_the_captured_keys(quiet_sim: SimPolymarket) -> None:
    sim = quiet_sim
    market = next(m for m in sim.markets() if m.tick_size == "0.01" and not m.closed)
    async with aiohttp.ClientSession() as http, http.ws_connect(sim.ws_market_url) as ws:
        await subscribe(ws, list(market.token_ids))
        snapshot = json.loads((await ws.receive(timeout=5)).data)
        frames: dict[str, dict[str, Any]] = {}
        while not {"price_change", "last_trade_price", "best_bid_ask"} <= set(frames):
            await sim.advance(400)
            await sim.broadcast_raw("MARK")
            for text in await read_until(ws, "MARK"):
                payload = json.loads(text)
                frames.setdefault(payload["event_type"], payload)
        await sim.change_tick(market.token_ids[0], "0.001")
        await sim.broadcast_raw("MARK")
        tick_frames = [json.loads(text) for text in await read_until(ws, "MARK")]
    assert isinstance(snapshot, list)
    assert len(snapshot) == 2
    assert snapshot[0]["event_type"] == "book"
    assert set(fixture("ws_market_book.json")) <= set(snapshot[0])
    real_change = fixture("ws_market_price_change.json")
    assert set(frames["price_change"]) == set(real_change)
    assert set(frames["price_change"]["price_changes"][0]) == set(real_change["price_changes"][0])
    real_trade = fixture("ws_market_last_trade_price.json")
    assert set(frames["last_trade_price"]) == set(real_trade) | {"transaction_hash"}
    assert kinds(frames["last_trade_price"])["timestamp"] == "str"
    assert set(frames["best_bid_ask"]) == set(fixture("ws_market_best_bid_ask.json"))
    assert [f["event_type"] for f in tick_frames] == ["tick_size_change", "book"] * 2
    assert set(tick_frames[0]) == set(fixture("ws_market_tick_size_change.json"))


async def test_listing_and_resolution_events(quiet_sim: SimPolymarket) -> None:
    sim = quiet_sim
    target = sim.markets()[0]
    async with aiohttp.ClientSession() as http, http.ws_connect(sim.ws_market_url) as ws:
        await subscribe(ws, list(target.token_ids))
        await ws.receive(timeout=5)
        listed = await sim.list_market("Will the simulator list this market?")
        await sim.resolve_market(target.condition_id, winner=1)
        await sim.broadcast_raw("MARK")
        new_market, resolved = (json.loads(t) for t in await read_until(ws, "MARK"))
        market = await _get(http, f"{sim.gamma_url}/markets/slug/{listed.slug}")
        closed = await _get(http, f"{sim.clob_url}/markets/{target.condition_id}")
    assert set(new_market) == set(fixture("ws_market_new_market.json"))
    assert new_market["assets_ids"] == list(listed.token_ids)
    assert set(resolved) == set(fixture("ws_market_market_resolved.json"))
    assert resolved["winning_asset_id"] == target.token_ids[1]
    assert json.loads(market["clobTokenIds"]) == list(listed.token_ids)
    assert [t["winner"] for t in closed["tokens"]] == [False, True]
    assert target.token_ids[0] not in sim.token_ids()
