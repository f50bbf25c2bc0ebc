"""The recorder's tape side: hooks, market frames, rotation by size and day, restarts, flush."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import msgspec

from prediction_engine.core.markets import Market
from prediction_engine.engine.clock import ManualClock
from prediction_engine.record import Recorder, list_tapes, tape_index
from prediction_engine.record.segments import DAY_NS
from prediction_engine.tape import (
    BINANCE_TRADE,
    PENGINE_MARKET,
    POLYMARKET_MARKET,
    RTDS_CRYPTO,
    TapeReader,
    TapeRecord,
)
from tests.engine_helpers import market

S = 1_000_000_000
START = 1_772_366_400 * S  # 2026-03-01 12:00 UTC


def records(path: Path) -> list[TapeRecord]:
    return list(TapeReader(path))


def copy_and_read(tape: Path, copy: Path) -> list[TapeRecord]:
    """Read what a SIGKILL now would leave on disk."""
    copy.write_bytes(tape.read_bytes())
    return records(copy)


def noise(rng: random.Random) -> str:
    """A frame that does not compress away (so compressed sizes grow)."""
    return f'{{"x":"{rng.randbytes(120).hex()}"}}'


def tape_recorder(out: Path, clock: ManualClock, **options: object) -> Recorder:
    return Recorder(out, clock=clock, parquet=False, **options)  # type: ignore[arg-type]


def test_every_hooked_frame_lands_on_the_tape_after_its_market(tmp_path: Path) -> None:
    clock = ManualClock(START)
    recorder = tape_recorder(tmp_path, clock)
    a, b = market("a"), market("b")
    assert recorder.add_markets([a, b, a]) == [a, b]
    assert recorder.add_markets([a]) == []  # already recorded: no second frame
    hooks = recorder.hooks()
    assert hooks.market and hooks.binance and hooks.rtds
    hooks.market("polymarket-market-0", '{"event_type":"book"}', START + 1)
    hooks.binance("binance", b'{"e":"trade"}', START + 2)
    hooks.rtds("polymarket-rtds", "PONG", START + 3)
    stats = recorder.close()
    [tape] = list_tapes(tmp_path / "tapes")
    assert tape == tmp_path / "tapes" / "2026-03-01" / "tape-000001.jsonl.gz"
    got = records(tape)
    assert [r.ch for r in got] == [PENGINE_MARKET, PENGINE_MARKET, POLYMARKET_MARKET,
                                   BINANCE_TRADE, RTDS_CRYPTO]
    assert msgspec.json.decode(got[0].raw, type=Market) == a
    assert [r.raw for r in got[2:]] == ['{"event_type":"book"}', '{"e":"trade"}', "PONG"]
    assert stats.frames == 5 and stats.market_frames == 2 and stats.segments == 1
    assert stats.tape_bytes == tape.stat().st_size


def test_size_rotation_starts_each_segment_with_the_markets(tmp_path: Path) -> None:
    clock, rng = ManualClock(START), random.Random(1)
    recorder = tape_recorder(tmp_path, clock, rotate_bytes=20_000)
    recorder.add_markets([market("a"), market("gone"), market("b")])
    recorder.remove_markets([market("gone").condition_id])
    hook = recorder.hook(POLYMARKET_MARKET)
    sent = [noise(rng) for _ in range(2_000)]
    for i, frame in enumerate(sent):
        hook("polymarket-market-0", frame, START + i)
    stats = recorder.close()
    tapes = list_tapes(tmp_path / "tapes")
    assert len(tapes) == stats.segments >= 5
    assert [tape_index(t) for t in tapes] == list(range(1, len(tapes) + 1))
    book_frames: list[str] = []
    for number, tape in enumerate(tapes):
        got = records(tape)
        head = [r for r in got if r.ch == PENGINE_MARKET]
        expected = ["a", "gone", "b"] if number == 0 else ["a", "b"]
        assert [msgspec.json.decode(r.raw, type=Market).slug for r in head] == expected
        assert got[: len(head)] == head  # the markets come first
        book_frames += [r.raw for r in got if r.ch == POLYMARKET_MARKET]
        if number < len(tapes) - 1:  # every full segment stopped near the limit
            assert 20_000 <= tape.stat().st_size < 40_000
    assert book_frames == sent


def test_a_new_utc_day_starts_a_segment_in_that_day_s_folder(tmp_path: Path) -> None:
    clock = ManualClock(START + 12 * 3600 * S - 2 * S)  # 23:59:58
    recorder = tape_recorder(tmp_path, clock)
    recorder.add_markets([market("a")])
    hook = recorder.hook(POLYMARKET_MARKET)
    for second in range(4):
        hook("polymarket-market-0", f'{{"s":{second}}}', clock.now_ns() + second * S)
    recorder.close()
    first, second = list_tapes(tmp_path / "tapes")
    assert first.parent.name == "2026-03-01" and second.parent.name == "2026-03-02"
    assert [r.raw for r in records(first)][1:] == ['{"s":0}', '{"s":1}']
    after = records(second)
    assert after[0].ch == PENGINE_MARKET  # the new day's tape names its markets too
    assert [r.raw for r in after[1:]] == ['{"s":2}', '{"s":3}']
    assert all(r.t // DAY_NS == after[0].t // DAY_NS for r in after)


def test_every_start_opens_a_new_segment_continuing_the_counter(tmp_path: Path) -> None:
    clock = ManualClock(START)
    for run in range(3):
        recorder = tape_recorder(tmp_path, clock)
        recorder.hook(POLYMARKET_MARKET)("s", f'{{"run":{run}}}', clock.now_ns())
        recorder.close()
        clock.advance(DAY_NS // 3)
    tapes = list_tapes(tmp_path / "tapes")
    assert [tape_index(t) for t in tapes] == [1, 2, 3]
    assert [records(t)[0].raw for t in tapes] == ['{"run":0}', '{"run":1}', '{"run":2}']


async def test_frames_reach_the_file_within_about_a_second(tmp_path: Path) -> None:
    clock = ManualClock(START)
    recorder = tape_recorder(tmp_path, clock, flush_s=0.2)
    hook = recorder.hook(POLYMARKET_MARKET)
    for i in range(100):
        hook("s", f'{{"i":{i}}}', START + i)
    tape = recorder.stats.tape
    await asyncio.sleep(0.5)
    assert len(copy_and_read(Path(tape), tmp_path / "copy.jsonl.gz")) == 100
    recorder.close()
