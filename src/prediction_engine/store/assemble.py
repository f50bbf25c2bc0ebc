"""A window's frames assembled from its tables' columns, in tape order: the replay's hot path.

``Assembler(kinds, bounds, ts, tables)``: ``kinds[pos]`` (int16) is the table of the window's
row ``pos`` in tape order, frame ``f`` is rows ``bounds[f]`` to ``bounds[f + 1]`` (int64)
received at ``ts[f]`` (int64), and ``tables[k]`` is ``(struct type, rows, columns)``:
``rows[j]`` (int64) is the table row of the table's ``j``-th row in tape order and
``columns`` describe the struct's fields in order (see :mod:`.reader`); a table whose type is
``None`` hands out the objects of its one ``OBJECTS`` column. ``frames(first, stop)`` returns
frames ``first`` to ``stop - 1`` as ``(ts, events)`` tuples; calls go forward, and frames
skipped between calls only move the tables' cursors.

The C implementation (``_assemble.c``, built at install) constructs each event straight from
the column buffers into its frame: no Python list per column, no intermediate event lists.
:class:`PyAssembler` is the same in Python, used when the extension is not built
(``PENGINE_PURE_PYTHON=1``); the tests hold both to the same frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from prediction_engine.store.reader import Column, column_values

__all__ = ["Assembler", "PyAssembler", "Table"]

Table = tuple[Any, np.ndarray, tuple[Column, ...]]
"""``(struct type or None, rows, columns)``."""


class PyAssembler:
    """:class:`Assembler` in Python."""

    def __init__(
        self, kinds: np.ndarray, bounds: np.ndarray, ts: np.ndarray, tables: list[Table]
    ) -> None:
        if len(bounds) != len(ts) + 1 or bounds[0] != 0 or bounds[-1] != len(kinds):
            raise ValueError("bounds must run from 0 to the rows, one per frame")
        counts = np.bincount(kinds, minlength=len(tables))
        if len(counts) != len(tables) or any(
            n != len(t[1]) for n, t in zip(counts, tables, strict=True)
        ):
            raise ValueError("kinds do not match the tables' rows")
        self._kinds, self._bounds, self._ts, self._tables = kinds, bounds, ts, tables
        self._cursors = [0] * len(tables)
        self._next = 0

    def frames(self, first: int, stop: int) -> list[tuple[Any, tuple[Any, ...]]]:
        """Frames ``first`` to ``stop - 1``."""
        if first < self._next or not first <= stop <= len(self._ts):
            raise ValueError(f"frames {first}..{stop}: they go forward from frame {self._next}")
        bounds = self._bounds
        skipped = self._kinds[bounds[self._next]:bounds[first]]
        for k, n in enumerate(np.bincount(skipped, minlength=len(self._tables)).tolist()):
            self._cursors[k] += n
        start, end = int(bounds[first]), int(bounds[stop])
        kinds = self._kinds[start:end]
        recv = self._ts[first:stop].tolist()  # one object per frame, shared by its events
        frame_of = np.repeat(np.arange(stop - first), np.diff(bounds[first:stop + 1]))
        made: list[Sequence[Any]] = []
        for k, (kind, rows, columns) in enumerate(self._tables):
            mine = np.flatnonzero(kinds == k)
            at = self._cursors[k]
            table_rows = rows[at:at + len(mine)]
            self._cursors[k] = at + len(mine)
            frames_recv = [recv[f] for f in frame_of[mine].tolist()]
            values = [column_values(c, table_rows, frames_recv) for c in columns]
            made.append(values[0] if kind is None else list(map(kind, *values)))
        taken = [0] * len(made)
        events: list[Any] = []
        for k in kinds.tolist():
            events.append(made[k][taken[k]])
            taken[k] += 1
        out = [(recv[f], tuple(events[bounds[first + f] - start:bounds[first + f + 1] - start]))
               for f in range(stop - first)]
        self._next = stop
        return out


try:
    from prediction_engine.store._assemble import Assembler
except ImportError:  # not built (PENGINE_PURE_PYTHON=1)
    Assembler = PyAssembler  # type: ignore[assignment,misc]
