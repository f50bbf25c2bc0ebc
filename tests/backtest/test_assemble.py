"""The replay's frame assembler: the C extension and its Python twin make the same frames."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prediction_engine.backtest import source as replay_source
from prediction_engine.backtest.source import ReplaySource
from prediction_engine.core.events import BookDelta, Side, TopOfBook
from prediction_engine.core.ids import Venue
from prediction_engine.store import assemble
from prediction_engine.store.assemble import PyAssembler
from prediction_engine.store.reader import BOOLS, CODES, CONST, INTS, LEVELS, OBJECTS, RECV

pytestmark = pytest.mark.skipif(
    assemble.Assembler is PyAssembler, reason="the C assembler is not built (pure Python)"
)


def _frames(assembler: Any, pieces: list[tuple[int, int]]) -> list[Any]:
    return [frame for first, stop in pieces for frame in assembler.frames(first, stop)]


def test_the_store_replays_the_same_frames_with_either_assembler(
    world_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    native = [(ts, tuple(m)) for ts, m in ReplaySource(world_store).frames()]
    monkeypatch.setattr(replay_source, "Assembler", PyAssembler)
    python = [(ts, tuple(m)) for ts, m in ReplaySource(world_store).frames()]
    assert native == python
    assert len(native) > 1_000
    # Every event of a frame shares the frame's receive-time object.
    assert all(getattr(e, "ts_recv", ts) is ts for ts, events in native for e in events)


def _deltas(n: int, rng: np.random.Generator) -> tuple[type, tuple[Any, ...]]:
    tokens = ("yes", "no", "other")
    columns = (
        (CODES, np.zeros(n, np.int32), (Venue.POLYMARKET, None)),
        (INTS, np.repeat(rng.integers(0, 3, (n + 1) // 2), 2)[:n].astype(np.int64)),
        (RECV,),
        (CONST, "0xmarket"),
        (CODES, rng.integers(0, 3, n).astype(np.int32), (*tokens, None)),
        (CODES, rng.integers(0, 2, n).astype(np.int32), (Side.BUY, Side.SELL, None)),
        (CODES, rng.integers(0, 4, n).astype(np.int32), (10_000, 20_000, 990_000, None)),
        (INTS, rng.integers(0, 10**12, n).astype(np.int64)),
        (INTS, rng.integers(0, 10**6, n).astype(np.int64), rng.integers(0, 2, n).astype(np.uint8)),
        (OBJECTS, [None if i % 3 else i * 10 for i in range(n)]),
        (BOOLS, rng.integers(0, 2, n).astype(np.uint8)),
        (CONST, ""),
    )
    return BookDelta, columns


def _levels(n: int, rng: np.random.Generator) -> tuple[Any, ...]:
    depth = rng.integers(0, 4, n)
    offsets = np.concatenate([[0], np.cumsum(depth)]).astype(np.int32)
    total = int(offsets[-1])
    return (LEVELS, offsets, rng.integers(1, 99, total).astype(np.int64) * 10_000,
            rng.integers(1, 10**9, total).astype(np.int64))


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=1, max_value=120),
       st.lists(st.integers(min_value=1, max_value=9), max_size=12))
def test_random_tables_make_the_same_frames_in_any_chunks(
    seed: int, rows: int, cuts: list[int]
) -> None:
    rng = np.random.default_rng(seed)
    kinds = rng.integers(0, 3, rows).astype(np.int16)
    starts = np.flatnonzero(np.concatenate([[True], rng.random(rows - 1) < 0.5]))
    bounds = np.append(starts, rows).astype(np.int64)
    ts = np.sort(rng.integers(0, 10**18, len(starts))).astype(np.int64)
    counts = np.bincount(kinds, minlength=3)
    tables: list[Any] = []
    delta_type, delta_columns = _deltas(int(counts[0]) + 5, rng)
    tables.append((delta_type, rng.permutation(int(counts[0]) + 5)[:counts[0]].astype(np.int64),
                   delta_columns))
    top = (TopOfBook, np.arange(counts[1], dtype=np.int64), (
        (CODES, np.zeros(counts[1], np.int32), (Venue.POLYMARKET, None)),
        (INTS, np.arange(counts[1], dtype=np.int64) // 3),
        (INTS, np.full(counts[1], 7, np.int64)),
        (CONST, "0xm"), (CONST, "yes"), _levels(int(counts[1]), rng), (CONST, None),
    ))
    tables.append(top)
    tables.append((None, np.arange(counts[2], dtype=np.int64)[::-1].copy(),
                   ((OBJECTS, [f"object {i}" for i in range(counts[2])]),)))
    # Chunks of frames, some skipped, as the replay skips market frames.
    pieces, at, skip = [], 0, False
    for cut in [*cuts, len(ts)]:
        stop = min(len(ts), at + cut)
        if not skip:
            pieces.append((at, stop))
        at, skip = stop, not skip
        if at == len(ts):
            break
    native = _frames(assemble.Assembler(kinds, bounds, ts, tables), pieces)
    python = _frames(PyAssembler(kinds, bounds, ts, tables), pieces)
    assert native == python
    for ts_, events in native:  # RECV is the frame's own time object
        assert all(e.ts_recv is ts_ for e in events if isinstance(e, BookDelta))


@pytest.mark.parametrize("assembler_type", [assemble.Assembler, PyAssembler])
def test_equal_ints_share_one_object_and_invalid_ones_are_none(assembler_type: Any) -> None:
    big = 10**15
    values = np.array([big, big, big + 1, big], np.int64)
    valid = np.array([1, 0, 1, 1], np.uint8)
    columns = ((CODES, np.zeros(4, np.int32), (Venue.POLYMARKET,)), (INTS, values),
               (INTS, values), (CONST, "m"), (CONST, "t"), (INTS, values, valid), (CONST, None))
    assembler = assembler_type(np.zeros(4, np.int16), np.array([0, 4], np.int64),
                               np.array([1], np.int64),
                               [(TopOfBook, np.arange(4, dtype=np.int64), columns)])
    [(_, events)] = assembler.frames(0, 1)
    assert events[0].ts_event is events[1].ts_event is events[3].ts_event
    assert events[2].ts_event == big + 1 and events[2].ts_event is not events[0].ts_event
    assert [e.best_bid for e in events] == [big, None, big + 1, big]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"codes": np.array([0, 5], np.int32)}, "outside its objects"),
        ({"codes": np.array([0, 1], np.int64)}, "4-byte items"),
        ({"kinds": np.array([0, 1], np.int16)}, "kinds do not match"),
        ({"bounds": np.array([0, 1], np.int64)}, "bounds must run"),
        ({"rows": np.array([0, -1], np.int64)}, "negative row"),
        ({"objects": [1]}, "fewer than rows"),
    ],
)
def test_bad_descriptions_are_refused_before_anything_is_made(
    change: dict[str, Any], message: str
) -> None:
    spec = {"codes": np.array([0, 1], np.int32), "kinds": np.zeros(2, np.int16),
            "bounds": np.array([0, 2], np.int64), "rows": np.array([0, 1], np.int64),
            "objects": [1, 2]} | change
    columns = ((CODES, spec["codes"], ("a", "b")), (OBJECTS, spec["objects"]))
    with pytest.raises(ValueError, match=message):
        assemble.Assembler(spec["kinds"], spec["bounds"], np.array([5], np.int64),
                           [(tuple, spec["rows"], columns)])


def test_frames_go_forward_and_a_failed_assembler_stays_failed() -> None:
    def explode(*_: object) -> None:
        raise RuntimeError("boom")

    kinds, bounds = np.zeros(2, np.int16), np.array([0, 1, 2], np.int64)
    ts = np.array([5, 6], np.int64)
    table = (explode, np.arange(2, dtype=np.int64), ((CONST, 1),))
    assembler = assemble.Assembler(kinds, bounds, ts, [table])
    with pytest.raises(RuntimeError, match="boom"):
        assembler.frames(0, 2)
    with pytest.raises(RuntimeError, match="failed earlier"):
        assembler.frames(1, 2)
    fine = assemble.Assembler(kinds, bounds, ts, [(str, table[1], ((CONST, 1),))])
    assert fine.frames(1, 2) == [(6, ("1",))]  # frame 0 skipped
    with pytest.raises(ValueError, match="go forward"):
        fine.frames(0, 1)


def test_made_frames_hold_the_only_extra_references() -> None:
    market = "0x" + "ab" * 32  # an object of our own, so its count is ours to watch
    rows = 50
    columns = ((CODES, np.zeros(rows, np.int32), (Venue.POLYMARKET,)),
               (INTS, np.arange(rows, dtype=np.int64) // 5), (RECV,), (CONST, market),
               (CODES, np.zeros(rows, np.int32), (market,)),
               _levels(rows, np.random.default_rng(1)), (CONST, None))
    before = sys.getrefcount(market)
    assembler = assemble.Assembler(np.zeros(rows, np.int16),
                                   np.arange(rows + 1, dtype=np.int64),
                                   np.arange(rows, dtype=np.int64),
                                   [(TopOfBook, np.arange(rows, dtype=np.int64), columns)])
    held = sys.getrefcount(market) - before  # the assembler's own: its columns
    frames = assembler.frames(0, rows)
    assert sys.getrefcount(market) - before == held + 2 * rows  # market and token of each
    del frames
    assert sys.getrefcount(market) - before == held
    del assembler
    assert sys.getrefcount(market) == before
