"""The execution client protocol shared by paper, backtest and live execution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from prediction_engine.core.commands import Command, ExecutionReport
from prediction_engine.core.events import Event
from prediction_engine.core.ids import TokenId

__all__ = ["ExecutionClient", "ReportSink"]

ReportSink = Callable[[ExecutionReport], None]
"""Where an execution client hands its reports: the engine's inbox (never blocks, never drops)."""


class ExecutionClient(Protocol):
    """Takes commands from the engine; reports through the :data:`ReportSink` it was given.

    ``send`` must not block and must not call back into the engine synchronously other than
    through the report sink (the engine drains reports after the current message).

    ``watched`` names the tokens whose market events the client needs: the engine hands
    :meth:`on_market_event` only those (a client keeps the same set object, updated in place;
    an empty set for a client that needs none).
    """

    watched: set[TokenId]

    def send(self, command: Command) -> None:
        """Accept one command (submit or cancel)."""
        ...

    def on_market_event(self, event: Event) -> None:
        """See a book event or trade of a :attr:`watched` token after the engine applied it
        (resting orders may fill)."""
        ...

    def on_time(self, now_ns: int) -> None:
        """See the time advance (GTD orders expire)."""
        ...
