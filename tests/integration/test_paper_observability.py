"""`pengine paper` with metrics, dashboard and JSON logs on, as a user runs and watches it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prediction_engine.cli import _register, app
from prediction_engine.sim.polymarket import SimConfig
from tests.integration.harness import sim_in_thread
from tests.ops.scrape import http_get, samples, scrape_run
from tests.ports import free_port

_register()

PENGINE = Path(sys.executable).with_name("pengine")


@pytest.fixture(scope="module")
def sim_env() -> Iterator[dict[str, str]]:
    """A simulated venue (with frequent arbitrage) served from its own thread and loop."""
    with sim_in_thread(SimConfig(seed=2, updates_per_second=200, arb_every_s=1.0)) as env:
        yield env


def _frames(exposition: bytes) -> float:
    return sum(v for (name, _), v in samples(exposition.decode()).items()
               if name == "pengine_frames_total")


def test_paper_serves_metrics_and_a_dashboard_and_logs_json(
    sim_env: dict[str, str], tmp_path: Path
) -> None:
    metrics_port, dashboard_port = free_port(), free_port()
    out = tmp_path / "paper"
    command = [
        str(PENGINE), "paper", "-s", "arbitrage", "-p", "arbitrage.min_edge=0.001",
        "--markets", "nba champion", "--duration", "10", "--out", str(out),
        "--metrics-port", str(metrics_port), "--dashboard", "--dashboard-port",
        str(dashboard_port), "--dashboard-token", "t", "--log-json",
    ]
    env = os.environ | sim_env | {"COLUMNS": "200"}
    stdout_path, stderr_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout_path.open("w") as stdout_file, stderr_path.open("w") as stderr_file, \
            subprocess.Popen(command, env=env, stdout=stdout_file, stderr=stderr_file) as run:
        try:
            body, snapshot = scrape_run(metrics_port, dashboard_port, "t",
                                        time.monotonic() + 40, lambda b: _frames(b) > 0,
                                        stderr_path)
            dashboard = f"http://127.0.0.1:{dashboard_port}/api/snapshot"
            assert http_get(f"{dashboard}?token=t")[0] == 200
            run.wait(timeout=30)
        finally:
            run.kill()  # (a no-op once it exited)
    stdout, stderr = stdout_path.read_text(), stderr_path.read_text()
    assert run.returncode == 0, stderr[-3000:]

    assert _frames(body) > 0, "the metrics count the frames streamed"
    exposition = samples(body.decode())
    assert ("pengine_journal_lag_seconds", frozenset()) in exposition, "a journal is kept"
    state = json.loads(snapshot)
    assert state["strategies"] == ["arbitrage"]
    assert state["books"], "the page shows the books it trades"
    assert (out / "dashboard.json").exists(), "what `pengine dashboard --from` serves"

    assert f"metrics at http://127.0.0.1:{metrics_port}/metrics" in stdout
    assert f"dashboard at http://127.0.0.1:{dashboard_port}/?token=t" in stdout
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert {line["run_id"] for line in lines} == {lines[0]["run_id"]}
    messages = [line["message"] for line in lines]
    assert any(m.startswith("metrics at") for m in messages), messages
    assert all(line["level"] in ("DEBUG", "INFO", "WARNING") for line in lines), messages


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["paper", "--dashboard", "--dashboard-host", "0.0.0.0"], {}, "--dashboard-allow-remote"),
        (["updown", "--dashboard", "--dashboard-host", "0.0.0.0"], {}, "--dashboard-allow-remote"),
        (["paper", "--telegram"],
         {"PENGINE_TELEGRAM_TOKEN": None, "PENGINE_TELEGRAM_CHAT_ID": None},
         "PENGINE_TELEGRAM_TOKEN and PENGINE_TELEGRAM_CHAT_ID"),
        (["paper", "--telegram", "--telegram-summary-utc", "25:00"],
         {"PENGINE_TELEGRAM_TOKEN": "1:x", "PENGINE_TELEGRAM_CHAT_ID": "1"}, "HH:MM"),
        (["paper", "--log-level", "chatty"], {}, "unknown log level"),
    ],
)
def test_bad_observability_flags_exit_2_before_trading(
    args: list[str], env: dict[str, str | None], message: str, tmp_path: Path
) -> None:
    # No venue is running: reaching it would exit 1, so 2 means the flags were refused first.
    offline = {"PENGINE_POLYMARKET_GAMMA_URL": "http://127.0.0.1:1"}
    result = CliRunner().invoke(
        app, [*args, "-s", "arbitrage", "--out", str(tmp_path)], env=offline | env
    )
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize("flags", [["--metrics-port"], ["--dashboard", "--dashboard-port"]])
def test_a_port_in_use_exits_2_and_says_what_to_do(flags: list[str], tmp_path: Path) -> None:
    offline = {"PENGINE_POLYMARKET_GAMMA_URL": "http://127.0.0.1:1"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = CliRunner().invoke(
            app, ["paper", "-s", "arbitrage", "--out", str(tmp_path), *flags, port], env=offline
        )
    assert result.exit_code == 2, result.output
    assert f"choose another {flags[-1]}" in " ".join(result.output.split())
