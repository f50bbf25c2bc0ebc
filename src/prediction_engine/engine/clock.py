"""Clocks. The only place that reads the wall clock; everything else gets one injected."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "LiveClock", "ManualClock", "OffsetClock"]


class Clock(Protocol):
    """Something that tells the time in integer nanoseconds since the epoch."""

    def now_ns(self) -> int:
        """Return the current time in nanoseconds."""
        ...


class LiveClock:
    """The wall clock."""

    def now_ns(self) -> int:
        """Return ``time.time_ns()``."""
        return time.time_ns()


class ManualClock:
    """A clock that moves only when told (tests and replays)."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        """Return the current manual time."""
        return self._now

    def advance(self, delta_ns: int) -> None:
        """Move the clock forward."""
        if delta_ns < 0:
            raise ValueError("a clock does not go backwards")
        self._now += delta_ns

    def set(self, now_ns: int) -> None:
        """Jump to ``now_ns`` (not earlier than the current time)."""
        self.advance(now_ns - self._now)


class OffsetClock:
    """The wall clock shifted by ``offset_ns``: another venue's notion of now (a simulator that
    runs on its own timeline, a venue whose clock is known to be ahead)."""

    def __init__(self, offset_ns: int) -> None:
        self.offset_ns = offset_ns

    def now_ns(self) -> int:
        """Return ``time.time_ns() + offset_ns``."""
        return time.time_ns() + self.offset_ns
