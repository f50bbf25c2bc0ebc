"""The recorder's store side: live Parquet equals converting the tapes; crash recovery."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from prediction_engine.engine.clock import ManualClock
from prediction_engine.record import Recorder, list_tapes
from prediction_engine.tape import POLYMARKET_MARKET, TapeReader
from tests.conftest import TEST_DATA
from tests.engine_helpers import market
from tests.record.store_trees import convert_all, manifest_tapes, row_positions, tree

S = 1_000_000_000
START = 1_772_366_400 * S  # 2026-03-01 12:00 UTC
CAPTURE = TEST_DATA / "polymarket" / "ws_market_stream_nautilus_crossing_burst.jsonl"


def real_frames() -> list[str]:
    """Real market-channel frames (a capture of book, price_change and trade messages)."""
    return [record.raw for record in TapeReader(CAPTURE)]


def feed(recorder: Recorder, frames: list[str], start_ns: int, step_ns: int) -> int:
    hook = recorder.hook(POLYMARKET_MARKET)
    for i, frame in enumerate(frames):
        hook("polymarket-market-0", frame, start_ns + i * step_ns)
    return start_ns + len(frames) * step_ns


def test_the_live_store_is_byte_identical_to_converting_the_tapes(tmp_path: Path) -> None:
    frames = real_frames() * 8
    recorder = Recorder(tmp_path / "rec", clock=ManualClock(START), bucket_s=60,
                        rotate_bytes=15_000)
    recorder.add_markets([market("a")])
    feed(recorder, frames, START, 2 * S)  # several minutes: parts cut by bucket and by tape
    stats = recorder.close()
    tapes = list_tapes(tmp_path / "rec" / "tapes")
    assert len(tapes) == stats.segments >= 2
    live = tree(tmp_path / "rec" / "store")
    assert len(live) > 2 * len(tapes)
    assert stats.parquet_files == len(live)
    assert convert_all(tmp_path / "rec" / "tapes", tmp_path / "later", bucket_s=60) == live
    assert manifest_tapes(tmp_path / "rec" / "store") == {t.name: True for t in tapes}


def test_a_crashed_segment_is_converted_at_restart_once(tmp_path: Path) -> None:
    frames, rng = real_frames() * 4, random.Random(7)
    out, crashed = tmp_path / "rec", tmp_path / "crashed"
    recorder = Recorder(out, clock=ManualClock(START), bucket_s=60)
    recorder.add_markets([market("a")])
    feed(recorder, frames, START, 3 * S)
    recorder.flush()  # the tape as the timer flushes it, the store as its thread writes it
    shutil.copytree(out, crashed)  # the disk as a SIGKILL now would leave it...
    recorder.close()
    [tape] = list_tapes(crashed / "tapes")
    data = tape.read_bytes()
    tape.write_bytes(data[: len(data) - rng.randrange(1, 200)])  # ...with a torn last write
    assert manifest_tapes(crashed / "store") == {tape.name: False}
    assert tree(crashed / "store")  # parts of finished buckets were written live

    clock = ManualClock(START + 3600 * S)
    recovered: list[Path] = []
    restarted = Recorder(crashed, clock=clock, bucket_s=60, on_recover=recovered.append)
    assert recovered == [tape]
    feed(restarted, frames[:20], clock.now_ns(), S)
    stats = restarted.close()
    assert stats.recovered == [str(tape)]
    tapes = list_tapes(crashed / "tapes")
    assert [t.name for t in tapes] == ["tape-000001.jsonl.gz", "tape-000002.jsonl.gz"]
    assert manifest_tapes(crashed / "store") == {t.name: True for t in tapes}
    store = tree(crashed / "store")
    assert convert_all(crashed / "tapes", tmp_path / "fresh", bucket_s=60) == store
    positions = row_positions(crashed / "store")
    assert max(positions.values()) == 1  # no row twice
    assert {seq >> 32 for seq, _ in positions} == {1, 2}  # both runs are in the store
