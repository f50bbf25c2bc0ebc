"""``pengine markets``: search, show, refresh and their error messages (CliRunner)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from typer.testing import CliRunner

import prediction_engine.cli.markets  # noqa: F401  (registers `markets` on the app)
from prediction_engine.cli import app
from prediction_engine.core.markets import Market
from prediction_engine.venues.polymarket.catalog import Catalog, CatalogStore


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"PENGINE_DATA_DIR": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(app, ["markets", *args], env=env)


def test_search_uses_the_bundled_sample_and_says_so(env: dict[str, str]) -> None:
    result = run(env, "search", "bitcoin up or down", "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "bundled sample" in result.output
    assert "pengine markets refresh" in result.output
    assert "btc-updown" in result.output


def test_search_json_lines_are_markets(env: dict[str, str]) -> None:
    result = run(env, "search", "democratic nomination", "--json", "-n", "4")
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    markets = [msgspec.json.decode(line, type=Market) for line in lines]
    assert len(markets) == 4
    assert all(m.neg_risk for m in markets)


def test_search_reads_the_fetched_catalog(env: dict[str, str], tmp_path: Path) -> None:
    sample = run(env, "search", "zzz-nothing")
    assert "no market matches" in sample.output
    path = tmp_path / "data" / "catalog" / "polymarket.json"
    only = msgspec.json.decode(
        run(env, "search", "faze", "--json").stdout.splitlines()[-1], type=Market
    )
    CatalogStore(path).save(Catalog([only], 1_000_000_000))
    result = run(env, "search", "faze")
    assert result.exit_code == 0
    assert str(path) in result.output
    assert "1 markets" in result.output


def test_show_prints_tokens_outcomes_fees(env: dict[str, str]) -> None:
    result = run(env, "show", "cs2-faze-ill-2026-04-05")
    assert result.exit_code == 0, result.output
    token = "89972346417086440659189114668296975440208562769200022591480064439842896371398"
    for text in ("FaZe @ 1", token,
                 "rate 0.03, exponent 1, rebate 0.25", "0.001", "winner", "counter-strike"):
        assert text in result.output


def test_show_by_token_id_as_json(env: dict[str, str]) -> None:
    token = "104239898038807136052399800151408521467737075933964991162589336683346093173875"
    result = run(env, "show", token, "--json")
    assert result.exit_code == 0
    assert msgspec.json.decode(result.stdout, type=Market).slug == "btc-updown-5m-1773307200"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "no-such-market"), "no market 'no-such-market'"),
        (("search", "btc", "--limit", "0"), "--limit"),
        (("search", "   "), "at least one word"),
        (("refresh", "--min-volume", "lots"), "not a number"),
        (("refresh", "--min-liquidity", "-5"), "non-negative"),
        (("updown", "doge", "5m"), "must be one of"),
        (("updown", "btc", "30m"), "must be one of"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = run(env, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_config_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("data_dir = [")
    result = run({**env, "PENGINE_CONFIG": str(bad)}, "search", "btc")
    assert result.exit_code == 2
    assert "not valid TOML" in result.output


# ---------------------------------------------------------------- refresh against the simulator

sim_module = pytest.importorskip("prediction_engine.sim.polymarket.server")


@pytest.fixture
def sim_urls() -> Iterator[tuple[str, Any]]:
    """Run the simulator on its own loop in a thread (the CLI runs its own asyncio.run)."""
    loop = asyncio.new_event_loop()
    venue = sim_module.SimPolymarket(sim_module.SimConfig(start_paused=True))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(venue.start(host="127.0.0.1", port=0), loop).result(10)
    try:
        yield venue.gamma_url, venue
    finally:
        asyncio.run_coroutine_threadsafe(venue.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_refresh_saves_the_catalog_then_search_uses_it(
    env: dict[str, str], tmp_path: Path, sim_urls: tuple[str, Any]
) -> None:
    gamma_url, venue = sim_urls
    env = {**env, "PENGINE_POLYMARKET_GAMMA_URL": gamma_url}
    for args in (("refresh",), ("refresh", "--keyset", "--min-volume", "0")):
        result = run(env, *args)
        assert result.exit_code == 0, result.output
        assert "saved" in result.output
    stored = CatalogStore(tmp_path / "data" / "catalog" / "polymarket.json").load()
    assert stored is not None
    assert {m.slug for m in stored.markets} == {m.slug for m in venue.markets() if not m.closed}
    slug = venue.updown_slug("btc", 5)
    shown = run(env, "show", slug)
    assert shown.exit_code == 0
    assert "btc-up-or-down-5m" in shown.output


def test_refresh_reports_venue_errors_with_exit_1(
    env: dict[str, str], sim_urls: tuple[str, Any]
) -> None:
    gamma_url, _ = sim_urls
    result = run({**env, "PENGINE_POLYMARKET_GAMMA_URL": gamma_url + "/nowhere"}, "refresh")
    assert result.exit_code == 1
    assert "refresh failed" in result.output
    assert "404" in result.output
