"""The default journal: one DuckDB file, embedded, nothing to install or start.

DuckDB makes each committed transaction durable in its write-ahead log (``<file>.wal``) and
replays that log when the file is opened again, so a ``kill -9`` loses at most the transaction
in flight. Only one process may open the file for writing; another gets
:class:`~.errors.JournalBusyError`. Rows are inserted from an Arrow table, one statement per batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from prediction_engine.storage.errors import (
    JournalBusyError,
    JournalError,
    JournalUnreadableError,
)
from prediction_engine.storage.migrations import Dialect
from prediction_engine.storage.rows import COLUMNS, JournalRow
from prediction_engine.storage.sql import SqlBackend

__all__ = ["DuckDBBackend"]

_INSERT = f"INSERT INTO journal ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM batch"  # noqa: S608 - constant column names
_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("seq", pa.int64()), ("session", pa.int32()),
    ("ts_ns", pa.int64()), ("kind", pa.string()), ("strategy", pa.string()),
    ("client_id", pa.string()), ("market", pa.string()), ("token", pa.string()),
    ("payload", pa.binary()), ("crc", pa.int64()),
])


class DuckDBBackend(SqlBackend):
    """A journal in the DuckDB file ``path`` (created with its directory if missing)."""

    dialect: Dialect = "duckdb"

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        super().__init__(str(path))
        self.path = path
        if read_only and not path.exists():
            raise JournalUnreadableError(f"journal {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as e:
            raise _mapped(path, e) from e

    def _execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        try:
            cursor = self._db.execute(sql, list(params))
            return cursor.fetchall() if cursor.description else []
        except duckdb.Error as e:
            raise _mapped(self.path, e) from e

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            self._db.begin()
        except duckdb.Error as e:
            raise _mapped(self.path, e) from e
        try:
            yield
        except BaseException:
            self._db.rollback()
            raise
        try:
            self._db.commit()
        except duckdb.Error as e:
            raise _mapped(self.path, e) from e

    def _insert(self, rows: Sequence[JournalRow]) -> None:
        columns = list(zip(*(row.as_tuple() for row in rows), strict=True))
        batch = pa.Table.from_arrays(
            [pa.array(values, type=field.type) for values, field in zip(columns, _SCHEMA,
                                                                         strict=True)],
            schema=_SCHEMA,
        )
        try:
            self._db.register("batch", batch)
            try:
                self._db.execute(_INSERT)
            finally:
                self._db.unregister("batch")
        except duckdb.Error as e:
            raise _mapped(self.path, e) from e

    def close(self) -> None:
        """Close the file (a checkpoint folds the write-ahead log into it)."""
        self._db.close()


_DAMAGE = (duckdb.IOException, duckdb.InternalException, duckdb.SerializationException,
           duckdb.FatalException)


def _mapped(path: Path, error: duckdb.Error) -> JournalError:
    text = str(error)
    if not isinstance(error, _DAMAGE):
        return JournalError(f"journal {path}: {text}")
    if "lock" in text.lower():
        return JournalBusyError(
            f"journal {path} is open in another process ({text}); stop that process, or give "
            "this one another journal (--journal PATH)"
        )
    wal = path.with_name(path.name + ".wal")
    kept = (f"the file and its write-ahead log {wal} ({wal.stat().st_size} bytes) are"
            if wal.exists() else "the file is")
    size = path.stat().st_size if path.exists() else 0
    return JournalUnreadableError(
        f"journal {path} ({size} bytes) cannot be read: {text}. It was not modified; {kept} "
        "kept as they are. Nothing in it can be recovered by pengine: move it "
        "aside to start a new journal (the orders and fills of that run are also in the "
        "telemetry CSV files next to it, if it was a paper run's)"
    )
