"""Commands the engine sends to an execution client, and the reports that come back.

Commands are imperative (``SubmitOrder``, ``CancelOrder``); an :class:`ExecutionReport` is the
execution client's account of what happened to one order: one lifecycle event (see
:mod:`prediction_engine.core.orders`) and, for the two fill kinds, the :class:`Fill` with its
price and fee. Reports re-enter the engine through its inbox, like market events.
"""

from __future__ import annotations

import msgspec

from prediction_engine.core.orders import Order, OrderEvent
from prediction_engine.core.portfolio import Fill

__all__ = ["CancelOrder", "Command", "ExecutionReport", "SubmitOrder"]


class SubmitOrder(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Place ``order`` (status SUBMITTED) at the venue; ``strategy`` names who wanted it."""

    order: Order
    strategy: str = ""
    ts_ns: int = 0


class CancelOrder(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Cancel our order ``client_id`` (a no-op report-wise if it is already closed)."""

    client_id: str
    reason: str = ""
    ts_ns: int = 0


Command = SubmitOrder | CancelOrder


class ExecutionReport(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to order ``client_id``: ``event`` for the lifecycle table, ``fill`` when
    the event is a fill (``fill.size == event.fill_size``); ``taker`` says whether that fill
    took liquidity (False: our resting order was hit)."""

    client_id: str
    event: OrderEvent
    fill: Fill | None = None
    taker: bool = True
