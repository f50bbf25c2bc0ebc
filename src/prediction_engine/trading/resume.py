"""A journaled trading process: open the run's journal, restore what it holds, carry on.

:func:`open_run` opens (and migrates) the journal at a DuckDB path or PostgreSQL URL and
registers this process as the next session of the run its configuration names.
:func:`resume` then restores the runtime's engine from the journal (newest snapshot plus
every record after it), reconciles with the paper venue and journals the session's start:

- orders the journal shows submitted but never acknowledged died with the previous process's
  paper venue: they are closed as REJECTED (journaled like any report), never resent;
- orders the venue had accepted and that are still open rest again in the paper client
  (joining their queues at the back once their books arrive).

The :class:`~prediction_engine.engine.snapshot.SessionStart` record states the restored cash,
positions and open orders, committed before the first event is traded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prediction_engine.core.commands import ExecutionReport
from prediction_engine.core.numbers import format_micro
from prediction_engine.core.orders import OrderEvent, OrderEventKind, OrderStatus
from prediction_engine.engine.journaling import JournalKind
from prediction_engine.engine.snapshot import SessionStart
from prediction_engine.storage.journal import Journal, JournalOptions, open_backend, run_id_of
from prediction_engine.storage.restore import Restored, restore
from prediction_engine.trading.runtime import TradingRuntime

__all__ = ["LOST_IN_CRASH", "Resumed", "open_run", "resume"]

LOST_IN_CRASH = "lost in a restart: the venue's answer to it was never journaled"
_UNACKNOWLEDGED = (OrderStatus.SUBMITTED, OrderStatus.SUBMITTED_UNKNOWN)


@dataclass(frozen=True)
class Resumed:
    """What a process took over from its run's journal."""

    run_id: str
    session: int
    restored: Restored
    lost: int
    resting: int
    cash: int
    positions: int

    def describe(self, location: str) -> str:
        """One line for the console."""
        if not self.restored.last_seq:
            return f"journal {location}: new run {self.run_id} (session {self.session})"
        r = self.restored
        start = f"snapshot {r.snapshot_seq} + {r.replayed}" if r.snapshot_seq else f"{r.replayed}"
        return (
            f"journal {location}: run {self.run_id} session {self.session}, restored from "
            f"{start} records (last {r.last_seq}): cash {format_micro(self.cash)} USD, "
            f"{self.positions} positions, {self.resting} resting orders"
            + (f", {self.lost} unacknowledged orders closed" if self.lost else "")
            + (f"; damaged snapshots passed over (every record replayed instead): "
               f"{', '.join(map(str, r.skipped_snapshots))}" if r.skipped_snapshots else "")
        )


def open_run(
    target: str | Path, config: Mapping[str, object], options: JournalOptions | None = None
) -> Journal:
    """Open the journal at ``target`` as a new session of the run ``config`` names."""
    return Journal.open(open_backend(target), run_id_of(config), config, options)


def resume(runtime: TradingRuntime, journal: Journal, *, use_snapshots: bool = True) -> Resumed:
    """Restore ``runtime`` from ``journal`` before it runs (see the module docstring)."""
    engine, now = runtime.engine, runtime.clock.now_ns()
    restored = restore(engine, journal.backend, journal.run_id, use_snapshots=use_snapshots)
    lost = [o for o in engine.state.open_orders.values() if o.status in _UNACKNOWLEDGED]
    engine.reconcile(
        ExecutionReport(
            client_id=o.client_id,
            event=OrderEvent(kind=OrderEventKind.REJECTED, ts_ns=now, reason=LOST_IN_CRASH),
        )
        for o in lost
    )
    resting = list(engine.state.open_orders.values())
    runtime.paper.restore(resting)
    state = engine.export_state()
    journal.append(
        JournalKind.SESSION,
        now,
        SessionStart(
            ts_ns=now, session=journal.session, pid=os.getpid(), restored_seq=restored.last_seq,
            snapshot_seq=restored.snapshot_seq, replayed=restored.replayed,
            portfolio=state.portfolio, open_orders=state.open_orders,
        ),
    )
    journal.flush()
    held = sum(1 for p in state.portfolio.positions if p.shares)
    return Resumed(journal.run_id, journal.session, restored, len(lost), len(resting),
                   state.portfolio.cash, held)
