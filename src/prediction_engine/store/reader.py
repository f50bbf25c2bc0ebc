"""Event tables read back into events: each column described once, any rows turned into events.

A :class:`TableReader` describes each field of a table's struct as a *column* built once from
its Arrow array: dictionary codes with one Python object per distinct value (ids and enums;
ids interned, since the engine keys its dicts by them), 64-bit integers (timestamps, prices,
sizes) that share one ``int`` per value as long as a small cache keeps it, booleans, book
sides, or one object per row. :meth:`TableReader.events` turns any rows into events in Python; the
replay hands the same descriptions to the C assembler (:mod:`.assemble`), which builds the
events straight into frames.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Sequence
from functools import partial
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
from prediction_engine.store.tables import (
    BOOK_DELTAS,
    BOOK_SNAPSHOTS,
    LIFECYCLE,
    REFERENCE_PRICES,
    TICK_SIZES,
    TOP_OF_BOOK,
    TRADES,
)

__all__ = [
    "BOOLS",
    "CODES",
    "CONST",
    "EVENT_READERS",
    "INTS",
    "LEVELS",
    "OBJECTS",
    "RECV",
    "REPLAY_OMITS",
    "Column",
    "TableReader",
    "column_values",
    "numbers",
]

CODES, INTS, BOOLS, OBJECTS, LEVELS, CONST, RECV = range(1, 8)
"""Column kinds (see ``_assemble.c``): ``(CODES, int32 codes, objects)``, ``(INTS, int64[,
uint8 valid])`` (``None`` where not valid; equal values share one object as far as a small
cache keeps them), ``(BOOLS, uint8)``, ``(OBJECTS, sequence)``,
``(LEVELS, int32 offsets, int64 prices, int64 sizes)``, ``(CONST, object)`` and ``(RECV,)``
(the receive time of the row's frame)."""

Column = tuple[Any, ...]
"""``(kind, *payload)``, indexed by table row."""


def numbers(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An integer or boolean array without nulls as numpy, straight from its Arrow buffers
    (integers zero-copy; ``to_numpy`` goes through pyarrow's pandas conversion layer)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    if array.null_count:
        raise ValueError(f"a {array.type} column with nulls has no numpy form here")
    if pa.types.is_boolean(array.type):
        bits = np.frombuffer(array.buffers()[1], dtype=np.uint8)
        return np.unpackbits(bits, bitorder="little")[array.offset: array.offset + len(array)]
    return _buffer_ints(array)


def _buffer_ints(array: pa.Array) -> np.ndarray:
    """An integer array's data buffer as numpy, zero-copy (null slots hold anything)."""
    kind = "int" if pa.types.is_signed_integer(array.type) else "uint"
    values = np.frombuffer(array.buffers()[1], dtype=f"{kind}{array.type.bit_width}")
    return values[array.offset: array.offset + len(array)]


# -- columns -----------------------------------------------------------------------------------


def _codes(array: pa.Array, convert: Callable[[Any], Any] | None = None) -> Column:
    """One object per distinct value, optionally through ``convert`` (an enum lookup, or
    ``sys.intern``: a dict lookup with the very key object skips comparing the text); nulls
    point to an extra ``None``."""
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    distinct = array.dictionary.to_pylist()
    if convert is not None:
        distinct = [convert(value) for value in distinct]
    if len(distinct) == 1 and not array.null_count:  # a part's market, the venue
        return (CONST, distinct[0])
    indices = array.indices
    if not indices.null_count:
        return (CODES, numbers(indices).astype(np.int32, copy=False), (*distinct, None))
    # Nulls point past the distinct values; numpy, not Arrow's fill_null (pyarrow.compute's
    # functions import pandas, 0.4 s once per process).
    codes = _buffer_ints(indices).astype(np.int32)  # a copy
    codes[_bits(indices.buffers()[0], indices.offset, len(indices)) == 0] = len(distinct)
    return (CODES, codes, (*distinct, None))


def _values(array: pa.Array) -> Column:
    """Integers (nulls too) and booleans stay numpy; anything else is one object per row."""
    if pa.types.is_integer(array.type):
        values = _buffer_ints(array).astype(np.int64, copy=False)
        if not array.null_count:
            return (INTS, values)
        return (INTS, values, _bits(array.buffers()[0], array.offset, len(array)))
    if not array.null_count and pa.types.is_boolean(array.type):
        return (BOOLS, numbers(array))
    return (OBJECTS, array.to_pylist())


def _bits(buffer: pa.Buffer, offset: int, length: int) -> np.ndarray:
    """An Arrow bitmap as one uint8 (0 or 1) per row."""
    bits = np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), bitorder="little")
    return bits[offset: offset + length]


def _levels(array: pa.Array) -> Column:
    """A book side (list<struct<price, size>>): best level first."""
    flat = array.values
    return (LEVELS, numbers(array.offsets).astype(np.int32, copy=False),
            numbers(flat.field("price")), numbers(flat.field("size")))


def _objects(values: Sequence[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _shared(values: list[int]) -> list[int]:
    """``values`` with one object per distinct value."""
    first: dict[int, int] = {}
    return [first.setdefault(value, value) for value in values]


def column_values(column: Column, rows: np.ndarray, recv: Sequence[Any] = ()) -> list[Any]:
    """The objects of ``column`` for table rows ``rows``, as the C assembler makes them
    (``recv``: the receive-time objects of the rows' frames, for a ``RECV`` column)."""
    kind = column[0]
    if kind == CODES:
        return _objects(column[2])[column[1][rows]].tolist()  # type: ignore[no-any-return]
    if kind == INTS:
        values = _shared(column[1][rows].tolist())
        if len(column) < 3 or column[2] is None:
            return values
        return [v if ok else None for v, ok in zip(values, column[2][rows].tolist(), strict=True)]
    if kind == BOOLS:
        return column[1][rows].astype(bool).tolist()  # type: ignore[no-any-return]
    if kind == OBJECTS:
        objects = column[1]
        return [objects[row] for row in rows.tolist()]
    if kind == LEVELS:
        offsets, prices, sizes = column[1], column[2].tolist(), column[3].tolist()
        pairs = list(zip(prices, sizes, strict=True))
        return [tuple(pairs[offsets[row]:offsets[row + 1]]) for row in rows.tolist()]
    if kind == CONST:
        return [column[1]] * len(rows)
    if kind == RECV:
        return list(recv)
    raise ValueError(f"unknown column kind {kind}")


_SIDES: Final[dict[str | None, Side | None]] = {"BUY": Side.BUY, "SELL": Side.SELL, None: None}
_VENUES: Final[dict[str, Venue]] = {venue.value: venue for venue in Venue}

_venue = partial(_codes, convert=_VENUES.__getitem__)
_side = partial(_codes, convert=_SIDES.__getitem__)
_id = partial(_codes, convert=sys.intern)

_Factory = Callable[[pa.Array], Column]

_EVENT: Final[dict[str, _Factory]] = {"venue": _venue, "ts_event": _values, "ts_recv": _values}
_MARKET_EVENT: Final[dict[str, _Factory]] = {**_EVENT, "market": _id, "token": _id}

EVENT_READERS: Final[dict[str, tuple[type[Event], dict[str, _Factory]]]] = {
    BOOK_SNAPSHOTS: (BookSnapshot, {
        **_MARKET_EVENT, "bids": _levels, "asks": _levels, "tick_size": _values,
        "min_order_size": _values, "last_trade_price": _values, "neg_risk": _values,
        "hash": _values,
    }),
    BOOK_DELTAS: (BookDelta, {
        **_MARKET_EVENT, "side": _side, "price": _values, "size": _values,
        "venue_best_bid": _values, "venue_best_ask": _values, "checkpoint": _values,
        "hash": _values,
    }),
    TRADES: (Trade, {
        **_MARKET_EVENT, "price": _values, "size": _values, "aggressor": _side,
        "trade_id": _values, "fee_rate_bps": _values, "transaction_hash": _values,
    }),
    TOP_OF_BOOK: (TopOfBook, {**_MARKET_EVENT, "best_bid": _values, "best_ask": _values}),
    TICK_SIZES: (TickSizeChanged, {
        **_MARKET_EVENT, "old_tick_size": _values, "new_tick_size": _values,
    }),
    REFERENCE_PRICES: (ReferencePrice, {
        **_EVENT, "symbol": _codes, "price": _values, "size": _values, "aggressor": _side,
        "trade_id": _values,
    }),
}
"""Each event table's struct and how each of its fields (in struct order) is read."""

for _kind, _fields in EVENT_READERS.values():
    if tuple(_fields) != _kind.__struct_fields__:  # events are constructed positionally
        raise ImportError(f"{_kind.__name__}'s fields changed: {_kind.__struct_fields__}")

REPLAY_OMITS: Final = frozenset({"hash", "transaction_hash"})
"""Columns a replay leaves out (their events get the field's default): the venue's book
hashes and the settlement transaction of public trades identify venue state, not market
information, and are a third of a store's bytes. Trade ids stay."""


class TableReader:
    """The columns of ``table`` (an event table named ``name``), indexed by table row.

    ``omit``: fields left at their default (see :data:`REPLAY_OMITS`); ``frame_recv``: every
    row's ``ts_recv`` is its frame's receive time, handed in by the caller (``RECV``).
    """

    def __init__(
        self, name: str, table: pa.Table, *, omit: Collection[str] = (),
        frame_recv: bool = False,
    ) -> None:
        self.rows = table.num_rows
        if name == LIFECYCLE:  # listings and resolutions: two structs, few rows
            self.kind: type[Event] | None = None
            self.columns: list[Column] = [(OBJECTS, _lifecycle(table))]
            return
        if name not in EVENT_READERS:
            raise ValueError(f"{name!r} is not an event table; one of {sorted(EVENT_READERS)}")
        self.kind, factories = EVENT_READERS[name]
        defaults = self.kind.__struct_defaults__
        default_of = dict(zip(self.kind.__struct_fields__[len(factories) - len(defaults):],
                              defaults, strict=True))
        self.columns = []
        for field, factory in factories.items():
            if field == "ts_recv" and frame_recv:
                self.columns.append((RECV,))
            elif field in omit and field in default_of:
                self.columns.append((CONST, default_of[field]))
            else:
                column = table.column(field)
                self.columns.append(factory(
                    column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()))

    def events(self, rows: np.ndarray | None = None, recv: Sequence[Any] = ()) -> list[Event]:
        """The events of table rows ``rows`` (every row when ``None``), in that order;
        ``recv``: each row's frame receive time, when the reader was built with
        ``frame_recv``."""
        rows = np.arange(self.rows) if rows is None else rows
        if self.kind is None:
            return column_values(self.columns[0], rows)
        return list(map(self.kind, *(column_values(c, rows, recv) for c in self.columns)))


def _lifecycle(table: pa.Table) -> list[Event]:
    """Listings and resolutions, row by row."""
    def column(name: str, convert: Callable[[Any], Any] | None = None) -> list[Any]:
        values = table.column(name).to_pylist()
        return values if convert is None else [None if v is None else convert(v) for v in values]

    rows = zip(
        column("venue", _VENUES.__getitem__), column("ts_event"), column("ts_recv"),
        column("kind"), column("market", sys.intern), column("market_id"), column("question"),
        column("slug"), column("tokens", _interned), column("outcomes", tuple),
        column("tick_size"), column("tags", tuple), column("event_slug"),
        column("description"), column("winning_token", sys.intern), column("winning_outcome"),
        strict=True,
    )
    out: list[Event] = []
    for v, te, tr, kind, m, mid, q, slug, tokens, outs, tick, tags, es, desc, wt, wo in rows:
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


def _interned(tokens: list[str]) -> tuple[str, ...]:
    return tuple(map(sys.intern, tokens))
