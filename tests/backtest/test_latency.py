"""Latency models: constants, and tables interpolated over time with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from prediction_engine.backtest.latency import Latency, LatencyError, LatencyModel


def test_constants_apply_at_every_time() -> None:
    latency = Latency(LatencyModel(feed_ns=1, entry_ns=2, response_ns=3))
    assert (latency.feed(0), latency.entry(10**18), latency.response(5)) == (1, 2, 3)
    assert LatencyModel().zero and not LatencyModel(entry_ns=1).zero


def test_a_table_is_interpolated_between_rows_and_flat_outside(tmp_path: Path) -> None:
    table = tmp_path / "latency.csv"
    table.write_text("ts_ns,entry_ns,response_ns\n100,1000,50\n200,3000,150\n")
    latency = Latency(LatencyModel(table=str(table), feed_ns=7))
    assert latency.entry(0) == 1000 and latency.entry(100) == 1000
    assert latency.entry(150) == 2000  # halfway between 1000 and 3000
    assert latency.entry(175) == 2500 and latency.response(175) == 125
    assert latency.entry(10_000) == 3000
    assert latency.feed(150) == 7  # no feed column: the constant


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("entry_ns\n5\n", "needs a ts_ns column"),
        ("ts_ns,other\n1,2\n", "no delay column"),
        ("ts_ns,entry_ns\n", "has no rows"),
        ("ts_ns,entry_ns\n1,abc\n", ":2: want integer nanoseconds"),
        ("ts_ns,entry_ns\n1,-5\n", ":2: want integer nanoseconds"),
        ("ts_ns,entry_ns\n5,1\n5,2\n", ":3: ts_ns must increase"),
    ],
)
def test_a_bad_table_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    table = tmp_path / "latency.csv"
    table.write_text(content)
    with pytest.raises(LatencyError, match=message):
        Latency(LatencyModel(table=str(table)))


def test_negative_and_missing_inputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LatencyError, match="must be >= 0"):
        LatencyModel(entry_ns=-1)
    with pytest.raises(LatencyError, match="cannot read"):
        Latency(LatencyModel(table=str(tmp_path / "missing.csv")))
