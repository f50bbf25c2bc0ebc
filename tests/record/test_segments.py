"""Tape segments: names, counters, the line format, flushing and exclusive creation."""

from __future__ import annotations

import gzip
from pathlib import Path

import msgspec
import pytest

from prediction_engine.record.segments import (
    DAY_NS,
    TapeSegment,
    list_tapes,
    next_tape_index,
    segment_path,
    tape_index,
    utc_date,
)
from prediction_engine.tape import POLYMARKET_MARKET, TapeReader, TapeRecord, encode_frame

NOON_2026_03_01 = 1_772_366_400 * 1_000_000_000


def test_a_frame_line_is_what_a_tape_record_encodes_to() -> None:
    raw = '{"a":"\\u00e9 \\"quoted\\"\\n","b":[1,2]}'
    line = encode_frame(123, msgspec.json.encode(POLYMARKET_MARKET), raw)
    assert line == msgspec.json.encode(TapeRecord(123, POLYMARKET_MARKET, raw)) + b"\n"


def test_names_dates_and_the_counter_continue_across_folders(tmp_path: Path) -> None:
    assert utc_date(NOON_2026_03_01) == "2026-03-01"
    assert utc_date(NOON_2026_03_01 + DAY_NS // 2) == "2026-03-02"  # midnight is a new day
    assert next_tape_index(tmp_path) == 1
    first = segment_path(tmp_path, 7, NOON_2026_03_01)
    assert first == tmp_path / "2026-03-01" / "tape-000007.jsonl.gz"
    for index, ns in ((7, NOON_2026_03_01), (12, NOON_2026_03_01 + DAY_NS), (9, NOON_2026_03_01)):
        path = segment_path(tmp_path, index, ns)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    (tmp_path / "2026-03-01" / "notes.txt").write_text("not a tape")
    assert [tape_index(p) for p in list_tapes(tmp_path)] == [7, 9, 12]
    assert next_tape_index(tmp_path) == 13


def test_a_segment_is_readable_after_a_flush_even_if_never_closed(tmp_path: Path) -> None:
    path = tmp_path / "tape-000001.jsonl.gz"
    segment = TapeSegment(path, 1, day=0, header={"source": "test"})
    channel = msgspec.json.encode(POLYMARKET_MARKET)
    numbers = [segment.write(1_000 + i, channel, f'{{"i":{i}}}') for i in range(50)]
    assert numbers == list(range(1, 51))  # the header is line 0
    segment.flush()
    crashed = tmp_path / "crashed.jsonl.gz"
    crashed.write_bytes(path.read_bytes())  # what a kill now would leave on disk
    reader = TapeReader(crashed)
    records = list(reader)
    assert [r.t for r in records] == [1_000 + i for i in range(50)]
    assert reader.header == {"tape": 1, "source": "test"}
    assert reader.truncated  # no gzip trailer yet
    assert segment.compressed_bytes == path.stat().st_size
    segment.close()
    assert len(gzip.decompress(path.read_bytes()).splitlines()) == 51
    reader = TapeReader(path)
    assert len(list(reader)) == 50
    assert not reader.truncated


def test_a_segment_never_reopens_an_existing_tape(tmp_path: Path) -> None:
    path = tmp_path / "tape-000001.jsonl.gz"
    TapeSegment(path, 1, day=0, header={}).close()
    with pytest.raises(FileExistsError):
        TapeSegment(path, 1, day=0, header={})
