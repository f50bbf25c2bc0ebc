"""What every venue session shares: where events go and the hook that sees raw frames."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from prediction_engine.core.events import Event

__all__ = ["EventSink", "Frame", "RawFrameHook"]

Frame = bytes | str
"""One WebSocket message as received (text or binary)."""

RawFrameHook = Callable[[str, Frame, int], None]
"""``on_raw(source, frame, recv_ns)``: called with every frame before it is parsed (recorder)."""


class EventSink(Protocol):
    """Where a session hands its events (an ``asyncio.Queue[Event]`` fits); ``put`` may wait
    while the consumer is behind, which is backpressure."""

    async def put(self, item: Event, /) -> None:
        """Accept one event."""
        ...
