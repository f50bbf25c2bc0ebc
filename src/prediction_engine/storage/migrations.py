"""The journal's schema, version by version, for DuckDB and PostgreSQL.

A journal records its version in ``pengine_schema``. Opening one applies, in order and each in
its own transaction, every migration above its version; a journal newer than this pengine is
refused (:class:`~.errors.SchemaTooNewError`) rather than written in a shape it does not know.
To change the schema, append a migration here: never edit one that has shipped.

- v1: ``runs`` (one row per run id: the config it hashes), ``sessions`` (one row per process
  that wrote a run), ``journal`` (the records).
- v2: each record names the session that wrote it (``journal.session``); an index for the
  queries by kind.
"""

from __future__ import annotations

from typing import Literal

from prediction_engine.storage.errors import SchemaTooNewError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "VERSION_TABLE", "Dialect", "pending", "statements"]

Dialect = Literal["duckdb", "postgresql"]

_BYTES: dict[Dialect, str] = {"duckdb": "BLOB", "postgresql": "BYTEA"}

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # v1
        "CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, config TEXT NOT NULL, "
        "created_ns BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS sessions (run_id TEXT NOT NULL, session INTEGER NOT NULL, "
        "started_ns BIGINT NOT NULL, pid INTEGER NOT NULL, PRIMARY KEY (run_id, session))",
        "CREATE TABLE IF NOT EXISTS journal (run_id TEXT NOT NULL, seq BIGINT NOT NULL, "
        "ts_ns BIGINT NOT NULL, kind TEXT NOT NULL, strategy TEXT NOT NULL, "
        "client_id TEXT NOT NULL, market TEXT NOT NULL, token TEXT NOT NULL, "
        "payload {bytes} NOT NULL, crc BIGINT NOT NULL, PRIMARY KEY (run_id, seq))",
    ),
    (  # v2
        "ALTER TABLE journal ADD COLUMN session INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX IF NOT EXISTS journal_kind ON journal (run_id, kind, seq)",
    ),
)
"""``MIGRATIONS[v - 1]`` takes a journal from version ``v - 1`` to ``v``."""

SCHEMA_VERSION = len(MIGRATIONS)

VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS pengine_schema (version INTEGER NOT NULL, "
    "applied_ns BIGINT NOT NULL)"
)
"""Created before anything else; ``max(version)`` is the journal's version (none: 0)."""


def pending(current: int, location: str, target: int = SCHEMA_VERSION) -> range:
    """The versions to apply to reach ``target``; refuse a journal newer than this pengine."""
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"journal {location} has schema version {current}, newer than this pengine's "
            f"{SCHEMA_VERSION}: upgrade prediction-engine to read it (it was not modified)"
        )
    return range(current + 1, target + 1)


def statements(version: int, dialect: Dialect) -> list[str]:
    """The SQL that takes a journal to ``version`` (run it in one transaction, then record
    the version in ``pengine_schema``)."""
    return [statement.format(bytes=_BYTES[dialect]) for statement in MIGRATIONS[version - 1]]
