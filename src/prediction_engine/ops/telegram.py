"""Telegram alerts: start/stop, orders, fills, errors, the kill switch and a daily summary.

:class:`TelegramNotifier` is both a telemetry sink (the engine calls :meth:`~TelegramNotifier.
order` and :meth:`~TelegramNotifier.fill` synchronously) and a service (:meth:`~TelegramNotifier.
service`) that sends. The engine side only appends a line to a bounded buffer: when it is full
the oldest line is dropped and counted, nothing ever waits. The sender batches whatever is
pending into one message (split at Telegram's 4096 characters), honours a rate limit and the
API's ``429 retry_after``, puts a timeout on every request, and counts and logs failures (at
most one warning a minute) instead of raising them into trading::

    POST {base_url}/bot{token}/sendMessage  {"chat_id": "...", "text": "..."}

Wiring: ``TradingRuntime(..., sinks=[notifier], services=[notifier.service])`` and, for errors,
``logging.getLogger().addHandler(notifier.error_handler())``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from typing import TYPE_CHECKING

import aiohttp
import msgspec

from prediction_engine.config import ConfigError
from prediction_engine.core.markets import Market
from prediction_engine.core.numbers import format_micro
from prediction_engine.engine.telemetry import (
    FillRecord,
    LatencyRecord,
    OrderRecord,
    SignalRecord,
)

if TYPE_CHECKING:
    from prediction_engine.trading.runtime import TradingRuntime

__all__ = [
    "MAX_MESSAGE",
    "NotifierCounters",
    "Rate",
    "RateLimiter",
    "TelegramConfig",
    "TelegramNotifier",
    "next_summary_ns",
    "split_message",
]

log = logging.getLogger(__name__)

MAX_MESSAGE = 4096
"""Telegram's limit on the text of one message, in characters."""

_S = 1_000_000_000


@dataclass(frozen=True)
class Rate:
    """At most ``count`` messages in any ``seconds``-long window."""

    count: int
    seconds: float


@dataclass(frozen=True)
class TelegramConfig:
    """Where and what to send; the token is a secret, kept out of the repr."""

    token: str = field(repr=False)
    chat_id: str
    base_url: str = "https://api.telegram.org"
    parse_mode: str | None = None
    notify_orders: bool = True
    notify_fills: bool = True
    buffer_lines: int = 1000
    rates: tuple[Rate, ...] = (Rate(1, 1.0), Rate(20, 60.0))
    timeout_s: float = 10.0
    attempts: int = 3
    linger_s: float = 0.5
    summary_at_utc: day_time | None = day_time(0, 0)
    summary_every_h: float | None = None
    poll_s: float = 0.5
    final_flush_s: float = 3.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TelegramConfig:
        """Read ``PENGINE_TELEGRAM_TOKEN`` and ``PENGINE_TELEGRAM_CHAT_ID`` (and optionally
        ``PENGINE_TELEGRAM_BASE_URL``); raise :class:`ConfigError` naming what is missing.

        Change other settings with :func:`dataclasses.replace`."""
        env = os.environ if environ is None else environ
        token = env.get("PENGINE_TELEGRAM_TOKEN", "")
        chat_id = env.get("PENGINE_TELEGRAM_CHAT_ID", "")
        missing = [name for name, value in (("PENGINE_TELEGRAM_TOKEN", token),
                                            ("PENGINE_TELEGRAM_CHAT_ID", chat_id)) if not value]
        if missing:
            raise ConfigError(f"Telegram alerts need {' and '.join(missing)} in the environment "
                              "(a bot token from @BotFather and the chat to post to)")
        base = env.get("PENGINE_TELEGRAM_BASE_URL", "https://api.telegram.org")
        return cls(token=token, chat_id=chat_id, base_url=base)


@dataclass
class NotifierCounters:
    """What happened to the alerts, for metrics and tests."""

    enqueued: int = 0
    dropped: int = 0
    """Lines pushed out of a full buffer before they could be sent."""
    sent: int = 0
    failed_requests: int = 0
    rate_limited: int = 0
    abandoned: int = 0
    """Messages given up after every attempt failed."""


class RateLimiter:
    """Sliding windows: a send is allowed when every window has room.

    Not a token bucket on purpose: a bucket that starts full lets through twice its count in
    the first window, and Telegram's limits are per window.
    """

    def __init__(self, rates: Iterable[Rate], now: Callable[[], float] = time.monotonic) -> None:
        self._rates = tuple(rates)
        self._now = now
        longest = max((r.count for r in self._rates), default=1)
        self._sent: collections.deque[float] = collections.deque(maxlen=longest)
        self._blocked_until = 0.0

    def delay_s(self) -> float:
        """Seconds to wait before the next send is allowed (0 when it is allowed now)."""
        now, sent = self._now(), list(self._sent)
        wait = max(0.0, self._blocked_until - now)
        for rate in self._rates:
            if len(sent) >= rate.count:
                wait = max(wait, sent[-rate.count] + rate.seconds - now)
        return wait

    def record(self) -> None:
        """Note a send now."""
        self._sent.append(self._now())

    def hold(self, seconds: float) -> None:
        """Allow nothing for ``seconds`` (the API said ``retry_after``)."""
        self._blocked_until = max(self._blocked_until, self._now() + seconds)


def split_message(lines: Iterable[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Join ``lines`` into as few texts of at most ``limit`` characters as possible."""
    texts: list[str] = []
    current = ""
    for line in lines:
        for start in range(0, max(len(line), 1), limit):
            piece = line[start : start + limit]
            if current and len(current) + 1 + len(piece) > limit:
                texts.append(current)
                current = ""
            current = f"{current}\n{piece}" if current else piece
    if current:
        texts.append(current)
    return texts


def next_summary_ns(now_ns: int, at_utc: day_time | None, every_h: float | None) -> int | None:
    """When the next summary is due: every ``every_h`` hours from now, else the next
    ``at_utc`` time of day; ``None`` when neither is set."""
    if every_h is not None:
        return now_ns + int(every_h * 3600 * _S)
    if at_utc is None:
        return None
    now = datetime.fromtimestamp(now_ns / _S, UTC)
    due = datetime.combine(now.date(), at_utc.replace(tzinfo=UTC))
    if due <= now:
        due += timedelta(days=1)
    return int(due.timestamp()) * _S


class _RetryAfterError(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"rate limited by Telegram for {seconds} s")
        self.seconds = seconds


class _RefusedError(Exception):
    """Telegram answered, but not ``ok`` (bad chat id, bad token, ...)."""


class _Reply(msgspec.Struct):
    """``{"ok": false, "error_code": 429, "parameters": {"retry_after": 3}}``"""

    ok: bool = False
    description: str = ""
    parameters: dict[str, float] = {}


class _ErrorHandler(logging.Handler):
    """Forward ERROR records (not the notifier's own) to the notifier."""

    def __init__(self, notifier: TelegramNotifier) -> None:
        super().__init__(logging.ERROR)
        self._notifier = notifier

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == log.name:
            return  # the notifier's own failures would loop
        try:
            self._notifier.notify(f"ERROR {record.name}: {record.getMessage()}")
        except Exception:  # a logging handler must never raise into the caller
            self.handleError(record)


class TelegramNotifier:
    """Telemetry sink and service that sends alerts to one Telegram chat."""

    def __init__(self, config: TelegramConfig, now: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.counters = NotifierCounters()
        self._now = now
        self._limiter = RateLimiter(config.rates, now)
        self._pending: collections.deque[str] = collections.deque(maxlen=config.buffer_lines)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._names: dict[str, str] = {}
        self._fills_since, self._fees_since = 0, 0
        self._last_warning = -1e18

    def __repr__(self) -> str:
        config = self.config
        return f"TelegramNotifier(chat_id={config.chat_id!r}, base_url={config.base_url!r})"

    # -- the engine side: O(1), never awaits, never raises --------------------------------

    def notify(self, text: str) -> None:
        """Queue ``text`` for the next message; drop (and count) the oldest line when full."""
        if len(self._pending) == self._pending.maxlen:
            self.counters.dropped += 1
        self._pending.append(text)
        self.counters.enqueued += 1
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    @property
    def pending(self) -> int:
        """Lines waiting to be sent."""
        return len(self._pending)

    def signal(self, record: SignalRecord) -> None:
        """Signals are not alerted (too many)."""

    def latency(self, record: LatencyRecord) -> None:
        """Latencies are not alerted."""

    def market_info(self, market: Market, extra: Mapping[str, str] | None = None) -> None:
        """Remember the market's slug to name it in alerts."""
        self._names[market.condition_id] = market.slug or market.condition_id

    def order(self, record: OrderRecord) -> None:
        """Alert one state of one order (if orders are alerted)."""
        if self.config.notify_orders:
            reason = f" ({record.reason})" if record.reason else ""
            self.notify(f"order {record.status} {record.side} {format_micro(record.size)} @ "
                        f"{format_micro(record.price)} {self._name(record.market)} "
                        f"[{record.strategy} {record.client_id}]{reason}")

    def fill(self, record: FillRecord) -> None:
        """Alert one execution (if fills are alerted); count it for the summary."""
        self._fills_since += 1
        self._fees_since += record.fee
        if self.config.notify_fills:
            self.notify(f"fill {record.side} {format_micro(record.size)} @ "
                        f"{format_micro(record.price)} fee {format_micro(record.fee)} "
                        f"{self._name(record.market)} [{record.strategy} {record.liquidity}]")

    def error_handler(self) -> logging.Handler:
        """A logging handler (ERROR and above) that alerts each error."""
        return _ErrorHandler(self)

    def _name(self, market: str) -> str:
        return self._names.get(market, market[:12])

    # -- the service ----------------------------------------------------------------------

    async def service(self, runtime: TradingRuntime) -> None:
        """Announce the start, send until cancelled, watch the kill switch and the summary
        time, then announce the stop and flush for at most ``final_flush_s``."""
        strategies = ", ".join(s.id for s in runtime.engine.strategies)
        self.notify(f"pengine started: {strategies or 'no strategy'}, "
                    f"{len(runtime.engine.state.markets)} markets")
        async with aiohttp.ClientSession() as http:
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(self.send_forever(http))
                    group.create_task(self._watch(runtime))
            finally:
                self.notify(f"pengine stopped: {self._summary(runtime)}")
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    async with asyncio.timeout(self.config.final_flush_s):
                        await self._send_pending(http)

    async def send_forever(self, http: aiohttp.ClientSession) -> None:
        """Send batches of pending lines as they come, until cancelled."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        while True:
            if not self._pending:
                self._wake.clear()
                # Lines from other threads may not wake us: poll too. asyncio.timeout, not
                # wait_for: on 3.11 a line arriving as we are cancelled made wait_for swallow
                # the cancellation, and this loop never ended.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.config.poll_s):
                        await self._wake.wait()
                continue
            await asyncio.sleep(max(self.config.linger_s, self._limiter.delay_s()))
            await self._send_pending(http)

    async def _send_pending(self, http: aiohttp.ClientSession) -> None:
        lines = list(self._pending)
        self._pending.clear()
        for text in split_message(lines):
            await self._deliver(http, text)

    async def _deliver(self, http: aiohttp.ClientSession, text: str) -> None:
        for _ in range(self.config.attempts):
            await asyncio.sleep(self._limiter.delay_s())
            self._limiter.record()
            try:
                await self._post(http, text)
            except _RetryAfterError as e:
                self.counters.rate_limited += 1
                self._warn(str(e))
                self._limiter.hold(e.seconds)
                continue
            except (aiohttp.ClientError, TimeoutError, msgspec.DecodeError, _RefusedError) as e:
                self.counters.failed_requests += 1
                self._warn(f"Telegram request failed: {type(e).__name__}: {e}")
                continue
            self.counters.sent += 1
            return
        self.counters.abandoned += 1

    async def _post(self, http: aiohttp.ClientSession, text: str) -> None:
        config = self.config
        body: dict[str, str] = {"chat_id": config.chat_id, "text": text}
        if config.parse_mode:
            body["parse_mode"] = config.parse_mode
        url = f"{config.base_url.rstrip('/')}/bot{config.token}/sendMessage"
        timeout = aiohttp.ClientTimeout(total=config.timeout_s)
        async with http.post(url, json=body, timeout=timeout) as response:
            raw = await response.read()
        reply = msgspec.json.decode(raw or b"{}", type=_Reply)
        if response.status == 429:
            raise _RetryAfterError(float(reply.parameters.get("retry_after", 1.0)))
        if response.status != 200 or not reply.ok:
            # The URL holds the token: report the status and Telegram's words only.
            raise _RefusedError(f"HTTP {response.status}: {reply.description}")

    def _warn(self, message: str) -> None:
        now = self._now()
        if now - self._last_warning >= 60.0:
            self._last_warning = now
            log.warning("%s (%s)", message, self.counters)

    async def _watch(self, runtime: TradingRuntime) -> None:
        engaged = runtime.engine.state.kill_switch.engaged
        due = next_summary_ns(runtime.clock.now_ns(), self.config.summary_at_utc,
                              self.config.summary_every_h)
        while True:
            await asyncio.sleep(self.config.poll_s)
            switch = runtime.engine.state.kill_switch
            if switch.engaged and not engaged:
                self.notify(f"KILL SWITCH engaged: {switch.reason}")
            engaged = switch.engaged
            now_ns = runtime.clock.now_ns()
            if due is not None and now_ns >= due:
                self.notify(f"daily summary: {self._summary(runtime)}")
                self._fills_since, self._fees_since = 0, 0
                due = next_summary_ns(now_ns, self.config.summary_at_utc,
                                      self.config.summary_every_h)

    def _summary(self, runtime: TradingRuntime) -> str:
        state = runtime.engine.state
        equity = state.equity()
        pnl = equity - state.portfolio.starting_cash
        return (f"PnL {format_micro(pnl)}, equity {format_micro(equity)}, "
                f"fills {self._fills_since}, fees {format_micro(self._fees_since)}, "
                f"open orders {len(state.open_orders)}")
