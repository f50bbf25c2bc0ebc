"""Order lifecycle: one transition table and a pure ``apply(order, event) -> order``.

Happy path ``SUBMITTED -> ACCEPTED -> PARTIALLY_FILLED -> FILLED``. ``SUBMITTED_UNKNOWN``
means the send failed in transport and the venue may or may not hold the order: it is settled
by the next venue event or by reconciliation (accepted, filled, cancelled, rejected as not
found), never by a blind resend. Fills and kills may arrive before the acknowledgement.

``REJECTED``, ``FILLED``, ``CANCELLED`` and ``EXPIRED`` are terminal: they accept nothing.
Every change of status goes through :data:`TRANSITIONS`; a pair missing from it raises
:class:`IllegalTransition`. Prices and sizes are micro-units, times integer nanoseconds.

Also holds :class:`OrderIntent`, what a strategy proposes and risk approves or rejects.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import msgspec

from prediction_engine.core.events import Side
from prediction_engine.core.ids import ConditionId, TokenId
from prediction_engine.core.numbers import ONE

__all__ = [
    "TERMINAL",
    "TRANSITIONS",
    "IllegalTransition",
    "InvalidOrderError",
    "Order",
    "OrderEvent",
    "OrderEventKind",
    "OrderIntent",
    "OrderStatus",
    "TimeInForce",
    "apply",
    "fill_event",
    "is_marketable",
]


class OrderStatus(enum.StrEnum):
    """Where one of our orders stands."""

    SUBMITTED = "SUBMITTED"
    SUBMITTED_UNKNOWN = "SUBMITTED_UNKNOWN"
    ACCEPTED = "ACCEPTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class OrderEventKind(enum.StrEnum):
    """What happened to an order (the input of the transition table)."""

    ACCEPTED = "ACCEPTED"
    """The venue acknowledged the order (it rests, or is being matched)."""
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
    """The submission failed in transport: the venue may or may not have the order."""
    REJECTED = "REJECTED"
    """The venue refused the order, or reconciliation found it never existed."""
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    """A fill that leaves some size open."""
    FILLED = "FILLED"
    """The final fill: the venue says nothing remains."""
    CANCELLED = "CANCELLED"
    """Cancelled by us, by the venue, or killed (FOK not filled, FAK remainder)."""
    EXPIRED = "EXPIRED"
    """A GTD order reached its expiry."""


class TimeInForce(enum.StrEnum):
    """How long an order may live: good-till-cancelled/-date rest, fill-or-kill/-and-kill don't."""

    GTC = "GTC"
    GTD = "GTD"
    FOK = "FOK"
    FAK = "FAK"


_S = OrderStatus
_E = OrderEventKind

TRANSITIONS: Mapping[tuple[OrderStatus, OrderEventKind], OrderStatus] = MappingProxyType(
    {
        (_S.SUBMITTED, _E.ACCEPTED): _S.ACCEPTED,
        (_S.SUBMITTED, _E.OUTCOME_UNKNOWN): _S.SUBMITTED_UNKNOWN,
        (_S.SUBMITTED, _E.REJECTED): _S.REJECTED,
        # A marketable order can be matched (or killed) before its acknowledgement arrives.
        (_S.SUBMITTED, _E.PARTIALLY_FILLED): _S.PARTIALLY_FILLED,
        (_S.SUBMITTED, _E.FILLED): _S.FILLED,
        (_S.SUBMITTED, _E.CANCELLED): _S.CANCELLED,
        # Unknown is settled by whatever the venue or reconciliation says next.
        (_S.SUBMITTED_UNKNOWN, _E.ACCEPTED): _S.ACCEPTED,
        (_S.SUBMITTED_UNKNOWN, _E.REJECTED): _S.REJECTED,
        (_S.SUBMITTED_UNKNOWN, _E.PARTIALLY_FILLED): _S.PARTIALLY_FILLED,
        (_S.SUBMITTED_UNKNOWN, _E.FILLED): _S.FILLED,
        (_S.SUBMITTED_UNKNOWN, _E.CANCELLED): _S.CANCELLED,
        (_S.SUBMITTED_UNKNOWN, _E.EXPIRED): _S.EXPIRED,
        (_S.ACCEPTED, _E.PARTIALLY_FILLED): _S.PARTIALLY_FILLED,
        (_S.ACCEPTED, _E.FILLED): _S.FILLED,
        (_S.ACCEPTED, _E.CANCELLED): _S.CANCELLED,
        (_S.ACCEPTED, _E.EXPIRED): _S.EXPIRED,
        # The acknowledgement of a partly matched order can trail its first fill.
        (_S.PARTIALLY_FILLED, _E.ACCEPTED): _S.PARTIALLY_FILLED,
        (_S.PARTIALLY_FILLED, _E.PARTIALLY_FILLED): _S.PARTIALLY_FILLED,
        (_S.PARTIALLY_FILLED, _E.FILLED): _S.FILLED,
        (_S.PARTIALLY_FILLED, _E.CANCELLED): _S.CANCELLED,
        (_S.PARTIALLY_FILLED, _E.EXPIRED): _S.EXPIRED,
    }
)
"""The whole lifecycle: ``(status, event) -> next status``. Anything else is illegal."""

TERMINAL: frozenset[OrderStatus] = frozenset(
    status for status in OrderStatus if not any(key[0] is status for key in TRANSITIONS)
)
"""Statuses with no way out: FILLED, CANCELLED, REJECTED, EXPIRED."""


class IllegalTransition(Exception):  # noqa: N818 - the name says what happened
    """An event that the order's current status does not allow (or an overfill)."""


class InvalidOrderError(ValueError):
    """An order or intent whose fields cannot describe a real order."""


def _validate(
    size: int, price: int, tif: TimeInForce, post_only: bool, expire_ns: int | None
) -> None:
    if size <= 0:
        raise InvalidOrderError(f"order size must be > 0, got {size}")
    if not 0 < price < ONE:
        raise InvalidOrderError(f"order price must be inside (0, {ONE}) micro-units, got {price}")
    if (tif is TimeInForce.GTD) != (expire_ns is not None):
        raise InvalidOrderError(f"expire_ns is required for GTD and only for GTD (tif {tif})")
    if post_only and tif in (TimeInForce.FOK, TimeInForce.FAK):
        raise InvalidOrderError(f"post-only needs a resting order (GTC/GTD), got {tif}")


class OrderIntent(msgspec.Struct, frozen=True, kw_only=True):
    """An order a strategy wants placed; risk turns it into a submission or a rejection."""

    market: ConditionId
    token: TokenId
    side: Side
    price: int
    size: int
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    expire_ns: int | None = None

    def __post_init__(self) -> None:
        _validate(self.size, self.price, self.time_in_force, self.post_only, self.expire_ns)

    @property
    def notional(self) -> int:
        """Price x size in micro-units (USD), truncated."""
        return self.price * self.size // ONE


class Order(msgspec.Struct, frozen=True, kw_only=True):
    """One of our orders. Change it only through :func:`apply`."""

    client_id: str
    market: ConditionId
    token: TokenId
    side: Side
    price: int
    size: int
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    expire_ns: int | None = None
    filled: int = 0
    status: OrderStatus = OrderStatus.SUBMITTED
    venue_order_id: str | None = None
    reason: str = ""
    created_ns: int = 0
    updated_ns: int = 0

    def __post_init__(self) -> None:
        _validate(self.size, self.price, self.time_in_force, self.post_only, self.expire_ns)
        if not 0 <= self.filled <= self.size:
            raise InvalidOrderError(f"filled {self.filled} outside [0, size {self.size}]")

    @classmethod
    def from_intent(cls, intent: OrderIntent, client_id: str, now_ns: int) -> Order:
        """Return the SUBMITTED order for an approved intent."""
        return cls(
            client_id=client_id,
            market=intent.market,
            token=intent.token,
            side=intent.side,
            price=intent.price,
            size=intent.size,
            time_in_force=intent.time_in_force,
            post_only=intent.post_only,
            expire_ns=intent.expire_ns,
            created_ns=now_ns,
            updated_ns=now_ns,
        )

    @property
    def remaining(self) -> int:
        """Size not filled yet (a FILLED order closed by the venue may keep a little)."""
        return self.size - self.filled

    @property
    def is_open(self) -> bool:
        """True until the order reaches a terminal status (unknown counts as open)."""
        return self.status not in TERMINAL


class OrderEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One lifecycle event of one order; ``fill_size`` is set for the two fill kinds."""

    kind: OrderEventKind
    ts_ns: int
    fill_size: int = 0
    venue_order_id: str | None = None
    reason: str = ""


def fill_event(order: Order, size: int, ts_ns: int) -> OrderEvent:
    """Return the fill event for ``size`` more shares: FILLED when it completes the order."""
    kind = _E.FILLED if order.filled + size == order.size else _E.PARTIALLY_FILLED
    return OrderEvent(kind=kind, ts_ns=ts_ns, fill_size=size)


def _check_fill(order: Order, event: OrderEvent) -> int:
    """Return the new filled size, or raise if the fill does not fit the event kind."""
    is_fill = event.kind in (_E.PARTIALLY_FILLED, _E.FILLED)
    if not is_fill:
        if event.fill_size:
            raise IllegalTransition(f"{event.kind} carries a fill size {event.fill_size}")
        return order.filled
    filled = order.filled + event.fill_size
    if event.fill_size < 0 or (event.kind is _E.PARTIALLY_FILLED and event.fill_size == 0):
        raise IllegalTransition(f"{order.client_id}: bad fill size {event.fill_size}")
    if filled > order.size:
        raise IllegalTransition(f"{order.client_id}: overfill {filled} > size {order.size}")
    if event.kind is _E.PARTIALLY_FILLED and filled == order.size:
        raise IllegalTransition(f"{order.client_id}: partial fill completes the order")
    return filled


def apply(order: Order, event: OrderEvent) -> Order:
    """Return ``order`` after ``event``, or raise :class:`IllegalTransition`.

    A FILLED event may leave ``filled < size``: the venue's word that nothing remains (fill
    sizes can drift by cent-tick truncation) closes the order.
    """
    status = TRANSITIONS.get((order.status, event.kind))
    if status is None:
        raise IllegalTransition(
            f"order {order.client_id}: {event.kind} not allowed in {order.status}"
        )
    return msgspec.structs.replace(
        order,
        status=status,
        filled=_check_fill(order, event),
        venue_order_id=event.venue_order_id or order.venue_order_id,
        reason=event.reason or order.reason,
        updated_ns=event.ts_ns,
    )


def is_marketable(side: Side, price: int, best_bid: int | None, best_ask: int | None) -> bool:
    """Return whether a limit order at ``price`` would cross the book (take liquidity)."""
    if side is Side.BUY:
        return best_ask is not None and price >= best_ask
    return best_bid is not None and price <= best_bid
