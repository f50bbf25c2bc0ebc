"""The Parquet event store: normalized events, partitioned by table, venue, date and market.

Layout, schema and rules are documented in ``docs/event-store.md``. ``convert`` turns tapes
(raw frames) into parts with the production parsers, ``csv_in`` reads CSV files in the
tables' columns, ``manifest`` says what the store holds, ``query`` lists and reads it, and
``schema`` converts events to columns and back.

May import ``core``, ``tape``, the venue parsers (pure codecs), pyarrow and polars; never the
engine, sessions or anything doing network I/O.
"""

from prediction_engine.store.convert import ConvertStats, StoreWriter, check_bucket, convert_tape
from prediction_engine.store.manifest import (
    FileEntry,
    Manifest,
    StoreError,
    TapeEntry,
    load_manifest,
)
from prediction_engine.store.query import (
    PartitionSummary,
    StoreSummary,
    read_events,
    resolve_root,
    scan,
    summarize,
)
from prediction_engine.store.schema import (
    SCHEMA_VERSION,
    SCHEMAS,
    TABLES,
    MarketRecord,
    events_to_table,
    table_to_events,
    table_to_markets,
)

__all__ = [
    "SCHEMAS",
    "SCHEMA_VERSION",
    "TABLES",
    "ConvertStats",
    "FileEntry",
    "Manifest",
    "MarketRecord",
    "PartitionSummary",
    "StoreError",
    "StoreSummary",
    "StoreWriter",
    "TapeEntry",
    "check_bucket",
    "convert_tape",
    "events_to_table",
    "load_manifest",
    "read_events",
    "resolve_root",
    "scan",
    "summarize",
    "table_to_events",
    "table_to_markets",
]
