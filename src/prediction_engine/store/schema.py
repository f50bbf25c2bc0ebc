"""The event store's tables (schema version 1): pyarrow schemas, events to columns and back.

Every table starts with ``ts_recv``, ``ts_event``, ``seq``, ``sub``, ``venue`` (see
``docs/event-store.md``). :func:`events_to_table` builds a table from ``(seq, sub, event)``
rows; :func:`table_to_events` turns a table back into the exact :mod:`core.events` objects.
The reading side is the backtester's hot path: :mod:`.reader` turns columns into events a block
of rows at a time.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

import msgspec
import pyarrow as pa

from prediction_engine.core.events import (
    BookDelta,
    BookSnapshot,
    Event,
    MarketListed,
    MarketResolved,
    ReferencePrice,
    TickSizeChanged,
    TopOfBook,
    Trade,
)
from prediction_engine.core.markets import Market
from prediction_engine.store.columns import (
    LEVELS,
    collector_paused,
    level_array,
    struct_columns,
)
from prediction_engine.store.reader import TableReader
from prediction_engine.store.tables import (
    BOOK_DELTAS,
    BOOK_SNAPSHOTS,
    LIFECYCLE,
    MARKETS,
    REFERENCE_PRICES,
    SCHEMA_VERSION,
    TABLES,
    TICK_SIZES,
    TOP_OF_BOOK,
    TRADES,
)

__all__ = [
    "BOOK_DELTAS",
    "BOOK_SNAPSHOTS",
    "DELTA_ENCODED",
    "DICTIONARY_COLUMNS",
    "DICTIONARY_ENCODED",
    "LIFECYCLE",
    "MARKETS",
    "MARKET_TABLES",
    "REFERENCE_PRICES",
    "SCHEMAS",
    "SCHEMA_VERSION",
    "TABLES",
    "TABLE_OF",
    "TICK_SIZES",
    "TOP_OF_BOOK",
    "TRADES",
    "MarketRecord",
    "Row",
    "check_reference",
    "events_to_table",
    "table_to_events",
    "table_to_markets",
]




class MarketRecord(msgspec.Struct, frozen=True):
    """A ``pengine.market`` frame: the market as our catalog knew it at ``ts_recv``.

    ``json`` is the frame's raw text (``msgspec.json.encode(market)``), stored as is.
    """

    ts_recv: int
    market: Market
    json: str


Row = tuple[int, int, Any]
"""``(seq, sub, item)``: an event (or a :class:`MarketRecord`) and its position on the tape."""

_I64, _I32, _STR, _BOOL = pa.int64(), pa.int32(), pa.string(), pa.bool_()
_DEC = pa.decimal128(38, 18)
_STRS = pa.list_(_STR)


def _schema(name: str, *fields: tuple[str, pa.DataType, bool]) -> pa.Schema:
    common = [("ts_recv", _I64, False), ("ts_event", _I64, False), ("seq", _I64, False),
              ("sub", _I32, False), ("venue", _STR, False)]
    meta = {"pengine.schema_version": str(SCHEMA_VERSION), "pengine.table": name}
    return pa.schema([pa.field(n, t, nullable) for n, t, nullable in (*common, *fields)], meta)


_MARKET_TOKEN = (("market", _STR, False), ("token", _STR, False))

SCHEMAS: Final[dict[str, pa.Schema]] = {
    BOOK_SNAPSHOTS: _schema(
        BOOK_SNAPSHOTS, *_MARKET_TOKEN, ("bids", LEVELS, False), ("asks", LEVELS, False),
        ("tick_size", _I64, True), ("min_order_size", _I64, True),
        ("last_trade_price", _I64, True), ("neg_risk", _BOOL, True), ("hash", _STR, False),
    ),
    BOOK_DELTAS: _schema(
        BOOK_DELTAS, *_MARKET_TOKEN, ("side", _STR, False), ("price", _I64, False),
        ("size", _I64, False), ("venue_best_bid", _I64, True), ("venue_best_ask", _I64, True),
        ("checkpoint", _BOOL, False), ("hash", _STR, False),
    ),
    TRADES: _schema(
        TRADES, *_MARKET_TOKEN, ("price", _I64, False), ("size", _I64, False),
        ("aggressor", _STR, True), ("trade_id", _STR, False), ("fee_rate_bps", _I32, True),
        ("transaction_hash", _STR, True),
    ),
    TOP_OF_BOOK: _schema(
        TOP_OF_BOOK, *_MARKET_TOKEN, ("best_bid", _I64, True), ("best_ask", _I64, True),
    ),
    TICK_SIZES: _schema(
        TICK_SIZES, *_MARKET_TOKEN, ("old_tick_size", _I64, False),
        ("new_tick_size", _I64, False),
    ),
    REFERENCE_PRICES: _schema(
        REFERENCE_PRICES, ("symbol", _STR, False), ("price", _DEC, False), ("size", _DEC, True),
        ("aggressor", _STR, True), ("trade_id", _STR, True),
    ),
    LIFECYCLE: _schema(
        LIFECYCLE, ("kind", _STR, False), ("market", _STR, False), ("market_id", _STR, False),
        ("question", _STR, True), ("slug", _STR, True), ("tokens", _STRS, False),
        ("outcomes", _STRS, True), ("tick_size", _I64, True), ("tags", _STRS, True),
        ("event_slug", _STR, True), ("description", _STR, True),
        ("winning_token", _STR, True), ("winning_outcome", _STR, True),
    ),
    MARKETS: _schema(
        MARKETS, ("market", _STR, False), ("slug", _STR, False), ("question", _STR, False),
        ("end_ns", _I64, True), ("json", _STR, False),
    ),
}
"""Every table's schema, in the documented column order."""

assert tuple(SCHEMAS) == TABLES, "one schema per table, in the tables' order"
MARKET_TABLES: Final = tuple(t for t in TABLES if t != REFERENCE_PRICES)
"""Tables partitioned by condition id (``reference_prices`` is partitioned by symbol)."""

TABLE_OF: Final[dict[type, str]] = {
    BookSnapshot: BOOK_SNAPSHOTS,
    BookDelta: BOOK_DELTAS,
    Trade: TRADES,
    TopOfBook: TOP_OF_BOOK,
    TickSizeChanged: TICK_SIZES,
    ReferencePrice: REFERENCE_PRICES,
    MarketListed: LIFECYCLE,
    MarketResolved: LIFECYCLE,
    MarketRecord: MARKETS,
}
"""The table each stored item type goes to (user-channel events are not stored)."""

DICTIONARY_COLUMNS: Final = ("venue", "market", "token", "side", "symbol", "aggressor", "kind")
"""Low-cardinality string columns; read them with ``read_dictionary`` for speed."""

DICTIONARY_ENCODED: Final = (*DICTIONARY_COLUMNS, "price", "venue_best_bid", "venue_best_ask",
                             "best_bid", "best_ask", "tick_size", "min_order_size",
                             "last_trade_price", "old_tick_size", "new_tick_size",
                             "fee_rate_bps")
"""Columns a part stores dictionary-encoded: few distinct values (ids, sides, prices on a tick
grid). The others are plain, which decodes faster than a dictionary that overflows."""

DELTA_ENCODED: Final = ("ts_recv", "ts_event", "seq", "sub")
"""Columns a part stores with Parquet's ``DELTA_BINARY_PACKED``: they rise row by row, so the
differences pack into a few bits (smaller and faster to decode than plain or dictionary)."""

_DECIMAL_SCALE: Final = 18
_DECIMAL_LIMIT: Final = Decimal(10) ** 20


def _fits(value: Decimal) -> bool:
    if not value.is_finite() or abs(value) >= _DECIMAL_LIMIT:
        return False
    _, digits, exponent = value.as_tuple()
    extra = -_DECIMAL_SCALE - int(exponent)  # digits past the 18th decimal must be zeros
    return extra <= 0 or not any(digits[-extra:])


def check_reference(event: ReferencePrice) -> None:
    """Raise ``ValueError`` if a price or size does not fit decimal128(38, 18) exactly."""
    for value in (event.price, event.size):
        if value is not None and not _fits(value):
            raise ValueError(f"{event.symbol} value {value} does not fit decimal(38, 18)")


# -- events to columns -------------------------------------------------------------------------


def _market_columns(items: Sequence[Any]) -> dict[str, Sequence[Any]]:
    markets = [item.market for item in items]
    return {
        "ts_recv": [item.ts_recv for item in items],
        "ts_event": [item.ts_recv for item in items],
        "venue": [m.venue for m in markets],
        "market": [m.condition_id for m in markets],
        "slug": [m.slug for m in markets],
        "question": [m.question for m in markets],
        "end_ns": [m.end_ns for m in markets],
        "json": [item.json for item in items],
    }


def events_to_table(table: str, rows: Sequence[Row]) -> pa.Table:
    """Build ``table`` from ``(seq, sub, item)`` rows, in the order given.

    Raises ``pyarrow.ArrowInvalid``/``OverflowError`` when a value does not fit its column.
    """
    with collector_paused():
        return _build(table, rows)


def _build(table: str, rows: Sequence[Row]) -> pa.Table:
    schema = SCHEMAS[table]
    seqs, subs, items = zip(*rows, strict=True) if rows else ((), (), ())
    values = _market_columns(items) if table == MARKETS else struct_columns(items)
    values |= {"seq": seqs, "sub": subs}
    if table == LIFECYCLE:
        values["kind"] = ["listed" if isinstance(i, MarketListed) else "resolved" for i in items]
    missing = [None] * len(items)  # lifecycle columns of the other kind
    columns = []
    for field in schema:
        column = values.get(field.name, missing)
        if field.name in ("bids", "asks"):
            columns.append(level_array(column))
        else:
            columns.append(pa.array(column, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


# -- columns to events -------------------------------------------------------------------------


def table_to_events(table_name: str, table: pa.Table) -> list[Event]:
    """Turn the rows of an event table back into events, in row order.

    ``table`` may hold any subset of rows of ``table_name`` (extra columns, such as hive
    partition columns, are ignored). Use :func:`table_to_markets` for ``markets``; a replay
    reads block by block with :class:`~.reader.TableReader`.
    """
    with collector_paused():
        return list(TableReader(table_name, table).events())


_market_decoder = msgspec.json.Decoder(Market)


def table_to_markets(table: pa.Table) -> list[Market]:
    """Decode a ``markets`` table's ``json`` column into :class:`Market` objects, in row order
    (condition and token ids interned, like the events' ids)."""
    return [_interned(_market_decoder.decode(text)) for text in table.column("json").to_pylist()]


def _interned(market: Market) -> Market:
    return msgspec.structs.replace(
        market,
        condition_id=sys.intern(market.condition_id),
        tokens=tuple(map(sys.intern, market.tokens)),
    )
