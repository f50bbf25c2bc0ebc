"""A local Telegram Bot API: records ``sendMessage`` calls, can answer 429 or hang."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import web

from tests.ports import free_port
from tests.threads import served_in_thread

TOKEN = "123456:secret-token-never-logged"


@dataclass
class Call:
    """One ``sendMessage`` request as the server received it."""

    at: float
    token: str
    chat_id: str
    text: str
    parse_mode: str | None


@dataclass
class FakeTelegram:
    """``POST /bot<token>/sendMessage``; ``replies`` is consumed first ("429:<s>", "hang")."""

    replies: list[str] = field(default_factory=list)
    hang: bool = False
    calls: list[Call] = field(default_factory=list)
    in_flight: int = 0
    base_url: str = ""
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_post("/bot{token}/sendMessage", self._send)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def texts(self) -> str:
        """Every text received, joined by newlines."""
        return "\n".join(call.text for call in self.calls)

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(Call(time.monotonic(), request.match_info["token"],
                               str(body["chat_id"]), body["text"], body.get("parse_mode")))
        reply = self.replies.pop(0) if self.replies else ("hang" if self.hang else "ok")
        if reply == "hang":
            self.in_flight += 1
            try:
                await asyncio.Event().wait()  # never answers
            finally:
                self.in_flight -= 1
        if reply.startswith("429:"):
            seconds = int(reply.removeprefix("429:"))
            return web.json_response(
                {"ok": False, "error_code": 429,
                 "description": f"Too Many Requests: retry after {seconds}",
                 "parameters": {"retry_after": seconds}}, status=429)
        return web.json_response({"ok": True, "result": {"message_id": len(self.calls)}})


def closed_port_url() -> str:
    """A base URL nothing listens on (connections are refused)."""
    return f"http://127.0.0.1:{free_port()}"


@contextlib.contextmanager
def fake_telegram_in_thread() -> Iterator[FakeTelegram]:
    """Serve a :class:`FakeTelegram` from its own thread and loop (for CLI subprocesses)."""
    with served_in_thread(FakeTelegram) as api:
        yield api
