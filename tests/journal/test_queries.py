"""`pengine journal` queries on both backends: they give what the engine held, to the
micro-unit, and export what they show."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from prediction_engine.cli import _register, app
from prediction_engine.core.numbers import format_micro
from prediction_engine.storage.journal import open_backend
from prediction_engine.storage.queries import fills, orders, pnl, positions
from tests.journal.trading import MARKET, RUN_ID, Scripted, engine_with, open_journal, trade

_register()


def test_queries_fold_the_journal_into_what_the_engine_held(journal_target: str) -> None:
    journal = open_journal(journal_target)
    engine, _ = engine_with(journal, Scripted())
    trade(engine, 5)
    journal.close()
    portfolio = engine.state.portfolio
    with open_backend(journal_target) as backend:
        made = fills(backend, RUN_ID)
        placed = orders(backend, RUN_ID)
        held = positions(backend, RUN_ID)
        money = pnl(backend, RUN_ID)
    # The script: buy 10 at 0.42, rest 5 at 0.40, sell 4 at 0.40, rest 6 at 0.38, buy 5 at 0.42.
    assert made["side"].to_list() == ["BUY", "SELL", "BUY"]
    assert made["price"].to_list() == [Decimal("0.42"), Decimal("0.40"), Decimal("0.42")]
    assert made["size"].to_list() == [Decimal(10), Decimal(4), Decimal(5)]
    assert placed["status"].to_list() == ["FILLED", "ACCEPTED", "FILLED", "ACCEPTED", "FILLED"]
    (yes,) = held.filter(pl.col("token") == MARKET.tokens[0]).iter_rows(named=True)
    assert yes["shares"] == Decimal(11)
    assert yes["fees"] == Decimal(format_micro(portfolio.fees))
    total = money.filter(pl.col("strategy") == "*").row(0, named=True)
    assert total["cash"] == Decimal(format_micro(portfolio.cash))
    assert total["realized"] == Decimal(format_micro(portfolio.realized))
    assert total["fills"] == 3
    assert total["volume"] == Decimal("4.2") + Decimal("1.6") + Decimal("2.1")


def test_the_cli_exports_csv_and_parquet(tmp_path: Path) -> None:
    target = str(tmp_path / "journal.duckdb")
    journal = open_journal(target)
    engine, _ = engine_with(journal, Scripted())
    trade(engine, 5)
    journal.close()
    csv, parquet = tmp_path / "fills.csv", tmp_path / "fills.parquet"
    result = CliRunner().invoke(app, ["journal", "fills", "--journal", target, "--csv", str(csv),
                                      "--parquet", str(parquet)])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(csv).height == pl.read_parquet(parquet).height == 3
    assert pl.read_parquet(parquet)["fee"].sum() == Decimal(format_micro(
        engine.state.portfolio.fees))
