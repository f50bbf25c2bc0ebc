"""The replay source: frames in recorded order, within the asked time range, whatever the window."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pyarrow as pa
import pytest

from prediction_engine.backtest.source import ReplaySource, SourceError, _Window
from prediction_engine.core.events import Side
from prediction_engine.core.markets import Market
from prediction_engine.engine.messages import AddMarkets
from prediction_engine.store.schema import MarketRecord, events_to_table
from tests.engine_helpers import delta, market


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


def _parts(
    market_seqs: list[int], delta_seqs: list[int]
) -> tuple[list[tuple[str, pa.Table]], list[Market]]:
    """A markets part and a book-deltas part whose rows sit in the frames ``*_seqs``."""
    markets = [market(f"m{i}") for i in range(len(market_seqs))]
    records = [(seq, 0, MarketRecord(seq * 10, m, msgspec.json.encode(m).decode()))
               for seq, m in zip(market_seqs, markets, strict=True)]
    deltas = [(seq, 0, delta(markets[0], 0, Side.BUY, 0.40, seq, seq * 10)) for seq in delta_seqs]
    return [("markets", events_to_table("markets", records)),
            ("book_deltas", events_to_table("book_deltas", deltas))], markets


def test_consecutive_market_frames_join_before_the_next_event_frame() -> None:
    parts, (m0, m1, m2) = _parts([1, 2, 4], [3, 5])
    frames = [frame for chunk in _Window(parts).chunks() for frame in chunk]
    kinds = [[type(e).__name__ for e in events] for _, events in frames]
    assert kinds == [["AddMarkets"], ["BookDelta"], ["AddMarkets"], ["BookDelta"]]
    assert [ts for ts, _ in frames] == [10, 30, 40, 50]  # a joined run: its first frame's time
    first, second = frames[0][1][0], frames[2][1][0]
    assert isinstance(first, AddMarkets) and isinstance(second, AddMarkets)
    assert [m.condition_id for m in first.markets] == [m0.condition_id, m1.condition_id]
    assert [m.condition_id for m in second.markets] == [m2.condition_id]
    assert frames[1][1][0].ts_recv is frames[1][0]  # an event shares its frame's time object


def test_a_frame_mixing_market_records_and_events_is_refused() -> None:
    parts, _ = _parts([1, 2], [2, 3])
    with pytest.raises(SourceError, match="mixes market records and events"):
        _Window(parts)
