"""The event store's tables (schema version 1): pyarrow schemas, events to columns and back.

Every table starts with ``ts_recv``, ``ts_event``, ``seq``, ``sub``, ``venue`` (see
``docs/event-store.md``). :func:`events_to_table` builds a table from ``(seq, sub, event)``
rows; :func:`table_to_events` turns a table back into the exact :mod:`core.events` objects.
The reading side is the backtester's hot path, so it works column by column (see
:mod:`.columns`): one Python list per column, then one ``map`` constructing the structs
positionally, with ``Side``/``Venue`` looked up once per distinct value and timestamps shared
by the events of a frame.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
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
    Side,
    TickSizeChanged,
    TopOfBook,
    Trade,
)
from prediction_engine.core.ids import Venue
from prediction_engine.core.markets import Market
from prediction_engine.store.columns import (
    LEVELS,
    coded,
    collector_paused,
    ints,
    level_array,
    level_lists,
    plain,
    runs,
    struct_columns,
    tuples,
)
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
    "DICTIONARY_COLUMNS",
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

_SIDES: Final[dict[str | None, Side | None]] = {"BUY": Side.BUY, "SELL": Side.SELL, None: None}
_VENUES: Final[dict[str, Venue]] = {venue.value: venue for venue in Venue}


def _construct(kind: type[Event], columns: dict[str, list[Any]]) -> list[Event]:
    """``kind`` events from their columns: positional construction, in the struct's field
    order, mapped in C (no keyword matching, no interpreted loop)."""
    return list(map(kind, *(columns[name] for name in kind.__struct_fields__)))


def _event(t: pa.Table, **columns: list[Any]) -> dict[str, list[Any]]:
    """The columns every event has (venue, timestamps shared per frame), plus ``columns``."""
    return {
        "venue": coded(t, "venue", _VENUES.__getitem__), "ts_event": runs(t, "ts_event"),
        "ts_recv": runs(t, "ts_recv"), **columns,
    }


def _market_event(t: pa.Table, **columns: list[Any]) -> dict[str, list[Any]]:
    """The columns every market-data event has, plus ``columns``.

    Market and token ids are interned, as are those of :func:`table_to_markets`: the engine
    keys its dicts by them, and a lookup with the very key object skips comparing the text.
    """
    return _event(
        t, market=coded(t, "market", sys.intern), token=coded(t, "token", sys.intern), **columns
    )


def _book_deltas(t: pa.Table) -> list[Event]:
    return _construct(BookDelta, _market_event(
        t, side=coded(t, "side", _SIDES.__getitem__), price=coded(t, "price"), size=ints(t, "size"),
        venue_best_bid=coded(t, "venue_best_bid"), venue_best_ask=coded(t, "venue_best_ask"),
        checkpoint=plain(t, "checkpoint"), hash=plain(t, "hash"),
    ))


def _book_snapshots(t: pa.Table) -> list[Event]:
    return _construct(BookSnapshot, _market_event(
        t, bids=level_lists(t, "bids"), asks=level_lists(t, "asks"),
        tick_size=coded(t, "tick_size"), min_order_size=coded(t, "min_order_size"),
        last_trade_price=coded(t, "last_trade_price"), neg_risk=plain(t, "neg_risk"),
        hash=plain(t, "hash"),
    ))


def _trades(t: pa.Table) -> list[Event]:
    return _construct(Trade, _market_event(
        t, price=coded(t, "price"), size=ints(t, "size"),
        aggressor=coded(t, "aggressor", _SIDES.__getitem__), trade_id=plain(t, "trade_id"),
        fee_rate_bps=ints(t, "fee_rate_bps"), transaction_hash=plain(t, "transaction_hash"),
    ))


def _top_of_book(t: pa.Table) -> list[Event]:
    return _construct(TopOfBook, _market_event(
        t, best_bid=coded(t, "best_bid"), best_ask=coded(t, "best_ask"),
    ))


def _tick_sizes(t: pa.Table) -> list[Event]:
    return _construct(TickSizeChanged, _market_event(
        t, old_tick_size=coded(t, "old_tick_size"), new_tick_size=coded(t, "new_tick_size"),
    ))


def _reference_prices(t: pa.Table) -> list[Event]:
    return _construct(ReferencePrice, _event(
        t, symbol=coded(t, "symbol"), price=plain(t, "price"), size=plain(t, "size"),
        aggressor=coded(t, "aggressor", _SIDES.__getitem__), trade_id=plain(t, "trade_id"),
    ))


def _lifecycle(t: pa.Table) -> list[Event]:
    base = _event(t)
    columns = zip(
        base["venue"], base["ts_event"], base["ts_recv"], plain(t, "kind"), plain(t, "market"),
        plain(t, "market_id"), plain(t, "question"),
        plain(t, "slug"), tuples(t, "tokens"), tuples(t, "outcomes"),
        coded(t, "tick_size"), tuples(t, "tags"), plain(t, "event_slug"),
        plain(t, "description"), plain(t, "winning_token"),
        plain(t, "winning_outcome"), strict=False,
    )
    out: list[Event] = []
    for v, te, tr, kind, m, mid, q, slug, tokens, outs, tick, tags, es, desc, wt, wo in columns:
        if kind == "listed":
            out.append(MarketListed(
                venue=v, ts_event=te, ts_recv=tr, market=m, market_id=mid,
                question=q, slug=slug, tokens=tokens, outcomes=outs, tick_size=tick,
                tags=tags, event_slug=es, description=desc,
            ))
        else:
            out.append(MarketResolved(
                venue=v, ts_event=te, ts_recv=tr, market=m, market_id=mid,
                tokens=tokens, winning_token=wt, winning_outcome=wo,
            ))
    return out


_READERS: Final[dict[str, Callable[[pa.Table], list[Event]]]] = {
    BOOK_SNAPSHOTS: _book_snapshots,
    BOOK_DELTAS: _book_deltas,
    TRADES: _trades,
    TOP_OF_BOOK: _top_of_book,
    TICK_SIZES: _tick_sizes,
    REFERENCE_PRICES: _reference_prices,
    LIFECYCLE: _lifecycle,
}


def table_to_events(table_name: str, table: pa.Table) -> list[Event]:
    """Turn the rows of an event table back into events, in row order.

    ``table`` may hold any subset of rows of ``table_name`` (extra columns, such as hive
    partition columns, are ignored). Use :func:`table_to_markets` for ``markets``.
    """
    reader = _READERS.get(table_name)
    if reader is None:
        raise ValueError(f"{table_name!r} is not an event table; one of {sorted(_READERS)}")
    with collector_paused():
        return reader(table)


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
