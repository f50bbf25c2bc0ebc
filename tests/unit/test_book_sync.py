"""Book sync rules: gating before snapshots, tick epochs, desync detection, grid refinement."""

from __future__ import annotations

from prediction_engine.core.book_sync import BookSet
from prediction_engine.core.events import BookDelta, BookSnapshot, Side, TickSizeChanged
from prediction_engine.core.ids import ConditionId, TokenId, Venue

T = TokenId("1")
M = ConditionId("0x1")


def snap(
    bids: tuple[tuple[int, int], ...], asks: tuple[tuple[int, int], ...], tick: int | None = 10_000
) -> BookSnapshot:
    return BookSnapshot(
        venue=Venue.POLYMARKET,
        market=M,
        token=T,
        ts_event=1,
        ts_recv=1,
        bids=bids,
        asks=asks,
        tick_size=tick,
    )


def delta(
    side: Side, price: int, size: int, bid: int | None = None, ask: int | None = None, ts: int = 2
) -> BookDelta:
    return BookDelta(
        venue=Venue.POLYMARKET,
        market=M,
        token=T,
        ts_event=ts,
        ts_recv=ts,
        side=side,
        price=price,
        size=size,
        venue_best_bid=bid,
        venue_best_ask=ask,
    )


def test_deltas_before_snapshot_are_dropped() -> None:
    books = BookSet()
    assert books.apply(delta(Side.BUY, 500_000, 1)) is None
    assert books.counters.deltas_unsynced == 1
    assert books.book(T) is None


def test_disagreeing_top_of_book_asks_for_resync() -> None:
    books = BookSet()
    books.apply(snap(((400_000, 1),), ((600_000, 1),)))
    assert books.apply(delta(Side.BUY, 450_000, 1, bid=450_000, ask=600_000)) is None
    # venue claims a better bid we never saw: desync
    assert books.apply(delta(Side.SELL, 600_000, 2, bid=470_000, ask=600_000)) == T
    assert books.book(T) is None
    assert books.counters.desyncs == 1


def test_levels_better_than_venue_top_are_pruned() -> None:
    books = BookSet()
    books.apply(snap(((400_000, 1), (450_000, 1)), ((600_000, 1),)))
    assert books.apply(delta(Side.SELL, 600_000, 5, bid=400_000, ask=600_000)) is None
    book = books.book(T)
    assert book is not None
    assert book.best_bid == 400_000
    assert books.counters.pruned_levels == 1


def test_empty_side_is_reported_as_zero_and_one() -> None:
    books = BookSet()
    books.apply(snap((), ((600_000, 1),)))
    assert books.apply(delta(Side.SELL, 600_000, 0, bid=0, ask=1_000_000)) is None


def test_tick_change_waits_for_snapshot() -> None:
    books = BookSet()
    books.apply(snap(((400_000, 1),), ((600_000, 1),)))
    change = TickSizeChanged(
        venue=Venue.POLYMARKET,
        market=M,
        token=T,
        ts_event=3,
        ts_recv=3,
        old_tick_size=10_000,
        new_tick_size=1_000,
    )
    assert books.apply(change) == T
    assert books.apply(delta(Side.BUY, 401_000, 1)) is None
    assert books.book(T) is None
    assert books.counters.deltas_unsynced == 1
    books.apply(snap(((401_000, 1),), ((600_000, 1),), tick=1_000))
    book = books.book(T)
    assert book is not None
    assert book.tick_size == 1_000
    assert book.best_bid == 401_000


def test_inferred_grid_is_refined_but_known_grid_is_not() -> None:
    books = BookSet()
    books.apply(snap(((400_000, 1),), ((600_000, 1),), tick=None))
    assert books.apply(delta(Side.BUY, 401_000, 2, bid=401_000, ask=600_000)) is None
    book = books.book(T)
    assert (
        book is not None
    )
    assert (
        book.tick_size == 1_000
    )
    assert (
        book.bids() == [(401_000, 2), (400_000, 1)]
    )
    known = BookSet()
    known.apply(snap(((400_000, 1),), ((600_000, 1),), tick=10_000))
    assert known.apply(delta(Side.BUY, 401_000, 2)) == T


def test_newest_dropped_delta_is_remembered_until_the_next_snapshot() -> None:
    books = BookSet()
    assert books.newest_dropped_ns(T) == 0
    books.apply(delta(Side.BUY, 500_000, 1, ts=7))
    books.apply(delta(Side.BUY, 500_000, 2, ts=5))
    assert books.newest_dropped_ns(T) == 7
    books.apply(snap(((400_000, 1),), ((600_000, 1),)))
    assert books.newest_dropped_ns(T) == 0
    books.apply(delta(Side.BUY, 450_000, 1, ts=9))  # applied, not dropped
    assert books.newest_dropped_ns(T) == 0


def snap_at(ts: int) -> BookSnapshot:
    return BookSnapshot(
        venue=Venue.POLYMARKET,
        market=M,
        token=T,
        ts_event=ts,
        ts_recv=ts,
        bids=((400_000, 10),),
        asks=((600_000, 10),),
        tick_size=10_000,
    )


def test_a_delta_older_than_an_applied_one_is_reordered_and_desyncs() -> None:
    books = BookSet()
    books.apply(snap_at(1))
    assert books.apply(delta(Side.BUY, 390_000, 5, ts=5)) is None
    assert books.apply(delta(Side.BUY, 380_000, 5, ts=5)) is None  # same ms: in order
    assert books.apply(delta(Side.BUY, 390_000, 7, ts=4)) == T
    assert books.counters.out_of_order == 1
    assert books.book(T) is None
    # After the resync snapshot, time starts over: an older snapshot is not a reorder.
    books.apply(snap_at(3))
    assert books.apply(delta(Side.BUY, 390_000, 5, ts=3)) is None
    assert books.counters.out_of_order == 1


def test_a_snapshot_overtaken_by_an_applied_delta_desyncs() -> None:
    books = BookSet()
    books.apply(snap_at(1))
    books.apply(delta(Side.BUY, 390_000, 5, ts=9))
    assert books.apply(snap_at(8)) == T  # it lacks the change at 9
    assert books.counters.out_of_order == 1
    assert books.book(T) is None
    assert books.apply(snap_at(9)) is None
    assert books.book(T) is not None
