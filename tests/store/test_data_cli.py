"""``pengine data list | show | convert``: what a user sees, and exit code 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

# Importing `data` registers it on the app (with `markets`, so `data` stays a sub-command).
from prediction_engine.cli import app, data, markets  # noqa: F401
from prediction_engine.store.manifest import load_manifest

MARKET = "0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1"
TOKEN = "52114319501245915516055106046884209969926127482827954674443846427813813222426"


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, ["data", *args], env={"COLUMNS": "200", **(env or {})})


@pytest.fixture(scope="module")
def recording(sim_tape: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recorder-like directory: DIR/store converted from the simulated tape."""
    directory = tmp_path_factory.mktemp("recording")
    result = run("convert", str(sim_tape), "--out", str(directory / "store"), "--bucket-s", "60")
    assert result.exit_code == 0, result.output
    return directory


def test_convert_prints_a_summary(recording: Path) -> None:
    manifest = load_manifest(recording / "store")
    assert manifest.tapes[0].complete and manifest.files
    again = run("convert", manifest.tapes[0].path, "--out", str(recording / "store"),
                "--bucket-s", "60")
    assert again.exit_code == 0, again.output
    assert "tape-000007" in again.output and "book_deltas" in again.output
    assert load_manifest(recording / "store") == manifest  # converted again: the same store


def test_list_reads_a_store_or_a_recorder_directory(recording: Path) -> None:
    for root in (recording, recording / "store"):
        result = run("list", str(root))
        assert result.exit_code == 0, result.output
        assert "1 source(s), 1 complete" in result.output
        for text in ("book_deltas", "reference_prices", "polymarket-rtds", "2026-03-12"):
            assert text in result.output
    as_json = json.loads(run("list", str(recording), "--json").output)
    rows = {p["table"]: p["rows"] for p in as_json["partitions"] if p["venue"] == "polymarket"}
    assert rows["book_deltas"] > 1000 and as_json["sources"] == 1


def test_list_defaults_to_the_data_dir(recording: Path) -> None:
    result = run("list", env={"PENGINE_DATA_DIR": str(recording)})
    assert result.exit_code == 0, result.output
    assert "book_deltas" in result.output


def test_show_prints_rows_in_tape_order(recording: Path) -> None:
    result = run("show", str(recording), "--table", "trades", "-n", "3", "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 3 and [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    assert isinstance(rows[0]["price"], int)  # exact micro-units
    market = rows[0]["market"]
    since = rows[0]["ts_recv"]
    some = run("show", str(recording), "-t", "trades", "--market", market, "--from", str(since),
               "--json")
    picked = [json.loads(line) for line in some.output.splitlines()]
    assert picked and all(r["market"] == market and r["ts_recv"] >= since for r in picked)
    table = run("show", str(recording), "-t", "book_snapshots", "-n", "2")
    assert table.exit_code == 0, table.output
    assert "2026-03-12 09:20:30.000" in table.output and " x " in table.output  # a level


def test_show_takes_iso_times_and_says_when_nothing_matches(recording: Path) -> None:
    result = run("show", str(recording), "-t", "trades", "--from", "2030-01-01T00:00")
    assert result.exit_code == 0 and "no trades rows match" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["show", "--table", "nope"], "unknown table 'nope'"),
    (["show", "--from", "yesterday"], "got 'yesterday'"),
    (["convert", "--bucket-s", "7"], "dividing a day"),
])
def test_bad_options_exit_2(recording: Path, args: list[str], message: str) -> None:
    extra = [str(recording)] if args[0] == "show" else [str(recording / "store" /
                                                               "manifest.json")]
    result = run(args[0], *extra, *args[1:])
    assert result.exit_code == 2
    assert message in result.output


def test_no_store_is_an_error(tmp_path: Path) -> None:
    result = run("list", str(tmp_path))
    assert result.exit_code == 2 and "no event store at" in result.output


def test_a_file_that_is_not_a_tape_is_an_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.jsonl.gz"
    bogus.write_bytes(b"not gzip at all")
    result = run("convert", str(bogus), "--out", str(tmp_path / "store"))
    assert result.exit_code == 2 and "not a readable tape" in result.output


def test_csv_in(tmp_path: Path) -> None:
    good = tmp_path / "trades.csv"
    good.write_text(f"ts_recv,market,token,price,size\n1773307230000000000,{MARKET},{TOKEN},"
                    "0.45,10\n")
    needs_table = run("convert", str(good), "--out", str(tmp_path / "store"))
    assert needs_table.exit_code == 2 and "CSV input needs --table" in needs_table.output
    bad = tmp_path / "bad.csv"
    bad.write_text("ts_recv,market,token,price,size\n1,2,3,4,5\n")
    refused = run("convert", str(good), str(bad), "-t", "trades", "--out", str(tmp_path / "store"))
    assert refused.exit_code == 2
    assert f"{bad}:2: column market: condition id must be" in refused.output
    assert not (tmp_path / "store").exists()  # the good file was not written either
    done = run("convert", str(good), "-t", "trades", "--out", str(tmp_path / "store"), "--json")
    assert done.exit_code == 0, done.output
    stats = json.loads(done.output)
    assert stats["source"] == "csv-trades" and stats["events"] == {"trades": 1}


def test_every_command_has_help() -> None:
    for command, text in (("list", "first and last receive time"),
                          ("show", "in tape order"), ("convert", "CSV")):
        result = run(command, "--help")
        assert result.exit_code == 0 and text in result.output


def test_a_directory_means_its_tapes(sim_tape: Path, tmp_path: Path) -> None:
    result = run("convert", str(sim_tape.parent), "--out", str(tmp_path / "store"), "--json")
    assert result.exit_code == 0, result.output
    [stats] = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    assert stats["source"] == "tape-000007" and stats["rows"] > 1000
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = run("convert", str(empty), "--out", str(tmp_path / "store"))
    assert refused.exit_code == 2 and "holds no tapes" in refused.output
