"""The simulated execution client: paper matching at the venue, reached through latency.

The venue side is :class:`~prediction_engine.execution.paper.PaperExecution`, the same matching
(order types, fees, liquidity consumption, queue position, settlement) that paper trading
uses; this wrapper only puts time between the engine and it. A command the engine sends at
``t`` is matched at ``t + entry`` against the venue's book at that time; a report the venue
makes at ``t`` reaches the engine at ``t + response``. With every delay zero the backtest does
not use this wrapper at all: the engine talks to the paper client directly, as in paper
trading.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

import msgspec

from prediction_engine.backtest.latency import Latency
from prediction_engine.core.commands import Command, ExecutionReport
from prediction_engine.core.events import Event
from prediction_engine.core.ids import TokenId
from prediction_engine.execution.paper import PaperExecution

__all__ = ["LatentExecution", "Schedule"]


class Schedule:
    """Things due at a replay time, in time order (ties: the order they were scheduled)."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Callable[[int], None]]] = []
        self._seq = 0

    def at(self, ts_ns: int, action: Callable[[int], None]) -> None:
        """Call ``action(ts_ns)`` when the replay reaches ``ts_ns``."""
        self._seq += 1
        heapq.heappush(self._heap, (ts_ns, self._seq, action))

    def next_ns(self) -> int | None:
        """When the next thing is due, if anything is."""
        return self._heap[0][0] if self._heap else None

    def pop(self) -> tuple[int, Callable[[int], None]]:
        """Take the next thing due."""
        ts_ns, _, action = heapq.heappop(self._heap)
        return ts_ns, action

    def __len__(self) -> int:
        return len(self._heap)


class LatentExecution:
    """An :class:`~prediction_engine.execution.base.ExecutionClient` with entry and response
    latency in front of a paper venue.

    ``now`` tells the engine-side time a command is sent at; ``deliver(ts, report)`` hands a
    report to the engine at replay time ``ts``. ``venue_sees_engine_events`` is False when the
    feed is delayed: the venue then saw each market event earlier, at its receive time, from
    the replay itself.
    """

    def __init__(
        self,
        paper: PaperExecution,
        latency: Latency,
        schedule: Schedule,
        now: Callable[[], int],
        deliver: Callable[[int, ExecutionReport], None],
        *,
        venue_sees_engine_events: bool,
    ) -> None:
        self.paper = paper
        self._latency = latency
        self._schedule = schedule
        self._now = now
        self._deliver = deliver
        # With a delayed feed the venue saw the events already: the engine forwards none.
        self.watched: set[TokenId] = paper.watched if venue_sees_engine_events else set()
        self.delayed_commands = 0
        self.delayed_reports = 0

    def send(self, command: Command) -> None:
        """The engine sent ``command`` now; the venue gets it ``entry`` later."""
        sent = self._now()
        arrives = sent + self._latency.entry(sent)
        if arrives == sent:
            self.paper.send(command)
            return
        self.delayed_commands += 1
        self._schedule.at(arrives, lambda ts: self.paper.send(_restamp(command, ts)))

    def report(self, report: ExecutionReport) -> None:
        """The venue made ``report`` now (the paper client's report sink)."""
        made = self._now()
        self.delayed_reports += 1
        self._deliver(made + self._latency.response(made), report)

    def on_market_event(self, event: Event) -> None:
        """The engine applied ``event``; the venue sees it too (only called when it did not
        see it earlier: :attr:`watched` is then empty)."""
        self.paper.on_market_event(event)

    def on_time(self, now_ns: int) -> None:
        """GTD expiry at the venue."""
        self.paper.on_time(now_ns)


def _restamp(command: Command, ts_ns: int) -> Any:
    """The command as the venue received it: stamped with its arrival time."""
    return msgspec.structs.replace(command, ts_ns=ts_ns)
