"""Telegram alerts against a local fake Bot API: content, batching, rate limits, 429, outages.

The engine-side calls only append to a bounded buffer; these tests show the alerts arrive when
the API answers and that trading is untouched when it hangs or is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import itertools
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from datetime import time as day_time

import aiohttp
import pytest

from prediction_engine.config import ConfigError
from prediction_engine.engine.messages import EngageKillSwitch
from prediction_engine.ops.telegram import (
    MAX_MESSAGE,
    Rate,
    RateLimiter,
    TelegramConfig,
    TelegramNotifier,
    next_summary_ns,
    split_message,
)
from tests.integration.harness import wait_for
from tests.ops.fake_telegram import TOKEN, FakeTelegram, closed_port_url
from tests.ops.paper import paper_run

CHAT = "-100777"


def quick(base_url: str, **changes: object) -> TelegramConfig:
    """A config for tests: fast polling, a loose rate limit, no daily summary."""
    config = TelegramConfig(token=TOKEN, chat_id=CHAT, base_url=base_url, linger_s=0.05,
                            poll_s=0.05, rates=(Rate(50, 1.0),), summary_at_utc=None,
                            timeout_s=2.0, final_flush_s=2.0)
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def sending(notifier: TelegramNotifier) -> AsyncIterator[None]:
    """Run the notifier's sender (without a runtime) for the duration of the block."""
    async with aiohttp.ClientSession() as http:
        task = asyncio.create_task(notifier.send_forever(http))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_start_orders_fills_kill_switch_summary_and_stop_reach_the_chat() -> None:
    async with FakeTelegram() as api:
        notifier = TelegramNotifier(quick(api.base_url, summary_every_h=0.5 / 3600))
        async with paper_run(sinks=[notifier], services=[notifier.service]) as run:
            await wait_for(lambda: "pengine started" in api.texts(), 5)
            await run.arbitrage()
            await wait_for(lambda: "fill BUY" in api.texts(), 5)
            await run.runtime.inbox.put(EngageKillSwitch(reason="operator halt"))
            await wait_for(lambda: "KILL SWITCH engaged: operator halt" in api.texts(), 5)
            await wait_for(lambda: "daily summary: PnL" in api.texts(), 5)
        text = api.texts()
    assert {call.chat_id for call in api.calls} == {CHAT}
    assert {call.token for call in api.calls} == {TOKEN}
    assert "pengine started: arbitrage" in text
    assert "order FILLED BUY" in text, "the order alert names its status and side"
    assert run.event[0].slug in text, "orders and fills are named by the market's slug"
    assert text.count("fill BUY") == len(run.event), "one alert per leg"
    summaries = [line for line in text.splitlines() if line.startswith("daily summary")]
    assert any(f"fills {len(run.event)}" in line for line in summaries)
    assert api.calls[-1].text.splitlines()[-1].startswith("pengine stopped: PnL")
    assert notifier.counters.dropped == 0 and notifier.counters.failed_requests == 0


async def test_orders_and_fills_can_be_switched_off() -> None:
    async with FakeTelegram() as api:
        notifier = TelegramNotifier(quick(api.base_url, notify_orders=False, notify_fills=False))
        async with paper_run(sinks=[notifier], services=[notifier.service]) as run:
            await run.arbitrage()
            await wait_for(lambda: "pengine started" in api.texts(), 5)
    assert "order " not in api.texts() and "fill " not in api.texts()
    assert "pengine stopped" in api.texts()


async def test_a_burst_of_events_becomes_few_messages_within_the_size_limit() -> None:
    async with FakeTelegram() as api:
        notifier = TelegramNotifier(quick(api.base_url))
        async with sending(notifier):
            for index in range(400):
                notifier.notify(f"event number {index:04d}")
            await wait_for(lambda: "event number 0399" in api.texts(), 5)
    lines = api.texts().splitlines()
    assert lines == [f"event number {index:04d}" for index in range(400)]
    assert 2 <= len(api.calls) <= 3, "400 lines of 17 characters need two 4096-character texts"
    assert all(len(call.text) <= MAX_MESSAGE for call in api.calls)


async def test_the_rate_limit_holds_at_the_server() -> None:
    async with FakeTelegram() as api:
        notifier = TelegramNotifier(quick(api.base_url, rates=(Rate(2, 0.5),), linger_s=0.0))
        async with sending(notifier):
            for index in range(6):  # each line fills a message of its own
                notifier.notify(str(index) * 3000)
            await wait_for(lambda: len(api.calls) == 6, 5)
    stamps = [call.at for call in api.calls]
    windows = [later - earlier for earlier, later in zip(stamps, stamps[2:], strict=False)]
    assert min(windows) >= 0.45, f"3 messages within half a second: {windows}"


def test_the_default_limit_allows_one_a_second_and_twenty_a_minute() -> None:
    now = [0.0]
    limiter = RateLimiter(TelegramConfig(token=TOKEN, chat_id=CHAT).rates, lambda: now[0])
    sends = []
    while len(sends) < 21:
        now[0] += limiter.delay_s()
        assert limiter.delay_s() == 0.0
        limiter.record()
        sends.append(now[0])
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert min(gaps) >= 1.0
    assert sends[20] - sends[0] >= 60.0, "the 21st message waits for the minute window"


async def test_429_retry_after_is_respected_and_the_message_is_sent_again() -> None:
    async with FakeTelegram(replies=["429:1"]) as api:
        notifier = TelegramNotifier(quick(api.base_url))
        async with sending(notifier):
            notifier.notify("kill switch engaged")
            await wait_for(lambda: len(api.calls) == 2, 5)
    first, second = api.calls
    assert first.text == second.text == "kill switch engaged"
    assert second.at - first.at >= 0.95
    assert notifier.counters.rate_limited == 1 and notifier.counters.sent == 1


async def test_a_down_endpoint_is_counted_logged_once_and_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = TelegramNotifier(quick(closed_port_url(), attempts=2))
    with caplog.at_level(logging.WARNING, logger="prediction_engine.ops.telegram"):
        async with sending(notifier):
            notifier.notify("first")
            await wait_for(lambda: notifier.counters.abandoned == 1, 5)
            notifier.notify("second")
            await wait_for(lambda: notifier.counters.abandoned == 2, 5)
    assert notifier.counters.failed_requests == 4
    warnings = [r for r in caplog.records if r.name == "prediction_engine.ops.telegram"]
    assert len(warnings) == 1, "failures are logged at most once a minute"
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


async def test_a_hanging_endpoint_never_slows_the_engine_side() -> None:
    for method in ("notify", "order", "fill", "signal", "latency", "market_info"):
        assert not inspect.iscoroutinefunction(getattr(TelegramNotifier, method))
    async with FakeTelegram(hang=True) as api:
        notifier = TelegramNotifier(quick(api.base_url, buffer_lines=100, timeout_s=30))
        async with sending(notifier):
            notifier.notify("stuck")
            await wait_for(lambda: api.in_flight == 1, 5)
            for index in range(10_000):  # the sender is stuck in its request meanwhile
                notifier.notify(f"line {index}")
            assert notifier.pending == 100
            assert notifier.counters.dropped == 10_000 - 100
            assert notifier.counters.enqueued == 10_001
    assert len(api.calls) == 1 and notifier.counters.sent == 0


async def test_paper_trading_fills_every_leg_while_telegram_hangs() -> None:
    async with FakeTelegram(hang=True) as api:
        notifier = TelegramNotifier(quick(api.base_url, buffer_lines=5, timeout_s=60,
                                          final_flush_s=0.2))
        async with paper_run(sinks=[notifier], services=[notifier.service]) as run:
            await wait_for(lambda: api.in_flight == 1, 5)
            await run.arbitrage()  # the same 10 s deadline as without a notifier
            engine = run.runtime.engine
            assert engine.counters.fills >= len(run.event)
            assert notifier.counters.enqueued > 5 and notifier.counters.dropped > 0
    assert notifier.counters.sent == 0
    assert len(api.calls) == 2, "the stuck request, then the stop flush cut at final_flush_s"


def test_the_token_comes_from_the_environment_and_never_shows_in_a_repr() -> None:
    config = TelegramConfig.from_env({"PENGINE_TELEGRAM_TOKEN": TOKEN,
                                      "PENGINE_TELEGRAM_CHAT_ID": CHAT})
    assert config.token == TOKEN and config.chat_id == CHAT
    assert config.base_url == "https://api.telegram.org"
    assert TOKEN not in repr(config) and TOKEN not in repr(TelegramNotifier(config))
    with pytest.raises(ConfigError, match="PENGINE_TELEGRAM_CHAT_ID"):
        TelegramConfig.from_env({"PENGINE_TELEGRAM_TOKEN": TOKEN})


async def test_error_logs_are_forwarded_but_not_the_notifiers_own() -> None:
    notifier = TelegramNotifier(quick("http://127.0.0.1:9"))
    handler = notifier.error_handler()
    logger = logging.getLogger("prediction_engine.test_alerts")
    logger.addHandler(handler)
    try:
        logger.warning("not an error")
        logger.error("book desync on %s", "abc")
    finally:
        logger.removeHandler(handler)
    handler.handle(logging.LogRecord("prediction_engine.ops.telegram", logging.ERROR, "", 0,
                                     "own failure", None, None))
    assert notifier.pending == 1


def test_split_message_packs_lines_and_cuts_an_overlong_one() -> None:
    assert split_message(["a", "b"], limit=10) == ["a\nb"]
    assert split_message(["x" * 25], limit=10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_message(["aaaa", "bbbb", "cccc"], limit=9) == ["aaaa\nbbbb", "cccc"]


def test_the_next_summary_is_at_the_utc_time_or_every_n_hours() -> None:
    noon = int(datetime(2025, 3, 1, 12, 0, tzinfo=UTC).timestamp()) * 1_000_000_000
    at_six = next_summary_ns(noon, day_time(6, 0), None)
    at_eighteen = next_summary_ns(noon, day_time(18, 0), None)
    assert at_six == int(datetime(2025, 3, 2, 6, 0, tzinfo=UTC).timestamp()) * 1_000_000_000
    assert at_eighteen == noon + 6 * 3600 * 1_000_000_000
    assert next_summary_ns(noon, day_time(6, 0), 4) == noon + 4 * 3600 * 1_000_000_000
    assert next_summary_ns(noon, None, None) is None


@pytest.mark.parametrize("turns", range(4))
async def test_the_sender_stops_when_cancelled_as_a_line_arrives(turns: int) -> None:
    # A run that fails at start-up cancels the sender while the "started" line may be waking
    # it; the cancellation must win (the sender loops forever otherwise).
    notifier = TelegramNotifier(quick(closed_port_url(), poll_s=30.0))
    async with aiohttp.ClientSession() as http:
        task = asyncio.create_task(notifier.send_forever(http))
        await asyncio.sleep(0.01)  # the sender waits for lines
        notifier.notify("pengine started")
        for _ in range(turns):  # the wake-up travels through the loop meanwhile
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        task.cancel()  # a second cancel ends a sender that swallowed the first
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert task in done
