"""The tick-indexed book against a naive dict-based reference, plus its depth and views."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prediction_engine.core.book import (
    ComplementView,
    OffGridPriceError,
    OrderBook,
    infer_tick_size,
)
from prediction_engine.core.numbers import ONE

TICK = 10_000


class NaiveBook:
    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}

    def set(self, is_bid: bool, price: int, size: int) -> None:
        side = self.bids if is_bid else self.asks
        if size:
            side[price] = size
        else:
            side.pop(price, None)

    def best_bid(self) -> int | None:
        return max(self.bids, default=None)

    def best_ask(self) -> int | None:
        return min(self.asks, default=None)


prices = st.integers(min_value=1, max_value=99).map(lambda i: i * TICK)
sizes = st.one_of(st.just(0), st.integers(min_value=1, max_value=10**12))
ops = st.lists(st.tuples(st.booleans(), prices, sizes), max_size=300)


@settings(max_examples=300)
@given(ops, ops)
def test_book_matches_naive_reference(
    snapshot_ops: list[tuple[bool, int, int]], update_ops: list[tuple[bool, int, int]]
) -> None:
    naive = NaiveBook()
    for is_bid, price, size in snapshot_ops:
        naive.set(is_bid, price, size)
    book = OrderBook(TICK)
    book.apply_snapshot(naive.bids.items(), naive.asks.items())
    for is_bid, price, size in update_ops:
        naive.set(is_bid, price, size)
        book.set_level(is_bid, price, size)
        assert book.best_bid == naive.best_bid()
        assert book.best_ask == naive.best_ask()
        assert book.best_bid_or(-1) == (-1 if naive.best_bid() is None else naive.best_bid())
        assert book.best_ask_or(-1) == (-1 if naive.best_ask() is None else naive.best_ask())
    assert book.bids() == sorted(naive.bids.items(), reverse=True)
    assert book.asks() == sorted(naive.asks.items())
    bid, ask = naive.best_bid(), naive.best_ask()
    assert book.is_crossed == (bid is not None and ask is not None and bid > ask)
    assert book.is_locked == (bid is not None and bid == ask)
    if bid is not None and ask is not None:
        assert book.mid == (bid + ask) // 2
        assert book.spread == ask - bid
    for limit in (TICK, 50 * TICK, 99 * TICK):
        assert book.ask_depth(limit) == sum(s for p, s in naive.asks.items() if p <= limit)
        assert book.bid_depth(limit) == sum(s for p, s in naive.bids.items() if p >= limit)


@settings(max_examples=200)
@given(ops, ops, ops, ops)
def test_a_snapshot_replaces_every_level_whatever_the_book_held(
    first: list[tuple[bool, int, int]], updates: list[tuple[bool, int, int]],
    second: list[tuple[bool, int, int]], after: list[tuple[bool, int, int]],
) -> None:
    book = OrderBook(TICK)
    for ops_ in (first, updates):
        for is_bid, price, size in ops_:
            book.set_level(is_bid, price, size)
    book.apply_snapshot([(7 * TICK, 1)], [], TICK)  # a one-level snapshot on the same grid
    assert book.bids() == [(7 * TICK, 1)] and book.asks() == []
    fresh = NaiveBook()
    for is_bid, price, size in second:
        fresh.set(is_bid, price, size)
    book.apply_snapshot(fresh.bids.items(), fresh.asks.items(), TICK)
    for is_bid, price, size in after:
        fresh.set(is_bid, price, size)
        book.set_level(is_bid, price, size)
    for i in range(1, ONE // TICK):  # no level of an earlier book survives, hidden or not
        assert book.bid_size(i * TICK) == fresh.bids.get(i * TICK, 0)
        assert book.ask_size(i * TICK) == fresh.asks.get(i * TICK, 0)
    assert (book.best_bid, book.best_ask) == (fresh.best_bid(), fresh.best_ask())
    assert book.bids() == sorted(fresh.bids.items(), reverse=True)
    assert book.asks() == sorted(fresh.asks.items())


def _book() -> OrderBook:
    book = OrderBook(TICK)
    book.apply_snapshot(
        [(480_000, 30_000_000), (470_000, 50_000_000)],
        [(520_000, 10_000_000), (530_000, 20_000_000), (600_000, 5_000_000)],
    )
    return book


def test_reads_on_a_known_book() -> None:
    book = _book()
    assert (book.best_bid, book.best_ask, book.mid, book.spread) == (
        480_000,
        520_000,
        500_000,
        40_000,
    )
    assert book.best_bid_size() == 30_000_000
    assert book.ask_size(530_000) == 20_000_000
    assert book.asks(2) == [(520_000, 10_000_000), (530_000, 20_000_000)]
    assert not book.is_crossed
    assert not book.is_locked


def test_estimate_buy_walks_levels_and_respects_limit() -> None:
    book = _book()
    fill = book.estimate_buy(25_000_000)
    # 10 @ 0.52 + 15 @ 0.53 = 5.2 + 7.95 = 13.15 USD
    assert fill.filled == 25_000_000
    assert fill.notional == Decimal("13.15")
    assert fill.average_price == Decimal("0.526")
    assert fill.levels == 2
    capped = book.estimate_buy(100_000_000, limit_price=530_000)
    assert capped.filled == 30_000_000
    sell = book.estimate_sell(40_000_000)
    assert sell.notional == Decimal("14.4") + Decimal("4.7")
    assert book.estimate_buy(0).average_price is None


def test_crossed_and_locked() -> None:
    book = _book()
    book.set_bid(520_000, 1)
    assert book.is_locked
    assert not book.is_crossed
    book.set_bid(530_000, 1)
    assert book.is_crossed


def test_complement_view_mirrors_prices() -> None:
    no = ComplementView(_book())
    assert no.best_bid == ONE - 520_000
    assert no.best_ask == ONE - 480_000
    assert no.bids(1) == [(480_000, 10_000_000)]
    assert no.asks() == [(520_000, 30_000_000), (530_000, 50_000_000)]
    empty = ComplementView(OrderBook())
    assert empty.best_bid is None
    assert empty.best_ask is None


def test_tick_size_epoch_drops_book_until_snapshot() -> None:
    book = _book()
    assert book.valid
    assert book.epoch == 0
    book.change_tick_size(1_000)
    assert not book.valid
    assert book.epoch == 1
    assert book.best_bid is None
    assert book.best_ask is None
    book.apply_snapshot([(481_000, 1)], [(519_000, 1)], 1_000)
    assert book.valid
    assert book.best_bid == 481_000


@pytest.mark.parametrize("price", [0, ONE, 485_000, -TICK, 2 * ONE])
def test_off_grid_prices_are_rejected(price: int) -> None:
    with pytest.raises(OffGridPriceError):
        _book().set_bid(price, 1)


def test_infer_tick_size() -> None:
    assert infer_tick_size([10_000, 500_000]) == 10_000
    assert infer_tick_size([999_000, 10_000]) == 1_000
    assert infer_tick_size([100_000]) == 10_000
    with pytest.raises(OffGridPriceError):
        infer_tick_size([1])
