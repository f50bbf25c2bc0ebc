"""Column helpers of the store's schema: Python objects to Arrow columns and back, fast.

Reading is the backtester's hot path: each column becomes one Python list, and columns with
few distinct values (strings, prices on a tick grid) share one object per distinct value,
gathered with numpy instead of creating one object per row.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from msgspec.structs import astuple
from msgspec.structs import fields as struct_fields

__all__ = [
    "LEVELS",
    "coded",
    "collector_paused",
    "ints",
    "level_array",
    "level_lists",
    "plain",
    "runs",
    "struct_columns",
    "tuples",
]

LEVELS = pa.list_(pa.struct([pa.field("price", pa.int64(), False),
                             pa.field("size", pa.int64(), False)]))
"""A book side: list<struct<price int64, size int64>>, best level first."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic GC while building: a million short-lived tuples would otherwise
    trigger full collections over the caller's whole heap (quadratic in practice). Nothing
    built here forms a cycle, so reference counting frees it all the same."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def struct_columns(items: Sequence[Any]) -> dict[str, Sequence[Any]]:
    """Every field of the items as a column, in one pass over the objects.

    One ``astuple`` per object, then a transpose, touches each object once (several times
    faster than one ``getattr`` pass per column on objects spread over memory).
    """
    kinds = set(map(type, items))
    if len(kinds) == 1:
        names = [field.name for field in struct_fields(kinds.pop())]
        return dict(zip(names, zip(*map(astuple, items), strict=True), strict=True))
    names = [f.name for kind in kinds for f in struct_fields(kind)]  # lifecycle: 2 kinds
    return {name: [getattr(item, name, None) for item in items] for name in names}


def level_array(books: Sequence[tuple[tuple[int, int], ...]]) -> pa.Array:
    """Book sides (tuples of ``(price, size)``) as one :data:`LEVELS` array."""
    offsets = [0]
    for levels in books:
        offsets.append(offsets[-1] + len(levels))
    prices = pa.array([p for levels in books for p, _ in levels], pa.int64())
    sizes = pa.array([s for levels in books for _, s in levels], pa.int64())
    flat = pa.StructArray.from_arrays([prices, sizes], fields=list(LEVELS.value_type))
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), flat, type=LEVELS)


def _array(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def ints(table: pa.Table, name: str) -> list[Any]:
    """An integer column as Python ints (``None`` for nulls)."""
    array = _array(table, name)
    if array.null_count:
        return array.to_pylist()  # type: ignore[no-any-return]
    return array.to_numpy().tolist()  # type: ignore[no-any-return]


def runs(table: pa.Table, name: str) -> list[Any]:
    """A non-null integer column whose equal neighbours share one ``int`` object.

    For timestamps: the events of one frame are neighbours with the same receive time, so
    one object per frame instead of one per row (cheaper to build, to gather and to free).
    """
    values = _array(table, name).to_numpy()
    if len(values) < 2:
        return values.tolist()  # type: ignore[no-any-return]
    new_run = np.empty(len(values), dtype=bool)
    new_run[0] = True
    np.not_equal(values[1:], values[:-1], out=new_run[1:])
    distinct = np.empty(int(new_run.sum()), dtype=object)
    distinct[:] = values[new_run].tolist()
    return distinct[np.cumsum(new_run) - 1].tolist()  # type: ignore[no-any-return]


def plain(table: pa.Table, name: str) -> list[Any]:
    """Any column as Python values, one object per row."""
    return _array(table, name).to_pylist()  # type: ignore[no-any-return]


def coded(
    table: pa.Table, name: str, convert: Callable[[Any], Any] | None = None
) -> list[Any]:
    """A low-cardinality column (strings, or prices on a tick grid) as a list sharing one
    object per distinct value.

    The distinct values (optionally passed through ``convert``: an enum lookup, or
    ``sys.intern`` for ids the engine keys its dicts by) are built once, then gathered by the
    dictionary indices with numpy: a few ns per row instead of one ``str`` per row.
    """
    array = _array(table, name)
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    distinct = array.dictionary.to_pylist()
    if convert is not None:
        distinct = [convert(value) for value in distinct]
    if len(distinct) == 1 and not array.null_count:  # a part's market, venue: one value
        return distinct * len(array)  # type: ignore[no-any-return]
    values = np.empty(len(distinct) + 1, dtype=object)
    values[:-1] = distinct  # the extra last slot stays None: where nulls point
    indices = array.indices
    if array.null_count:
        indices = indices.fill_null(len(distinct))
    return values[indices.to_numpy()].tolist()  # type: ignore[no-any-return]


def level_lists(table: pa.Table, name: str) -> list[tuple[tuple[int, int], ...]]:
    """A :data:`LEVELS` column back as tuples of ``(price, size)``."""
    array = table.column(name).combine_chunks()
    offsets = array.offsets.to_numpy().tolist()
    flat = array.values
    pairs = list(zip(flat.field("price").to_numpy().tolist(),
                     flat.field("size").to_numpy().tolist(), strict=True))
    return [tuple(pairs[start:end]) for start, end in pairwise(offsets)]


def tuples(table: pa.Table, name: str) -> list[tuple[str, ...] | None]:
    """A list column as tuples (``None`` for nulls)."""
    return [None if v is None else tuple(v) for v in table.column(name).to_pylist()]
