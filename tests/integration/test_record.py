"""`pengine record` as a user runs it, against the simulator: tapes, the live Parquet store,
rotation, a crash and a restart, reconnects, bad input and an unreachable venue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from prediction_engine.cli import _register, app
from prediction_engine.config import BinanceConfig, Config, PolymarketConfig
from prediction_engine.engine.clock import OffsetClock
from prediction_engine.record import RecordOptions, list_tapes, run_record
from prediction_engine.sim.polymarket import SimConfig, SimPolymarket
from prediction_engine.sim.polymarket.faults import FaultPlan
from prediction_engine.tape import PENGINE_MARKET, TapeReader
from tests.integration.harness import sim_in_thread
from tests.record.store_trees import convert_all, manifest_tapes, row_positions, tree

_register()

DAY_S = 86_400


@pytest.fixture(scope="module")
def sim_env() -> Iterator[dict[str, str]]:
    """A simulated venue listing and resolving a market every ~2 s, in its own thread."""
    with sim_in_thread(SimConfig(seed=11, updates_per_second=300, listing_every_s=2.0)) as env:
        yield env


def record(env: dict[str, str], out: Path, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["record", "--out", str(out), *args], env=env)
    assert result.exit_code == 0, result.output
    assert "Recording summary" in result.output
    summary: dict[str, object] = json.loads((out / "summary.json").read_text())
    return summary


def parts(root: Path, table: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for part in sorted((root / "v1" / table).rglob("*.parquet")):
        rows += pq.read_table(part, columns=["seq", "market"]).to_pylist()
    return rows


def assert_markets_precede_their_books(root: Path) -> None:
    """Every market's metadata frame comes before any of its book frames."""
    first_info: dict[str, int] = {}
    for row in parts(root, "markets"):
        market, seq = str(row["market"]), int(row["seq"])
        first_info[market] = min(seq, first_info.get(market, seq))
    books = parts(root, "book_snapshots") + parts(root, "book_deltas")
    assert books
    for row in books:
        assert first_info[str(row["market"])] < int(row["seq"]), row


def test_recording_gives_the_same_store_as_converting_its_tapes(
    sim_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    summary = record(sim_env, out, "--all-active", "--duration", "5", "--reference",
                     "btcusdt", "--rtds", "btcusdt,btc/usd", "--refresh-s", "2")
    recorder = summary["recorder"]
    assert isinstance(recorder, dict)
    assert summary["books_synced"] == summary["tokens"] and summary["tokens"] > 10
    assert summary["book_frames"] > 500 and summary["reference_frames"] > 10
    assert summary["listed"] and summary["resolved"]  # it followed the venue's lifecycle
    assert summary["discoveries"] >= 1 and summary["decode_errors"] == 0
    [tape] = list_tapes(out / "tapes")
    records = list(TapeReader(tape))
    assert len(records) == recorder["frames"]
    assert records[0].ch == PENGINE_MARKET
    assert manifest_tapes(out / "store") == {tape.name: True}
    live = tree(out / "store")
    assert {p.split("/")[1] for p in live} >= {"book_snapshots", "book_deltas", "markets",
                                               "reference_prices", "lifecycle"}
    assert any("venue=binance" in p for p in live) and any("venue=polymarket-rtds" in p
                                                           for p in live)
    rtds = {p.split("market=")[1].split("/")[0] for p in live if "venue=polymarket-rtds" in p}
    # Both RTDS topics, Binance-sourced and Chainlink (the topics' other symbols come along:
    # the live server ignores filters, so the session filters only what the engine sees).
    assert {"btcusdt", "btc%2Fusd"} <= rtds
    assert recorder["parquet_files"] == len(live)
    assert convert_all(out / "tapes", tmp_path / "later") == live
    assert_markets_precede_their_books(out / "store")


def test_tiny_segments_rotate_by_size_and_each_converts_alike(
    sim_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    summary = record(sim_env, out, "--markets", "nba champion", "--limit", "2",
                     "--duration", "4", "--rotate-mb", "0.005")
    tapes = list_tapes(out / "tapes")
    recorder = summary["recorder"]
    assert isinstance(recorder, dict)
    assert summary["markets"] == 5  # the two best matches bring their neg-risk event
    assert len(tapes) == recorder["segments"] >= 3
    for tape in tapes[:-1]:
        assert tape.stat().st_size >= 0.005 * 1024 * 1024
        assert next(iter(TapeReader(tape))).ch == PENGINE_MARKET
    assert manifest_tapes(out / "store") == {t.name: True for t in tapes}
    assert convert_all(out / "tapes", tmp_path / "later") == tree(out / "store")


def start_recorder(env: dict[str, str], out: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "prediction_engine.cli", "record", "--all-active",
               "--out", str(out)]
    return subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def wait_for_tape(process: subprocess.Popen[bytes], tapes: Path, index: int) -> None:
    """Until segment ``index`` holds some compressed frames, then a little longer."""
    deadline = time.monotonic() + 30
    while len(list_tapes(tapes)) < index or list_tapes(tapes)[index - 1].stat().st_size < 10_000:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        assert time.monotonic() < deadline, "the recorder wrote nothing"
        time.sleep(0.2)
    time.sleep(1.5)


def test_a_killed_recorder_resumes_without_losing_or_repeating_a_frame(
    sim_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    process = start_recorder(sim_env, out)
    try:
        wait_for_tape(process, out / "tapes", 1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    [crashed] = list_tapes(out / "tapes")
    assert manifest_tapes(out / "store") == {crashed.name: False}
    reader = TapeReader(crashed)
    kept = sum(1 for _ in reader)
    assert kept > 100 and reader.truncated  # no gzip trailer: it really was killed

    process = start_recorder(sim_env, out)  # resumes, and stops cleanly on SIGTERM
    wait_for_tape(process, out / "tapes", 2)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()
    assert b"Recording summary" in output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["recorder"]["recovered"] == [str(crashed)]
    tapes = list_tapes(out / "tapes")
    assert [t.name for t in tapes] == ["tape-000001.jsonl.gz", "tape-000002.jsonl.gz"]
    assert manifest_tapes(out / "store") == {t.name: True for t in tapes}
    assert convert_all(out / "tapes", tmp_path / "fresh") == tree(out / "store")
    positions = row_positions(out / "store")
    assert max(positions.values()) == 1
    assert len({seq for seq, _ in positions if seq >> 32 == 1}) > 100  # the killed run's frames
    finished = TapeReader(tapes[1])
    assert sum(1 for _ in finished) == summary["recorder"]["frames"] and not finished.truncated


async def test_midnight_starts_a_new_segment_and_reconnects_are_recorded_through(
    tmp_path: Path,
) -> None:
    sim_config = SimConfig(seed=12, updates_per_second=200,
                           faults=FaultPlan(drop_every_s=1.5))
    async with SimPolymarket(sim_config) as sim:
        config = Config(
            polymarket=PolymarketConfig(
                gamma_url=sim.gamma_url, clob_url=sim.clob_url,
                ws_market_url=sim.ws_market_url, rtds_url=sim.rtds_url,
                snapshot_timeout_s=0.3,
            ),
            binance=BinanceConfig(ws_url=sim.binance_url),
        )
        now = time.time_ns()
        midnight = (now // (DAY_S * 10**9) + 1) * DAY_S * 10**9
        clock = OffsetClock(midnight - 2 * 10**9 - now)  # our clock says 23:59:58 UTC
        options = RecordOptions(tmp_path / "rec", query="bitcoin up or down", limit=4,
                                duration_s=5, bucket_s=60)
        status = await run_record(config, options, clock=clock)
    assert status.reconnects >= 2
    first, second = list_tapes(tmp_path / "rec" / "tapes")
    assert (first.parent.name, second.parent.name) == (
        time.strftime("%Y-%m-%d", time.gmtime(midnight // 10**9 - 1)),
        time.strftime("%Y-%m-%d", time.gmtime(midnight // 10**9)),
    )
    for tape in (first, second):
        days = {r.t // (DAY_S * 10**9) for r in TapeReader(tape)}
        assert len(days) == 1
    info = [r for r in TapeReader(second) if r.ch == PENGINE_MARKET]
    assert len(info) == status.markets  # the new day's tape starts with every market
    assert {msgspec.json.decode(r.raw)["slug"] for r in info}
    store = tmp_path / "rec" / "store"
    assert {p.split("/")[3] for p in tree(store)} == {
        f"date={first.parent.name}", f"date={second.parent.name}"}
    assert convert_all(tmp_path / "rec" / "tapes", tmp_path / "later", bucket_s=60) == tree(store)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--markets QUERY or --all-active"),
        (["--markets", "nba", "--all-active"], "--markets QUERY or --all-active"),
        (["--all-active", "--limit", "0"], "--limit must be positive"),
        (["--all-active", "--rotate-mb", "0"], "--rotate-mb must be positive"),
        (["--all-active", "--reference", "BTC-USDT"], "--reference"),
        (["--all-active", "--rtds", ","], "--rtds"),
        (["--markets", "zzzz qqqq"], "no open market with an order book matches"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    sim_env: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["record", "--out", str(tmp_path / "r"), *args],
                                env=sim_env)
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", " ")
    assert not list_tapes(tmp_path / "r" / "tapes")


def test_an_unreachable_venue_exits_1_and_writes_no_tape(tmp_path: Path) -> None:
    env = {"PENGINE_POLYMARKET_GAMMA_URL": "http://127.0.0.1:1"}
    result = CliRunner().invoke(app, ["record", "--all-active", "--out", str(tmp_path)], env=env)
    assert result.exit_code == 1, result.output
    assert "cannot be reached" in result.output and "pengine sim" in result.output
    assert not list_tapes(tmp_path / "tapes")


def test_a_market_feed_that_never_connects_exits_1(
    sim_env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[polymarket]\nreconnect_attempts = 2\n")
    env = {**sim_env, "PENGINE_CONFIG": str(config),
           "PENGINE_POLYMARKET_WS_MARKET_URL": "ws://127.0.0.1:1/ws/market"}
    result = CliRunner().invoke(app, ["record", "--all-active", "--out", str(tmp_path / "r")],
                                env=env)
    assert result.exit_code == 1, result.output
    assert "cannot be reached" in result.output and "refused 2 connections" in result.output


def test_a_store_this_version_cannot_use_exits_2_before_recording(
    sim_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "manifest.json").write_text('{"schema_version": 99}')
    result = CliRunner().invoke(app, ["record", "--all-active", "--out", str(tmp_path)],
                                env=sim_env)
    assert result.exit_code == 2, result.output
    assert "schema version 99" in result.output.replace("\n", " ")
    assert not list_tapes(tmp_path / "tapes")
