"""Checking a journal and restoring an engine from it.

:func:`check_run` reads every record of a run and reports what is intact: records that fail
their checksum or do not decode, sequence numbers that are missing, snapshots that are good.
:func:`restore` puts an engine back where the journal says it was: the newest snapshot, then
every record after it, replayed through :meth:`Engine.replay
<prediction_engine.engine.loop.Engine.replay>`; each journaled position and cash balance on the
way is compared with the replayed state. Any problem stops the restore with an error naming
the journal, the records concerned and what can be recovered; nothing is skipped silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NoReturn

from prediction_engine.core.orders import Order
from prediction_engine.core.portfolio import Position
from prediction_engine.engine.journaling import CashMovement, JournalKind
from prediction_engine.engine.loop import Engine
from prediction_engine.engine.snapshot import EngineSnapshot
from prediction_engine.storage.errors import JournalCorruptError, JournalInconsistentError
from prediction_engine.storage.rows import JournalRow, decode
from prediction_engine.storage.sql import SqlBackend

__all__ = ["Restored", "RunCheck", "check_run", "restore"]

_K = JournalKind


@dataclass
class RunCheck:
    """What :func:`check_run` found in one run."""

    run_id: str
    records: int = 0
    last_seq: int = 0
    bad: list[tuple[int, str, str]] = field(default_factory=list)
    """``(seq, kind, why)`` of every record that fails its checksum or does not decode."""
    missing: list[tuple[int, int]] = field(default_factory=list)
    """Inclusive ranges of sequence numbers that are absent."""
    snapshots: list[int] = field(default_factory=list)
    """Sequence numbers of intact snapshots, oldest first."""

    @property
    def ok(self) -> bool:
        """Whether every record is present and intact."""
        return not self.bad and not self.missing

    def intact_prefix(self) -> int:
        """The last sequence number up to which every record is present and intact."""
        first_problem = min([s for s, _, _ in self.bad] + [a for a, _ in self.missing],
                            default=self.last_seq + 1)
        return first_problem - 1

    def describe(self, location: str) -> str:
        """A report of the problems and of what can be recovered."""
        lines = [f"journal {location}, run {self.run_id}: {self.records} records, "
                 f"last seq {self.last_seq}"]
        lines += [f"  record {seq} ({kind}) is corrupt: {why}" for seq, kind, why in self.bad]
        lines += [f"  records {a}..{b} are missing" if a != b else f"  record {a} is missing"
                  for a, b in self.missing]
        prefix = self.intact_prefix()
        good = [s for s in self.snapshots if s <= prefix]
        lines.append(f"  recoverable: records 1..{prefix} are intact"
                     + (f"; the newest intact snapshot before the damage is at seq {good[-1]}"
                        if good else "; no intact snapshot precedes the damage"))
        if prefix < self.last_seq:
            lines.append(f"  cannot be replayed: records {prefix + 1}..{self.last_seq} "
                         "(from the first damage on) unless repaired by hand")
        return "\n".join(lines)


@dataclass(frozen=True)
class Restored:
    """Where a restore left the engine."""

    last_seq: int
    snapshot_seq: int
    replayed: int
    open_orders: tuple[Order, ...]
    skipped_snapshots: tuple[int, ...] = ()
    """Damaged snapshots passed over when rebuilding from every record (they are redundant)."""


def check_run(backend: SqlBackend, run_id: str) -> RunCheck:
    """Read every record of ``run_id`` and report what is intact."""
    check = RunCheck(run_id)
    expected = 1
    for row in backend.read(run_id):
        check.records += 1
        if row.seq != expected:
            check.missing.append((expected, row.seq - 1))
        expected = row.seq + 1
        check.last_seq = row.seq
        try:
            kind, _ = decode(row)
        except ValueError as e:
            check.bad.append((row.seq, row.kind, str(e)))
            continue
        if kind is _K.SNAPSHOT:
            check.snapshots.append(row.seq)
    return check


def restore(engine: Engine, backend: SqlBackend, run_id: str, *,
            use_snapshots: bool = True) -> Restored:
    """Restore ``engine`` (new, before its first event) from the run's journal.

    Raises :class:`~.errors.JournalCorruptError` when a record it needs is damaged or missing,
    or the newest snapshot is damaged (``use_snapshots=False`` rebuilds from every record
    instead), and :class:`~.errors.JournalInconsistentError` when the replayed state disagrees
    with a journaled position or cash balance.
    """
    start = 0
    if use_snapshots:
        snapshots = backend.snapshot_seqs(run_id)
        if snapshots:
            start = snapshots[0]
    replayed = 0
    snapshot_seq = 0
    skipped: list[int] = []
    expected = start or 1
    for row in _rows(backend, run_id, start):
        if row.seq != expected:
            _fail(backend, run_id, f"record {expected} is missing (the next is {row.seq})")
        expected = row.seq + 1
        try:
            kind, record = decode(row)
        except ValueError as e:
            if not use_snapshots and row.kind == _K.SNAPSHOT.value:
                skipped.append(row.seq)  # every record before it is replayed instead
                continue
            _fail(backend, run_id, f"record {row.seq} ({row.kind}) is corrupt: {e}")
        if row.seq == start and isinstance(record, EngineSnapshot):
            engine.import_state(record)
            snapshot_seq = start
            continue
        _replay(engine, backend, row, kind, record)
        replayed += 1
    open_orders = tuple(engine.state.open_orders.values())
    return Restored(expected - 1, snapshot_seq, replayed, open_orders, tuple(skipped))


def _rows(backend: SqlBackend, run_id: str, start: int) -> Iterator[JournalRow]:
    return backend.read(run_id, after_seq=max(start - 1, 0))


def _replay(engine: Engine, backend: SqlBackend, row: JournalRow, kind: JournalKind,
            record: object) -> None:
    portfolio = engine.state.portfolio
    if kind is _K.POSITION and isinstance(record, Position):
        held = portfolio.position(record.token)
        if held != record:
            _inconsistent(backend, row, f"position {record.token}: journaled {record}, "
                          f"replayed {held}")
    elif kind is _K.CASH and isinstance(record, CashMovement):
        if portfolio.cash != record.balance:
            _inconsistent(backend, row, f"cash: journaled balance {record.balance}, replayed "
                          f"{portfolio.cash} (micro-USD)")
    else:
        engine.replay(kind, record)


def _fail(backend: SqlBackend, run_id: str, what: str) -> NoReturn:
    check = check_run(backend, run_id)
    only_snapshots = not check.missing and all(k == _K.SNAPSHOT.value for _, k, _ in check.bad)
    advice = (
        "Only snapshots are damaged and every record is intact: restart with "
        "--restore-from-journal to rebuild the state from the records alone (snapshots are a "
        "shortcut, nothing is lost)."
        if only_snapshots else
        "Restoring from an earlier point would lose what the damaged records say, so pengine "
        "will not do it by itself."
    )
    raise JournalCorruptError(
        f"cannot restore: {what}.\n{check.describe(backend.location)}\n"
        f"Nothing was changed. {advice} `pengine journal check` lists every problem."
    )


def _inconsistent(backend: SqlBackend, row: JournalRow, what: str) -> NoReturn:
    raise JournalInconsistentError(
        f"journal {backend.location}, run {row.run_id}: replaying up to record {row.seq} "
        f"disagrees with it: {what}. The journal was edited or written by a different "
        "version; nothing was changed."
    )
