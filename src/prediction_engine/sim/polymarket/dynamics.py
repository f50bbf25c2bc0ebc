"""Random evolution of one market's book (pure; all randomness from the passed RNG).

The fair probability does a bounded random walk on the tick grid; makers add, resize and
delete levels around it; occasionally a taker trades against the best level. Nothing here
mutates the caller's book: plans are computed on a copy and applied by the world, message
by message, so each message can be rendered against the state it leaves behind.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from prediction_engine.sim.polymarket.book import BUY, SELL, Book, LevelChange
from prediction_engine.sim.polymarket.units import MICRO

MAX_DEPTH = 8
QUOTE_RANGE = 6
TRADE_PROBABILITY = 0.1
BATCH_PROBABILITY = 0.5


@dataclass(frozen=True)
class Fill:
    """A taker trade against the YES book: taker side and price in the YES frame."""

    side: str
    price: int
    size: int
    residual: LevelChange


def bounds(tick: int) -> tuple[int, int]:
    """Lowest and highest fair probability on this grid."""
    low = -(-max(3 * tick, 30_000) // tick) * tick
    return low, MICRO - low


def snap(fair: int, tick: int) -> int:
    """Round the fair price to the grid and into bounds."""
    low, high = bounds(tick)
    return min(max((fair + tick // 2) // tick * tick, low), high)


def walk(rng: random.Random, fair: int, tick: int, jump_probability: float = 0.0) -> int:
    """One bounded random-walk step of the fair price, sometimes a jump of 5-20 ticks."""
    move = rng.choice((-tick, 0, 0, tick))
    if jump_probability and rng.random() < jump_probability:
        move = rng.choice((-1, 1)) * rng.randint(5, 20) * tick
    return snap(fair + move, tick)


def random_size(rng: random.Random) -> int:
    """A resting size: whole shares, cents, or full 6-decimal precision."""
    kind = rng.random()
    if kind < 0.5:
        return rng.randint(5, 5_000) * MICRO
    if kind < 0.85:
        return rng.randint(500, 2_000_000) * 10_000
    return rng.randint(5 * MICRO, 999 * MICRO)


def seed_levels(rng: random.Random, fair: int, tick: int) -> Book:
    """A fresh book of a few levels per side around `fair`."""
    book = Book(tick)
    for distance in range(1, rng.randint(3, 6) + 1):
        for side, price in ((BUY, fair - distance * tick), (SELL, fair + distance * tick)):
            if tick <= price <= MICRO - tick and rng.random() < 0.85:
                book.apply(LevelChange(0, side, price, random_size(rng)))
    return book


def plan(rng: random.Random, book: Book, fair: int) -> list[list[LevelChange]]:
    """Level changes for one step, grouped into messages; `book` is left untouched."""
    scratch = Book(book.tick, dict(book.bids), dict(book.asks))
    touched: set[int] = set()
    changes: list[LevelChange] = []
    for _ in range(rng.randint(1, 3)):
        change = _action(rng, scratch, fair)
        if change is None or change.price in touched:
            continue
        scratch.apply(change)
        touched.add(change.price)
        changes.append(change)
    changes.extend(_prune(scratch, fair, touched))
    if len(changes) > 1 and rng.random() < BATCH_PROBABILITY:
        return [changes]
    return [[change] for change in changes]


def trade(rng: random.Random, book: Book) -> Fill | None:
    """Maybe a taker trade against the best bid or ask (the caller applies `residual`)."""
    if rng.random() >= TRADE_PROBABILITY:
        return None
    side = rng.choice((BUY, SELL))
    levels = book.asks if side == BUY else book.bids
    if not levels:
        return None
    price = min(levels) if side == BUY else max(levels)
    size = min(levels[price], rng.randint(1, 50_000) * 10_000)
    resting = SELL if side == BUY else BUY
    return Fill(side, price, size, LevelChange(0, resting, price, levels[price] - size))


def _action(rng: random.Random, book: Book, fair: int) -> LevelChange | None:
    roll = rng.random()
    if roll < 0.45:
        return _resize(rng, book)
    if roll < 0.75:
        return _add(rng, book, fair)
    return _delete(rng, book)


def _resize(rng: random.Random, book: Book) -> LevelChange | None:
    options = [(BUY, p) for p in sorted(book.bids)] + [(SELL, p) for p in sorted(book.asks)]
    if not options:
        return None
    side, price = rng.choice(options)
    return LevelChange(0, side, price, random_size(rng))


def _add(rng: random.Random, book: Book, fair: int) -> LevelChange | None:
    tick = book.tick
    best_bid, best_ask = book.best_bid(), book.best_ask()
    bid_top = min(fair - tick, MICRO - tick if best_ask is None else best_ask - tick)
    ask_bottom = max(fair + tick, tick if best_bid is None else best_bid + tick)
    bids = range(max(tick, fair - QUOTE_RANGE * tick), bid_top + 1, tick)
    asks = range(ask_bottom, min(MICRO - tick, fair + QUOTE_RANGE * tick) + 1, tick)
    options = [(BUY, p) for p in bids if p not in book.bids]
    options += [(SELL, p) for p in asks if p not in book.asks]
    if not options:
        return None
    side, price = rng.choice(options)
    return LevelChange(0, side, price, random_size(rng))


def _delete(rng: random.Random, book: Book) -> LevelChange | None:
    options = [(BUY, p) for p in sorted(book.bids) if len(book.bids) > 1]
    options += [(SELL, p) for p in sorted(book.asks) if len(book.asks) > 1]
    if not options:
        return None
    side, price = rng.choice(options)
    return LevelChange(0, side, price, 0)


def _prune(book: Book, fair: int, touched: set[int]) -> list[LevelChange]:
    """Delete the levels farthest from fair beyond MAX_DEPTH per side."""
    dropped: list[LevelChange] = []
    for side, levels in ((BUY, book.bids), (SELL, book.asks)):
        far_first = sorted(levels, key=lambda p: (-abs(p - fair), p))
        for price in far_first[: max(0, len(levels) - MAX_DEPTH)]:
            if price not in touched:
                dropped.append(LevelChange(0, side, price, 0))
    for change in dropped:
        book.apply(change)
    return dropped
