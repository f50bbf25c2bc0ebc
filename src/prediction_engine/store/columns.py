"""Column helpers of the store's schema for writing: Python objects to Arrow columns, fast.

Reading them back is :mod:`.reader`'s.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
from msgspec.structs import astuple
from msgspec.structs import fields as struct_fields

__all__ = ["LEVELS", "collector_paused", "level_array", "struct_columns"]

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
