"""Real recorded streams replayed into books reproduce every best_bid/best_ask they carry."""

from __future__ import annotations

from pathlib import Path

import pytest

from prediction_engine.core.book_sync import BookSet
from prediction_engine.core.events import BookDelta, BookSnapshot
from prediction_engine.core.numbers import ONE
from prediction_engine.venues.polymarket.parse import parse_market_frame, parse_rest_book
from prediction_engine.venues.polymarket.replay import iter_frames
from tests.conftest import TEST_DATA

STREAMS = sorted((TEST_DATA / "polymarket").glob("ws_market_stream_*.jsonl"))


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.stem)
def test_replay_reproduces_every_venue_top_of_book(path: Path) -> None:
    books = BookSet()
    checked = 0
    for frame in iter_frames(path):
        for event in parse_market_frame(frame, 0):
            assert books.apply(event) is None, f"desync at {event}"
            if isinstance(event, BookDelta) and event.checkpoint and books.book(event.token):
                book = books.book(event.token)
                assert book is not None
                assert (book.best_bid or 0) == event.venue_best_bid
                assert (book.best_ask or ONE) == event.venue_best_ask
                checked += 1
    assert checked >= 2
    assert books.counters.desyncs == 0


def test_crossing_burst_ends_equal_to_the_closing_snapshot() -> None:
    frames = list(
        iter_frames(TEST_DATA / "polymarket" / "ws_market_stream_nautilus_crossing_burst.jsonl")
    )
    books = BookSet()
    for frame in frames[:-1]:
        for event in parse_market_frame(frame, 0):
            books.apply(event)
    (closing,) = parse_market_frame(frames[-1], 0)
    assert isinstance(closing, BookSnapshot)
    book = books.book(closing.token)
    assert book is not None
    assert tuple(book.bids()) == closing.bids
    assert tuple(book.asks()) == closing.asks
    # The two levels a trade went through were pruned from the venue's top of book.
    assert books.counters.pruned_levels == 2
    assert books.counters.checks == 49


def test_polypy_stream_matches_rest_books_after_each_frame() -> None:
    data = TEST_DATA / "polymarket"
    frames = list(iter_frames(data / "ws_market_stream_polypy_messages_hash.jsonl"))
    rest = [
        parse_rest_book(line, 0)
        for line in iter_frames(data / "rest_books_polypy_messages_hash.jsonl")
    ]
    books = BookSet()
    for event in parse_market_frame(frames[0], 0):
        books.apply(event)
    for frame, expected in zip(frames[1:], rest, strict=True):
        for event in parse_market_frame(frame, 0):
            books.apply(event)
        book = books.book(expected.token)
        assert book is not None
        assert (tuple(book.bids()), tuple(book.asks())) == (expected.bids, expected.asks)
