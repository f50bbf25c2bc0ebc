"""The shared journal: PostgreSQL (``postgresql://user@host:port/db[?schema=NAME]``).

The tool creates and migrates its tables itself, in the URL's ``schema`` (default ``pengine``;
created if missing). Rows go in with ``COPY``, one transaction per batch. A run is written by
one process at a time: a session holds a PostgreSQL advisory lock on its run id, and a second
writer gets :class:`~.errors.JournalBusyError`. Messages show the URL without its password.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from prediction_engine.storage.errors import JournalBusyError, JournalError, JournalUnreadableError
from prediction_engine.storage.migrations import Dialect
from prediction_engine.storage.rows import COLUMNS, JournalRow
from prediction_engine.storage.sql import SqlBackend

__all__ = ["PostgresBackend", "redact", "split_schema"]

_COPY = f"COPY journal ({', '.join(COLUMNS)}) FROM STDIN"
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def redact(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def split_schema(url: str) -> tuple[str, str]:
    """Return the connection URL without ``schema=`` and the schema it names (``pengine``)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schemas = [v for k, v in query if k == "schema"]
    rest = [(k, v) for k, v in query if k != "schema"]
    schema = schemas[-1] if schemas else "pengine"
    if not _SCHEMA_NAME.fullmatch(schema):
        raise JournalError(f"journal URL {redact(url)}: schema {schema!r} must be lower-case "
                           "letters, digits and _ (at most 63)")
    return urlunsplit(parts._replace(query=urlencode(rest))), schema


class PostgresBackend(SqlBackend):
    """A journal in a PostgreSQL schema."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, connect_timeout_s: float = 5.0) -> None:
        super().__init__(redact(url))
        dsn, self.schema = split_schema(url)
        try:
            self._db = psycopg.connect(dsn, autocommit=True,
                                       connect_timeout=max(1, round(connect_timeout_s)))
        except psycopg.Error as e:
            raise JournalUnreadableError(
                f"journal {self.location}: cannot connect to PostgreSQL: {_first_line(e)}"
            ) from e
        self._execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
        self._execute(f"SET search_path TO {self.schema}")
        self._in_transaction = False

    def _execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        try:
            cursor = self._db.execute(sql.replace("?", "%s"), list(params) or None)
            return cursor.fetchall() if cursor.description else []
        except psycopg.Error as e:
            raise JournalUnreadableError(f"journal {self.location}: {_first_line(e)}") from e

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            with self._db.transaction():
                yield
        except psycopg.Error as e:
            raise JournalUnreadableError(f"journal {self.location}: {_first_line(e)}") from e

    def _insert(self, rows: Sequence[JournalRow]) -> None:
        with self._db.cursor() as cursor, cursor.copy(_COPY) as copy:
            for row in rows:
                copy.write_row(row.as_tuple())

    def start_session(self, run_id: str, config: str, now_ns: int, pid: int) -> int:
        """Take the run's advisory lock (one writer per run), then register the session."""
        key = zlib.crc32(f"pengine:{self.schema}:{run_id}".encode())
        locked = self._execute("SELECT pg_try_advisory_lock(?)", (key,))
        if not locked or locked[0][0] is not True:
            raise JournalBusyError(
                f"journal {self.location}: run {run_id} is being written by another process; "
                "stop it first (two writers would interleave the run's records)"
            )
        return super().start_session(run_id, config, now_ns, pid)

    def close(self) -> None:
        """Close the connection (releasing the run's lock)."""
        self._db.close()


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
