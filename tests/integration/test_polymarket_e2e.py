"""End to end against the local Polymarket simulator on 127.0.0.1: discovery through Gamma,
REST snapshots, live WebSocket books equal to the server's truth, and recovery from faults
(dropped connections, malformed frames, unknown events, tick changes, desyncs)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest

from prediction_engine.core.events import TickSizeChanged
from prediction_engine.core.ids import TokenId
from prediction_engine.core.numbers import micro_to_decimal
from tests.integration.harness import RECOVERY_S, Harness, open_harness, wait_for


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with open_harness() as h:
        yield h


async def test_discovery_snapshots_and_live_updates_match_truth(harness: Harness) -> None:
    assert len(harness.session.feeds) == 3  # 16 tokens, 6 per connection
    await wait_for(lambda: harness.session.counters.events > 300)
    await harness.converged_within(RECOVERY_S)
    counters = harness.session.counters
    assert counters.decode_errors == 0
    assert counters.unknown_events == 0
    assert harness.session.books.counters.desyncs == 0
    assert harness.session.books.counters.checks > 100


async def test_dropped_connections_recover_within_two_seconds(harness: Harness) -> None:
    await wait_for(lambda: harness.session.counters.events > 100)
    connects = sum(f.counters.connects for f in harness.session.feeds)
    await harness.sim.drop_connections()
    await wait_for(lambda: sum(f.counters.connects for f in harness.session.feeds) >= connects + 3)
    took = await harness.converged_within(RECOVERY_S)
    assert took < RECOVERY_S
    assert sum(f.counters.disconnects for f in harness.session.feeds) >= 3


async def test_malformed_and_unknown_frames_are_counted_not_fatal(harness: Harness) -> None:
    await harness.sim.broadcast_raw('{"event_type":"price_change","market":"0x1","price_chan')
    await harness.sim.broadcast_raw('{"event_type":"brand_new_event","market":"0x1"}')
    shards = len(harness.session.feeds)
    await wait_for(lambda: harness.session.counters.decode_errors == shards)
    await wait_for(lambda: harness.session.counters.unknown_events == shards)
    await harness.converged_within(RECOVERY_S)


async def test_tick_size_change_resyncs_from_the_fresh_snapshot(harness: Harness) -> None:
    token = harness.tokens[0]
    await harness.sim.change_tick(token, "0.001")
    await wait_for(lambda: any(isinstance(e, TickSizeChanged) for e in harness.events))
    await harness.converged_within(RECOVERY_S)
    book = harness.session.books.book(token)
    assert book is not None
    assert book.tick_size == 1_000
    assert book.epoch == 1


async def test_missing_snapshot_after_tick_change_falls_back_to_rest(harness: Harness) -> None:
    token = harness.tokens[1]
    market = next(m for m in harness.sim.markets() if token in m.token_ids)
    fake = {"event_type": "tick_size_change", "asset_id": token, "market": market.condition_id,
            "old_tick_size": "0.01", "new_tick_size": "0.01", "timestamp": "1"}
    rest_before = harness.session.counters.rest_snapshots
    harness.sim.pause()  # no trade may send a fresh `book` meanwhile: REST must fill the gap
    await harness.sim.broadcast_raw(msgspec.json.encode(fake).decode())
    await wait_for(lambda: harness.session.counters.rest_snapshots > rest_before, RECOVERY_S)
    await harness.converged_within(RECOVERY_S)


async def test_desync_against_venue_top_of_book_triggers_rest_resync(harness: Harness) -> None:
    await harness.quiesce()
    token = harness.tokens[2]
    book = harness.session.books.book(token)
    assert book is not None
    assert book.best_bid is not None
    assert book.best_ask is not None
    market = next(m for m in harness.sim.markets() if token in m.token_ids)
    # The venue claims a bid one tick above ours, which we never saw: our book is wrong.
    claimed = micro_to_decimal(book.best_bid + book.tick_size)
    price = micro_to_decimal(book.best_bid)
    size = micro_to_decimal(book.best_bid_size())
    now = str(harness.sim.world.now_ms)  # current: an old one would be out of order
    frame = {"market": market.condition_id, "event_type": "price_change", "timestamp": now,
             "price_changes": [{"asset_id": token, "price": str(price), "size": str(size),
                                "side": "BUY", "hash": "", "best_bid": str(claimed),
                                "best_ask": str(micro_to_decimal(book.best_ask))}]}
    desyncs = harness.session.books.counters.desyncs
    out_of_order = harness.session.books.counters.out_of_order
    await harness.sim.broadcast_raw(msgspec.json.encode(frame).decode())
    await wait_for(lambda: harness.session.books.counters.desyncs > desyncs)
    assert harness.session.books.counters.out_of_order == out_of_order
    await harness.converged_within(RECOVERY_S)
    assert harness.session.counters.rest_snapshots >= 1


async def test_dynamic_subscribe_and_unsubscribe(harness: Harness) -> None:
    extra = [TokenId(t) for t in harness.sim.token_ids() if t not in harness.tokens][:3]
    await harness.session.subscribe(extra)
    # 16 = 6 + 6 + 4: two join the last shard by dynamic subscribe, one opens a fourth shard
    assert len(harness.session.feeds) == 4
    harness.tokens.extend(extra)
    await wait_for(lambda: all(harness.session.books.book(t) for t in extra))
    await harness.converged_within(RECOVERY_S)
    gone = harness.tokens[:2]
    await harness.session.unsubscribe(gone)
    del harness.tokens[:2]
    assert not set(gone) & harness.session.tokens
    await harness.converged_within(RECOVERY_S)
