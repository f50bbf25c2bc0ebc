"""Journal targets for the tests: a DuckDB file, and a throwaway schema on the local
PostgreSQL server (skipped, saying why, only where no server answers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_reachable() -> str | None:
    """None when the local server answers, else why not."""
    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as e:
        return f"no PostgreSQL server at {PG_URL}: {str(e).strip().splitlines()[0]}"
    return None


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["duckdb", "postgresql"])
def journal_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a test's journal goes: a DuckDB file, or a fresh PostgreSQL schema."""
    if request.param == "duckdb":
        yield str(tmp_path / "journal.duckdb")
        return
    why = postgres_reachable()
    if why is not None:
        pytest.skip(why)
    schema = f"pengine_test_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{PG_URL}?schema={schema}"
    finally:
        drop_schema(schema)
