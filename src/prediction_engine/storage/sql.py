"""What both journal backends do the same way in SQL; each subclass supplies its driver.

Statements use ``?`` placeholders (:meth:`SqlBackend._execute` translates for drivers that want
``%s``). Reads page by sequence number so a long journal streams instead of loading at once.
Every driver error is re-raised as :class:`~.errors.JournalUnreadableError` naming the journal.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager

from prediction_engine.storage.migrations import (
    SCHEMA_VERSION,
    VERSION_TABLE,
    Dialect,
    pending,
    statements,
)
from prediction_engine.storage.rows import COLUMNS, JournalRow, RunInfo

__all__ = ["SqlBackend"]

_PAGE = 50_000
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM journal"  # noqa: S608 - constant column names


class SqlBackend(ABC):
    """A journal in a SQL database (see :mod:`.duckdb_backend`, :mod:`.postgres_backend`)."""

    dialect: Dialect

    def __init__(self, location: str) -> None:
        self.location = location
        """Where the journal is, for messages (a path, or a URL without its password)."""

    # -- what a driver supplies -------------------------------------------------------------

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """Run one statement; return its rows (empty for statements without)."""

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[None]:
        """Commit what runs inside, or roll it all back on an exception."""

    @abstractmethod
    def _insert(self, rows: Sequence[JournalRow]) -> None:
        """Bulk-insert rows (inside the caller's transaction)."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (everything written is already committed)."""

    # -- schema ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The journal's schema version (0: empty)."""
        self._execute(VERSION_TABLE)
        rows = self._execute("SELECT max(version) FROM pengine_schema")
        value = rows[0][0] if rows else None
        return int(value) if isinstance(value, int) else 0

    def migrate(self, now_ns: int, target: int = SCHEMA_VERSION) -> list[int]:
        """Bring the schema to ``target``, one transaction per version; return those applied."""
        applied = []
        for version in pending(self.schema_version(), self.location, target):
            with self._transaction():
                for statement in statements(version, self.dialect):
                    self._execute(statement)
                self._execute("INSERT INTO pengine_schema (version, applied_ns) VALUES (?, ?)",
                              (version, now_ns))
            applied.append(version)
        return applied

    # -- writing ---------------------------------------------------------------------------

    def write(self, rows: Sequence[JournalRow]) -> None:
        """Write rows in one transaction: all of them become durable, or none."""
        if rows:
            with self._transaction():
                self._insert(rows)

    def start_session(self, run_id: str, config: str, now_ns: int, pid: int) -> int:
        """Register a process on ``run_id`` (creating the run); return its session number."""
        with self._transaction():
            if not self._execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)):
                self._execute("INSERT INTO runs (run_id, config, created_ns) VALUES (?, ?, ?)",
                              (run_id, config, now_ns))
            rows = self._execute("SELECT max(session) FROM sessions WHERE run_id = ?", (run_id,))
            last = rows[0][0] if rows else None
            session = (int(last) if isinstance(last, int) else 0) + 1
            self._execute(
                "INSERT INTO sessions (run_id, session, started_ns, pid) VALUES (?, ?, ?, ?)",
                (run_id, session, now_ns, pid),
            )
        return session

    # -- reading ---------------------------------------------------------------------------

    def last_seq(self, run_id: str) -> int:
        """The highest sequence number written for ``run_id`` (0: none)."""
        rows = self._execute("SELECT max(seq) FROM journal WHERE run_id = ?", (run_id,))
        value = rows[0][0] if rows else None
        return int(value) if isinstance(value, int) else 0

    def snapshot_seqs(self, run_id: str) -> list[int]:
        """Sequence numbers of the run's snapshots, newest first."""
        rows = self._execute(
            "SELECT seq FROM journal WHERE run_id = ? AND kind = 'snapshot' ORDER BY seq DESC",
            (run_id,),
        )
        return [int(str(r[0])) for r in rows]

    def read(
        self,
        run_id: str | None = None,
        *,
        after_seq: int = 0,
        kinds: Sequence[str] = (),
        since_ns: int | None = None,
    ) -> Iterator[JournalRow]:
        """Rows in (run, sequence) order, filtered; fetched page by page."""
        where, params = ["seq > ?"], [after_seq]
        if run_id is not None:
            where.append("run_id = ?")
            params.append(run_id)  # type: ignore[arg-type]
        if kinds:
            where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
            params.extend(kinds)  # type: ignore[arg-type]
        if since_ns is not None:
            where.append("ts_ns >= ?")
            params.append(since_ns)
        last_run, last_seq = "", -1
        while True:
            page_where = [*where, "(run_id > ? OR (run_id = ? AND seq > ?))"]
            rows = self._execute(
                f"{_SELECT} WHERE {' AND '.join(page_where)} ORDER BY run_id, seq LIMIT {_PAGE}",
                (*params, last_run, last_run, last_seq),
            )
            for row in rows:
                yield _row(row)
            if len(rows) < _PAGE:
                return
            last_run, last_seq = str(rows[-1][0]), int(str(rows[-1][1]))

    def runs(self) -> list[RunInfo]:
        """Every run in the journal, oldest first."""
        rows = self._execute(
            "SELECT r.run_id, r.config, r.created_ns, "
            "(SELECT count(*) FROM sessions s WHERE s.run_id = r.run_id), "
            "(SELECT count(*) FROM journal j WHERE j.run_id = r.run_id), "
            "(SELECT max(ts_ns) FROM journal j WHERE j.run_id = r.run_id) "
            "FROM runs r ORDER BY r.created_ns, r.run_id"
        )
        return [
            RunInfo(str(r[0]), str(r[1]), _int(r[2]), _int(r[3]), _int(r[4]), _int(r[5]))
            for r in rows
        ]

    def __enter__(self) -> SqlBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _int(value: object) -> int:
    return int(value) if isinstance(value, int) else 0


def _row(values: tuple[object, ...]) -> JournalRow:
    run_id, seq, session, ts_ns, kind, strategy, client_id, market, token, payload, crc = values
    return JournalRow(
        str(run_id), _int(seq), _int(session), _int(ts_ns), str(kind), str(strategy),
        str(client_id), str(market), str(token),
        bytes(payload) if isinstance(payload, bytes | bytearray | memoryview) else b"",
        _int(crc),
    )
