"""The journal: every signal, command, report, fill, position, cash movement and snapshot of a
trading run, durable, queryable and enough to restore the engine after a crash.

Backends: DuckDB (an embedded file, the default: nothing to install or start) and PostgreSQL
(``postgresql://...``, for shared deployments). Both hold the same versioned schema, created and
migrated by :mod:`.migrations`. :class:`~.journal.Journal` is the engine-side writer,
:mod:`.restore` rebuilds an engine from the last snapshot and the records after it, and
:mod:`.queries` answers ``pengine journal orders | fills | positions | pnl``.

May import ``core``, ``engine`` (its plain-data records and snapshot) and the database drivers;
nothing here talks to venues. Import the modules themselves; this package loads nothing.
"""
