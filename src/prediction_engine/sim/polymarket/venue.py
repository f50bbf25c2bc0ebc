"""What every local Polymarket venue shares: one aiohttp app on 127.0.0.1 with the Gamma and
CLOB REST routes and the market WebSocket, its URLs, and start/stop around background tasks.

`SimPolymarket` (random world) and `ReplayVenue` (a tape) differ only in where frames come
from; they build their `Routes` and `Hub`, call `_listen`, and add their tasks to `_tasks`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from types import TracebackType
from typing import Self

from aiohttp import web
from aiohttp.typedefs import Middleware

from prediction_engine.sim.polymarket.routes import Routes
from prediction_engine.sim.polymarket.stream import Hub

__all__ = ["LocalVenue"]


class LocalVenue:
    """Listening, URLs and shutdown of a local venue (subclasses implement `start`)."""

    def __init__(self, routes: Routes, hub: Hub) -> None:
        self._routes = routes
        self._hub = hub
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._host, self._port = "127.0.0.1", 0

    async def start(self) -> None:
        """Listen and start producing frames."""
        raise NotImplementedError

    async def _listen(
        self, host: str, port: int, middlewares: Iterable[Middleware] = ()
    ) -> None:
        """Serve Gamma, CLOB REST and `/ws/market` on host:port (0 = ephemeral)."""
        app = web.Application(middlewares=middlewares)
        self._routes.install(app)
        app.router.add_get("/ws/market", self._hub.handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._host, self._port = host, int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop the background tasks, close all sockets and the server; re-raise a task's
        failure."""
        tasks, self._tasks = self._tasks, []
        try:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            await self._hub.close_all()
            await self._close_more()
            if self._runner is not None:
                await self._runner.cleanup()
                self._runner = None

    async def _close_more(self) -> None:
        """Close what a subclass serves besides the app (nothing by default)."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def env(self) -> dict[str, str]:
        """The environment variables that point every pengine command at this venue."""
        return {
            "PENGINE_POLYMARKET_GAMMA_URL": self.gamma_url,
            "PENGINE_POLYMARKET_CLOB_URL": self.clob_url,
            "PENGINE_POLYMARKET_WS_MARKET_URL": self.ws_market_url,
        }

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://{self._host}:{self._port}"

    @property
    def gamma_url(self) -> str:
        """Gamma API root."""
        return f"{self.base_url}/gamma"

    @property
    def clob_url(self) -> str:
        """CLOB REST root."""
        return f"{self.base_url}/clob"

    @property
    def ws_market_url(self) -> str:
        """Market-channel WebSocket URL."""
        return f"ws://{self._host}:{self._port}/ws/market"
