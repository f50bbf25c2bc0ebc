"""``pengine fee``: Polymarket's fee formula, worked by hand, and the CLI's error messages."""

from __future__ import annotations

import json
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

# Importing `fee` registers it on the app; `markets` too, so that the app has several commands
# (as `pengine` does) and `fee` stays a sub-command rather than becoming the whole app.
from prediction_engine.cli import app, fee, markets  # noqa: F401
from prediction_engine.core.ids import ConditionId, Venue
from prediction_engine.core.markets import FeeSchedule, Market
from prediction_engine.venues.polymarket.catalog import Catalog, CatalogStore

FAZE = "cs2-faze-ill-2026-04-05"  # sample catalog: feeSchedule rate 0.03
RECESSION = "us-recession-in-2026"  # sample catalog: no schedule, fees not enabled


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"PENGINE_DATA_DIR": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(app, ["fee", *args], env=env)


def floor5(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.00001"), ROUND_FLOOR)


def fields(output: str) -> dict[str, str]:
    pairs = (line.partition(":") for line in output.splitlines())
    return {key.strip(): value.strip() for key, sep, value in pairs if sep}


def test_hundred_shares_at_half_pay_rate_times_a_quarter(env: dict[str, str]) -> None:
    expected = floor5(Decimal(100) * Decimal("0.072") * Decimal("0.50") * Decimal("0.50"))
    assert expected == Decimal("1.8")
    result = run(env, "--price", "0.50", "--shares", "100", "--rate", "0.072")
    assert result.exit_code == 0, result.output
    shown = fields(result.stdout)
    assert shown["fee"] == "1.8 pUSD"
    assert shown["notional"] == "50 pUSD"
    assert shown["fee per share"] == "0.018 pUSD"
    assert shown["effective fee"] == "3.6% of notional"
    assert shown["rate"] == "0.072 (exponent 1)"


def test_fee_is_floored_to_five_decimals(env: dict[str, str]) -> None:
    exact = Decimal(10) * Decimal("0.0625") * Decimal("0.37") * Decimal("0.63")
    assert exact == Decimal("0.1456875")
    result = run(env, "--price", "0.37", "--shares", "10", "--rate", "0.0625")
    assert result.exit_code == 0, result.output
    assert fields(result.stdout)["fee"] == f"{floor5(exact)} pUSD" == "0.14568 pUSD"


def test_json_output_is_decimal_strings(env: dict[str, str]) -> None:
    result = run(env, "--price", "0.37", "--shares", "10", "--rate", "0.0625", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "market": None, "price": "0.37", "shares": "10", "rate": "0.0625", "exponent": 1,
        "notional": "3.7", "fee": "0.14568", "fee_per_share": "0.014568",
        "effective_pct": "3.9373", "currency": "pUSD", "fees_enabled": None,
    }


def test_exponent_changes_the_power_of_the_variance(env: dict[str, str]) -> None:
    # 200 x 0.5 x (0.2 x 0.8)^2 = 2.56
    result = run(env, "--price", "0.2", "--shares", "200", "--rate", "0.5", "--exponent", "2",
                 "--json")
    assert json.loads(result.stdout)["fee"] == "2.56"


def test_market_uses_its_fee_schedule(env: dict[str, str]) -> None:
    expected = floor5(Decimal(10) * Decimal("0.03") * Decimal("0.37") * Decimal("0.63"))
    result = run(env, "--price", "0.37", "--shares", "10", "--market", FAZE, "--json")
    assert result.exit_code == 0, result.output
    quote = json.loads(result.stdout)
    assert (quote["market"], quote["rate"], quote["fee"]) == (FAZE, "0.03", str(expected))


def test_market_without_schedule_charges_nothing(env: dict[str, str]) -> None:
    result = run(env, "--price", "0.37", "--shares", "10", "--market", RECESSION)
    assert result.exit_code == 0, result.output
    assert fields(result.stdout)["fee"] == "0 pUSD"
    assert "charges no fee" in result.stdout


def test_market_from_the_fetched_catalog(env: dict[str, str], tmp_path: Path) -> None:
    market = Market(venue=Venue.POLYMARKET, condition_id=ConditionId("0x01"), market_id="1",
                    slug="my-market", question="?", fee_schedule=FeeSchedule(rate=Decimal("0.1")))
    CatalogStore(tmp_path / "data" / "catalog" / "polymarket.json").save(Catalog([market], 1))
    result = run(env, "--price", "0.5", "--shares", "4", "--market", "my-market", "--json")
    assert json.loads(result.stdout)["fee"] == "0.1"  # 4 x 0.1 x 0.25
    missing = run(env, "--price", "0.5", "--shares", "4", "--market", FAZE)
    assert missing.exit_code == 2  # the sample no longer stands in


def test_unknown_market_points_to_search(env: dict[str, str]) -> None:
    result = run(env, "--price", "0.5", "--shares", "1", "--market", "no-such-market")
    assert result.exit_code == 2
    assert "no-such-market" in result.output
    assert "pengine markets search" in result.output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--price", "1.2", "--shares", "10", "--rate", "0.07"], "--price"),
        (["--price", "0", "--shares", "10", "--rate", "0.07"], "--price"),
        (["--price", "0.1234567", "--shares", "10", "--rate", "0.07"], "--price"),
        (["--price", "0.5", "--shares", "0", "--rate", "0.07"], "--shares"),
        (["--price", "0.5", "--shares", "-3", "--rate", "0.07"], "--shares"),
        (["--price", "0.5", "--shares", "10", "--rate", "7.2"], "--rate"),
        (["--price", "0.5", "--shares", "10", "--rate", "abc"], "--rate"),
        (["--price", "0.5", "--shares", "10"], "--market"),
        (["--price", "0.5", "--shares", "10", "--rate", "0.07", "--market", FAZE], "--market"),
        (["--price", "0.5", "--shares", "10", "--market", FAZE, "--exponent", "2"], "--exponent"),
    ],
)
def test_bad_input_exits_2_naming_the_option(
    env: dict[str, str], args: list[str], option: str
) -> None:
    result = run(env, *args)
    assert result.exit_code == 2
    assert f"Invalid value for {option}" in result.output or f"/ '{option}'" in result.output


def test_help_teaches_the_formula(env: dict[str, str]) -> None:
    result = run(env, "--help")
    assert "fee = shares x rate x p x (1 - p), rounded down to 5 decimals" in result.output
    assert "makers pay nothing" in result.output
