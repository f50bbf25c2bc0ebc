"""The engine-side journal writer: buffered appends, ordered durable flushes, snapshots.

:meth:`Journal.append` is what the engine calls for every record (a tuple appended to a list,
numbered in order). The writer task :meth:`Journal.run` encodes and commits what is pending
every ``flush_interval_s`` in a worker thread, one transaction per flush, so records become
durable in exactly the order the engine appended them. Buffering is bounded: past
``max_pending`` records the engine's own append flushes (the engine waits; nothing is dropped).
With ``flush_interval_s == 0`` every command and report is committed before the engine goes on
(strict write-ahead, at the cost of a commit per order).

A run is identified by :func:`run_id_of` its configuration; every process that writes a run is
a new session of it (:meth:`Journal.open`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import msgspec

from prediction_engine.engine.journaling import JournalKind
from prediction_engine.storage.rows import JournalRow, encode_row
from prediction_engine.storage.sql import SqlBackend

__all__ = [
    "Journal",
    "JournalLag",
    "JournalOptions",
    "is_database_url",
    "open_backend",
    "run_id_of",
]

_K = JournalKind
_STRICT = frozenset({_K.SUBMIT, _K.CANCEL, _K.REPORT})


@dataclass(frozen=True, slots=True)
class JournalOptions:
    """How often the journal commits and snapshots, and how much it may hold in memory."""

    flush_interval_s: float = 0.1
    """Commit what is pending this often; 0: commit every command and report before going on."""
    max_pending: int = 50_000
    """Past this many pending records the engine's append commits them itself (backpressure)."""
    snapshot_interval_s: float = 30.0
    """The engine appends a snapshot of its state this often (on its timer)."""


@dataclass(frozen=True, slots=True)
class JournalLag:
    """How far the durable journal trails the engine."""

    pending: int
    oldest_pending_s: float
    written: int
    flushes: int


def is_database_url(target: str) -> bool:
    """Whether ``target`` names a PostgreSQL server rather than a DuckDB file."""
    return target.startswith(("postgresql://", "postgres://"))


def open_backend(target: str | Path, *, read_only: bool = False) -> SqlBackend:
    """Open the journal at ``target``: a ``postgresql://`` URL or a DuckDB file path."""
    text = str(target)
    if is_database_url(text):
        from prediction_engine.storage.postgres_backend import PostgresBackend

        return PostgresBackend(text)
    from prediction_engine.storage.duckdb_backend import DuckDBBackend

    return DuckDBBackend(Path(text), read_only=read_only)


def run_id_of(config: Mapping[str, object]) -> str:
    """A run's id: 16 hex digits of the SHA-256 of its configuration (canonical JSON)."""
    canonical = msgspec.json.encode(config, order="sorted")
    return hashlib.sha256(canonical).hexdigest()[:16]


class Journal:
    """Buffers the engine's records and commits them, in order, to a backend."""

    def __init__(
        self,
        backend: SqlBackend,
        run_id: str,
        session: int,
        last_seq: int,
        options: JournalOptions | None = None,
        *,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.backend = backend
        self.run_id = run_id
        self.session = session
        self.options = options or JournalOptions()
        self._seq = last_seq
        # deque: the engine appends on the right while a writer thread pops on the left
        # (both atomic), so appending never waits for a commit in progress.
        self._pending: deque[tuple[int, JournalKind, int, object, str]] = deque()
        self._oldest = 0.0
        self._lock = threading.Lock()
        self._now_ns = now_ns
        self._next_snapshot_ns = 0
        self._strict = self.options.flush_interval_s <= 0
        self.written = 0
        self.flushes = 0

    @classmethod
    def open(
        cls,
        backend: SqlBackend,
        run_id: str,
        config: Mapping[str, object],
        options: JournalOptions | None = None,
        *,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> Journal:
        """Migrate the schema, register this process as the run's next session, and continue
        the run's numbering."""
        now = now_ns()
        backend.migrate(now)
        config_text = msgspec.json.encode(config, order="sorted").decode()
        session = backend.start_session(run_id, config_text, now, os.getpid())
        return cls(backend, run_id, session, backend.last_seq(run_id), options, now_ns=now_ns)

    @property
    def last_seq(self) -> int:
        """The number of the last record appended (durable or not)."""
        return self._seq

    # -- the engine's side -----------------------------------------------------------------

    def append(self, kind: JournalKind, ts_ns: int, record: object, strategy: str = "") -> None:
        """Number and buffer one record (see the module docstring for when it is committed)."""
        self._seq += 1
        if not self._pending:
            self._oldest = time.monotonic()
        self._pending.append((self._seq, kind, ts_ns, record, strategy))
        if (self._strict and kind in _STRICT) or len(self._pending) >= self.options.max_pending:
            self.flush()

    def snapshot_due(self, now_ns: int) -> bool:
        """Whether a snapshot is due at ``now_ns`` (then the next one is an interval later)."""
        if now_ns < self._next_snapshot_ns:
            return False
        self._next_snapshot_ns = now_ns + int(self.options.snapshot_interval_s * 1e9)
        return True

    # -- the writer's side -----------------------------------------------------------------

    def flush(self) -> int:
        """Commit everything pending in one transaction; return how many records.

        Safe from any thread; commits happen in append order. If the commit fails, the records
        stay pending (in order) and the error propagates.
        """
        with self._lock:  # one commit at a time: what is popped first is committed first
            pending = self._pending
            batch = [pending.popleft() for _ in range(len(pending))]
            if not batch:
                return 0
            rows = [self._row(*item) for item in batch]
            try:
                self.backend.write(rows)
            except BaseException:
                pending.extendleft(reversed(batch))
                raise
            self.written += len(rows)
            self.flushes += 1
            return len(rows)

    def _row(self, seq: int, kind: JournalKind, ts_ns: int, record: object,
             strategy: str) -> JournalRow:
        return encode_row(self.run_id, seq, self.session, kind, ts_ns, record=record,
                          strategy=strategy)

    async def run(self) -> None:
        """Commit pending records every ``flush_interval_s`` until cancelled; then once more."""
        interval = self.options.flush_interval_s or 0.1
        try:
            while True:
                await asyncio.sleep(interval)
                if self._pending:
                    await asyncio.to_thread(self.flush)
        finally:
            self.flush()

    def lag(self) -> JournalLag:
        """Pending records and the age of the oldest (for metrics)."""
        pending = len(self._pending)
        age = time.monotonic() - self._oldest if pending else 0.0
        return JournalLag(pending, age, self.written, self.flushes)

    def close(self) -> None:
        """Commit what is pending and close the backend."""
        try:
            self.flush()
        finally:
            self.backend.close()
