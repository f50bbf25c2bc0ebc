"""Catalog: search ranking, lookups, storage, background refresh, Up/Down slugs."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from prediction_engine.config import load_config
from prediction_engine.core.ids import ConditionId, TokenId, Venue
from prediction_engine.core.markets import Market
from prediction_engine.venues.polymarket.catalog import (
    DAY_NS,
    UPDOWN_ASSETS,
    Catalog,
    CatalogError,
    CatalogStore,
    UpDownSlug,
    catalog_path,
    load_catalog,
    load_sample,
    open_catalog,
    parse_updown_slug,
    tokenize,
    updown_series_slug,
    updown_slug,
    updown_window_start_s,
)

S = 1_000_000_000


def market(n: int, slug: str = "", question: str = "", tags: tuple[str, ...] = (),
           description: str = "", volume: str = "0", closed: bool = False) -> Market:
    return Market(
        venue=Venue.POLYMARKET, condition_id=ConditionId(f"0x{n:064x}"), market_id=str(n),
        slug=slug or f"market-{n}", question=question, description=description, tags=tags,
        outcomes=("Yes", "No"), tokens=(TokenId(str(2 * n + 1)), TokenId(str(2 * n + 2))),
        volume=Decimal(volume), closed=closed,
    )


def test_tokenize() -> None:
    terms = tokenize("BTC Up-or-Down 15m, $150,000?")
    assert terms == ["btc", "up", "or", "down", "15m", "150", "000"]


def test_search_ranks_slug_over_question_over_tags_over_description() -> None:
    catalog = Catalog([
        market(1, description="all about the zebra"),
        market(2, tags=("Zebra",)),
        market(3, question="Will the zebra run?"),
        market(4, slug="zebra-crossing"),
        market(5, question="nothing here"),
    ], 0)
    hits = catalog.search("zebra")
    assert [h.market.market_id for h in hits] == ["4", "3", "2", "1"]
    assert [h.score for h in hits] == [8, 4, 2, 1]


def test_search_prefers_more_terms_then_score_then_volume() -> None:
    catalog = Catalog([
        market(1, slug="bitcoin-price", volume="10"),
        market(2, question="bitcoin price above 100k", volume="5"),
        market(3, question="bitcoin price above 100k", volume="50"),
        market(4, slug="bitcoin-only", volume="1000"),
    ], 0)
    hits = catalog.search("Bitcoin price")
    assert [h.market.market_id for h in hits] == ["1", "3", "2", "4"]


def test_search_limit_open_only_and_empty_query() -> None:
    catalog = Catalog([market(i, question="fed rates", closed=i % 2 == 0) for i in range(1, 7)], 0)
    assert len(catalog.search("fed", limit=2)) == 2
    assert all(not h.market.closed for h in catalog.search("fed", open_only=True))
    assert catalog.search("  ,,  ") == []


def test_lookups() -> None:
    m = market(10, slug="will-it-rain")
    catalog = Catalog([m, market(11)], 0)
    assert catalog.by_slug("will-it-rain") is m
    assert catalog.by_token("22") is m
    assert catalog.by_token("999") is None
    assert catalog.by_condition(m.condition_id.upper().replace("0X", "0x")) is m
    assert [x.slug for x in catalog.match_slug(r"^will-.*rain$")] == ["will-it-rain"]
    with pytest.raises(CatalogError, match="bad slug pattern"):
        catalog.match_slug("(")


def test_store_round_trip_and_age(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path / "catalog" / "polymarket.json")
    assert store.load() is None
    original = Catalog([market(1, tags=("A",)), market(2)], fetched_at_ns=5 * S)
    store.save(original)
    loaded = store.load()
    assert loaded is not None
    assert loaded.markets == original.markets
    assert loaded.fetched_at_ns == 5 * S
    assert loaded.age(3_605 * S).total_seconds() == 3_600


def test_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "polymarket.json"
    path.write_text("{not json")
    with pytest.raises(CatalogError, match="pengine markets refresh"):
        CatalogStore(path).load()


def test_catalog_path_follows_config(tmp_path: Path) -> None:
    config = load_config(env={"PENGINE_DATA_DIR": str(tmp_path)})
    assert catalog_path(config) == tmp_path / "catalog" / "polymarket.json"


def test_sample_catalog_is_usable() -> None:
    sample = load_sample()
    assert 30 <= len(sample) <= 60
    tokens = [t for m in sample.markets for t in m.tokens]
    assert len(tokens) == len(set(tokens))
    assert len({m.slug for m in sample.markets}) == len(sample)
    for asset in UPDOWN_ASSETS:
        assert sample.match_slug(rf"^{asset}-updown-15m-\d+$")
    assert sample.by_slug("cs2-faze-ill-2026-04-05") is not None
    assert any(m.neg_risk for m in sample.markets)
    assert any(m.resolved for m in sample.markets)
    assert sample.search("democratic nomination")[0].market.neg_risk


def test_load_catalog_prefers_disk_then_sample(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path / "polymarket.json")
    assert load_catalog(store).is_sample
    store.save(Catalog([market(1)], 7))
    loaded = load_catalog(store)
    assert not loaded.is_sample
    assert loaded.path == store.path
    assert len(loaded.catalog) == 1


async def test_open_catalog_fresh_has_no_refresh(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path / "polymarket.json")
    store.save(Catalog([market(1)], 10 * S))

    async def refresh() -> Catalog:
        raise AssertionError("must not refresh a fresh catalog")

    async with asyncio.TaskGroup() as group:
        loaded, task = await open_catalog(store, 10 * S + DAY_NS - 1, refresh, group)
    assert task is None
    assert len(loaded.catalog) == 1


async def test_open_catalog_stale_returns_at_once_and_refreshes_in_callers_group(
    tmp_path: Path,
) -> None:
    store = CatalogStore(tmp_path / "polymarket.json")
    store.save(Catalog([market(1)], 0))
    release = asyncio.Event()

    async def refresh() -> Catalog:
        await release.wait()
        return Catalog([market(1), market(2)], DAY_NS + 1)

    async with asyncio.TaskGroup() as group:
        loaded, task = await open_catalog(store, DAY_NS + 1, refresh, group)
        assert len(loaded.catalog) == 1
        assert task is not None
        assert not task.done()
        release.set()
    assert task.done()
    assert len(task.result()) == 2
    reloaded = store.load()
    assert reloaded is not None
    assert len(reloaded) == 2


async def test_open_catalog_refresh_failure_is_not_lost(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path / "polymarket.json")

    async def refresh() -> Catalog:
        raise RuntimeError("gamma down")

    seen: list[bool] = []

    async def open_and_wait() -> None:
        async with asyncio.TaskGroup() as group:
            loaded, _ = await open_catalog(store, 0, refresh, group)
            seen.append(loaded.is_sample)

    with pytest.raises(ExceptionGroup) as info:
        await open_and_wait()
    assert seen == [True]
    assert info.group_contains(RuntimeError, match="gamma down")


# ---------------------------------------------------------------- Up/Down slugs

NOW = 1_773_307_777 * S  # 2026-03-12T09:29:37Z


@pytest.mark.parametrize(
    ("interval", "start", "next_start"),
    [
        ("5m", 1_773_307_500, 1_773_307_800),
        ("15m", 1_773_306_900, 1_773_307_800),
        ("1h", 1_773_306_000, 1_773_309_600),
        ("4h", 1_773_302_400, 1_773_316_800),
    ],
)
def test_window_start_and_slug_per_interval(interval: str, start: int, next_start: int) -> None:
    assert updown_window_start_s(interval, NOW) == start
    assert updown_window_start_s(interval, start * S) == start  # a boundary starts its window
    assert updown_window_start_s(interval, start * S - 1) < start
    assert updown_window_start_s(interval, next_start * S) == next_start
    assert updown_slug("btc", interval, start) == f"btc-updown-{interval}-{start}"
    assert updown_series_slug("eth", interval) == f"eth-up-or-down-{interval}"


def test_fixture_slug_is_its_window() -> None:
    assert updown_slug("btc", "5m", updown_window_start_s("5m", 1_773_307_200 * S + 1)) == (
        "btc-updown-5m-1773307200"
    )


def test_parse_updown_slug_both_forms() -> None:
    new = parse_updown_slug("btc-updown-15m-1757724300")
    old = parse_updown_slug("btc-up-or-down-15m-1757724300")
    assert new == old == UpDownSlug("btc", "15m", 1_757_724_300)
    assert new is not None
    assert new.end_s == 1_757_724_300 + 900
    for other in ("btc-up-or-down-15m", "btc-updown-7m-1757724300", "will-btc-go-up"):
        assert parse_updown_slug(other) is None


def test_offline_updown_lookup_current_then_next() -> None:
    base = 1_773_306_900
    catalog = Catalog([
        market(1, slug=f"btc-updown-15m-{base}"),
        market(2, slug=f"btc-up-or-down-15m-{base + 1800}"),
        market(3, slug=f"eth-updown-15m-{base + 900}"),
    ], 0)
    current = catalog.updown("btc", "15m", (base + 10) * S)
    later = catalog.updown("btc", "15m", (base + 900) * S)
    assert current is not None
    assert current.market_id == "1"
    assert later is not None
    assert later.market_id == "2"
    assert catalog.updown("btc", "15m", (base + 2700) * S) is None
    with pytest.raises(CatalogError, match="interval"):
        catalog.updown("btc", "30m", NOW)
    with pytest.raises(CatalogError, match="asset"):
        catalog.updown("doge", "5m", NOW)
