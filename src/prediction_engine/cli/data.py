"""``pengine data``: list, show and convert the Parquet event store.

Thin shell: argument parsing and rendering only; the work is in :mod:`prediction_engine.store`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from prediction_engine.cli import app
from prediction_engine.cli.common import fail, parse_time
from prediction_engine.core.ids import Venue
from prediction_engine.core.numbers import format_micro
from prediction_engine.store.manifest import StoreError
from prediction_engine.store.tables import CSV_TABLES, TABLES
from prediction_engine.tape import TapeError

if TYPE_CHECKING:  # pyarrow and polars load only when a command reads or writes the store
    from prediction_engine.store.convert import ConvertStats
    from prediction_engine.store.csv_in import CsvRows

__all__ = ["data_app", "default_root"]

data_app = typer.Typer(
    help="The Parquet event store: what it holds, its rows, and converting tapes and CSV "
    "files into it (schema: docs/event-store.md).",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")

_MICRO_COLUMNS = frozenset((
    "price", "size", "venue_best_bid", "venue_best_ask", "best_bid", "best_ask",
    "old_tick_size", "new_tick_size", "tick_size", "min_order_size", "last_trade_price",
))
_ID_COLUMNS = frozenset(("market", "token", "hash", "trade_id", "transaction_hash",
                         "winning_token"))
_HIDDEN = frozenset(("seq", "sub"))
"""Columns left out of the table view (tape order is the row order; --json has them)."""
_TAPE_GLOBS = ("*.jsonl.gz", "*.jsonl")


def default_root() -> Path:
    """``$PENGINE_DATA_DIR/store``, or ``./data/store`` when the variable is not set."""
    base = os.environ.get("PENGINE_DATA_DIR")
    return (Path(base).expanduser() if base else Path("data")) / "store"


RootArgument = Annotated[
    Path | None,
    typer.Argument(
        help="Store root, or a recorder's directory holding store/. "
        "Default: $PENGINE_DATA_DIR/store, else ./data/store.",
        show_default=False,
    ),
]


def _root(path: Path | None) -> Path:
    from prediction_engine.store.query import resolve_root

    try:
        return resolve_root(path or default_root())
    except StoreError as e:
        fail(str(e))


def _when(ns: int) -> str:
    seconds, rest = divmod(ns, 1_000_000_000)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%d %H:%M:%S}.{rest // 1_000_000:03d}"


def _time_option(text: str | None, option: str) -> int | None:
    return None if text is None else parse_time(text, option)


# -- list ----------------------------------------------------------------------------------------


@data_app.command("list")
def list_store(
    root: RootArgument = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """List what an event store holds: per table, venue and date, the files, markets, rows
    and the first and last receive time (UTC).

    Read from the store's manifest.json, so it is instant on any size of store.
    Example: pengine data list data/recording
    """
    from prediction_engine.store.query import summarize

    path = _root(root)
    try:
        summary = summarize(path)
    except StoreError as e:
        fail(str(e))
    if json_output:
        out = asdict(summary) | {"root": str(summary.root)}
        sys.stdout.write(msgspec.json.encode(out).decode() + "\n")
        return
    typer.echo(f"store {path}: {summary.sources} source(s), {summary.complete} complete")
    table = Table()
    for name in ("table", "venue", "date", "files", "markets", "rows", "first", "last"):
        right = name in ("files", "markets", "rows")
        table.add_column(name, justify="right" if right else "left", no_wrap=True)
    for p in summary.partitions:
        table.add_row(p.table, p.venue, p.date, f"{p.files:,}", f"{p.markets:,}",
                      f"{p.rows:,}", _when(p.first_ns), _when(p.last_ns))
    Console(width=160).print(table)


# -- show ----------------------------------------------------------------------------------------


def _short(text: str, column: str) -> str:
    if len(text) <= 16:
        return text
    return f"{text[:10]}…{text[-4:]}" if column in _ID_COLUMNS else f"{text[:23]}…"


def _cell(table: str, column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column in ("ts_recv", "ts_event", "end_ns"):
        return _when(value)
    if column in _MICRO_COLUMNS and table != "reference_prices":
        return format_micro(value)
    if column in ("bids", "asks"):  # the best level and how many more
        if not value:
            return "-"
        best = f"{format_micro(value[0]['price'])} x {format_micro(value[0]['size'])}"
        return best + (f" (+{len(value) - 1})" if len(value) > 1 else "")
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return _short(str(value), column)


@data_app.command()
def show(  # noqa: PLR0917 (typer options)
    root: RootArgument = None,
    table: Annotated[
        str, typer.Option("--table", "-t", help=f"One of: {', '.join(TABLES)}.")
    ] = "book_deltas",
    market: Annotated[
        str | None,
        typer.Option(help="Condition id (or symbol, for reference_prices)."),
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="First receive time: ISO 8601 (UTC) or ns.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="End receive time (exclusive): ISO 8601 or ns.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Most rows shown.")] = 20,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print exact values as JSON, one row per line.")
    ] = False,
) -> None:
    """Show the first rows of a table in tape order, optionally for one market and time range.

    Prices and sizes show as decimals and long ids shortened (the store keeps integer
    micro-units; --json prints every column exactly as stored).
    Example: pengine data show --table trades --from 2026-03-12T09:00
    """
    if table not in TABLES:
        raise typer.BadParameter(f"unknown table {table!r}; one of {', '.join(TABLES)}",
                                 param_hint="--table")
    from prediction_engine.store.query import scan

    from_ns, to_ns = _time_option(from_, "--from"), _time_option(to, "--to")
    path = _root(root)
    try:
        lazy = scan(path, table, market=market, from_ns=from_ns, to_ns=to_ns)
        frame = lazy.sort(["seq", "sub"]).head(limit).collect()
    except StoreError as e:
        fail(str(e))
    rows = frame.to_dicts()
    if json_output:
        for row in rows:
            sys.stdout.write(msgspec.json.encode(row).decode() + "\n")
        return
    if not rows:
        typer.echo(f"no {table} rows match")
        return
    view = Table()
    columns = [c for c in frame.columns if c not in _HIDDEN]
    for column in columns:
        view.add_column(column, overflow="fold", no_wrap=column.startswith("ts_"))
    for row in rows:
        view.add_row(*(_cell(table, column, row[column]) for column in columns))
    Console().print(view)


# -- convert -------------------------------------------------------------------------------------


def _expand(inputs: list[Path]) -> list[Path]:
    """Files as given; a directory stands for its tapes (``*.jsonl.gz``, ``*.jsonl``), sorted."""
    out: list[Path] = []
    for path in inputs:
        if path.is_dir():
            found = sorted({f for pattern in _TAPE_GLOBS for f in path.glob(pattern)})
            if not found:
                fail(f"{path} holds no tapes (*.jsonl.gz, *.jsonl)")
            out.extend(found)
        else:
            out.append(path)
    return out


def _check_csv(paths: list[Path], table: str | None, micro: bool,
               venue: str | None) -> dict[Path, CsvRows]:
    """Read and check every CSV input before anything is written."""
    from prediction_engine.store.csv_in import CsvError, read_csv

    if not paths:
        return {}
    if table is None:
        raise typer.BadParameter(f"CSV input needs --table (one of {', '.join(CSV_TABLES)})",
                                 param_hint="--table")
    if table not in CSV_TABLES:
        raise typer.BadParameter(f"a CSV file can fill one of {', '.join(CSV_TABLES)}",
                                 param_hint="--table")
    try:
        chosen = None if venue is None else Venue(venue.lower())
    except ValueError:
        raise typer.BadParameter(f"one of {', '.join(v.value for v in Venue)}",
                                 param_hint="--venue") from None
    try:
        return {p: read_csv(p, table, micro=micro, venue=chosen) for p in paths}
    except CsvError as e:
        fail(str(e))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(bar_width=None), DownloadColumn(),
        TimeRemainingColumn(), console=Console(stderr=True), transient=True,
    )


def _convert_all(paths: list[Path], csvs: dict[Path, CsvRows], root: Path,
                 bucket_s: int) -> list[ConvertStats]:
    from prediction_engine.store.convert import convert_tape
    from prediction_engine.store.csv_in import write_csv

    results: list[ConvertStats] = []
    sizes = {p: p.stat().st_size for p in paths}
    with _progress() as progress:
        task = progress.add_task("converting", total=sum(sizes.values()) or 1)
        done = 0
        for path in paths:
            progress.update(task, description=path.name, completed=done)
            if path in csvs:
                results.append(write_csv(csvs[path], root, bucket_s=bucket_s))
            else:
                def advance(read: int, base: int = done) -> None:
                    progress.update(task, completed=base + read)

                results.append(convert_tape(path, root, bucket_s=bucket_s, on_progress=advance))
            done += sizes[path]
    return results


def _summary(results: list[ConvertStats], root: Path) -> None:
    view = Table(title=f"converted into {root}")
    for name in ("source", "frames", "rows", "files", "errors", "by table"):
        view.add_column(name, justify="right" if name in ("frames", "rows", "files",
                                                           "errors") else "left")
    for stats in results:
        tables = ", ".join(f"{t} {n:,}" for t, n in sorted(stats.events.items()))
        note = " (truncated)" if stats.truncated else ""
        view.add_row(stats.source + note, f"{stats.frames:,}", f"{stats.rows:,}",
                     f"{stats.files:,}", f"{stats.errors:,}", tables)
    Console(width=160).print(view)
    for stats in results:
        for channel, count in sorted(stats.unknown_channels.items()):
            typer.echo(f"warning: {stats.source}: skipped {count} frame(s) of unknown channel "
                       f"{channel!r}", err=True)
        for message in stats.first_errors:
            typer.echo(f"warning: {stats.source}: {message}", err=True)
        if stats.errors > len(stats.first_errors):
            typer.echo(f"warning: {stats.source}: {stats.errors - len(stats.first_errors)} "
                       "more error(s) not shown", err=True)


@data_app.command()
def convert(  # noqa: PLR0917 (typer options)
    inputs: Annotated[
        list[Path],
        typer.Argument(
            metavar="INPUT...", exists=True, readable=True, show_default=False,
            help="Tapes (*.jsonl.gz, *.jsonl; a directory means all its tapes) or CSV files.",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", show_default=False,
                     help="Store root. Default: $PENGINE_DATA_DIR/store, else ./data/store."),
    ] = None,
    bucket_s: Annotated[
        int, typer.Option("--bucket-s", help="Seconds of receive time per part file.")
    ] = 3600,
    table: Annotated[
        str | None, typer.Option("--table", "-t", help=f"CSV only: {', '.join(CSV_TABLES)}.")
    ] = None,
    micro: Annotated[
        bool, typer.Option(help="CSV only: prices and sizes are integer micro-units.")
    ] = False,
    venue: Annotated[
        str | None,
        typer.Option(help="CSV only: venue of rows without one (default polymarket)."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print each source's stats as JSON.")
    ] = False,
) -> None:
    """Convert tapes or CSV files into the Parquet event store.

    Frames are parsed by the same parsers as live trading; a frame that does not parse is
    counted and skipped. Converting a tape again replaces what it wrote before, with the
    same bytes. A CSV file has the columns of its --table (see docs/event-store.md); every
    row is checked first, and a bad one stops the command before anything is written.
    Example: pengine data convert data/recording/tapes --out data/recording/store
    """
    from prediction_engine.store.convert import check_bucket

    try:
        check_bucket(bucket_s)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--bucket-s") from None
    paths = _expand(inputs)
    csvs = _check_csv([p for p in paths if p.suffix.lower() == ".csv"], table, micro, venue)
    root = out or default_root()
    try:
        results = _convert_all(paths, csvs, root, bucket_s)
    except (TapeError, StoreError) as e:
        fail(str(e))
    if json_output:
        for stats in results:
            row = asdict(stats) | {"rows": stats.rows}
            sys.stdout.write(msgspec.json.encode(row).decode() + "\n")
        return
    _summary(results, root)
