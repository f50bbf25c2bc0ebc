"""`pengine updown` with metrics, dashboard and Telegram on, against the local simulators, as a
user runs and watches it: Prometheus scrapes the book and reference feeds, the dashboard
wants its token and shows them, Telegram hears the start and the stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from prediction_engine.sim.polymarket import SimConfig
from tests.integration.harness import sim_in_thread
from tests.ops.fake_telegram import TOKEN, fake_telegram_in_thread
from tests.ops.scrape import PROMTOOL, promtool_check_metrics, samples, scrape_run
from tests.ports import free_port

PENGINE = Path(sys.executable).with_name("pengine")
WINDOW_S = 300
CHAT = "-100123"
# Eager enough that the momentum strategy trades within a second of the strike, up to the
# window's very end: any imbalance of the reference trades claims a large edge.
EAGER = [f"updown_momentum.{name}" for name in (
    "threshold=0.01", "min_move=0", "min_trades=1", "edge_per_imbalance=10", "max_edge=0.5",
    "min_time_left_s=0")]


def sim_start_s(now_s: int) -> int:
    """Start the simulator 4 s before a 5-minute window starts, so that its feeds run before
    that start and the bot takes the strike (the first RTDS price at or after it).

    The window is the current one (the simulator then runs behind the wall clock, which only
    its timestamps show); in the current window's last seconds it is the next one, which the
    bot joins at once and trades as soon as it starts.
    """
    phase = now_s % WINDOW_S
    start = now_s - phase + (WINDOW_S if phase >= WINDOW_S - 8 else 0)
    return start - 4


@pytest.fixture(scope="module")
def sim_env() -> Iterator[dict[str, str]]:
    """A simulated venue with 5-minute BTC Up/Down windows and Binance and RTDS feeds."""
    config = SimConfig(seed=5, updates_per_second=100, updown_assets=("btc",),
                       updown_minutes=(WINDOW_S // 60,), updown_windows=3,
                       clock_start_s=sim_start_s(int(time.time())))
    with sim_in_thread(config) as env:
        yield env


def by_labels(exposition: bytes, name: str, label: str) -> dict[str, float]:
    """The samples of ``name`` summed by the value of ``label``."""
    sums: dict[str, float] = {}
    for (sample, labels), value in samples(exposition.decode()).items():
        if sample == name:
            key = dict(labels)[label]
            sums[key] = sums.get(key, 0.0) + value
    return sums


def streaming_and_trading(exposition: bytes) -> bool:
    """Frames from every feed, and at least one order timed from frame to execution."""
    frames = by_labels(exposition, "pengine_frames_total", "venue")
    latency = by_labels(exposition, "pengine_frame_latency_seconds_count", "stage")
    venues = {"polymarket", "binance", "polymarket-rtds"}
    return all(frames.get(v, 0) > 0 for v in venues) and latency.get("end_to_end", 0) > 0


def test_updown_serves_metrics_a_dashboard_and_telegram_alerts(
    sim_env: dict[str, str], tmp_path: Path
) -> None:
    metrics_port, dashboard_port = free_port(), free_port()
    command = [
        str(PENGINE), "updown", "--asset", "btc", "--interval", "5m", "--duration", "12",
        "--out", str(tmp_path / "updown"), *(arg for p in EAGER for arg in ("-p", p)),
        "--metrics-port", str(metrics_port),
        "--dashboard", "--dashboard-port", str(dashboard_port), "--dashboard-token", "t",
        "--telegram", "--telegram-summary-utc", "off",
    ]
    stdout_path, stderr_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with fake_telegram_in_thread() as api:
        env = os.environ | sim_env | {
            "COLUMNS": "200", "PENGINE_TELEGRAM_TOKEN": TOKEN,
            "PENGINE_TELEGRAM_CHAT_ID": CHAT, "PENGINE_TELEGRAM_BASE_URL": api.base_url,
        }
        with stdout_path.open("w") as stdout_file, stderr_path.open("w") as stderr_file, \
                subprocess.Popen(command, env=env, stdout=stdout_file,
                                 stderr=stderr_file) as run:
            try:
                exposition, snapshot = scrape_run(
                    metrics_port, dashboard_port, "t", time.monotonic() + 25,
                    streaming_and_trading, stderr_path)
                run.wait(timeout=25)
            finally:
                run.kill()  # (a no-op once it exited)
        calls = api.calls
    stdout, stderr = stdout_path.read_text(), stderr_path.read_text()
    assert run.returncode == 0, stderr[-3000:]

    assert streaming_and_trading(exposition), exposition.decode()[-3000:]
    events = samples(exposition.decode())
    for venue, kind in (("polymarket", "book_snapshot"), ("binance", "reference_price"),
                        ("polymarket-rtds", "reference_price")):
        key = ("pengine_events_total", frozenset({("venue", venue), ("type", kind)}))
        assert events.get(key, 0) > 0, (venue, kind)
    if PROMTOOL is not None:
        result = promtool_check_metrics(exposition.decode())
        assert result.returncode == 0, result.stdout + result.stderr

    state = json.loads(snapshot)
    feeds = {feed["name"]: feed for feed in state["feeds"]}
    assert {"polymarket-market-0", "binance", "polymarket-rtds"} <= set(feeds)
    assert all(feed["frames"] > 0 for feed in feeds.values()), feeds
    assert any(m["slug"].startswith("btc-updown-5m-") for m in state["markets"])
    assert state["strategies"] == ["updown_fade", "updown_momentum", "updown_sniper"]

    assert f"metrics at http://127.0.0.1:{metrics_port}/metrics" in stdout
    assert f"dashboard at http://127.0.0.1:{dashboard_port}/?token=t" in stdout
    texts = "\n".join(call.text for call in calls)
    assert {call.chat_id for call in calls} == {CHAT}
    assert texts.startswith("pengine started: updown_fade, updown_momentum, updown_sniper")
    assert texts.splitlines()[-1].startswith("pengine stopped: PnL")
