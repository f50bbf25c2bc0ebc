"""Market WebSocket behaviour: snapshots, keepalive, caps, faults, determinism, replay."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from sim_helpers import NaiveBook, read_until, subscribe

from prediction_engine.sim.polymarket import SimConfig, SimPolymarket


async def test_ping_gets_pong(sim: SimPolymarket, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(sim.ws_market_url) as ws:
        await ws.send_str("PING")
        message = await ws.receive(timeout=5)
    assert message.data == "PONG"
    assert sim.counters["pings"] == 1


async def test_assets_beyond_the_cap_get_no_snapshot_and_no_updates(
    quiet_sim: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    sim = quiet_sim  # cap = 5 assets per connection
    tokens = sim.token_ids()
    async with http.ws_connect(sim.ws_market_url) as ws:
        await subscribe(ws, tokens[:8])
        snapshot = json.loads((await ws.receive(timeout=5)).data)
        await sim.advance(300)
        await sim.broadcast_raw("MARK")
        frames = [json.loads(text) for text in await read_until(ws, "MARK")]
    assert [book["asset_id"] for book in snapshot] == tokens[:5]
    streamed = {frame["asset_id"] for frame in frames if "asset_id" in frame}
    streamed |= {e["asset_id"] for f in frames for e in f.get("price_changes", [])}
    assert streamed
    assert streamed <= set(tokens[:5])
    assert sim.counters["capped_assets"] == 3


async def test_dynamic_subscribe_sends_an_array_and_unsubscribe_stops_updates(
    quiet_sim: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    sim = quiet_sim
    first, second = sim.markets()[0].token_ids, sim.markets()[1].token_ids
    async with http.ws_connect(sim.ws_market_url) as ws:
        await subscribe(ws, list(first))
        await ws.receive(timeout=5)
        await ws.send_str(
            json.dumps(
                {
                    "assets_ids": list(second),
                    "operation": "subscribe",
                    "custom_feature_enabled": True,
                }
            )
        )
        added = json.loads((await ws.receive(timeout=5)).data)
        await ws.send_str(
            json.dumps({"assets_ids": list(first) + list(second), "operation": "unsubscribe"})
        )
        await ws.send_str("PING")
        assert (await ws.receive(timeout=5)).data == "PONG"
        await sim.advance(200)
        await sim.broadcast_raw("MARK")
        after = await read_until(ws, "MARK")
    assert isinstance(added, list)
    assert [b["asset_id"] for b in added] == list(second)
    assert after == []


async def test_same_seed_servers_stream_identical_frames() -> None:
    runs = []
    for _ in range(2):
        config = SimConfig(seed=42, start_paused=True)
        async with (
            SimPolymarket(config) as sim,
            aiohttp.ClientSession() as http,
            http.ws_connect(sim.ws_market_url) as ws,
        ):
            await subscribe(ws, sim.token_ids())
            snapshot = (await ws.receive(timeout=5)).data
            await sim.advance(300)
            await sim.change_tick(sim.token_ids()[0], "0.001")
            await sim.broadcast_raw("END")
            runs.append([snapshot, *await read_until(ws, "END")])
    assert len(runs[0]) > 300
    assert runs[0] == runs[1]


async def test_replayed_stream_matches_truth_and_rest_at_quiescence(
    sim: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    tokens = sim.token_ids()
    books = {token: NaiveBook() for token in tokens}
    async with http.ws_connect(sim.ws_market_url) as ws:
        await subscribe(ws, tokens)
        deadline = asyncio.get_running_loop().time() + 0.5
        while asyncio.get_running_loop().time() < deadline:
            _apply(books, json.loads((await ws.receive(timeout=5)).data))
        sim.pause()
        await sim.broadcast_raw("MARK")
        for text in await read_until(ws, "MARK"):
            _apply(books, json.loads(text))
    assert sim.counters["steps"] > 20
    for token in tokens:
        assert (books[token].bids, books[token].asks) == sim.truth(token)
    async with http.get(f"{sim.clob_url}/book", params={"token_id": tokens[0]}) as response:
        rest = await response.json()
    reference = NaiveBook()
    reference.snapshot(rest)
    assert (reference.bids, reference.asks) == sim.truth(tokens[0])


def _apply(books: dict[str, NaiveBook], payload: Any) -> None:
    for frame in payload if isinstance(payload, list) else [payload]:
        if frame["event_type"] == "book":
            books[frame["asset_id"]].snapshot(frame)
        elif frame["event_type"] == "price_change":
            for entry in frame["price_changes"]:
                books[entry["asset_id"]].change(entry)
            for entry in frame["price_changes"]:
                assert (entry["best_bid"], entry["best_ask"]) == books[entry["asset_id"]].top()


async def test_drop_connections_forces_a_reconnect(
    sim: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(sim.ws_market_url) as ws:
        await subscribe(ws, sim.token_ids()[:2])
        await ws.receive(timeout=5)
        await sim.drop_connections()
        kinds = set()
        while True:
            message = await ws.receive(timeout=5)
            kinds.add(message.type)
            if message.type in {
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
                aiohttp.WSMsgType.CLOSE,
            }:
                break
    assert sim.counters["dropped_connections"] == 1
    async with http.ws_connect(sim.ws_market_url) as again:
        await subscribe(again, sim.token_ids()[:2])
        assert isinstance(json.loads((await again.receive(timeout=5)).data), list)
    assert sim.counters["connections"] == 2


async def test_broadcast_raw_reaches_every_client(
    quiet_sim: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    sim = quiet_sim
    async with http.ws_connect(sim.ws_market_url) as one, http.ws_connect(sim.ws_market_url) as two:
        await one.send_str("PING")
        await two.send_str("PING")
        assert (await one.receive(timeout=5)).data == (await two.receive(timeout=5)).data
        await sim.broadcast_raw('{"event_type":"mystery"')
        assert (await one.receive(timeout=5)).data == '{"event_type":"mystery"'
        assert (await two.receive(timeout=5)).data == '{"event_type":"mystery"'


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_fail_http_answers_the_next_requests_then_recovers(
    quiet_sim: SimPolymarket, http: aiohttp.ClientSession, status: int
) -> None:
    sim = quiet_sim
    sim.fail_http("/clob/book", status, times=2)
    url = f"{sim.clob_url}/book"
    token = sim.token_ids()[0]
    statuses = []
    for _ in range(3):
        async with http.get(url, params={"token_id": token}) as response:
            statuses.append(response.status)
    async with http.get(f"{sim.gamma_url}/markets") as response:
        assert response.status == 200
    assert statuses == [status, status, 200]
    assert sim.counters["faults"] == 2


async def test_fail_http_can_refuse_the_websocket_handshake(
    quiet_sim: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    quiet_sim.fail_http("/ws/market", 503, times=1)
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await http.ws_connect(quiet_sim.ws_market_url)
    async with http.ws_connect(quiet_sim.ws_market_url) as ws:
        await ws.send_str("PING")
        assert (await ws.receive(timeout=5)).data == "PONG"
