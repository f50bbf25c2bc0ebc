"""The live dashboard: token on every route, loopback by default, a page that updates in a
real browser during a paper run on the simulator, and the separate-process file mode."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import msgspec
import pytest
from typer.testing import CliRunner

from prediction_engine.cli import _register, app
from prediction_engine.config import ConfigError
from prediction_engine.ops.dashboard import (
    Dashboard,
    DashboardOptions,
    DashboardServer,
    SnapshotHub,
    check_host,
    serve_snapshot_file,
)
from prediction_engine.ops.dashboard.publisher import SNAPSHOT_FILE
from prediction_engine.ops.dashboard.snapshot import decode_snapshot
from tests.conftest import ROOT
from tests.integration.harness import wait_for
from tests.ops.browser import Page, chromium_or_skip
from tests.ops.paper import paper_run

TOKEN = "test-token-123"
ROUTES = ("/", "/api/snapshot", "/events", "/plotly.min.js")


@pytest.fixture
async def server() -> AsyncIterator[DashboardServer]:
    hub = SnapshotHub()
    hub.put(b'{"sequence": 1}')
    dashboard = DashboardServer(hub, port=0, token=TOKEN)
    await dashboard.start()
    yield dashboard
    await dashboard.stop()


async def status_of(url: str, headers: dict[str, str] | None = None) -> int:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status  # /events: the headers are enough, the stream is not read


@pytest.mark.parametrize("route", ROUTES)
async def test_every_route_needs_the_token(server: DashboardServer, route: str) -> None:
    base = f"http://127.0.0.1:{server.port}{route}"
    assert await status_of(base) == 401
    assert await status_of(f"{base}?token=wrong") == 401
    assert await status_of(base, {"Authorization": "Bearer wrong"}) == 401
    assert await status_of(f"{base}?token={TOKEN}") == 200
    assert await status_of(base, {"Authorization": f"Bearer {TOKEN}"}) == 200


async def test_the_event_stream_pushes_each_new_snapshot(server: DashboardServer) -> None:
    url = f"http://127.0.0.1:{server.port}/events?token={TOKEN}"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        first = await response.content.readuntil(b"\n\n")
        server.hub.put(b'{"sequence": 2}')
        second = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 5)
    assert first == b'event: snapshot\ndata: {"sequence": 1}\n\n'
    assert second == b'event: snapshot\ndata: {"sequence": 2}\n\n'


def test_a_non_loopback_host_needs_allow_remote() -> None:
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        with pytest.raises(ConfigError, match="allow-remote"):
            DashboardServer(SnapshotHub(), host=host)
        check_host(host, allow_remote=True)
    for host in ("127.0.0.1", "::1", "localhost"):
        check_host(host, allow_remote=False)
    server = DashboardServer(SnapshotHub(), host="0.0.0.0", allow_remote=True)
    assert server.token and server.token not in repr(server)


def test_the_default_token_is_random_and_in_the_url() -> None:
    first, second = DashboardServer(SnapshotHub()), DashboardServer(SnapshotHub())
    assert first.token != second.token and len(first.token) >= 24
    assert first.url == f"http://127.0.0.1:8050/?token={first.token}"


async def page_state(page: Page) -> dict[str, object] | None:
    """What a user sees: the snapshot number, book and position rows, chart points (``None``
    while the page is still loading)."""
    state = await page.evaluate("""(() => { try { return {
        sequence: Number(document.getElementById('sequence').textContent),
        books: document.querySelectorAll('#books tbody tr').length,
        bookText: document.querySelector('#books tbody').innerText,
        positions: document.querySelectorAll('#positions tbody tr').length,
        fills: document.querySelectorAll('#fills tbody tr').length,
        feeds: document.querySelector('#feeds tbody').innerText,
        points: (document.getElementById('chart-pnl').data || [{x: []}])[0].x.length,
        svgs: document.querySelectorAll('#chart-pnl svg.main-svg').length,
        status: document.getElementById('status').textContent,
    }; } catch (e) { return null; } })()""")
    assert state is None or isinstance(state, dict)
    return state


async def wait_page(page: Page, condition: str, timeout: float = 15) -> dict[str, object]:
    """Poll the page until the JavaScript ``condition`` (over ``s``, the state) holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = await page_state(page)
        probe = f"(s => Boolean({condition}))({msgspec.json.encode(state).decode()})"
        if state is not None and await page.evaluate(probe):
            return state
        assert asyncio.get_running_loop().time() < deadline, f"{condition}: {state}"
        await asyncio.sleep(0.2)


def keep_artifact(picture: Path) -> Path:
    """Copy the screenshot to $PENGINE_TEST_ARTIFACTS or <repo>/test-artifacts."""
    folder = Path(os.environ.get("PENGINE_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(picture, folder / "dashboard.png"))


async def test_the_page_updates_books_positions_and_the_pnl_chart_during_a_paper_run(
    tmp_path: Path,
) -> None:
    chromium_or_skip()
    dashboard = Dashboard(DashboardOptions(port=0, interval_s=0.25, out_dir=tmp_path / "run"))
    async with paper_run(sinks=[dashboard.publisher], services=[dashboard.service]) as run:
        await wait_for(lambda: dashboard.hub.sequence > 0, 5)
        async with Page(dashboard.url, tmp_path / "profile") as page:
            before = await wait_page(page, "s.books > 0 && s.svgs > 0 && s.points > 1 "
                                     "&& s.status === 'live'")
            assert before["positions"] == 0 and before["fills"] == 0
            assert "polymarket-market-0" in str(before["feeds"])
            await run.arbitrage()
            after = await wait_page(
                page, f"s.positions >= {len(run.event)} && s.fills >= {len(run.event)} && "
                f"s.points > {before['points']} && s.bookText !== {before['bookText']!r}")
            assert int(str(after["sequence"])) > int(str(before["sequence"]))
            picture = tmp_path / "dashboard.png"
            await page.screenshot(picture)
    assert picture.read_bytes().startswith(b"\x89PNG") and picture.stat().st_size > 10_000
    keep_artifact(picture)
    written = decode_snapshot((tmp_path / "run" / SNAPSHOT_FILE).read_bytes())
    assert len(written.positions) >= len(run.event) and written.books


async def test_a_separate_process_serves_the_run_directory_file(tmp_path: Path) -> None:
    dashboard = Dashboard(DashboardOptions(port=0, interval_s=0.2, out_dir=tmp_path))
    async with paper_run(sinks=[dashboard.publisher], services=[dashboard.service]):
        await wait_for((tmp_path / SNAPSHOT_FILE).exists, 5)
        reader = DashboardServer(SnapshotHub(), port=0, token=TOKEN)
        stop = asyncio.Event()
        serving = asyncio.create_task(serve_snapshot_file(tmp_path, reader, stop))
        try:
            await wait_for(lambda: reader.hub.sequence >= 2, 5)
            url = f"http://127.0.0.1:{reader.port}/api/snapshot"
            async with aiohttp.ClientSession() as http, http.get(
                url, headers={"Authorization": f"Bearer {TOKEN}"}
            ) as response:
                snapshot = decode_snapshot(await response.read())
        finally:
            stop.set()
            await serving
    assert snapshot.strategies == ["arbitrage"]
    assert snapshot.books and all(len(row.bids) <= 5 for row in snapshot.books)
    assert snapshot.feeds and snapshot.feeds[0].frames > 0


def test_the_cli_help_teaches_the_token_and_the_run_directory() -> None:
    _register()
    result = CliRunner().invoke(app, ["dashboard", "--help"])
    assert result.exit_code == 0
    for words in ("--from", "dashboard.json", "token", "--allow-remote", "127.0.0.1"):
        assert words in result.output
