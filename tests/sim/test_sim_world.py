"""Pure world tests: exact formats, mirrored books, determinism (no event loop, no server)."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from sim_helpers import NaiveBook

from prediction_engine.sim.polymarket import wire
from prediction_engine.sim.polymarket.units import encode, fmt, fmt_fixed, parse
from prediction_engine.sim.polymarket.world import World, WorldSpec


def frames(seed: int, steps: int) -> list[bytes]:
    world = World(seed, WorldSpec(extra_markets=3))
    return [encode(frame.payload) for _ in range(steps) for frame in world.step()]


def test_book_hash_reproduces_the_py_clob_client_vector() -> None:
    summary = {
        "market": "0xaabbcc",
        "asset_id": "100",
        "timestamp": "123456789",
        "hash": "x",
        "bids": [{"price": "0.3", "size": "100"}, {"price": "0.4", "size": "100"}],
        "asks": [{"price": "0.6", "size": "100"}, {"price": "0.7", "size": "100"}],
        "min_order_size": "100",
        "tick_size": "0.01",
        "neg_risk": False,
        "last_trade_price": "0.5",
    }
    assert wire.book_hash(summary) == "0458ea5755c9f73d64a14636fa5c36ed460ec394"


def test_decimal_strings_have_no_trailing_zeros() -> None:
    assert [fmt(v) for v in (510_000, 5_000, 219_210_000, 0, 1_000_000)] == [
        "0.51",
        "0.005",
        "219.21",
        "0",
        "1",
    ]
    assert fmt(parse("12.000001")) == "12.000001"
    assert fmt_fixed(920_000, 3) == "0.920"


def test_same_seed_gives_byte_identical_frames() -> None:
    assert frames(3, 400) == frames(3, 400)


def test_different_seeds_give_different_frames() -> None:
    assert frames(3, 50) != frames(4, 50)


def test_every_binary_price_change_carries_both_mirrored_legs() -> None:
    world = World(11)
    seen = 0
    for _ in range(500):
        for frame in world.step():
            if frame.payload["event_type"] != "price_change":
                continue
            entries = frame.payload["price_changes"]
            assert len(entries) % 2 == 0
            for yes, no in zip(entries[::2], entries[1::2], strict=True):
                assert {yes["asset_id"], no["asset_id"]} == set(frame.assets)
                assert Decimal(yes["price"]) + Decimal(no["price"]) == 1
                assert {yes["side"], no["side"]} == {"BUY", "SELL"}
                assert yes["size"] == no["size"]
                seen += 1
    assert seen > 100


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_replayed_frames_match_world_state_and_best_prices(seed: int) -> None:
    world = World(seed)
    books: dict[str, NaiveBook] = {}
    for market in world.open_markets():
        for outcome, token in enumerate(market.token_ids):
            books[token] = NaiveBook()
            books[token].snapshot(world.summary(market, outcome))
    for _ in range(300):
        for frame in world.step():
            _apply(books, frame.payload)
    for token, book in books.items():
        bids, asks = world.truth(token)
        assert (book.bids, book.asks) == (bids, asks)
        assert (
            not bids
            or not asks
            or Decimal(max(bids, key=Decimal)) < Decimal(min(asks, key=Decimal))
        )


def _apply(books: dict[str, NaiveBook], payload: dict[str, object]) -> None:
    kind = payload["event_type"]
    if kind == "book":
        books[str(payload["asset_id"])].snapshot(payload)
    elif kind == "price_change":
        entries = payload["price_changes"]
        assert isinstance(entries, list)
        for entry in entries:
            books[entry["asset_id"]].change(entry)
        for entry in entries:  # best_bid/best_ask describe the book after the message
            assert (entry["best_bid"], entry["best_ask"]) == books[entry["asset_id"]].top()


def test_book_levels_are_listed_best_last_on_the_tick_grid() -> None:
    world = World(5)
    for _ in range(200):
        world.step()
    for market in world.open_markets():
        for outcome in (0, 1):
            summary = world.summary(market, outcome)
            bids = [Decimal(level["price"]) for level in summary["bids"]]
            asks = [Decimal(level["price"]) for level in summary["asks"]]
            assert bids == sorted(bids)
            assert asks == sorted(asks, reverse=True)
            tick = Decimal(summary["tick_size"])
            assert all(price % tick == 0 and tick <= price <= 1 - tick for price in bids + asks)
            assert summary["hash"] == wire.book_hash(json.loads(encode(summary)))


def test_change_tick_coarsens_the_grid_and_republishes_books() -> None:
    world = World(5)
    market = next(m for m in world.open_markets() if m.tick == 1_000)
    out = world.change_tick(market.token_ids[0], "0.01")
    kinds = [frame.payload["event_type"] for frame in out]
    assert kinds == ["tick_size_change", "book", "tick_size_change", "book"]
    assert out[0].payload["old_tick_size"] == "0.001"
    assert out[0].payload["new_tick_size"] == "0.01"
    for level in out[1].payload["bids"] + out[1].payload["asks"]:
        assert Decimal(level["price"]) % Decimal("0.01") == 0
