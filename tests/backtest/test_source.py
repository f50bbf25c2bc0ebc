"""The replay source: frames in recorded order, within the asked time range, whatever the window."""

from __future__ import annotations

from pathlib import Path

from prediction_engine.backtest.source import ReplaySource


def _frames(store: Path, **kwargs: int) -> list[tuple[int, tuple[object, ...]]]:
    return [(ts, tuple(messages)) for ts, messages in ReplaySource(store, **kwargs).frames()]


def test_from_and_to_bound_every_frame_within_a_file(world_store: Path) -> None:
    everything = _frames(world_store)
    first, last = everything[0][0], everything[-1][0]
    low, high = first + (last - first) // 3, first + 2 * (last - first) // 3
    inside = _frames(world_store, from_ns=low, to_ns=high)
    # The range cuts through the middle of the store's files (one part per market and day).
    assert inside == [f for f in everything if low <= f[0] < high]
    assert inside and len(inside) < len(everything)


def test_small_windows_give_the_same_frames_as_one(world_store: Path) -> None:
    everything = _frames(world_store)
    assert _frames(world_store, window_ns=7_000_000_000) == everything
