"""What goes into the engine's inbox besides market events and execution reports."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import msgspec

from prediction_engine.core.commands import ExecutionReport
from prediction_engine.core.events import Event
from prediction_engine.core.ids import ConditionId
from prediction_engine.core.markets import Market

__all__ = [
    "AddMarkets",
    "CancelMarketOrders",
    "EngageKillSwitch",
    "Inbox",
    "Message",
    "Stop",
    "TimerTick",
    "frames",
]


class TimerTick(msgspec.Struct, frozen=True):
    """The time is now ``ts_ns``: stale checks, GTD expiry, daily loss."""

    ts_ns: int


class AddMarkets(msgspec.Struct, frozen=True):
    """Make these markets known (discovery, the Up/Down bot rolling to the next window)."""

    markets: tuple[Market, ...]


class CancelMarketOrders(msgspec.Struct, frozen=True):
    """Cancel every open order in ``market`` (a window ended, an operator asked)."""

    market: ConditionId
    reason: str = ""


class EngageKillSwitch(msgspec.Struct, frozen=True):
    """Cancel every open order and refuse new ones until an operator releases the switch."""

    reason: str


class Stop(msgspec.Struct, frozen=True):
    """Leave the run loop after this batch; first cancel every open order if asked."""

    cancel_orders: bool = False


Message = (
    Event
    | ExecutionReport
    | TimerTick
    | AddMarkets
    | CancelMarketOrders
    | EngageKillSwitch
    | Stop
)


class Inbox:
    """The engine's one bounded queue. Producers ``await put`` (back-pressure when the engine
    is behind); the engine takes everything waiting in one batch."""

    def __init__(self, maxsize: int = 100_000) -> None:
        self._queue: asyncio.Queue[Message] = asyncio.Queue(maxsize)

    async def put(self, item: Message, /) -> None:
        """Add one message, waiting while the queue is full."""
        await self._queue.put(item)

    def qsize(self) -> int:
        """Messages waiting."""
        return self._queue.qsize()

    async def get_batch(self, limit: int = 4096) -> Sequence[Message]:
        """Wait for one message, then take up to ``limit`` that are already waiting."""
        queue = self._queue
        batch = [await queue.get()]
        while len(batch) < limit and not queue.empty():
            batch.append(queue.get_nowait())
        return batch


def frames(batch: Sequence[Message]) -> list[Sequence[Message]]:
    """Split a batch where the receive time of its market events changes.

    Every event parsed from one venue frame carries that frame's ``ts_recv``, so each part is
    one frame (with whatever non-event messages arrived between frames). The engine evaluates
    its strategies once per frame, live and in a backtest alike, so a replay of a recording
    sees the same states the live engine saw, however the live inbox happened to batch them.
    """
    parts: list[Sequence[Message]] = []
    start = 0
    current: int | None = None
    for index, message in enumerate(batch):
        recv: int | None = getattr(message, "ts_recv", None)
        if recv is None:
            continue
        if current is not None and recv != current:
            parts.append(batch[start:index])
            start = index
        current = recv
    parts.append(batch[start:])
    return parts
