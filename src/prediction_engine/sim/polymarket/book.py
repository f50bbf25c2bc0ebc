"""Order book of one binary market (pure): the YES book is stored, NO is its exact mirror.

A bid at p on YES is an ask at 1 - p on NO and vice versa, so the two tokens can never
disagree. Prices and sizes are micro-units; sides use the wire words BUY (bid) and SELL (ask).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

from prediction_engine.sim.polymarket.units import MICRO

BUY = "BUY"
SELL = "SELL"


def opposite(side: str) -> str:
    """BUY <-> SELL."""
    return SELL if side == BUY else BUY


@dataclass(frozen=True)
class LevelChange:
    """A level's new absolute size (0 deletes), in the frame of one outcome token."""

    outcome: int
    side: str
    price: int
    size: int

    def mirrored(self) -> LevelChange:
        """The same change seen from the complement token."""
        return LevelChange(1 - self.outcome, opposite(self.side), MICRO - self.price, self.size)


class Side(dict[int, int]):
    """Read-only snapshot of one side of one outcome's book (price -> size).

    `Book.sides` hands the same snapshot to every caller until the book changes, so a
    renderer may keep what it derives from one in `rendered` (`wire.levels` keeps the wire
    listing there, with its order: descending or not).
    """

    # A class default rather than __init__/__slots__: snapshots are made on every change and
    # most are rendered at most once, so creation is what has to be cheap.
    rendered: tuple[bool, list[dict[str, str]]] | None = None

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a book snapshot is read-only; change the Book instead")

    __setitem__ = __delitem__ = _read_only
    clear = pop = popitem = setdefault = update = __ior__ = _read_only


@dataclass
class Book:
    """YES-side levels (price -> size) on the market's tick grid, never crossed.

    Change levels only through `apply`, `retick` and `clear`: they drop the cached snapshots.
    """

    tick: int
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    # (YES side the levels come from, outcome) -> snapshot; a change on one YES side leaves
    # the snapshots of the other side (in both outcomes) valid.
    _snapshots: dict[tuple[str, int], Side] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _pairs: dict[int, tuple[Side, Side]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def sides(self, outcome: int) -> tuple[dict[int, int], dict[int, int]]:
        """(bids, asks) of outcome 0 (YES) or 1 (NO, mirrored), as read-only snapshots."""
        pair = self._pairs.get(outcome)
        if pair is None:
            if outcome == 0:
                pair = self._snapshot(BUY, 0), self._snapshot(SELL, 0)
            else:
                pair = self._snapshot(SELL, 1), self._snapshot(BUY, 1)
            self._pairs[outcome] = pair
        return pair

    def best_bid(self) -> int | None:
        """Highest YES bid."""
        return max(self.bids) if self.bids else None

    def best_ask(self) -> int | None:
        """Lowest YES ask."""
        return min(self.asks) if self.asks else None

    def apply(self, change: LevelChange) -> None:
        """Set a level's absolute size; raise ValueError if it would cross or leave the grid."""
        yes = change if change.outcome == 0 else change.mirrored()
        self._check(yes)
        levels = self.bids if yes.side == BUY else self.asks
        self._snapshots.pop((yes.side, 0), None)
        self._snapshots.pop((yes.side, 1), None)
        self._pairs.clear()
        if yes.size == 0:
            levels.pop(yes.price, None)
        else:
            levels[yes.price] = yes.size

    def retick(self, tick: int) -> list[LevelChange]:
        """Switch the grid, deleting YES levels that are off it; return those deletions."""
        self.tick = tick
        dropped = [
            LevelChange(0, side, price, 0)
            for side, levels in ((BUY, self.bids), (SELL, self.asks))
            for price in sorted(levels)
            if price % tick
        ]
        for change in dropped:
            self.apply(change)
        return dropped

    def clear(self) -> None:
        """Remove every level (market closed)."""
        self._snapshots.clear()
        self._pairs.clear()
        self.bids.clear()
        self.asks.clear()

    def _snapshot(self, yes_side: str, outcome: int) -> Side:
        snapshot = self._snapshots.get((yes_side, outcome))
        if snapshot is None:
            levels = self.bids if yes_side == BUY else self.asks
            snapshot = Side(levels if outcome == 0 else _mirror(levels))
            self._snapshots[yes_side, outcome] = snapshot
        return snapshot

    def _check(self, yes: LevelChange) -> None:
        if yes.size == 0:
            return
        if yes.price % self.tick or not self.tick <= yes.price <= MICRO - self.tick:
            raise ValueError(f"price {yes.price} is off the {self.tick} grid")
        best_ask, best_bid = self.best_ask(), self.best_bid()
        if yes.side == BUY and best_ask is not None and yes.price >= best_ask:
            raise ValueError(f"bid {yes.price} would cross ask {best_ask}")
        if yes.side == SELL and best_bid is not None and yes.price <= best_bid:
            raise ValueError(f"ask {yes.price} would cross bid {best_bid}")


def _mirror(levels: dict[int, int]) -> dict[int, int]:
    return {MICRO - price: size for price, size in levels.items()}
