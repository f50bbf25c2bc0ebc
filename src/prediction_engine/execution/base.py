"""The execution client protocol shared by paper, backtest and live execution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from prediction_engine.core.commands import Command, ExecutionReport
from prediction_engine.core.events import Event

__all__ = ["ExecutionClient", "ReportSink"]

ReportSink = Callable[[ExecutionReport], None]
"""Where an execution client hands its reports: the engine's inbox (never blocks, never drops)."""


class ExecutionClient(Protocol):
    """Takes commands from the engine; reports through the :data:`ReportSink` it was given.

    ``send`` must not block and must not call back into the engine synchronously other than
    through the report sink (the engine drains reports after the current message).
    """

    def send(self, command: Command) -> None:
        """Accept one command (submit or cancel)."""
        ...

    def on_market_event(self, event: Event) -> None:
        """See a book event or trade after the engine applied it (resting orders may fill)."""
        ...

    def on_time(self, now_ns: int) -> None:
        """See the time advance (GTD orders expire)."""
        ...
