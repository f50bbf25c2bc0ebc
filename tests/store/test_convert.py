"""Tapes to Parquet: deterministic parts cut only at bucket boundaries and tape ends, live and
later alike; crashes and bad frames never corrupt or duplicate what the store holds."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from prediction_engine.store.convert import StoreWriter, convert_tape
from prediction_engine.store.manifest import StoreError, load_manifest
from prediction_engine.store.query import read_events, scan
from prediction_engine.store.schema import table_to_markets
from prediction_engine.tape import (
    BINANCE_TRADE,
    PENGINE_MARKET,
    POLYMARKET_MARKET,
    RTDS_CRYPTO,
    TapeReader,
    TapeWriter,
)
from tests.conftest import SHARED_FIXTURES, TEST_DATA
from tests.store.helpers import parquet_bytes, parsed, store_bytes

S = 1_000_000_000
BINANCE = (SHARED_FIXTURES / "binance" / "nautilus_ws_spot_trade.json").read_text()


def _buckets(root: Path) -> set[str]:
    return {path.rsplit("-", 1)[1].removesuffix(".parquet") for path in parquet_bytes(root)}


def test_converting_twice_gives_identical_bytes(sim_tape: Path, tmp_path: Path) -> None:
    first = convert_tape(sim_tape, tmp_path / "a", bucket_s=60)
    convert_tape(sim_tape, tmp_path / "b", bucket_s=60)
    assert store_bytes(tmp_path / "a") == store_bytes(tmp_path / "b")
    before = store_bytes(tmp_path / "a")
    again = convert_tape(sim_tape, tmp_path / "a", bucket_s=60)  # over itself
    assert store_bytes(tmp_path / "a") == before
    assert again == first
    assert len(_buckets(tmp_path / "a")) >= 3  # the tape crosses bucket boundaries


def test_live_frame_by_frame_gives_the_bytes_of_converting_later(
    sim_tape: Path, tmp_path: Path
) -> None:
    recording = tmp_path / "recording"
    tape_path = recording / "tapes" / sim_tape.name
    writer = StoreWriter(recording / "store", bucket_s=60)
    writer.begin_tape(tape_path)
    written_while_live = 0
    with TapeWriter(tape_path, source="test") as tape:  # what the recorder does, frame by frame
        for line, record in enumerate(TapeReader(sim_tape), 1):
            tape.write(record.t, record.ch, record.raw)
            writer.add(record.t, record.ch, record.raw, line)
            written_while_live = len(writer.manifest.files)
    assert written_while_live > 0  # finished buckets were written before the tape ended
    live = writer.end_tape()
    later = convert_tape(tape_path, tmp_path / "later", bucket_s=60)
    assert parquet_bytes(recording / "store") == parquet_bytes(tmp_path / "later")
    assert len(_buckets(tmp_path / "later")) >= 3
    assert live.events == later.events and live.files == later.files
    [entry] = load_manifest(recording / "store").tapes
    assert entry.path == f"../tapes/{sim_tape.name}" and entry.complete


def test_replay_by_seq_gives_the_parsers_events_in_order(sim_tape: Path, tmp_path: Path) -> None:
    stats = convert_tape(sim_tape, tmp_path, bucket_s=60)
    events, markets = parsed(sim_tape)
    assert read_events(tmp_path) == events
    assert stats.rows == len(events) + len(markets) and stats.errors == 0
    stored = scan(tmp_path, "markets").sort("seq", "sub").collect().to_arrow()
    assert table_to_markets(stored) == markets
    assert {"book_snapshots", "book_deltas", "trades", "top_of_book", "reference_prices",
            "lifecycle", "markets"} <= set(stats.events)


def test_seq_is_the_tape_index_and_the_line(sim_tape: Path, tmp_path: Path) -> None:
    convert_tape(sim_tape, tmp_path, bucket_s=3600)
    frame = scan(tmp_path, "markets").sort("seq").collect()
    lines = [line for line, _ in enumerate(TapeReader(sim_tape), 1)]
    assert frame["seq"][0] == (7 << 32) | 1  # the first frame: line 1 of tape-000007
    seqs = set(pq.read_table(next(tmp_path.rglob("*.parquet"))).column("seq").to_pylist())
    assert all(seq >> 32 == 7 and (seq & 0xFFFF_FFFF) <= len(lines) for seq in seqs)


def test_manifest_describes_exactly_the_files_on_disk(sim_tape: Path, tmp_path: Path) -> None:
    stats = convert_tape(sim_tape, tmp_path, bucket_s=60)
    manifest = load_manifest(tmp_path)
    on_disk = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet")}
    assert {f.path for f in manifest.files} == on_disk
    assert not list(tmp_path.rglob("*.tmp"))
    assert sum(f.rows for f in manifest.files) == stats.rows
    assert len(manifest.files) == stats.files
    for entry in manifest.files[:40]:
        table = pq.read_table(tmp_path / entry.path)
        ts, seq = table.column("ts_recv").to_pylist(), table.column("seq").to_pylist()
        assert (entry.rows, entry.ts_recv_min, entry.ts_recv_max) == (len(ts), min(ts), max(ts))
        assert (entry.seq_min, entry.seq_max) == (seq[0], seq[-1])
        assert seq == sorted(seq)
        assert entry.path.startswith(f"v1/{entry.table}/venue={entry.venue}/date={entry.date}/")
    [tape] = manifest.tapes
    assert tape.complete and tape.frames == stats.frames and tape.source == "tape-000007"


def test_truncated_gzip_tape_converts_every_complete_line(sim_tape: Path, tmp_path: Path) -> None:
    cut = tmp_path / "tape-000001.jsonl.gz"
    data = sim_tape.read_bytes()
    cut.write_bytes(data[: len(data) * 3 // 5])  # a crash mid-write
    stats = convert_tape(cut, tmp_path / "store", bucket_s=60)
    reader = TapeReader(cut)
    complete = list(reader)
    assert stats.truncated and reader.truncated
    assert stats.frames == len(complete) > 1000
    assert read_events(tmp_path / "store") == parsed(cut)[0]


def test_reconverting_after_a_crash_leaves_no_duplicates(sim_tape: Path, tmp_path: Path) -> None:
    convert_tape(sim_tape, tmp_path / "clean", bucket_s=60)
    root = tmp_path / "crashed"
    convert_tape(sim_tape, root, bucket_s=600)  # an earlier conversion with other parts
    writer = StoreWriter(root, bucket_s=60)
    writer.begin_tape(sim_tape)
    records = list(TapeReader(sim_tape))
    for line, record in enumerate(records[: len(records) // 2], 1):
        writer.add(record.t, record.ch, record.raw, line)
    del writer  # the process dies: no end_tape
    half = load_manifest(root)
    assert half.files and not half.tapes[0].complete
    convert_tape(sim_tape, root, bucket_s=60)
    assert store_bytes(root) == store_bytes(tmp_path / "clean")


def test_bad_frames_unknown_channels_and_bad_lines_are_counted(tmp_path: Path) -> None:
    tape = tmp_path / "tape.jsonl"
    good = (SHARED_FIXTURES / "polymarket" / "ws_market_book.json").read_text()
    with TapeWriter(tape, source="test") as writer:
        writer.write(1 * S, POLYMARKET_MARKET, good)
        writer.write(2 * S, POLYMARKET_MARKET, '{"event_type": "book", "bids": 7}')
        writer.write(3 * S, BINANCE_TRADE, "{not json")
        writer.write(4 * S, RTDS_CRYPTO, '{"topic": "nope", "type": "update", "payload": {}}')
        writer.write(5 * S, PENGINE_MARKET, '{"slug": "no venue"}')
        writer.write(6 * S, "kalshi.orderbook", "{}")
        writer.write(7 * S, BINANCE_TRADE, BINANCE)
    with tape.open("a") as file:
        file.write("this line is not a record\n")
    stats = convert_tape(tape, tmp_path / "store")
    assert stats.frames == 7
    assert stats.errors == 5 and len(stats.first_errors) == 5
    assert stats.first_errors[0].startswith("line 3 (polymarket.market)")
    assert "tape.jsonl:9: not a tape record" in stats.first_errors[-1]
    assert stats.unknown_channels == {"kalshi.orderbook": 1}
    assert stats.events == {"book_snapshots": 1, "reference_prices": 1}


def test_a_value_that_does_not_fit_is_an_error_not_a_crash(tmp_path: Path) -> None:
    huge = '{"topic":"crypto_prices","type":"update","timestamp":1,"payload":' \
           '{"symbol":"btcusdt","timestamp":1,"value":1e30}}'
    tape = tmp_path / "tape.jsonl"
    with TapeWriter(tape, source="test") as writer:
        writer.write(S, RTDS_CRYPTO, huge)
        writer.write(S, BINANCE_TRADE, BINANCE)
    stats = convert_tape(tape, tmp_path / "store")
    assert stats.errors == 1 and "does not fit" in stats.first_errors[0]
    assert stats.events == {"reference_prices": 1}


def test_a_frame_received_late_joins_the_open_bucket(tmp_path: Path) -> None:
    writer = StoreWriter(tmp_path, bucket_s=60)
    writer.begin_tape(tmp_path / "tape-000002.jsonl")
    day = 1_773_273_600 * S  # 2026-03-12 00:00 UTC
    for line, minute_s in enumerate((61, 59, 62, 125), 1):  # 59 s: the clock stepped back
        writer.add(day + minute_s * S, BINANCE_TRADE, BINANCE, line)
    writer.end_tape()
    parts = sorted(f.path.rsplit("/", 1)[1] for f in writer.manifest.files)
    assert parts == ["part-tape-000002-0001.parquet", "part-tape-000002-0002.parquet"]
    first = next(f for f in writer.manifest.files if f.path.endswith("0001.parquet"))
    assert (first.rows, first.ts_recv_min) == (3, day + 59 * S)
    assert first.seq_min == (2 << 32) | 1 and first.seq_max == (2 << 32) | 3


def test_a_plain_capture_converts_with_its_own_timestamps(tmp_path: Path) -> None:
    capture = TEST_DATA / "polymarket" / "ws_market_stream_nautilus_crossing_burst.jsonl"
    stats = convert_tape(capture, tmp_path)
    assert stats.errors == 0 and stats.events == {"book_deltas": 98, "book_snapshots": 2}
    assert read_events(tmp_path) == parsed(capture)[0]
    assert scan(tmp_path, "book_deltas").collect()["seq"].min() == 1  # line 0 is a frame


def test_bucket_must_be_whole_minutes_dividing_a_day(tmp_path: Path) -> None:
    for bad in (0, 59, 90, 7 * 60):
        with pytest.raises(ValueError, match="dividing a day"):
            StoreWriter(tmp_path, bucket_s=bad)


def test_a_store_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"schema_version": 2}))
    with pytest.raises(StoreError, match="schema version 2"):
        StoreWriter(tmp_path)
    (tmp_path / "manifest.json").write_text("{oops")
    with pytest.raises(StoreError, match="not a store manifest"):
        load_manifest(tmp_path)


def test_add_before_begin_tape_is_a_programming_error(tmp_path: Path) -> None:
    writer = StoreWriter(tmp_path)
    with pytest.raises(RuntimeError, match="begin_tape"):
        writer.add(0, BINANCE_TRADE, BINANCE, 1)
    writer.begin_tape(tmp_path / "a.jsonl")
    with pytest.raises(RuntimeError, match="end_tape"):
        writer.begin_tape(tmp_path / "b.jsonl")
