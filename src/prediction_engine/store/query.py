"""What a store holds (from its manifest) and how to read it back.

:func:`summarize` lists tables, venues, dates, markets, rows and time ranges without opening
a Parquet file. :func:`scan` gives a polars ``LazyFrame`` of one table, pruned to the files
that can match. :func:`read_events` gives the events themselves, merged across tables in tape
order (``seq``, ``sub``), which is the order the production parsers produced them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from prediction_engine.core.events import Event
from prediction_engine.store.manifest import (
    MANIFEST_NAME,
    FileEntry,
    Manifest,
    StoreError,
    load_manifest,
)
from prediction_engine.store.schema import (
    DICTIONARY_COLUMNS,
    MARKETS,
    SCHEMAS,
    TABLES,
    table_to_events,
)

__all__ = [
    "EVENT_TABLES",
    "PartitionSummary",
    "StoreSummary",
    "read_events",
    "read_part",
    "resolve_root",
    "scan",
    "select_files",
    "summarize",
]

EVENT_TABLES = tuple(table for table in TABLES if table != MARKETS)


@dataclass(frozen=True)
class PartitionSummary:
    """One table x venue x date of a store."""

    table: str
    venue: str
    date: str
    files: int
    markets: int
    rows: int
    first_ns: int
    last_ns: int


@dataclass(frozen=True)
class StoreSummary:
    """A store's sources and partitions."""

    root: Path
    sources: int
    complete: int
    """Sources converted to their end (the others are being recorded, or were cut by a crash)."""
    partitions: list[PartitionSummary]


def resolve_root(path: Path) -> Path:
    """The store at ``path``, or at ``path/store`` when ``path`` is a recorder's directory."""
    if (path / MANIFEST_NAME).is_file():
        return path
    if (path / "store" / MANIFEST_NAME).is_file():
        return path / "store"
    raise StoreError(
        f"no event store at {path} (neither {MANIFEST_NAME} nor store/{MANIFEST_NAME})"
    )


def summarize(root: Path) -> StoreSummary:
    """Per table, venue and date: files, distinct markets, rows, first and last receive time."""
    manifest = load_manifest(root)
    groups: dict[tuple[str, str, str], list[FileEntry]] = {}
    for entry in manifest.files:
        groups.setdefault((entry.table, entry.venue, entry.date), []).append(entry)
    partitions = [
        PartitionSummary(
            table, venue, date, len(files), len({f.market for f in files}),
            sum(f.rows for f in files), min(f.ts_recv_min for f in files),
            max(f.ts_recv_max for f in files),
        )
        for (table, venue, date), files in sorted(groups.items(), key=lambda kv: _order(kv[0]))
    ]
    complete = sum(tape.complete for tape in manifest.tapes)
    return StoreSummary(root, len(manifest.tapes), complete, partitions)


def _order(key: tuple[str, str, str]) -> tuple[int, str, str]:
    table, venue, date = key
    return (TABLES.index(table) if table in TABLES else len(TABLES), venue, date)


def _check_table(table: str) -> None:
    if table not in SCHEMAS:
        raise StoreError(f"unknown table {table!r}; one of {', '.join(TABLES)}")


def select_files(
    manifest: Manifest,
    table: str,
    *,
    markets: Collection[str] | None = None,
    from_ns: int | None = None,
    to_ns: int | None = None,
) -> list[FileEntry]:
    """The files of ``table`` that can hold rows of ``markets`` with ``from_ns <= ts_recv < to_ns``.

    ``markets`` are condition ids, or symbols for ``reference_prices`` (any case).
    """
    _check_table(table)
    wanted = None if markets is None else {m.lower() for m in markets}
    return sorted(
        (
            f for f in manifest.files
            if f.table == table
            and (wanted is None or f.market.lower() in wanted)
            and (from_ns is None or f.ts_recv_max >= from_ns)
            and (to_ns is None or f.ts_recv_min < to_ns)
        ),
        key=lambda f: f.path,
    )


def scan(
    root: Path,
    table: str,
    *,
    market: str | None = None,
    from_ns: int | None = None,
    to_ns: int | None = None,
) -> pl.LazyFrame:
    """One table as a polars ``LazyFrame`` with exactly the table's columns, file by file
    (sort by ``seq``, ``sub`` for tape order); ``from_ns`` inclusive, ``to_ns`` exclusive."""
    markets = None if market is None else [market]
    files = select_files(load_manifest(root), table, markets=markets, from_ns=from_ns, to_ns=to_ns)
    if not files:
        frame = pl.from_arrow(SCHEMAS[table].empty_table())
        assert isinstance(frame, pl.DataFrame)
        return frame.lazy()
    lazy = pl.scan_parquet([root / f.path for f in files], hive_partitioning=False)
    if from_ns is not None:
        lazy = lazy.filter(pl.col("ts_recv") >= from_ns)
    if to_ns is not None:
        lazy = lazy.filter(pl.col("ts_recv") < to_ns)
    return lazy


def read_part(path: Path, table: str, omit: Collection[str] = ()) -> pa.Table:
    """Read one part with its low-cardinality strings dictionary-encoded (fastest to convert),
    without the columns named in ``omit``.

    Single-threaded: a part is one row group, and backtest sweeps already run one process per
    core (threads measured twice as slow on a busy 2-core machine).
    """
    names = SCHEMAS[table].names
    # ParquetFile rather than read_table: the dataset layer read_table goes through costs
    # more than the decoding on parts of this size (measured 2-3x on a 68k-row part).
    with pq.ParquetFile(
        path, read_dictionary=[c for c in DICTIONARY_COLUMNS if c in names]
    ) as part:
        columns = [c for c in part.schema_arrow.names if c not in omit] if omit else None
        return part.read(columns=columns, use_threads=False)


def _time_filter(table: pa.Table, from_ns: int | None, to_ns: int | None) -> pa.Table:
    mask = None
    ts = table.column("ts_recv")
    if from_ns is not None:
        mask = pc.greater_equal(ts, from_ns)
    if to_ns is not None:
        upper = pc.less(ts, to_ns)
        mask = upper if mask is None else pc.and_(mask, upper)
    return table if mask is None else table.filter(mask)


def read_events(
    root: Path,
    tables: Iterable[str] = EVENT_TABLES,
    *,
    markets: Collection[str] | None = None,
    from_ns: int | None = None,
    to_ns: int | None = None,
) -> list[Event]:
    """The events of ``tables`` in tape order (by ``seq``, then ``sub``), as the parsers made them.

    ``markets`` filters market tables by condition id and ``reference_prices`` by symbol.
    """
    manifest = load_manifest(root)
    events: list[Event] = []
    seqs: list[np.ndarray] = []
    subs: list[np.ndarray] = []
    for table in tables:
        if table == MARKETS:
            raise StoreError("markets holds no events; read it with scan() or table_to_markets()")
        for entry in select_files(manifest, table, markets=markets, from_ns=from_ns, to_ns=to_ns):
            part = _time_filter(read_part(root / entry.path, table), from_ns, to_ns)
            events.extend(table_to_events(table, part))
            seqs.append(part.column("seq").to_numpy())
            subs.append(part.column("sub").to_numpy())
    if not events:
        return events
    order = np.lexsort((np.concatenate(subs), np.concatenate(seqs)))
    return [events[i] for i in order.tolist()]
