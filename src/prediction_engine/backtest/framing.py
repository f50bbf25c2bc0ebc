"""Frames assembled from the events of several tables in tape order: the store reader's last
step, compiled with mypyc.

A block of the replay holds, per table, its events in tape order (``tables[k]``), and for each
row of the block which table it comes from (``kinds``). Frame ``f`` is rows ``bounds[f]`` to
``bounds[f + 1]``, received at ``ts[f]``. Most frames hold events of one table only
(``single[f]`` is that table, else -1): they are one tuple slice.
"""

from __future__ import annotations

from typing import Any

__all__ = ["interleave"]


def interleave(
    kinds: list[int], single: list[int], bounds: list[int], ts: list[Any], *,
    tables: list[tuple[Any, ...]], cursors: list[int], first: int, stop: int,
) -> list[tuple[Any, tuple[Any, ...]]]:
    """Frames ``first`` to ``stop`` (exclusive) as ``(ts, events)`` pairs; ``cursors[k]`` is
    the next unused event of ``tables[k]`` and moves on.

    ``ts`` holds ``Any``, not ``int``: compiled, an ``int`` would be unboxed and boxed into a
    new object per frame; the receive times stay the objects the events share.
    """
    frames: list[tuple[Any, tuple[Any, ...]]] = []
    for f in range(first, stop):
        start, end = bounds[f], bounds[f + 1]
        k = single[f]
        if k >= 0:
            at = cursors[k]
            cursors[k] = at + end - start
            frames.append((ts[f], tables[k][at:at + end - start]))
            continue
        events: list[Any] = []
        for row in range(start, end):
            kind = kinds[row]
            at = cursors[kind]
            events.append(tables[kind][at])
            cursors[kind] = at + 1
        frames.append((ts[f], tuple(events)))
    return frames
