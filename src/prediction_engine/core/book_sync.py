"""Keep a set of local books exact from snapshots and deltas, and say when one needs a resync.

Pure reducer: ``BookSet.apply(event)`` mutates only its own books and returns the token that
must be re-snapshotted, if any. Rules (Polymarket has no sequence numbers):

- a snapshot replaces the book and makes it valid; deltas before the first snapshot, or after
  a tick-size change until the next snapshot, are dropped and counted;
- at each ``checkpoint`` delta carrying the venue's top of book, levels better than the venue's
  best are removed (a trade went through them and their deletions are still in flight), then
  any remaining disagreement is a desync: the book is dropped and its token returned;
- a delta off the book's grid is a desync too, unless the grid was only inferred from an old
  snapshot without ``tick_size``, in which case the grid is refined;
- frames arrive in the venue's order, so a delta older than one already applied, or a
  snapshot older than the last applied delta, means frames were reordered on the way: the
  book may hold a stale size, so it is a desync (counted as ``out_of_order``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from prediction_engine.core.book import TICK_SIZES, OffGridPriceError, OrderBook, infer_tick_size
from prediction_engine.core.events import BookDelta, BookSnapshot, Event, Side, TickSizeChanged
from prediction_engine.core.ids import TokenId
from prediction_engine.core.numbers import ONE

__all__ = ["BookSet", "BookSyncCounters"]

_BUY: Final = Side.BUY
_ONE: Final = ONE  # compiled, a Final is a C static; the imported name is a dict lookup


@dataclass
class BookSyncCounters:
    """What the reducer did, for metrics and tests."""

    snapshots: int = 0
    deltas: int = 0
    deltas_unsynced: int = 0
    checks: int = 0
    pruned_levels: int = 0
    desyncs: int = 0
    tick_changes: int = 0
    out_of_order: int = 0


class BookSet:
    """Local books by token, kept in sync by :meth:`apply`."""

    def __init__(self) -> None:
        self.books: dict[TokenId, OrderBook] = {}
        self.counters = BookSyncCounters()
        self._inferred: set[TokenId] = set()
        self._dropped_ns: dict[TokenId, int] = {}

    def book(self, token: TokenId) -> OrderBook | None:
        """The book of ``token`` if it is valid (synced), else ``None``."""
        book = self.books.get(token)
        return book if book is not None and book.valid else None

    def newest_dropped_ns(self, token: TokenId) -> int:
        """``ts_event`` of the newest delta dropped since the book's last snapshot (0 if none).

        A snapshot older than that (e.g. a REST fetch that raced the feed) misses the update.
        """
        return self._dropped_ns.get(token, 0)

    def invalidate(self, token: TokenId) -> None:
        """Drop a book's levels (e.g. after a disconnect) until its next snapshot."""
        book = self.books.get(token)
        if book is not None:
            book.clear()

    def apply(self, event: Event) -> TokenId | None:
        """Reduce one event; return a token whose book must be re-snapshotted, if any."""
        if isinstance(event, BookDelta):
            return self._delta(event)
        if isinstance(event, BookSnapshot):
            return self._snapshot(event)
        if isinstance(event, TickSizeChanged):
            return self._tick_change(event)
        return None

    def _snapshot(self, snap: BookSnapshot) -> TokenId | None:
        return self.snapshot(snap.token, snap.ts_event, snap.bids, snap.asks, snap.tick_size)

    def snapshot(
        self,
        token: TokenId,
        ts_event: int,
        bids: Sequence[tuple[int, int]],
        asks: Sequence[tuple[int, int]],
        tick_size: int | None,
    ) -> TokenId | None:
        """:meth:`apply` for a :class:`BookSnapshot` given as its fields (see :meth:`delta`)."""
        self.counters.snapshots += 1
        dropped = self._dropped_ns
        if dropped:
            dropped.pop(token, None)
        book = self.books.get(token)
        if book is None:
            book = self.books[token] = OrderBook()
        older = ts_event < book.ts_ns  # ts_event of the last delta applied to it
        tick = tick_size
        if tick is None:
            prices = [p for p, _ in bids] + [p for p, _ in asks]
            tick = infer_tick_size(prices, default=book.tick_size)
            self._inferred.add(token)
        elif self._inferred:
            self._inferred.discard(token)
        book.apply_snapshot(bids, asks, tick)
        if older:  # overtaken by a delta we applied: it lacks that change
            self.counters.out_of_order += 1
            return self._desync(token, book)
        return None

    def _tick_change(self, event: TickSizeChanged) -> TokenId:
        self.counters.tick_changes += 1
        book = self.books.get(event.token)
        if book is None:
            book = self.books[event.token] = OrderBook(event.new_tick_size)
        else:
            book.change_tick_size(event.new_tick_size)
        self._inferred.discard(event.token)
        return event.token

    def _delta(self, delta: BookDelta) -> TokenId | None:
        return self.delta(
            self.books.get(delta.token), delta.token, delta.ts_event, delta.side is _BUY,
            delta.price, delta.size, delta.venue_best_bid, delta.venue_best_ask, delta.checkpoint,
        )

    def delta(  # noqa: PLR0917 - a BookDelta's fields, read once by the caller
        self,
        book: OrderBook | None,
        token: TokenId,
        ts_event: int,
        is_bid: bool,
        price: int,
        size: Any,
        venue_best_bid: int | None,
        venue_best_ask: int | None,
        checkpoint: bool,
    ) -> TokenId | None:
        """:meth:`apply` for a :class:`BookDelta` given as its fields, with the token's book at
        hand: ``books[token]``, or ``None`` when it has none (a book, once made, stays the
        token's for good). The engine's hot path: compiled code reads a msgspec field through
        a generic attribute lookup, and the engine keeps each token's book in its slot."""
        if book is None or not book.valid:
            self.counters.deltas_unsynced += 1
            if ts_event > self._dropped_ns.get(token, 0):
                self._dropped_ns[token] = ts_event
            return None
        self.counters.deltas += 1
        if ts_event < book.ts_ns:
            self.counters.out_of_order += 1
            return self._desync(token, book)
        try:
            book.set_level(is_bid, price, size)
        except OffGridPriceError:
            if not self._refine(token, book, price):
                return self._desync(token, book)
            book.set_level(is_bid, price, size)
        book.ts_ns = ts_event
        if checkpoint and not self._agrees(book, venue_best_bid, venue_best_ask):
            return self._desync(token, book)
        return None

    def _refine(self, token: TokenId, book: OrderBook, price: int) -> bool:
        if token not in self._inferred:
            return False
        finer = [t for t in TICK_SIZES if t < book.tick_size and price % t == 0 and 0 < price < ONE]
        if not finer:
            return False
        book.apply_snapshot(book.bids(), book.asks(), finer[0])
        return True

    def _agrees(self, book: OrderBook, bid: int | None, ask: int | None) -> bool:
        if bid is None and ask is None:
            return True
        self.counters.checks += 1
        if bid is not None:
            local = book.best_bid_or(0)
            if local > bid:
                local = self._prune_bids(book, bid)
            if local != bid:
                return False
        if ask is not None:
            local = book.best_ask_or(_ONE)
            if local < ask:
                local = self._prune_asks(book, ask)
            if local != ask:
                return False
        return True

    def _prune_bids(self, book: OrderBook, venue_best: int) -> int:
        """Remove bids above the venue's best bid; return the new local best (0 if none)."""
        while (best := book.best_bid_or(0)) > venue_best:
            book.set_bid(best, 0)
            self.counters.pruned_levels += 1
        return best

    def _prune_asks(self, book: OrderBook, venue_best: int) -> int:
        """Remove asks below the venue's best ask; return the new local best (1 if none)."""
        while (best := book.best_ask_or(_ONE)) < venue_best:
            book.set_ask(best, 0)
            self.counters.pruned_levels += 1
        return best

    def _desync(self, token: TokenId, book: OrderBook) -> TokenId:
        self.counters.desyncs += 1
        book.clear()
        return token
