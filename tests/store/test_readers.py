"""polars, pandas and DuckDB read a converted store as docs/event-store.md shows, and see the
rows the conversion reported."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pytest

from prediction_engine.store.convert import ConvertStats, convert_tape
from prediction_engine.store.query import scan, summarize


@pytest.fixture(scope="module")
def store(sim_tape: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ConvertStats]:
    root = tmp_path_factory.mktemp("store")
    return root, convert_tape(sim_tape, root, bucket_s=60)


TABLES = ("book_snapshots", "book_deltas", "trades", "top_of_book", "reference_prices",
          "lifecycle", "markets")


@pytest.mark.parametrize("table", TABLES)
def test_polars_duckdb_and_pandas_see_every_row(
    table: str, store: tuple[Path, ConvertStats]
) -> None:
    root, stats = store
    expected = stats.events[table]
    assert expected > 0
    pattern = f"{root}/v1/{table}/**/*.parquet"
    by_polars = pl.scan_parquet(pattern, hive_partitioning=True).collect()
    by_duckdb = duckdb.sql(
        f"SELECT * FROM read_parquet('{pattern}', hive_partitioning = true)"
    ).fetchdf()
    by_pandas = pd.read_parquet(f"{root}/v1/{table}", partitioning=None)
    assert len(by_polars) == len(by_duckdb) == len(by_pandas) == expected
    assert "date" in by_polars.columns and "date" in by_duckdb.columns
    if table != "reference_prices":  # the Hive market (duckdb) is the file's (pandas)
        assert set(by_polars["market"]) == set(by_duckdb["market"]) == set(by_pandas["market"])
    assert sorted(by_duckdb["seq"]) == sorted(by_pandas["seq"]) == sorted(by_polars["seq"])


def test_readers_agree_on_exact_values(store: tuple[Path, ConvertStats]) -> None:
    root, _ = store
    [shares] = duckdb.sql(
        f"SELECT sum(size) FROM read_parquet('{root}/v1/trades/**/*.parquet', "
        "hive_partitioning = true)"
    ).fetchall()
    polars_sum = pl.scan_parquet(f"{root}/v1/trades/**/*.parquet").select(
        pl.col("size").sum()).collect().item()
    assert int(shares[0]) == polars_sum == int(
        pd.read_parquet(f"{root}/v1/trades", partitioning=None)["size"].sum())
    prices = pl.scan_parquet(f"{root}/v1/reference_prices/**/*.parquet",
                             hive_partitioning=True).collect()
    assert prices.schema["price"] == pl.Decimal(38, 18)
    assert set(prices["market"]) == {"btcusdt", "ethusdt"}  # the Hive key is the symbol


def test_scan_filters_by_market_and_time(store: tuple[Path, ConvertStats]) -> None:
    root, stats = store
    everything = scan(root, "book_deltas").collect()
    assert len(everything) == stats.events["book_deltas"]
    market = everything["market"][0]
    middle = int(everything["ts_recv"].median())  # type: ignore[arg-type]
    some = scan(root, "book_deltas", market=market, from_ns=middle).collect()
    expected = everything.filter((pl.col("market") == market) & (pl.col("ts_recv") >= middle))
    assert len(some) == len(expected) > 0
    before = scan(root, "book_deltas", to_ns=middle).collect()
    assert len(before) + len(everything.filter(pl.col("ts_recv") >= middle)) == len(everything)
    assert scan(root, "book_deltas", market="0xnothing").collect().is_empty()
    assert scan(root, "tick_sizes").collect().columns[:5] == ["ts_recv", "ts_event", "seq",
                                                            "sub", "venue"]


def test_summary_counts_match_the_conversion(store: tuple[Path, ConvertStats]) -> None:
    root, stats = store
    summary = summarize(root)
    rows: dict[str, int] = {}
    for partition in summary.partitions:
        rows[partition.table] = rows.get(partition.table, 0) + partition.rows
        assert partition.first_ns <= partition.last_ns
    assert rows == stats.events
    assert (summary.sources, summary.complete) == (1, 1)
    venues = {p.venue for p in summary.partitions if p.table == "reference_prices"}
    assert venues == {"binance", "polymarket-rtds"}
