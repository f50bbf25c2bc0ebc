"""A service that fails as the run starts (a port taken, an address not ours) stops the whole
run with its error: no feed, task or loop is left running, and the CLI exits 2 with one line.

Each run happens in a thread with its own event loop and a hard time limit, so a regression
(the run hanging) fails the test instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from typer.testing import CliRunner, Result

from prediction_engine.cli import _register, app
from prediction_engine.config import ConfigError
from prediction_engine.engine.clock import LiveClock
from prediction_engine.sim.polymarket import SimConfig, SimPolymarket
from prediction_engine.trading.runtime import TradingRuntime
from tests.integration.harness import (
    polymarket_config,
    sim_in_thread,
    tradable_markets,
    wait_for,
)

_register()

LIMIT_S = 20.0
NOT_OURS = "192.0.2.1"  # TEST-NET-1: no machine has it, so binding it fails at once


@dataclass
class Outcome:
    """What a run left behind once it returned (or raised)."""

    error: BaseException | None = None
    seconds: float = 0.0
    tasks_left: list[str] = field(default_factory=list)
    feeds_connected: list[str] = field(default_factory=list)


def within_limit(run: Callable[[], None]) -> None:
    """Run ``run`` in a daemon thread; fail if it has not returned after ``LIMIT_S``."""
    thread = threading.Thread(target=run, daemon=True, name="startup-failure")
    thread.start()
    thread.join(LIMIT_S)
    assert not thread.is_alive(), f"the run still runs {LIMIT_S:.0f} s after its start failed"


def leaf(error: BaseException | None) -> BaseException | None:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


async def run_with_failing_service() -> Outcome:
    """Stream two markets' books; a service fails just as the session subscribes more tokens
    (what the engine asks for when a strategy wants another market), which wakes the
    session's resync loop in the same instant the failure cancels it."""
    outcome = Outcome()
    sim_config = SimConfig(seed=3, updates_per_second=100, reference_feeds=False,
                           updown_assets=())
    async with SimPolymarket(sim_config) as sim, aiohttp.ClientSession() as http:
        config = polymarket_config(sim)
        clock = LiveClock()
        streamed, added = (await tradable_markets(http, config, clock))[:2]

        async def failing_service(runtime: TradingRuntime) -> None:
            await wait_for(lambda: runtime.session.counters.events > 0, 10)
            await runtime.session.subscribe(list(added.tokens))
            raise ConfigError("the dashboard cannot listen on 127.0.0.1:8050 (address "
                              "already in use); choose another --dashboard-port")

        runtime = TradingRuntime(config, [], http=http, clock=clock, reference_feeds=(),
                                 services=[failing_service])
        runtime.watch_tokens(list(streamed.tokens))
        started = time.monotonic()
        try:
            await runtime.run(asyncio.Event())
        except BaseException as e:  # the outcome under test
            outcome.error = e
        outcome.seconds = time.monotonic() - started
        ours = {asyncio.current_task()}
        outcome.tasks_left = [
            task.get_name() for task in asyncio.all_tasks()
            if task not in ours and not task.get_name().startswith("sim-")
            and "RequestHandler" not in repr(task.get_coro())  # the simulator's handlers
        ]
        outcome.feeds_connected = [f.name for f in runtime.session.feeds if f.connected]
    return outcome


def test_a_service_failing_while_the_books_resync_stops_the_runtime() -> None:
    outcomes: list[Outcome] = []
    within_limit(lambda: outcomes.append(asyncio.run(run_with_failing_service())))
    (outcome,) = outcomes
    assert isinstance(leaf(outcome.error), ConfigError), outcome.error
    assert outcome.seconds < 5
    assert outcome.tasks_left == []
    assert outcome.feeds_connected == []


@pytest.fixture(scope="module")
def sim_env() -> Iterator[dict[str, str]]:
    with sim_in_thread(SimConfig(seed=2, updates_per_second=200, updown_assets=())) as env:
        yield env


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--metrics-port", "0", "--metrics-host", NOT_OURS],
         f"error: metrics cannot listen on {NOT_OURS}:0 (cannot assign requested address); "
         "check --metrics-host"),
        (["--dashboard", "--dashboard-port", "0", "--dashboard-host", NOT_OURS,
          "--dashboard-allow-remote"],
         f"error: the dashboard cannot listen on {NOT_OURS}:0 (cannot assign requested "
         "address); check --dashboard-host"),
    ],
)
def test_paper_exits_2_with_one_line_when_a_server_cannot_start(
    flags: list[str], message: str, sim_env: dict[str, str], tmp_path: str
) -> None:
    # Port 0 is not checked before the run (any free port will do), so the server's own
    # start-up fails, inside the running runtime, while its feeds connect.
    results: list[Result] = []
    args = ["paper", "-s", "arbitrage", "--journal", "none", "--duration", "30",
            "--out", str(tmp_path), *flags]
    within_limit(lambda: results.append(CliRunner().invoke(app, args, env=sim_env)))
    (result,) = results
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors == [message], result.output
