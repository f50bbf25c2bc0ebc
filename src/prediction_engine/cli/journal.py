"""``pengine journal``: what a trading run journaled: runs, orders, fills, positions, PnL,
signals; integrity checks and schema migration.

Thin shell: the queries are :mod:`prediction_engine.storage.queries`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from prediction_engine.cli import app
from prediction_engine.cli.common import fail, parse_time
from prediction_engine.storage.errors import JournalError

if TYPE_CHECKING:
    import polars as pl

    from prediction_engine.storage.sql import SqlBackend

__all__ = ["journal_app"]

journal_app = typer.Typer(
    help="Query a trading run's journal (DuckDB file or PostgreSQL): orders, fills, "
    "positions, PnL, signals; export them to CSV or Parquet; check its integrity.",
    no_args_is_help=True,
)
app.add_typer(journal_app, name="journal")

JournalOption = Annotated[
    str,
    typer.Option("--journal", "-j",
                 help="DuckDB file or postgresql://user@host/db[?schema=S] "
                 "(default: pengine paper's pengine-paper/journal.duckdb)."),
]
RunOption = Annotated[str | None, typer.Option("--run", help="Only this run id (see `runs`).")]
SinceOption = Annotated[
    str | None, typer.Option(help="Only from this time on: ISO-8601 (2026-11-21T10:30Z) or ns.")
]
CsvOption = Annotated[Path | None, typer.Option("--csv", help="Write the rows to this CSV file.")]
ParquetOption = Annotated[
    Path | None, typer.Option("--parquet", help="Write the rows to this Parquet file.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")]
LimitOption = Annotated[int, typer.Option(help="Most rows shown in the table (the last ones; "
                                          "exports hold all).", min=1)]

_DEFAULT = "pengine-paper/journal.duckdb"


def _open(target: str) -> SqlBackend:
    from prediction_engine.storage.journal import is_database_url, open_backend

    if not is_database_url(target) and not Path(target).exists():
        fail(f"journal {target} does not exist (pengine paper writes OUT/journal.duckdb; "
             "pass --journal)")
    try:
        backend = open_backend(target)
        applied = backend.migrate(time.time_ns())
    except JournalError as e:
        fail(str(e), 3)
    if applied:
        typer.echo(f"migrated journal {backend.location} to schema version {applied[-1]}",
                   err=True)
    return backend


def _query(name: str, target: str, run: str | None, since: str | None) -> pl.DataFrame:
    from prediction_engine.storage.queries import QUERIES

    since_ns = parse_time(since, "--since") if since else None
    with _open(target) as backend:
        try:
            return QUERIES[name](backend, run, since_ns)
        except JournalError as e:
            fail(str(e), 3)


def _show(frame: pl.DataFrame, title: str, limit: int, as_json: bool) -> None:
    if as_json:
        for row in frame.iter_rows(named=True):
            typer.echo(_json_line(row))
        return
    table = Table(title=f"{title} ({frame.height} rows)", title_justify="left")
    shown = [c for c in frame.columns if c not in ("ts_ns", "run_id")
             or frame["run_id"].n_unique() > 1]
    for column in shown:
        table.add_column(column, overflow="fold")
    for values in frame.tail(limit).select(shown).iter_rows():
        table.add_row(*("" if v is None else str(v) for v in values))
    Console().print(table)


def _json_line(row: dict[str, object]) -> str:
    import msgspec

    return msgspec.json.encode({k: str(v) if v is not None and not isinstance(
        v, int | float | str) else v for k, v in row.items()}).decode()


def _export(frame: pl.DataFrame, csv: Path | None, parquet: Path | None) -> None:
    for path, write in ((csv, frame.write_csv), (parquet, frame.write_parquet)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            write(path)
            typer.echo(f"wrote {frame.height} rows to {path}", err=True)


def _command(name: str, doc: str) -> None:
    def command(  # noqa: PLR0917 - a command line is a long parameter list
        journal: JournalOption = _DEFAULT,
        run: RunOption = None,
        since: SinceOption = None,
        csv: CsvOption = None,
        parquet: ParquetOption = None,
        json: JsonOption = False,
        limit: LimitOption = 50,
    ) -> None:
        frame = _query(name, journal, run, since)
        _export(frame, csv, parquet)
        if (csv is None and parquet is None) or json:
            _show(frame, name.capitalize(), limit, json)

    command.__doc__ = doc
    journal_app.command(name)(command)


_command("orders", "Every order with its latest state (status, filled, reason).\n\n"
         "Example: pengine journal orders --since 2026-11-21 --csv orders.csv")
_command("fills", "Every fill: price, size, fee, maker or taker.\n\n"
         "Example: pengine journal fills --run 1a6ebb7251fdebee --parquet fills.parquet")
_command("positions", "Every token held or once held: shares, average price, cost, mark "
         "(latest snapshot), realized PnL, fees.")
_command("pnl", "PnL per run and strategy: fills, volume, fees, realized, unrealized at the "
         "latest snapshot's marks; the '*' row adds cash and equity. With --since: realized, "
         "fees and volume from then on.")
_command("signals", "Every strategy signal and what became of it (sized, stale, no_size).")


@journal_app.command()
def runs(journal: JournalOption = _DEFAULT) -> None:
    """The runs in a journal: id, sessions (process starts), records, configuration."""
    with _open(journal) as backend:
        found = backend.runs()
    table = Table(title=f"Runs in {journal}", title_justify="left")
    for column in ("run id", "sessions", "records", "last record (UTC)", "config"):
        table.add_column(column, overflow="fold")
    from prediction_engine.engine.telemetry import iso_utc

    for r in found:
        table.add_row(r.run_id, str(r.sessions), str(r.records),
                      iso_utc(r.last_ts_ns) if r.records else "", r.config)
    Console().print(table)


@journal_app.command()
def check(journal: JournalOption = _DEFAULT, run: RunOption = None) -> None:
    """Verify every record (checksums, sequence, decoding) and say what is recoverable.

    Exits 0 when every run is intact, 3 when something is damaged or missing.
    """
    from prediction_engine.storage.restore import check_run

    damaged = False
    with _open(journal) as backend:
        ids = [run] if run else [r.run_id for r in backend.runs()]
        for run_id in ids:
            result = check_run(backend, run_id)
            damaged |= not result.ok
            if result.ok:
                typer.echo(f"run {run_id}: {result.records} records intact, "
                           f"{len(result.snapshots)} snapshots")
            else:
                typer.echo(result.describe(backend.location))
    if damaged:
        raise typer.Exit(3)


@journal_app.command()
def migrate(journal: JournalOption = _DEFAULT) -> None:
    """Bring a journal's schema to this pengine's version (opening one does it too)."""
    with _open(journal) as backend:
        typer.echo(f"journal {backend.location}: schema version {backend.schema_version()}")
