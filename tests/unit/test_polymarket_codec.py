"""Every real Polymarket capture parses to exactly the expected events (golden files)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from prediction_engine.core.events import BookDelta, BookSnapshot, OrderUpdated, Side, Trade
from prediction_engine.venues.errors import DecodeError, UnknownEventError
from prediction_engine.venues.polymarket.parse import (
    parse_frame,
    parse_market_frame,
    parse_rest_book,
    parse_rest_books,
    parse_rest_trade,
    parse_user_frame,
)
from tests.conftest import GOLDEN, SHARED_FIXTURES, assert_golden

FIXTURES = SHARED_FIXTURES / "polymarket"
WS_FILES = sorted(p.name for p in FIXTURES.glob("ws_*.json"))
RECV = 1_700_000_000_123_456_789


def test_every_ws_fixture_is_covered() -> None:
    assert len(WS_FILES) == 13


@pytest.mark.parametrize("name", WS_FILES)
def test_ws_fixture_golden(name: str) -> None:
    parse = parse_user_frame if name.startswith("ws_user") else parse_market_frame
    events = parse((FIXTURES / name).read_bytes(), RECV)
    assert events
    assert_golden(f"polymarket_ws/{Path(name).stem}.json", events)


def test_rest_book_golden() -> None:
    snap = parse_rest_book((FIXTURES / "rest_clob_book.json").read_bytes(), RECV)
    assert_golden("polymarket_ws/rest_clob_book.json", snap)
    # bids ascending / asks descending on the wire; best first in our snapshot
    assert snap.bids[0] == (100_000, 125_000_000)
    assert snap.asks[0] == (140_000, 705_000_000)


def test_rest_trade_golden() -> None:
    trade = parse_rest_trade((FIXTURES / "rest_clob_trade.json").read_bytes(), RECV)
    assert_golden("polymarket_ws/rest_clob_trade.json", trade)
    assert trade.ts_event == 1_726_043_282 * 10**9  # last_update, seconds
    assert trade.maker_fills[0].matched_size == 5_000_000
    with pytest.raises(DecodeError):
        parse_rest_trade(b'{"id":"x"}', 0)


def test_book_levels_are_best_first_and_exact() -> None:
    (snap,) = parse_market_frame((FIXTURES / "ws_market_book.json").read_bytes(), RECV)
    assert isinstance(snap, BookSnapshot)
    assert [p for p, _ in snap.bids] == sorted((p for p, _ in snap.bids), reverse=True)
    assert [p for p, _ in snap.asks] == sorted(p for p, _ in snap.asks)
    assert (999_000, 10_500_100_000_000) in snap.asks
    assert snap.tick_size is None
    assert snap.ts_recv == RECV


def test_initial_array_and_2026_book_shape() -> None:
    frame = (
        b'[{"market":"0xabc","asset_id":"1","timestamp":"1700000000000","hash":"h",'
        b'"bids":[{"price":"0.48","size":"30"},{"price":"0.49","size":"5.5"}],'
        b'"asks":[{"price":"0.52","size":"25"},{"price":"0.51","size":"1"}],'
        b'"tick_size":"0.01","event_type":"book","last_trade_price":"0.500"},'
        b'{"market":"0xabc","asset_id":"2","timestamp":"1700000000000","bids":null,'
        b'"asks":[],"tick_size":"0.01","event_type":"book","last_trade_price":""}]'
    )
    first, second = parse_market_frame(frame, RECV)
    assert isinstance(first, BookSnapshot)
    assert isinstance(second, BookSnapshot)
    assert first.bids == ((490_000, 5_500_000), (480_000, 30_000_000))
    assert first.asks == ((510_000, 1_000_000), (520_000, 25_000_000))
    assert (first.tick_size, first.last_trade_price) == (10_000, 500_000)
    assert second.bids == ()
    assert second.last_trade_price is None
    assert first.ts_event == 1_700_000_000_000_000_000


def test_price_change_checkpoints_mark_last_entry_per_asset() -> None:
    frame = (
        b'{"market":"0xabc","price_changes":['
        b'{"asset_id":"1","price":"0.5","size":"10","side":"BUY","best_bid":"0.5","best_ask":"0.6"},'
        b'{"asset_id":"2","price":"0.5","size":"10","side":"SELL","best_bid":"0.4","best_ask":"0.5"},'
        b'{"asset_id":"1","price":"0.49","size":"0","side":"BUY","best_bid":"0.5","best_ask":"0.6"}],'
        b'"timestamp":"1","event_type":"price_change"}'
    )
    deltas = parse_market_frame(frame, RECV)
    assert [d.checkpoint for d in deltas if isinstance(d, BookDelta)] == [False, True, True]
    assert [d.side for d in deltas if isinstance(d, BookDelta)] == [Side.BUY, Side.SELL, Side.BUY]


def test_legacy_changes_list_schema() -> None:
    frame = (
        b'{"asset_id":"7","changes":[{"price":"0.4","side":"BUY","size":"3"},'
        b'{"price":"0.6","side":"SELL","size":"0"}],"event_type":"price_change",'
        b'"market":"0xab","timestamp":"5","hash":"x"}'
    )
    a, b = parse_market_frame(frame, RECV)
    assert isinstance(a, BookDelta)
    assert isinstance(b, BookDelta)
    assert (a.price, a.size, a.checkpoint, b.size, b.checkpoint) == (
        400_000,
        3_000_000,
        False,
        0,
        True,
    )


def test_trade_without_hash_gets_a_stable_derived_id() -> None:
    raw = (FIXTURES / "ws_market_last_trade_price.json").read_bytes()
    (t1,), (t2,) = parse_market_frame(raw, 1), parse_market_frame(raw, 2)
    assert isinstance(t1, Trade)
    assert isinstance(t2, Trade)
    assert t1.trade_id == t2.trade_id
    assert len(t1.trade_id) == 16
    assert t1.aggressor is Side.SELL


def test_fok_kill_reason_is_split_from_status() -> None:
    (order,) = parse_user_frame((FIXTURES / "ws_user_order_fok_killed.json").read_bytes(), 0)
    assert isinstance(order, OrderUpdated)
    assert order.status == "CANCELED"
    assert order.reason.startswith("order couldn't be fully filled")
    assert order.size_matched == 0


@pytest.mark.parametrize("frame", [b"PONG", b"NO NEW ASSETS", "PONG", b"  "])
def test_text_frames_are_ignored(frame: bytes | str) -> None:
    assert parse_market_frame(frame, 0) == []


def test_unknown_event_type_is_typed() -> None:
    with pytest.raises(UnknownEventError) as info:
        parse_market_frame(b'{"event_type":"brand_new","market":"0x1"}', 0)
    assert info.value.event_type == "brand_new"


@pytest.mark.parametrize(
    "frame",
    [
        b"{",
        b"[1,2]",
        b'{"event_type":"book"}',
        b'{"event_type":"price_change","market":"0x1",'
        b'"timestamp":"1","price_changes":[{"asset_id":"1","price":"-0.5","size":"1","side":"BUY"}]}',
        b'{"event_type":"price_change","market":"nothex","timestamp":"1","price_changes":[]}',
        b'{"event_type":"price_change","market":"0x1","timestamp":"1","price_changes":'
        b'[{"asset_id":"1","price":"0.5","size":"1","side":"HOLD"}]}',
        b'{"event_type":"price_change","market":"0x1","timestamp":"soon","price_changes":[]}',
        b'{"event_type":"price_change","market":"0x1","timestamp":"1"}',
    ],
)
def test_malformed_frames_raise_decode_error(frame: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_market_frame(frame, 0)


def test_rest_books_list_and_mixed_channel_parse() -> None:
    body = b"[" + (FIXTURES / "rest_clob_book.json").read_bytes() + b"]"
    assert len(parse_rest_books(body, 0)) == 1
    with pytest.raises(DecodeError):
        parse_rest_book(b'{"market":"0x1"}', 0)
    assert parse_frame((FIXTURES / "ws_user_trade_taker_matched.json").read_bytes(), 0)


def test_events_roundtrip_through_json() -> None:
    from prediction_engine.core.events import Event

    for name in WS_FILES:
        events = parse_frame((FIXTURES / name).read_bytes(), RECV)
        decoded = msgspec.json.decode(msgspec.json.encode(events), type=list[Event])
        assert decoded == events


def test_every_polymarket_fixture_has_a_golden() -> None:
    golden_dirs = [GOLDEN / d for d in ("polymarket_ws", "polymarket_gamma", "rtds")]
    goldens = {p.stem for d in golden_dirs for p in d.glob("*.json")}
    fixtures = {p.stem for p in FIXTURES.glob("*.json")}
    assert fixtures - goldens == set()
