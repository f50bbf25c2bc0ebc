"""The Parquet event store: normalized events, partitioned by table, venue, date and market.

Layout, schema and rules are documented in ``docs/event-store.md``. ``convert`` turns tapes
(raw frames) into parts with the production parsers, ``csv_in`` reads CSV files in the
tables' columns, ``manifest`` says what the store holds, ``query`` lists and reads it, and
``schema`` converts events to columns and back.

May import ``core``, ``tape``, the venue parsers (pure codecs), pyarrow and polars; never the
engine, sessions or anything doing network I/O. Import from the modules (``store.convert``,
``store.query``, ...): this package itself loads nothing, so a command that only names the
tables (``store.tables``) does not pay for pyarrow and polars.
"""
