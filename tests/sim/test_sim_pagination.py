"""Gamma offset/keyset pagination and CLOB cursor pagination behave like the venue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from prediction_engine.sim.polymarket import SimConfig, SimPolymarket

EXTRA = 230


@pytest.fixture
async def big() -> AsyncIterator[SimPolymarket]:
    """A venue listing enough markets to need several pages."""
    config = SimConfig(seed=3, extra_markets=EXTRA, start_paused=True)
    async with SimPolymarket(config) as venue:
        yield venue


async def _get(http: aiohttp.ClientSession, url: str, params: Any) -> tuple[int, Any]:
    async with http.get(url, params=params) as response:
        return response.status, await response.json()


async def test_offset_pages_cap_limit_and_reject_large_offsets(
    big: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    total = len(big.markets())
    seen: list[str] = []
    offset = 0
    while True:
        status, page = await _get(
            http, f"{big.gamma_url}/markets", {"limit": "500", "offset": str(offset)}
        )
        assert status == 200
        assert len(page) <= 100
        if not page:
            break
        seen += [market["conditionId"] for market in page]
        offset += len(page)
    assert len(seen) == len(set(seen)) == total
    status, body = await _get(http, f"{big.gamma_url}/markets", {"offset": "10001"})
    assert status == 422
    assert "error" in body


async def test_keyset_cursor_is_absent_on_the_last_page(
    big: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    pages: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "100"}
    while True:
        status, page = await _get(http, f"{big.gamma_url}/markets/keyset", params)
        assert status == 200
        pages.append(page)
        if "next_cursor" not in page:
            break
        params = {"limit": "100", "cursor": page["next_cursor"]}
    assert [len(page["markets"]) for page in pages] == [100, 100, len(big.markets()) - 200]
    status, _ = await _get(http, f"{big.gamma_url}/markets/keyset", {"offset": "0"})
    assert status == 422


async def test_gamma_filters(big: SimPolymarket, http: aiohttp.ClientSession) -> None:
    url = f"{big.gamma_url}/markets"
    _, closed = await _get(http, url, {"closed": "true"})
    assert [m["slug"] for m in closed] == ["will-sweden-win-eurovision-2025"]
    assert closed[0]["outcomePrices"] == '["0", "1"]'
    wanted = big.markets()[3:5]
    query = [("slug", m.slug) for m in wanted]
    _, by_slug = await _get(http, url, query)
    assert {m["slug"] for m in by_slug} == {m.slug for m in wanted}
    query = [("clob_token_ids", m.token_ids[1]) for m in wanted]
    _, by_token = await _get(http, url, query)
    assert {m["slug"] for m in by_token} == {m.slug for m in wanted}
    _, by_condition = await _get(http, url, {"condition_ids": wanted[0].condition_id})
    assert [m["slug"] for m in by_condition] == [wanted[0].slug]
    _, liquid = await _get(http, url, {"liquidity_num_min": "1", "limit": "100"})
    assert liquid
    assert all(m["liquidityNum"] >= 1 for m in liquid)
    _, ordered = await _get(http, url, {"order": "volumeNum", "ascending": "false"})
    volumes = [m["volumeNum"] for m in ordered]
    assert volumes == sorted(volumes, reverse=True)
    _, crypto = await _get(http, f"{big.gamma_url}/events", {"tag_id": "21", "closed": "false"})
    assert crypto
    assert all(any(t["id"] == "21" for t in e["tags"]) for e in crypto)


async def test_clob_markets_cursor_runs_from_ma_to_lte(
    big: SimPolymarket, http: aiohttp.ClientSession
) -> None:
    cursors, ids = ["MA=="], []
    while cursors[-1] != "LTE=":
        status, page = await _get(http, f"{big.clob_url}/markets", {"next_cursor": cursors[-1]})
        assert status == 200
        assert set(page) == {"limit", "count", "next_cursor", "data"}
        assert page["count"] == len(page["data"])
        ids += [market["condition_id"] for market in page["data"]]
        cursors.append(page["next_cursor"])
    assert cursors == ["MA==", "MTAw", "MjAw", "LTE="]
    assert ids == [market.condition_id for market in big.markets()]
