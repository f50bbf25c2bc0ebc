"""Event tables read back into events: a table's rows in any order, a block of rows at a time.

The backtester's hot path. A :class:`TableReader` converts each column of a table once into a
numpy array in the requested row order (low-cardinality columns as dictionary codes plus one
Python object per distinct value), then turns any block of rows into events: each column
becomes one Python list for the block, sharing one object per distinct value (timestamps one
per run of equal values), and ``map`` constructs the structs positionally, in C. A replay
reads a window block by block, so the objects of a block are built just before the engine
consumes them, while they are still in the CPU's caches.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Sequence
from functools import partial
from itertools import pairwise
from typing import Any, Final, Protocol

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

__all__ = ["EVENT_READERS", "REPLAY_OMITS", "Shared", "TableReader", "numbers"]


def numbers(array: pa.Array) -> np.ndarray:
    """An integer or boolean array without nulls as numpy, straight from its Arrow buffers
    (integers zero-copy; ``to_numpy`` goes through pyarrow's pandas conversion layer)."""
    if array.null_count:
        raise ValueError(f"a {array.type} column with nulls has no numpy form here")
    if isinstance(array, pa.ChunkedArray):
        array = array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    if pa.types.is_boolean(array.type):
        bits = np.frombuffer(array.buffers()[1], dtype=np.uint8)
        return np.unpackbits(bits, bitorder="little")[array.offset: array.offset + len(array)] \
            .astype(bool)
    kind = "int" if pa.types.is_signed_integer(array.type) else "uint"
    values = np.frombuffer(array.buffers()[1], dtype=f"{kind}{array.type.bit_width}")
    return values[array.offset: array.offset + len(array)]


def _array(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _ordered(values: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    return values if order is None else values[order]


class _Column(Protocol):
    def block(self, start: int, stop: int) -> list[Any]:
        """The column's values of rows ``start`` to ``stop`` (in the reader's order)."""
        ...


class _Codes:
    """A low-cardinality column (ids, enums, prices on a tick grid): one object per distinct
    value, optionally passed through ``convert`` (an enum lookup, or ``sys.intern`` for the
    ids the engine keys its dicts by: a lookup with the very key object skips comparing text),
    gathered by dictionary code. Nulls point to an extra ``None`` slot."""

    __slots__ = ("_codes", "_single", "_values")

    def __init__(
        self, array: pa.Array, order: np.ndarray | None,
        convert: Callable[[Any], Any] | None = None,
    ) -> None:
        if not pa.types.is_dictionary(array.type):
            array = pc.dictionary_encode(array)
        distinct = array.dictionary.to_pylist()
        if convert is not None:
            distinct = [convert(value) for value in distinct]
        self._single: tuple[Any, ...] = ()
        if len(distinct) == 1 and not array.null_count:  # a part's market, the venue
            self._single = (distinct[0],)
        self._values = np.empty(len(distinct) + 1, dtype=object)
        self._values[:-1] = distinct
        indices = array.indices
        if array.null_count:
            indices = indices.fill_null(len(distinct))
        self._codes = _ordered(numbers(indices), order)

    def block(self, start: int, stop: int) -> list[Any]:
        if self._single:
            return [self._single[0]] * (stop - start)
        return self._values[self._codes[start:stop]].tolist()  # type: ignore[no-any-return]


class _Values:
    """A column with one object per row, as a numpy array in the reader's order."""

    __slots__ = ("_values",)

    def __init__(self, values: np.ndarray) -> None:
        self._values = values

    def block(self, start: int, stop: int) -> list[Any]:
        return self._values[start:stop].tolist()  # type: ignore[no-any-return]


def _values(array: pa.Array, order: np.ndarray | None) -> _Values:
    """Integers and booleans without nulls stay numpy until a block asks for them."""
    if not array.null_count and (
        pa.types.is_integer(array.type) or pa.types.is_boolean(array.type)
    ):
        return _Values(_ordered(numbers(array), order))
    return _Values(_ordered(_objects(array.to_pylist()), order))


def _objects(values: list[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _levels(array: pa.Array, order: np.ndarray | None) -> _Values:
    """A book side (list<struct<price, size>>) as tuples of ``(price, size)``, best first."""
    offsets = numbers(array.offsets).tolist()
    flat = array.values
    pairs = list(zip(numbers(flat.field("price")).tolist(), numbers(flat.field("size")).tolist(),
                     strict=True))
    return _Values(_ordered(_objects([tuple(pairs[a:b]) for a, b in pairwise(offsets)]), order))


class _Runs:
    """A non-null integer column whose equal neighbours share one ``int`` object: the
    events of one frame have the same timestamps, so one object per frame, not per row."""

    __slots__ = ("_values",)

    def __init__(self, array: pa.Array, order: np.ndarray | None) -> None:
        self._values = _ordered(numbers(array), order)

    def block(self, start: int, stop: int) -> list[Any]:
        values = self._values[start:stop]
        if len(values) < 2:
            return values.tolist()  # type: ignore[no-any-return]
        new_run = np.empty(len(values), dtype=bool)
        new_run[0] = True
        np.not_equal(values[1:], values[:-1], out=new_run[1:])
        distinct = _objects(values[new_run].tolist())
        return distinct[np.cumsum(new_run) - 1].tolist()  # type: ignore[no-any-return]


class Shared:
    """Objects shared by several tables' rows: ``objects[index[row]]`` (a replay gives every
    event of a frame the frame's own receive-time object)."""

    __slots__ = ("_index", "_objects")

    def __init__(self, objects: np.ndarray, index: np.ndarray) -> None:
        self._objects, self._index = objects, index

    def block(self, start: int, stop: int) -> list[Any]:
        return self._objects[self._index[start:stop]].tolist()  # type: ignore[no-any-return]


class _Constant:
    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def block(self, start: int, stop: int) -> list[Any]:
        return [self._value] * (stop - start)


_SIDES: Final[dict[str | None, Side | None]] = {"BUY": Side.BUY, "SELL": Side.SELL, None: None}
_VENUES: Final[dict[str, Venue]] = {venue.value: venue for venue in Venue}

_venue = partial(_Codes, convert=_VENUES.__getitem__)
_side = partial(_Codes, convert=_SIDES.__getitem__)
_id = partial(_Codes, convert=sys.intern)

Factory = Callable[[pa.Array, "np.ndarray | None"], _Column]

_EVENT: Final[dict[str, Factory]] = {"venue": _venue, "ts_event": _Runs, "ts_recv": _Runs}
_MARKET_EVENT: Final[dict[str, Factory]] = {**_EVENT, "market": _id, "token": _id}

EVENT_READERS: Final[dict[str, tuple[type[Event], dict[str, Factory]]]] = {
    BOOK_SNAPSHOTS: (BookSnapshot, {
        **_MARKET_EVENT, "bids": _levels, "asks": _levels, "tick_size": _Codes,
        "min_order_size": _Codes, "last_trade_price": _Codes, "neg_risk": _values,
        "hash": _values,
    }),
    BOOK_DELTAS: (BookDelta, {
        **_MARKET_EVENT, "side": _side, "price": _Codes, "size": _values,
        "venue_best_bid": _Codes, "venue_best_ask": _Codes, "checkpoint": _values,
        "hash": _values,
    }),
    TRADES: (Trade, {
        **_MARKET_EVENT, "price": _Codes, "size": _values, "aggressor": _side,
        "trade_id": _values, "fee_rate_bps": _values, "transaction_hash": _values,
    }),
    TOP_OF_BOOK: (TopOfBook, {**_MARKET_EVENT, "best_bid": _Codes, "best_ask": _Codes}),
    TICK_SIZES: (TickSizeChanged, {
        **_MARKET_EVENT, "old_tick_size": _Codes, "new_tick_size": _Codes,
    }),
    REFERENCE_PRICES: (ReferencePrice, {
        **_EVENT, "symbol": _Codes, "price": _values, "size": _values, "aggressor": _side,
        "trade_id": _values,
    }),
}
"""Each event table's struct and how each of its fields (in struct order) is read."""

for _kind, _columns in EVENT_READERS.values():
    if tuple(_columns) != _kind.__struct_fields__:  # map() constructs positionally
        raise ImportError(f"{_kind.__name__}'s fields changed: {_kind.__struct_fields__}")

REPLAY_OMITS: Final = frozenset({"hash", "transaction_hash"})
"""Columns a replay leaves out (their events get the field's default): the venue's book
hashes and the settlement transaction of public trades identify venue state, not market
information, and are a third of a store's bytes. Trade ids stay."""


class TableReader:
    """The events of ``table`` (an event table named ``name``) in ``order`` (row indices;
    the table's own order when ``None``), block by block.

    ``omit``: fields left at their default (see :data:`REPLAY_OMITS`); ``shared``: fields
    whose objects come from the caller (see :class:`Shared`), in ``order`` too.
    """

    def __init__(
        self,
        name: str,
        table: pa.Table,
        order: np.ndarray | None = None,
        *,
        omit: Collection[str] = (),
        shared: dict[str, Shared] | None = None,
    ) -> None:
        self.rows = table.num_rows if order is None else len(order)
        if name == LIFECYCLE:
            self._prebuilt: Sequence[Event] | None = _lifecycle(table, order)
            return
        if name not in EVENT_READERS:
            raise ValueError(f"{name!r} is not an event table; one of {sorted(EVENT_READERS)}")
        self._prebuilt = None
        self.kind, factories = EVENT_READERS[name]
        defaults = dict(zip(
            self.kind.__struct_fields__[-len(self.kind.__struct_defaults__):],
            self.kind.__struct_defaults__, strict=True,
        )) if self.kind.__struct_defaults__ else {}
        shared = shared or {}
        self._columns: list[_Column] = []
        for field, factory in factories.items():
            if field in shared:
                self._columns.append(shared[field])
            elif field in omit and field in defaults:
                self._columns.append(_Constant(defaults[field]))
            else:
                self._columns.append(factory(_array(table, field), order))

    def events(self, start: int = 0, stop: int | None = None) -> tuple[Event, ...]:
        """Events of rows ``start`` to ``stop`` (all when ``None``), in the reader's order."""
        stop = self.rows if stop is None else stop
        if self._prebuilt is not None:
            return tuple(self._prebuilt[start:stop])
        return tuple(map(self.kind, *(column.block(start, stop) for column in self._columns)))


def _lifecycle(table: pa.Table, order: np.ndarray | None) -> list[Event]:
    """Listings and resolutions (two structs, few rows): built once, row by row."""
    def column(name: str, convert: Callable[[Any], Any] | None = None) -> list[Any]:
        values = _array(table, name).to_pylist()
        if convert is not None:
            values = [None if v is None else convert(v) for v in values]
        return values if order is None else [values[i] for i in order.tolist()]

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
