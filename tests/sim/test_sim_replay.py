"""Replay mode: a recorded tape served as a local Polymarket venue (WebSocket, REST, Gamma)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_helpers import read_until, subscribe
from tests.fuzzing import json_values, mutate_bytes, mutate_structure

from prediction_engine.config import PolymarketConfig
from prediction_engine.core.book import OrderBook
from prediction_engine.core.events import Event
from prediction_engine.core.numbers import micro_to_decimal
from prediction_engine.engine.clock import LiveClock
from prediction_engine.sim.polymarket.replay import ReplayVenue
from prediction_engine.sim.polymarket.replay_state import ReplayBooks, decode_frame, route_for
from prediction_engine.tape import BINANCE_TRADE, POLYMARKET_MARKET, TapeError, TapeWriter
from prediction_engine.venues.polymarket.replay import replay_books
from prediction_engine.venues.polymarket.rest import ClobClient, GammaClient, MarketQuery
from prediction_engine.venues.polymarket.session import MarketDataSession
from prediction_engine.venues.websocket import ReconnectPolicy

DATA = Path(__file__).resolve().parents[1] / "data" / "polymarket"
CROSSING = DATA / "ws_market_stream_nautilus_crossing_burst.jsonl"
LINES = CROSSING.read_text().splitlines()
MARKET = json.loads(LINES[0])["market"]
YES = json.loads(LINES[0])["asset_id"]  # the token the capture has books for
NO = next(e["asset_id"] for e in json.loads(LINES[1])["price_changes"] if e["asset_id"] != YES)
T0_NS = 1_790_000_000_000_000_000

Levels = dict[Decimal, Decimal]


def write_tape(path: Path, frames: list[tuple[float, str]], **header: Any) -> Path:
    """A tape of market frames received at the given seconds after T0."""
    with TapeWriter(path, source="test", **header) as writer:
        for seconds, raw in frames:
            writer.write(T0_NS + int(seconds * 1e9), POLYMARKET_MARKET, raw)
    return path


def truth(venue: ReplayVenue, token: str) -> tuple[Levels, Levels]:
    bids, asks = venue.truth(token)
    return (
        {Decimal(p): Decimal(s) for p, s in bids.items()},
        {Decimal(p): Decimal(s) for p, s in asks.items()},
    )


def levels(book: OrderBook | None) -> tuple[Levels, Levels]:
    assert book is not None

    def conv(side: list[tuple[int, int]]) -> Levels:
        return {micro_to_decimal(p): micro_to_decimal(s) for p, s in side}

    return conv(book.bids()), conv(book.asks())


def rest_levels(summary: dict[str, Any]) -> tuple[Levels, Levels]:
    def conv(side: list[dict[str, str]]) -> Levels:
        return {Decimal(lv["price"]): Decimal(lv["size"]) for lv in side}

    return conv(summary["bids"]), conv(summary["asks"])


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def synced(ws: aiohttp.ClientWebSocketResponse) -> list[str]:
    """Once the venue has handled everything this client sent, what it sent back till then."""
    await ws.send_str("PING")
    return await read_until(ws, "PONG")


def test_books_follow_both_price_change_schemas_tick_changes_and_trades() -> None:
    books = ReplayBooks()
    book = {"event_type": "book", "market": "0xab", "asset_id": "11", "timestamp": "1",
            "bids": [{"price": "0.4", "size": "10"}], "asks": [{"price": "0.6", "size": "10"}]}
    legacy = {"event_type": "price_change", "market": "0xab", "asset_id": "11", "changes": [
        {"price": "0.45", "side": "BUY", "size": "3"},
        {"price": "0.6", "side": "SELL", "size": "0"},
    ]}
    new = {"event_type": "price_change", "market": "0xab", "price_changes": [
        {"asset_id": "11", "price": "0.55", "size": "7", "side": "SELL"},
        {"asset_id": "22", "price": "0.45", "size": "7", "side": "BUY"},
    ]}
    assert books.apply(book, T0_NS)
    assert books.summary("11")["tick_size"] == "0.1"  # no tick_size: the coarsest that fits
    assert books.apply(legacy, T0_NS + 10**9)
    assert books.summary("11")["tick_size"] == "0.01"  # refined by the 0.45 bid
    assert books.apply(new, T0_NS + 2 * 10**9)
    trade = {"event_type": "last_trade_price", "asset_id": "11", "price": "0.5"}
    tick = {"event_type": "tick_size_change", "asset_id": "11", "new_tick_size": "0.001"}
    assert books.apply([trade, tick], T0_NS + 3 * 10**9)
    bad = {**new, "price_changes": [{"asset_id": "11", "price": "x", "size": "1", "side": "BUY"}]}
    assert not books.apply(bad, T0_NS)
    assert books.truth("11") == ({"0.4": "10", "0.45": "3"}, {"0.55": "7"})
    summary = books.summary("11")
    assert summary is not None
    assert (summary["tick_size"], summary["last_trade_price"]) == ("0.001", "0.500")
    assert summary["timestamp"] == str(T0_NS // 10**6 + 3000)  # the latest frame's time
    assert books.truth("22") == ({}, {}) and books.summary("22") is None  # never had a book


async def test_our_client_discovers_and_streams_the_replayed_market(
    http: aiohttp.ClientSession,
) -> None:
    async with ReplayVenue(CROSSING, speed=None, start_paused=True) as venue:
        config = PolymarketConfig(
            gamma_url=venue.gamma_url, clob_url=venue.clob_url, ws_market_url=venue.ws_market_url,
            snapshot_timeout_s=0.2, ping_interval_s=30.0, stale_after_s=60.0,
        )
        clock = LiveClock()
        gamma = GammaClient.from_config(http, config)
        markets = [m async for m in gamma.markets(MarketQuery(enable_order_book=True))]
        assert [(m.condition_id, m.tokens) for m in markets] == [(MARKET, (YES, NO))]
        assert (await gamma.market_by_slug(markets[0].slug)) == markets[0]
        queue: asyncio.Queue[Event] = asyncio.Queue()
        session = MarketDataSession(
            config, http=http, clock=clock, sink=queue,
            fetch_book=ClobClient.from_config(http, config, clock).book,
            policy=ReconnectPolicy(max_attempts=2, base_delay_s=0.05),
        )
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(session.run(markets[0].tokens))
            await wait_for(lambda: session.books.book(YES) is not None)  # snapshot while paused
            venue.resume()
            await asyncio.wait_for(venue.finished.wait(), 5)
            await wait_for(lambda: session.counters.frames >= 1 + len(LINES))
            await session.close()
            await runner
    direct = replay_books(CROSSING).books
    assert levels(session.books.book(YES)) == truth(venue, YES) == levels(direct.book(YES))
    assert truth(venue, YES) == rest_levels(json.loads(LINES[-1]))  # the closing book
    # The capture never had a book for the complement: nobody invents one.
    assert session.books.book(NO) is None and direct.book(NO) is None
    assert venue.truth(NO) == ({}, {})
    assert session.counters.decode_errors == session.books.counters.desyncs == 0
    assert venue.counters["frames_replayed"] == len(LINES) and venue.progress == 1.0


async def test_a_full_subscriber_gets_the_tape_byte_for_byte_a_partial_one_its_entries(
    http: aiohttp.ClientSession,
) -> None:
    async with (
        ReplayVenue(CROSSING, speed=None, start_paused=True) as venue,
        http.ws_connect(venue.ws_market_url) as full,
        http.ws_connect(venue.ws_market_url) as partial,
    ):
        await subscribe(full, [YES, NO])
        snapshot = json.loads((await full.receive(timeout=5)).data)
        await subscribe(partial, [NO])
        assert await synced(partial) == []  # no snapshot: the tape has no book for NO
        venue.resume()
        received = [(await full.receive(timeout=5)).data for _ in LINES]
        only_no = [json.loads((await partial.receive(timeout=5)).data) for _ in range(49)]
    assert received == LINES
    first = json.loads(LINES[0])
    assert [book["asset_id"] for book in snapshot] == [YES]  # no book for NO
    assert rest_levels(snapshot[0]) == rest_levels(first)
    assert snapshot[0]["timestamp"] == first["timestamp"]  # the replay time
    prices = [Decimal(lv["price"]) for lv in snapshot[0]["bids"]]
    assert prices == sorted(prices)  # bids ascending, asks descending: best last
    prices = [Decimal(lv["price"]) for lv in snapshot[0]["asks"]]
    assert prices == sorted(prices, reverse=True)
    originals = [json.loads(line) for line in LINES if "price_changes" in line]
    for mine, original in zip(only_no, originals, strict=True):
        wanted = [e for e in original["price_changes"] if e["asset_id"] == NO]
        assert mine == {**original, "price_changes": wanted}


def routing_frames() -> list[tuple[float, str]]:
    book = {
        "event_type": "book", "market": "0xab", "asset_id": "11", "timestamp": "1",
        "bids": [{"price": "0.4", "size": "10"}], "asks": [{"price": "0.6", "size": "10"}],
    }
    bba = {"event_type": "best_bid_ask", "market": "0xab", "asset_id": "11",
           "best_bid": "0.4", "best_ask": "0.6", "spread": "0.2", "timestamp": "2"}
    change = {"event_type": "price_change", "market": "0xab", "timestamp": "3", "price_changes": [
        {"asset_id": "11", "price": "0.45", "size": "5", "side": "BUY"},
        {"asset_id": "22", "price": "0.55", "size": "5", "side": "SELL"},
    ]}
    listed = {"event_type": "new_market", "market": "0xcd", "assets_ids": ["33", "44"]}
    texts = [json.dumps(book), json.dumps(bba), '{"event_type":"book","mark', json.dumps(change),
             json.dumps(listed), json.dumps([book, {**book, "asset_id": "22"}]), "END"]
    return [(0.0, text) for text in texts]


async def test_custom_events_and_undecodable_frames_are_routed_like_the_venue(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    frames = routing_frames()
    tape = write_tape(tmp_path / "routing.jsonl", frames)
    async with (
        ReplayVenue(tape, start_paused=True) as venue,
        http.ws_connect(venue.ws_market_url) as custom,
        http.ws_connect(venue.ws_market_url) as plain,
    ):
        await subscribe(custom, ["11"], custom=True)
        await subscribe(plain, ["11"], custom=False)
        snapshots = [*await synced(custom), *await synced(plain)]
        venue.resume()
        to_custom = await read_until(custom, "END")
        to_plain = await read_until(plain, "END")
    book, bba, broken, change, listed = [text for _, text in frames[:5]]
    only_11 = json.loads(change)
    only_11["price_changes"] = only_11["price_changes"][:1]
    bids = [{"price": "0.4", "size": "10"}]
    assert [json.loads(text)[0]["bids"] for text in snapshots] == [bids, bids]
    assert to_custom[:3] == [book, bba, broken] and to_custom[4] == listed
    assert to_plain[:2] == [book, broken]
    assert json.loads(to_custom[3]) == json.loads(to_plain[2]) == only_11
    assert json.loads(to_custom[5]) == json.loads(to_plain[3]) == [json.loads(book)]
    assert len(to_custom) == 6 and len(to_plain) == 4
    assert venue.truth("22") == ({"0.4": "10"}, {"0.6": "10"})  # from the array
    assert venue.counters["frames_opaque"] == 2  # the broken frame and END


async def test_frames_are_paced_by_speed_and_paused_time_does_not_count(tmp_path: Path) -> None:
    frames = [(seconds, json.dumps({"event_type": "x", "n": seconds})) for seconds in range(11)]
    tape = write_tape(tmp_path / "paced.jsonl", frames)
    expected = 10 / 10  # recorded span / speed
    async with ReplayVenue(tape, speed=10, start_paused=True) as venue:
        await asyncio.sleep(0.3)
        assert venue.counters["frames_replayed"] == 0 and venue.progress == 0.0
        start = time.monotonic()
        venue.resume()
        await asyncio.wait_for(venue.finished.wait(), expected + 5)
        paced = time.monotonic() - start
    assert 0.8 * expected <= paced < expected + 1.5
    start = time.monotonic()
    async with ReplayVenue(tape, speed=None) as venue:
        await asyncio.wait_for(venue.finished.wait(), 5)
    assert time.monotonic() - start < expected / 2
    assert venue.counters["frames_replayed"] == 11 and venue.progress == 1.0


async def test_rest_books_mid_replay_equal_the_truth(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    tape = write_tape(tmp_path / "burst.jsonl", [(i * 0.02, line) for i, line in enumerate(LINES)])
    async with ReplayVenue(tape) as venue:
        await wait_for(lambda: venue.counters["frames_replayed"] >= 20)
        venue.pause()
        played = venue.counters["frames_replayed"]
        assert played < len(LINES)
        async with http.get(f"{venue.clob_url}/book", params={"token_id": YES}) as response:
            assert response.status == 200
            book = await response.json()
        body = [{"token_id": t} for t in (YES, NO, "123")]
        async with http.post(f"{venue.clob_url}/books", json=body) as response:
            books = await response.json()
        statuses = []
        for token in (NO, "123", ""):
            async with http.get(f"{venue.clob_url}/book", params={"token_id": token}) as response:
                statuses.append(response.status)
        prefix = tmp_path / "prefix.jsonl"
        prefix.write_text("\n".join(LINES[:played]) + "\n")
        direct = replay_books(prefix).books.book(YES)
        assert rest_levels(book) == truth(venue, YES) == levels(direct)
        assert truth(venue, YES) != rest_levels(json.loads(LINES[0]))  # it did move
        assert (book["market"], book["asset_id"], book["tick_size"]) == (MARKET, YES, "0.001")
        assert books == [book]
        assert statuses == [404, 404, 400]
        venue.resume()
        await asyncio.wait_for(venue.finished.wait(), 5)


async def test_header_metadata_names_markets_and_loop_restarts(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    meta = {"condition_id": "0xab", "question": "Will it rain?", "slug": "will-it-rain",
            "outcomes": ["Yes", "No"], "tokens": ["11", "22"], "min_order_size": "15"}
    lone = {"event_type": "book", "market": "0xef", "asset_id": "55", "timestamp": "5",
            "bids": [], "asks": [{"price": "0.7", "size": "1"}]}
    frames = [*routing_frames()[:2], (0.0, json.dumps(lone))]
    tape = write_tape(tmp_path / "meta.jsonl", frames, markets=[meta])
    async with ReplayVenue(tape, speed=None) as venue:
        await asyncio.wait_for(venue.finished.wait(), 5)
        async with http.get(f"{venue.gamma_url}/markets") as response:
            listed = await response.json()
        async with http.get(f"{venue.clob_url}/book", params={"token_id": "11"}) as response:
            assert (await response.json())["min_order_size"] == "15"
    assert [(m["question"], m["slug"], m["clobTokenIds"]) for m in listed] == [
        ("Will it rain?", "will-it-rain", '["11", "22"]')
    ]
    assert json.loads(listed[0]["outcomes"]) == ["Yes", "No"]
    assert venue.token_ids() == ["11", "22", "55"]  # 0xef has one token: served, not listed
    assert venue.truth("55") == ({}, {"0.7": "1"})
    async with ReplayVenue(tape, speed=None, loop=True) as venue:
        await wait_for(lambda: venue.counters["loops"] >= 2)
        assert venue.counters["frames_replayed"] >= 6
        assert not venue.finished.is_set()


async def test_unusable_tapes_fail_before_the_server_starts(tmp_path: Path) -> None:
    with pytest.raises(TapeError, match=r"missing\.jsonl"):
        ReplayVenue(tmp_path / "missing.jsonl")
    other = tmp_path / "binance.jsonl"
    with TapeWriter(other, source="test") as writer:
        writer.write(T0_NS, BINANCE_TRADE, '{"e":"trade"}')
    with pytest.raises(TapeError, match=r"binance\.jsonl: no Polymarket market frames"):
        ReplayVenue(other)
    bad = write_tape(tmp_path / "bad.jsonl", [(0.0, "{}")], markets=[{"question": "?"}])
    with pytest.raises(TapeError, match="bad header key 'markets'"):
        ReplayVenue(bad)
    with pytest.raises(ValueError, match="speed"):
        ReplayVenue(CROSSING, speed=0)


FUZZ_FRAMES = [text.encode() for text in [*LINES[:2], LINES[-1]]]
FUZZ_FRAMES += [text.encode() for _, text in routing_frames() if decode_frame(text) is not None]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FUZZ_FRAMES), st.data())
def test_mutated_frames_never_break_the_books_or_the_routing(
    frame: bytes, data: st.DataObject
) -> None:
    values = json_values(["BUY", "SELL", "book", "price_change", "best_bid_ask", "0", YES])
    structural = data.draw(st.booleans())
    mutated = mutate_structure(frame, data, values) if structural else mutate_bytes(frame, data)
    raw = mutated.decode(errors="replace")
    books = ReplayBooks()
    books.apply(json.loads(LINES[0]), T0_NS)
    payload = decode_frame(raw)
    books.apply(payload, T0_NS)  # may leave the frame out, never raises
    books.summary(YES)
    route = route_for(raw, payload)
    if route is not None:
        for assets, custom in (({YES: None}, False), ({NO: None, "11": None}, True)):
            text = route(SimpleNamespace(assets=assets, custom=custom))  # type: ignore[arg-type]
            assert text is None or isinstance(text, str)
