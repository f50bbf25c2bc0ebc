"""Paper trading on the local simulator with the metrics service: scrape /metrics as Prometheus
would, check the numbers move, lint the exposition with promtool and let a real Prometheus
server scrape it."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from prediction_engine.ops.metrics import Metrics, MetricsService, metrics_service
from tests.integration.harness import wait_for
from tests.ops.paper import PaperRun, paper_run
from tests.ops.scrape import PROMTOOL, promtool_check_metrics, samples, value
from tests.ports import free_port

PROMETHEUS = shutil.which("prometheus")


@dataclass
class Paper:
    run: PaperRun
    service: MetricsService
    http: aiohttp.ClientSession

    async def scrape(self) -> str:
        url = f"http://127.0.0.1:{self.service.bound_port}/metrics"
        async with self.http.get(url) as response:
            assert response.status == 200
            return await response.text()


@contextlib.asynccontextmanager
async def paper_trading() -> AsyncIterator[Paper]:
    """The observer tests' paper run (its books synced) with the metrics on port 0."""
    metrics = Metrics()
    service = metrics_service(metrics, port=0)
    async with paper_run(sinks=[metrics], services=[service]) as run, \
            aiohttp.ClientSession() as http:
        await asyncio.wait_for(service.listening.wait(), 10)
        yield Paper(run, service, http)


async def test_scraped_metrics_follow_an_arbitrage_from_frames_to_fills() -> None:
    async with paper_trading() as paper:
        engine = paper.run.runtime.engine
        tokens = [t for m in paper.run.event for t in m.tokens]
        before = await paper.scrape()
        assert value(before, "pengine_engine_fills_total") == 0
        legs = len(paper.run.event)
        await paper.run.arbitrage()
        await wait_for(lambda: not engine.state.open_orders, 2)
        text = await paper.scrape()
    found = samples(text)
    frames = sum(v for (name, _), v in found.items() if name == "pengine_frames_total")
    assert frames > 0
    events = {dict(labels)["type"]: count for (name, labels), count in found.items()
              if name == "pengine_events_total" and dict(labels)["venue"] == "polymarket"}
    assert events["book_snapshot"] >= len(tokens)  # one per token at least, then deltas
    assert events["book_delta"] > 0
    assert sum(events.values()) == paper.run.runtime.session.counters.events
    assert value(text, "pengine_subscribed_tokens") == len(tokens)
    assert value(text, "pengine_engine_fills_total") == legs
    assert value(text, "pengine_fills_total", strategy="arbitrage", liquidity="taker") == legs
    assert value(text, "pengine_orders_total", strategy="arbitrage", status="SUBMITTED") == legs
    assert value(text, "pengine_orders_total", strategy="arbitrage", status="FILLED") == legs
    assert value(text, "pengine_order_round_trip_seconds_count") == legs
    assert value(text, "pengine_frame_latency_seconds_count", stage="end_to_end") >= 1
    assert value(text, "pengine_fill_fees_dollars_total", strategy="arbitrage") > 0
    assert value(text, "pengine_positions_open") == len(tokens) // 2  # one YES per outcome
    assert value(text, "pengine_kill_switch_engaged") == 0
    if PROMTOOL is not None:
        result = promtool_check_metrics(text)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout + result.stderr == ""


@contextlib.contextmanager
def prometheus_server(
    target_port: int, directory: Path
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    assert PROMETHEUS is not None
    config = directory / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: pengine\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{target_port}']\n",
        encoding="utf-8",
    )
    port = free_port()
    with (directory / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={directory / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=log,
        )
        try:
            yield port, process
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


Json = dict[str, Any]


async def poll_json(
    http: aiohttp.ClientSession, url: str, ready: Callable[[Json], bool], seconds: float
) -> Json:
    """GET ``url`` until ``ready(json)`` holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    last: Json | None = None
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(url) as response:
                if response.status == 200:
                    last = await response.json()
                    if last is not None and ready(last):
                        return last
        await asyncio.sleep(0.25)
    raise AssertionError(f"{url} not ready in {seconds}s; last answer: {last}")


@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus (Debian package) not installed")
async def test_a_real_prometheus_scrapes_the_engine(tmp_path: Path) -> None:
    async with paper_trading() as paper:
        target = paper.service.bound_port
        assert target is not None
        with prometheus_server(target, tmp_path) as (port, process):
            api = f"http://127.0.0.1:{port}/api/v1"

            def target_up(answer: Json) -> bool:
                active = answer["data"]["activeTargets"]
                return any(t["health"] == "up" for t in active)

            targets = await poll_json(paper.http, f"{api}/targets", target_up, 30)
            (active,) = targets["data"]["activeTargets"]
            assert active["scrapeUrl"] == f"http://127.0.0.1:{target}/metrics"
            assert active["lastError"] == ""

            def has_frames(answer: Json) -> bool:
                result = answer["data"]["result"]
                return bool(result) and float(result[0]["value"][1]) > 0

            query = f"{api}/query?query=sum(pengine_frames_total)"
            answer = await poll_json(paper.http, query, has_frames, 30)
            assert float(answer["data"]["result"][0]["value"][1]) > 0
            assert process.poll() is None, "prometheus exited early"
