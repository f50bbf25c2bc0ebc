"""Queue position of our resting orders: how much displayed size is ahead of each one.

Bookkeeping for :class:`~prediction_engine.execution.paper.PaperExecution`, whose module
docstring states the rules; this module holds the model and the per-level state. Sizes are
micro-shares, times are the events' venue times (``ts_event``) in nanoseconds. Everything is
integer arithmetic (the power model with a non-integral exponent excepted, see
:meth:`QueueModel.cancelled_ahead`), so the same events always give the same queue.

Why a trade and the decrease it causes are paired in either order (checked in the sources):

* Our simulator (``sim/polymarket/world.py``, ``World.execute``) sends ``last_trade_price``
  for one of the market's two tokens, then a ``book`` of each token (snapshots, no
  ``price_change``), all at the same venue millisecond: print first, decrease second, and the
  other token's mirrored level shrinks with no print of its own.
* The real captures hold no print next to the book changes it caused: the shared fixture's
  ``last_trade_price`` is a lone frame, and ``tests/data/polymarket``'s streams have no print.
  The crossing burst there (a sell through the bids at 0.311 and 0.301) shows that a trade's
  decreases do come as ``price_change`` entries, although the docs say those are for placements
  and cancels: the seller's resting remainder first, then each bid deletion in a frame of its
  own, all at one venue millisecond, then a ``book``. Where the print falls among them is not
  known.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from prediction_engine.core.events import BookSnapshot, Side
from prediction_engine.core.ids import TokenId

__all__ = ["QUEUE_KINDS", "QueueKind", "QueueModel", "Queues"]

QueueKind = Literal["power", "risk_averse", "front", "back"]
QUEUE_KINDS: tuple[QueueKind, ...] = ("power", "risk_averse", "front", "back")


@dataclass(frozen=True, slots=True)
class QueueModel:
    """How a resting order moves up its price level's queue (PaperExecution's ``queue=``).

    ``kind``:

    * ``"power"`` (default): we join behind the displayed size; trades at our price eat the
      queue ahead first; an unexplained decrease (a cancel) was ahead of us with probability
      ``f(ahead) / (f(ahead) + f(behind))``, ``f(x) = x ** power``, applied as its expected value.
    * ``"risk_averse"``: as ``"power"`` but cancels are behind us whenever they can be (only
      trades, and the level shrinking below our place, move us up); hftbacktest's
      ``RiskAdverseQueueModel``.
    * ``"front"``: optimistic bound: nothing is ever ahead of us, so every trade at our price
      fills us.
    * ``"back"``: the behaviour before queue modelling: a trade at our price never fills us,
      only trades through it and the book crossing it do.

    ``pair_window_ns``: a trade at a level and a decrease of that level are taken for the trade
    and the change it caused only when their venue times are at most this far apart (default
    100 ms; see "Trades and the book changes they cause" in the paper module).
    """

    kind: QueueKind = "power"
    power: float = 2.0
    pair_window_ns: int = 100_000_000

    def __post_init__(self) -> None:
        if self.kind not in QUEUE_KINDS:
            raise ValueError(f"queue kind {self.kind!r} is not one of {', '.join(QUEUE_KINDS)}")
        if not math.isfinite(self.power) or not 0 <= self.power <= 16:
            raise ValueError(f"queue power {self.power!r} must be between 0 and 16")
        if self.pair_window_ns < 0:
            raise ValueError(f"queue pair window {self.pair_window_ns!r} must not be negative")

    @property
    def tracks(self) -> bool:
        """Whether orders have a queue position at all (every kind but ``"back"``)."""
        return self.kind != "back"

    def cancelled_ahead(self, ahead: int, behind: int, decrease: int) -> int:
        """Return how much of an unexplained ``decrease`` of a level was ahead of our order.

        The expected value, rounded down, under the model; what ``behind`` cannot absorb was
        ahead of us whatever the model says. Never more than ``ahead``.
        """
        if self.kind == "power" and ahead:
            share = _power_share(ahead, behind, decrease, self.power)
        else:  # "risk_averse"; with nothing ahead of us ("front") there is nothing to share
            share = 0
        return min(max(share, decrease - behind), ahead)


def _power_share(ahead: int, behind: int, decrease: int, power: float) -> int:
    """``decrease * f(ahead) / (f(ahead) + f(behind))``, rounded down; exact for whole powers."""
    if power.is_integer():
        n = int(power)
        front: int = ahead**n  # int ** non-negative int is an int (typeshed says Any)
        back: int = behind**n
        return decrease * front // (front + back)
    # Scaled to shares first: x ** power of micro-units would overflow a float at high powers.
    front_f, back_f = (ahead / 1e6) ** power, (behind / 1e6) ** power
    return int(decrease * (front_f / (front_f + back_f)))


class _Place:
    """One of our orders in a level's queue."""

    __slots__ = ("ahead", "provisional")

    def __init__(self, ahead: int) -> None:
        self.ahead = ahead
        self.provisional = 0
        """What the level's pending decrease took of ``ahead`` (given back if it was a trade)."""


class _Level:
    """A price level on one side of one token where at least one of our orders rests."""

    __slots__ = ("credit", "displayed", "pending", "places", "stamp")

    def __init__(self, displayed: int) -> None:
        self.displayed = displayed
        self.credit = 0
        """Traded here and not yet seen as a decrease of the level."""
        self.pending = 0
        """Seen as a decrease and taken for cancels, not yet matched by a trade."""
        self.stamp = 0
        """Venue time of the last change of ``credit`` or ``pending``."""
        self.places: dict[str, _Place] = {}
        """Our orders here, oldest first."""


_Key = tuple[Side, int]


class Queues:
    """Queue state of every level where our orders rest (levels keyed by book side, price)."""

    def __init__(self, model: QueueModel) -> None:
        self.model = model
        self._tokens: dict[TokenId, dict[_Key, _Level]] = {}

    def join(
        self, token: TokenId, side: Side, price: int, client_id: str, *, displayed: int, ahead: int
    ) -> None:
        """Start tracking an order resting at ``price`` behind ``ahead`` (of ``displayed``)."""
        if not self.model.tracks:
            return
        levels = self._tokens.setdefault(token, {})
        level = levels.get((side, price))
        if level is None:
            level = levels[side, price] = _Level(displayed)
        level.displayed = displayed
        ahead = 0 if self.model.kind == "front" else min(max(ahead, 0), displayed)
        level.places[client_id] = _Place(ahead)

    def leave(self, token: TokenId, side: Side, price: int, client_id: str) -> None:
        """Stop tracking an order (filled, cancelled or expired); unknown ids are ignored."""
        levels = self._tokens.get(token)
        level = levels.get((side, price)) if levels else None
        if levels is None or level is None or level.places.pop(client_id, None) is None:
            return
        if not level.places:
            del levels[side, price]
            if not levels:
                del self._tokens[token]

    def ahead(self, token: TokenId, side: Side, price: int, client_id: str) -> int | None:
        """Return the displayed size modelled ahead of an order, or None if it is not tracked."""
        level = self._tokens.get(token, {}).get((side, price))
        place = level.places.get(client_id) if level else None
        return place.ahead if place else None

    def on_level(self, token: TokenId, side: Side, price: int, size: int, ts: int) -> None:
        """See a level set to ``size`` (a delta); only our levels cost more than a lookup."""
        levels = self._tokens.get(token)
        if levels is not None and (level := levels.get((side, price))) is not None:
            self._resize(level, size, ts)

    def on_snapshot(self, snapshot: BookSnapshot) -> None:
        """See a full book: each of our levels is set to its size there (0 if absent)."""
        levels = self._tokens.get(snapshot.token)
        if not levels:
            return
        sizes = {Side.BUY: dict(snapshot.bids), Side.SELL: dict(snapshot.asks)}
        for (side, price), level in levels.items():
            self._resize(level, sizes[side].get(price, 0), snapshot.ts_event)

    def on_trade(
        self, token: TokenId, side: Side, price: int, size: int, ts: int
    ) -> Mapping[str, int] | None:
        """See ``size`` traded against our ``side`` at ``price``.

        Returns the queue ahead of each of our orders there before the trade (oldest first),
        or None when none rests there. The trade then eats those queues.
        """
        levels = self._tokens.get(token)
        level = levels.get((side, price)) if levels else None
        if level is None:
            return None
        self._expire(level, ts)
        matched = min(size, level.pending)
        before: dict[str, int] = {}
        for client_id, place in level.places.items():
            if matched:  # that decrease was this trade, not a cancel: give its share back
                back = place.provisional * matched // level.pending
                place.provisional -= back
                place.ahead += back
            before[client_id] = place.ahead
            place.ahead = max(0, min(place.ahead - size, level.displayed))
        level.pending -= matched
        level.credit += size - matched
        level.stamp = ts
        return before

    def _resize(self, level: _Level, size: int, ts: int) -> None:
        previous, level.displayed = level.displayed, size
        if size >= previous:
            return  # growth joins behind us
        self._expire(level, ts)
        explained = min(previous - size, level.credit)
        level.credit -= explained
        cancelled = previous - size - explained
        if cancelled:
            level.pending += cancelled
            level.stamp = ts
            shown = previous - explained  # the level once the trades are out of it
            for place in level.places.values():
                ahead = min(place.ahead, shown)
                taken = self.model.cancelled_ahead(ahead, shown - ahead, cancelled)
                place.provisional += taken
                place.ahead = ahead - taken
        for place in level.places.values():
            place.ahead = min(place.ahead, size)

    def _expire(self, level: _Level, ts: int) -> None:
        """Forget credit and pending decreases older than the pairing window."""
        if (level.credit or level.pending) and abs(ts - level.stamp) > self.model.pair_window_ns:
            level.credit = level.pending = 0
            for place in level.places.values():
                place.provisional = 0
