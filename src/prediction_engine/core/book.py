"""Order book of one binary-outcome token on its bounded price grid.

Prices live on the grid ``tick, 2*tick, ..., 1 - tick`` inside (0, 1), so each side is a
list indexed by tick: a level update is one list store and the best price moves by a short
scan only when the best level empties. Prices and sizes are micro-units.

A tick-size change starts a new *epoch*: the old grid's levels may be invalid, so the book
is dropped and reports ``valid == False`` until the next snapshot arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Final

from prediction_engine.core.numbers import ONE

__all__ = [
    "ComplementView",
    "FillEstimate",
    "OffGridPriceError",
    "OrderBook",
    "infer_tick_size",
]

TICK_SIZES: Final = (100_000, 10_000, 5_000, 2_500, 1_000, 100)
"""Tick sizes the venues use, in micro-units: 0.1, 0.01, 0.005, 0.0025, 0.001, 0.0001."""


class OffGridPriceError(ValueError):
    """A price outside (0, 1) or not on the book's tick grid."""


def infer_tick_size(prices: Iterable[int], default: int = 10_000) -> int:
    """Return the coarsest known tick on which every price lies (for feeds that omit it)."""
    prices = list(prices)
    for tick in TICK_SIZES:
        if tick <= default and all(p % tick == 0 for p in prices):
            return tick
    raise OffGridPriceError(f"prices {prices[:5]} lie on no known tick grid")


class FillEstimate:
    """What sweeping one side of the book for a size would give."""

    __slots__ = ("filled", "levels", "notional_e12")

    def __init__(self, filled: int, notional_e12: int, levels: int) -> None:
        self.filled = filled
        self.notional_e12 = notional_e12
        self.levels = levels

    @property
    def notional(self) -> Decimal:
        """Cost (buy) or proceeds (sell) in USD, exact."""
        return Decimal(self.notional_e12).scaleb(-12)

    @property
    def average_price(self) -> Decimal | None:
        """Size-weighted average price, exact; ``None`` when nothing fills."""
        if not self.filled:
            return None
        return Decimal(self.notional_e12) / Decimal(self.filled) / Decimal(ONE)

    def __repr__(self) -> str:
        return f"FillEstimate(filled={self.filled}, notional={self.notional}, levels={self.levels})"


class OrderBook:
    """Exact L2 book of one token. Sizes per price index; best indices tracked incrementally.

    ``ts_ns`` is free for the owner to stamp (the sync reducer keeps the venue time of the last
    delta there); every snapshot, clear and tick change resets it to 0 with the levels.
    """

    __slots__ = (
        "_ask_high",
        "_asks",
        "_best_ask",
        "_best_bid",
        "_bid_low",
        "_bids",
        "_n",
        "epoch",
        "tick_size",
        "ts_ns",
        "valid",
    )

    def __init__(self, tick_size: int = 10_000) -> None:
        self.epoch = 0
        self.valid = False
        self.tick_size = self._n = 0
        # Sizes are stored as the int objects the events carry (typed Any: compiled, an int is
        # unboxed when passed and boxed anew, a new object, when stored).
        self._bids: list[Any] = []
        self._asks: list[Any] = []
        self._best_bid = self._best_ask = self._bid_low = self._ask_high = self.ts_ns = 0
        self._reset(tick_size)

    def _reset(self, tick_size: int) -> None:
        if tick_size == self.tick_size:
            # Same grid (every snapshot): zero the levels in place instead of new lists. Every
            # nonzero bid lies in [_bid_low, _best_bid] and every nonzero ask in
            # [_best_ask, _ask_high]: the lowest bid and highest ask ever set since the reset.
            # The ranges hold a few dozen levels: a compiled loop beats a slice assignment.
            if self._best_bid:
                bids = self._bids
                for i in range(self._bid_low, self._best_bid + 1):
                    bids[i] = 0
            if self._best_ask < self._n:
                asks = self._asks
                for i in range(self._best_ask, self._ask_high + 1):
                    asks[i] = 0
        else:
            if tick_size <= 0 or ONE % tick_size:
                raise OffGridPriceError(f"tick size {tick_size} does not divide 1")
            self.tick_size = tick_size
            self._n = ONE // tick_size
            self._bids = [0] * self._n
            self._asks = [0] * self._n
        self._best_bid = 0
        self._best_ask = self._n
        self._bid_low = self._n
        self._ask_high = 0
        self.ts_ns = 0

    def _index(self, price: int) -> int:
        # ``//`` and ``*`` stay native ints when compiled; ``divmod`` boxes both and a tuple.
        tick = self.tick_size
        i = price // tick
        if i * tick != price or not 0 < i < self._n:
            raise OffGridPriceError(
                f"price {price} is off the {self.tick_size} grid or outside (0, 1)"
            )
        return i

    # -- updates ---------------------------------------------------------------------------

    def apply_snapshot(
        self,
        bids: Iterable[tuple[int, int]],
        asks: Iterable[tuple[int, int]],
        tick_size: int | None = None,
    ) -> None:
        """Replace the whole book (and its grid, if ``tick_size`` changes). Marks it valid."""
        # Copied first (a lazy iterable could read this very book), as lists: compiled, a
        # list's levels are read natively.
        bid_levels: list[tuple[int, Any]] = list(bids)
        ask_levels: list[tuple[int, Any]] = list(asks)
        if tick_size is None:
            tick_size = self.tick_size
        self._reset(tick_size)
        for price, size in bid_levels:
            self.set_bid(price, size)
        for price, size in ask_levels:
            self.set_ask(price, size)
        self.valid = True

    def set_bid(self, price: int, size: Any) -> None:
        """Set the bid level at ``price`` to ``size`` (0 deletes it)."""
        i = self._index(price)
        self._bids[i] = size
        if size:
            self._best_bid = max(self._best_bid, i)
            self._bid_low = min(self._bid_low, i)
        elif i == self._best_bid:
            bids = self._bids
            while i > 0 and not bids[i]:
                i -= 1
            self._best_bid = i

    def set_ask(self, price: int, size: Any) -> None:
        """Set the ask level at ``price`` to ``size`` (0 deletes it)."""
        i = self._index(price)
        self._asks[i] = size
        if size:
            self._best_ask = min(self._best_ask, i)
            self._ask_high = max(self._ask_high, i)
        elif i == self._best_ask:
            asks, n = self._asks, self._n
            while i < n and not asks[i]:
                i += 1
            self._best_ask = i

    def set_level(self, is_bid: bool, price: int, size: Any) -> None:
        """Set one level on either side (``is_bid`` picks the side)."""
        if is_bid:
            self.set_bid(price, size)
        else:
            self.set_ask(price, size)

    def change_tick_size(self, tick_size: int) -> None:
        """Start a new epoch on a new grid: drop every level and wait for a snapshot."""
        self._reset(tick_size)
        self.epoch += 1
        self.valid = False

    def clear(self) -> None:
        """Drop every level and mark the book invalid (e.g. after a disconnect)."""
        self._reset(self.tick_size)
        self.valid = False

    # -- reads -----------------------------------------------------------------------------

    @property
    def best_bid(self) -> int | None:
        """Highest bid price, or ``None`` when there are no bids."""
        i = self._best_bid
        return i * self.tick_size if i else None

    @property
    def best_ask(self) -> int | None:
        """Lowest ask price, or ``None`` when there are no asks."""
        i = self._best_ask
        return i * self.tick_size if i < self._n else None

    def best_bid_or(self, empty: int) -> int:
        """:attr:`best_bid`, or ``empty`` when there are no bids (compiled: no boxed int)."""
        i = self._best_bid
        return i * self.tick_size if i else empty

    def best_ask_or(self, empty: int) -> int:
        """:attr:`best_ask`, or ``empty`` when there are no asks (compiled: no boxed int)."""
        i = self._best_ask
        return i * self.tick_size if i < self._n else empty

    def best_bid_size(self) -> int:
        """Size at the best bid (0 when empty)."""
        return self._bids[self._best_bid] if self._best_bid else 0

    def best_ask_size(self) -> int:
        """Size at the best ask (0 when empty)."""
        return self._asks[self._best_ask] if self._best_ask < self._n else 0

    def bid_size(self, price: int) -> int:
        """Size resting on the bid at ``price``."""
        size: int = self._bids[self._index(price)]
        return size

    def ask_size(self, price: int) -> int:
        """Size resting on the ask at ``price``."""
        size: int = self._asks[self._index(price)]
        return size

    @property
    def mid(self) -> int | None:
        """Midpoint in micro-units (exact on every venue grid), ``None`` if a side is empty."""
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None:
            return None
        return (bid + ask) // 2

    @property
    def spread(self) -> int | None:
        """Best ask minus best bid, ``None`` if a side is empty (negative when crossed)."""
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None:
            return None
        return ask - bid

    @property
    def is_crossed(self) -> bool:
        """True when the best bid is above the best ask: the book cannot be right."""
        return bool(self._best_bid) and self._best_bid > self._best_ask

    @property
    def is_locked(self) -> bool:
        """True when the best bid equals the best ask."""
        return bool(self._best_bid) and self._best_bid == self._best_ask

    def bids(self, depth: int | None = None) -> list[tuple[int, int]]:
        """Bid levels ``(price, size)``, best first, at most ``depth`` of them."""
        out: list[tuple[int, int]] = []
        bids, tick = self._bids, self.tick_size
        i = self._best_bid
        while i > 0 and (depth is None or len(out) < depth):
            if bids[i]:
                out.append((i * tick, bids[i]))
            i -= 1
        return out

    def asks(self, depth: int | None = None) -> list[tuple[int, int]]:
        """Ask levels ``(price, size)``, best first, at most ``depth`` of them."""
        out: list[tuple[int, int]] = []
        asks, tick, n = self._asks, self.tick_size, self._n
        i = self._best_ask
        while i < n and (depth is None or len(out) < depth):
            if asks[i]:
                out.append((i * tick, asks[i]))
            i += 1
        return out

    def bid_depth(self, limit_price: int) -> int:
        """Total bid size at prices >= ``limit_price`` (what a sell down to it could hit)."""
        return sum(size for price, size in self.bids() if price >= limit_price)

    def ask_depth(self, limit_price: int) -> int:
        """Total ask size at prices <= ``limit_price`` (what a buy up to it could lift)."""
        return sum(size for price, size in self.asks() if price <= limit_price)

    def estimate_buy(self, size: int, limit_price: int | None = None) -> FillEstimate:
        """Sweep the asks for ``size`` shares (optionally no worse than ``limit_price``)."""
        return _sweep(self.asks(), size, lambda p: limit_price is not None and p > limit_price)

    def estimate_sell(self, size: int, limit_price: int | None = None) -> FillEstimate:
        """Sweep the bids for ``size`` shares (optionally no worse than ``limit_price``)."""
        return _sweep(self.bids(), size, lambda p: limit_price is not None and p < limit_price)

    def __repr__(self) -> str:
        return (
            f"OrderBook(tick={self.tick_size}, valid={self.valid}, epoch={self.epoch}, "
            f"bid={self.best_bid}, ask={self.best_ask})"
        )


def _sweep(levels: list[tuple[int, int]], size: int, beyond: Callable[[int], bool]) -> FillEstimate:
    filled = notional = used = 0
    for price, level_size in levels:
        if filled >= size or beyond(price):
            break
        take = min(level_size, size - filled)
        filled += take
        notional += take * price
        used += 1
    return FillEstimate(filled, notional, used)


class ComplementView:
    """The other token of a binary market seen through this token's book.

    A YES bid at ``p`` is a NO ask at ``1 - p`` and a YES ask at ``p`` a NO bid at ``1 - p``.
    """

    __slots__ = ("_book",)

    def __init__(self, book: OrderBook) -> None:
        self._book = book

    @property
    def best_bid(self) -> int | None:
        """Complement's best bid: one minus this book's best ask."""
        ask = self._book.best_ask
        return None if ask is None else ONE - ask

    @property
    def best_ask(self) -> int | None:
        """Complement's best ask: one minus this book's best bid."""
        bid = self._book.best_bid
        return None if bid is None else ONE - bid

    def bids(self, depth: int | None = None) -> list[tuple[int, int]]:
        """Complement bid levels, best first."""
        return [(ONE - p, s) for p, s in self._book.asks(depth)]

    def asks(self, depth: int | None = None) -> list[tuple[int, int]]:
        """Complement ask levels, best first."""
        return [(ONE - p, s) for p, s in self._book.bids(depth)]
