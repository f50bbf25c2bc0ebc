"""What every venue session shares: where events go and the hook that sees raw frames."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from prediction_engine.core.events import Event

__all__ = ["EventSink", "Frame", "RawFrameHook", "log_dropped"]

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


def log_dropped(
    logger: logging.Logger, source: str, count: int, frames: int, error: Exception
) -> None:
    """Log the 1st, 2nd, 4th, 8th... dropped frame of ``source`` (a changed protocol shows up
    without flooding the log); escalate to ERROR once drops are frequent (>= 64 and >= 1%)."""
    if count & (count - 1):
        return
    level = logging.ERROR if count >= 64 and count * 100 >= frames else logging.WARNING
    logger.log(
        level, "%s: dropped %d undecodable frame(s) of %d; latest: %s", source, count, frames, error
    )
