"""Tapes: header and records round-trip, gzip members append, plain captures, damage."""

from __future__ import annotations

from pathlib import Path

import pytest

from prediction_engine.tape import (
    POLYMARKET_MARKET,
    RTDS_CRYPTO,
    TapeError,
    TapeReader,
    TapeRecord,
    TapeWriter,
)
from tests.conftest import TEST_DATA


@pytest.mark.parametrize("name", ["t.jsonl", "t.jsonl.gz"])
def test_records_round_trip_and_reopening_appends(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with TapeWriter(path, source="test", seed=3) as tape:
        tape.write(1, POLYMARKET_MARKET, '{"a":"\\u00e9"}')
        tape.write(2, RTDS_CRYPTO, b"PONG")
    with TapeWriter(path, source="ignored on reopen") as tape:
        tape.write(3, POLYMARKET_MARKET, "[]")
    reader = TapeReader(path)
    assert list(reader) == [
        TapeRecord(1, POLYMARKET_MARKET, '{"a":"\\u00e9"}'),
        TapeRecord(2, RTDS_CRYPTO, "PONG"),
        TapeRecord(3, POLYMARKET_MARKET, "[]"),
    ]
    assert reader.header["source"] == "test"
    assert reader.header["seed"] == 3
    assert not reader.truncated


def test_a_gzip_tape_cut_mid_write_keeps_every_complete_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl.gz"
    with TapeWriter(path, source="test") as tape:
        for t in range(200):
            tape.write(t, POLYMARKET_MARKET, "x" * 50)
    data = path.read_bytes()
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    reader = TapeReader(tmp_path / "cut.jsonl.gz")
    records = list(reader)
    assert reader.truncated
    assert 0 < len(records) < 200
    assert [r.t for r in records] == list(range(len(records)))


def test_a_plain_capture_reads_with_frame_times() -> None:
    path = TEST_DATA / "polymarket" / "ws_market_stream_nautilus_crossing_burst.jsonl"
    reader = TapeReader(path)
    records = list(reader)
    assert reader.plain
    assert len(records) == 51
    assert records[0].t == 1790658661234 * 1_000_000
    assert records[0].raw == path.read_text().splitlines()[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"tape": 9, "source": "x"}\n', "version 9"),
        (b'{"tape": 1, "source": "x"}\n{"t": "late"}\n', ":2: not a tape record"),
        (b'{"tape": 1, "source": "x"}\n{"t": 1, "ch": "c"}\n', ":2: not a tape record"),
        (b"\xff\xfe not text\n", "not UTF-8"),
    ],
)
def test_damage_is_a_clear_error_naming_the_file(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(TapeError, match=message) as error:
        list(TapeReader(path))
    assert str(path) in str(error.value)


def test_missing_and_non_gzip_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(TapeError, match="cannot read"):
        list(TapeReader(tmp_path / "nope.jsonl"))
    fake = tmp_path / "fake.jsonl.gz"
    fake.write_bytes(b"not gzip at all\n")
    with pytest.raises(TapeError, match="not a readable tape"):
        list(TapeReader(fake))
