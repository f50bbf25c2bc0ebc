"""A small async HTTP helper shared by the venue REST clients (the only HTTP code).

One :class:`HttpClient` wraps one ``aiohttp.ClientSession`` with a client-side token-bucket
rate limit and bounded retries (exponential backoff with full jitter, ``Retry-After``
honoured) on 429, 5xx and connection errors. Anything else 4xx is the venue's "no":
:class:`VenueRejectedError`. Exhausted retries: :class:`TransportError`. The sleep function,
the monotonic time source and the RNG are injected so tests never really sleep.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import aiohttp

from prediction_engine.venues.backoff import Backoff

__all__ = [
    "HttpClient",
    "HttpCounters",
    "Params",
    "RetryPolicy",
    "TokenBucket",
    "TransportError",
    "VenueRejectedError",
]

Params = Sequence[tuple[str, str]] | Mapping[str, str]
"""Query parameters; a sequence of pairs allows repeated keys (``clob_token_ids=a&...=b``)."""

Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]

_EXCERPT = 300


class TransportError(Exception):
    """The request could not be completed (network, 429 or 5xx) after every retry.

    Safe to retry later for reads; for writes, reconcile before resending.
    """

    def __init__(self, method: str, url: str, attempts: int, last_failure: str) -> None:
        self.method = method
        self.url = url
        self.attempts = attempts
        self.last_failure = last_failure
        super().__init__(f"{method} {url} failed after {attempts} attempt(s): {last_failure}")


class VenueRejectedError(Exception):
    """The venue answered with a 4xx other than 429: its "no", not a transient failure."""

    def __init__(self, method: str, url: str, status: int, body: bytes) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.body_excerpt = body[:_EXCERPT].decode("utf-8", "replace")
        super().__init__(f"{method} {url} rejected with HTTP {status}: {self.body_excerpt}")


@dataclass
class HttpCounters:
    """What one client did: attempts sent, retries slept, requests that finally failed."""

    requests: int = 0
    retries: int = 0
    failures: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class RetryPolicy(Backoff):
    """Bounded HTTP retries: :class:`Backoff` with shorter defaults, plus a cap on how long a
    venue's ``Retry-After`` may make us wait."""

    max_attempts: int = 5
    max_delay_s: float = 10.0
    max_retry_after_s: float = 60.0


class TokenBucket:
    """Client-side rate limit: ``rate`` requests per second, bursts up to ``burst``.

    Reservation style: a caller takes a token now (the balance may go negative) and sleeps
    for its share of the debt, so concurrent callers need no lock.
    """

    def __init__(
        self, rate: float, *, burst: float | None = None, sleep: Sleep, monotonic: Monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self._rate = rate
        self._burst = max(1.0, rate if burst is None else burst)
        self._tokens = self._burst
        self._sleep = sleep
        self._monotonic = monotonic
        self._last = monotonic()

    async def acquire(self) -> None:
        """Take one token, sleeping until it is due."""
        now = self._monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        self._tokens -= 1.0
        if self._tokens < 0:
            await self._sleep(-self._tokens / self._rate)


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    retry_after_s: float | None


def _retry_after(value: str | None) -> float | None:
    """Parse a delta-seconds ``Retry-After``; an HTTP-date falls back to our own backoff."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


class HttpClient:
    """Rate-limited, retrying GET/POST over one shared ``aiohttp.ClientSession``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        requests_per_second: float,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        monotonic: Monotonic = _loop_time,
        timeout_s: float = 10.0,
    ) -> None:
        self._session = session
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._bucket = TokenBucket(requests_per_second, sleep=sleep, monotonic=monotonic)
        self.counters = HttpCounters()

    async def get(self, url: str, params: Params | None = None) -> bytes:
        """GET ``url`` and return the body of a 2xx/3xx answer."""
        return await self.request("GET", url, params=params)

    async def post(self, url: str, body: bytes, params: Params | None = None) -> bytes:
        """POST a JSON ``body`` and return the answer's body."""
        return await self.request("POST", url, params=params, body=body)

    async def request(
        self, method: str, url: str, *, params: Params | None = None, body: bytes | None = None
    ) -> bytes:
        """Send with rate limit and retries; raise a typed error when it does not succeed."""
        failure = "not attempted"
        for attempt in range(1, self._policy.max_attempts + 1):
            answer, failure = await self._attempt(method, url, params, body)
            if answer is not None and answer.status < 400:
                return answer.body
            if answer is not None and answer.status != 429 and answer.status < 500:
                self.counters.rejected += 1
                raise VenueRejectedError(method, url, answer.status, answer.body)
            if attempt < self._policy.max_attempts:
                self.counters.retries += 1
                await self._sleep(self._delay(attempt, answer))
        self.counters.failures += 1
        raise TransportError(method, url, self._policy.max_attempts, failure)

    def _delay(self, attempt: int, answer: _Answer | None) -> float:
        if answer is not None and answer.retry_after_s is not None:
            return min(answer.retry_after_s, self._policy.max_retry_after_s)
        return self._policy.delay(attempt, self._rng)

    async def _attempt(
        self, method: str, url: str, params: Params | None, body: bytes | None
    ) -> tuple[_Answer | None, str]:
        await self._bucket.acquire()
        self.counters.requests += 1
        headers = {"Content-Type": "application/json"} if body is not None else None
        try:
            async with self._session.request(
                method, url, params=params, data=body, headers=headers, timeout=self._timeout
            ) as response:
                payload = await response.read()
                retry_after = _retry_after(response.headers.get("Retry-After"))
                answer = _Answer(response.status, payload, retry_after)
        except (aiohttp.ClientError, TimeoutError) as e:
            return None, f"{type(e).__name__}: {e}"
        return answer, f"HTTP {answer.status}: {answer.body[:_EXCERPT]!r}"
