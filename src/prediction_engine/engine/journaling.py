"""What the engine writes to its journal, and the one method it calls to write it.

The engine appends a record for every signal, command, execution report, position change,
cash movement, resolution, kill-switch change and state snapshot, in the order it acts, to a
:class:`JournalSink` (:class:`~prediction_engine.storage.journal.Journal`). The write-ahead
rule is the order of the calls: a command is appended before it is handed to the execution
client, a report before the engine applies it. The sink only buffers (one list append); a
writer task makes the records durable at the journal's flush cadence.

Records are the engine's own frozen structs (:class:`~prediction_engine.core.commands.SubmitOrder`,
:class:`~prediction_engine.core.commands.ExecutionReport`, ...) plus the few defined here.
Kept apart from the compiled engine loop: msgspec structs may not live in mypyc modules.
"""

from __future__ import annotations

import enum
from typing import Protocol

import msgspec

from prediction_engine.core.ids import ConditionId

__all__ = ["CashMovement", "JournalKind", "JournalSink", "Shutdown"]


class JournalKind(enum.StrEnum):
    """The kind of a journal record (stored as text; queries filter on it)."""

    SESSION = "session"
    """A process started on this run: :class:`~prediction_engine.engine.snapshot.SessionStart`."""
    SIGNAL = "signal"
    """A strategy signal and what became of it: ``SignalRecord``."""
    SUBMIT = "submit"
    """An order handed to the execution client: ``SubmitOrder``."""
    CANCEL = "cancel"
    """A cancel handed to the execution client: ``CancelOrder``."""
    RISK_REJECTED = "risk_rejected"
    """An order risk refused (never sent): ``OrderRecord``."""
    REPORT = "report"
    """What the execution client said happened to an order: ``ExecutionReport``."""
    POSITION = "position"
    """A token's position after a fill or settlement: ``Position``."""
    CASH = "cash"
    """Cash moved: :class:`CashMovement`."""
    RESOLUTION = "resolution"
    """A market resolved: ``MarketResolved``."""
    KILL_SWITCH = "kill_switch"
    """The kill switch changed: ``KillSwitch``."""
    SNAPSHOT = "snapshot"
    """The engine's state after every earlier record: ``EngineSnapshot``."""
    SHUTDOWN = "shutdown"
    """A graceful stop: :class:`Shutdown`."""


class CashMovement(msgspec.Struct, frozen=True, kw_only=True):
    """Cash changed by ``amount`` micro-USD (negative: paid) to ``balance``.

    ``reason`` is ``fill`` (notional and fee of ``client_id``'s fill ``trade_id``) or
    ``settlement`` (a resolved ``market`` paid out)."""

    ts_ns: int
    amount: int
    balance: int
    reason: str
    market: ConditionId
    client_id: str = ""
    trade_id: str = ""


class Shutdown(msgspec.Struct, frozen=True, kw_only=True):
    """The process stopped gracefully; ``open_orders`` were left resting (or cancelled)."""

    ts_ns: int
    open_orders: int
    cancelled: bool


class JournalSink(Protocol):
    """Where the engine appends journal records (buffered; never blocks for long)."""

    def append(self, kind: JournalKind, ts_ns: int, record: object, strategy: str = "") -> None:
        """Append one record; it is ordered after every record appended before it."""
        ...

    def snapshot_due(self, now_ns: int) -> bool:
        """Whether the engine should append a snapshot of its state now."""
        ...
