"""The dashboard's web server: a page, a JSON snapshot and a server-sent event stream.

Routes (every one needs the token, as ``?token=`` or ``Authorization: Bearer <token>``)::

    GET /                 the page (self-contained HTML + JS)
    GET /plotly.min.js    plotly.js from the installed plotly package (no CDN)
    GET /api/snapshot     the latest snapshot as JSON (503 before the first one)
    GET /events           text/event-stream: one ``snapshot`` event per new snapshot

The server only sees encoded snapshots in a :class:`SnapshotHub`; it never touches the engine.
It binds loopback unless ``allow_remote`` is set: the page shows positions and PnL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import importlib.util
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Middleware

from prediction_engine.config import ConfigError
from prediction_engine.ops.dashboard.page import PAGE
from prediction_engine.ops.dashboard.publisher import SnapshotHub
from prediction_engine.ops.listen import listen_error

__all__ = ["DashboardServer", "check_host", "make_app", "new_token", "plotly_js_path"]

log = logging.getLogger(__name__)

_KEEPALIVE_S = 15.0
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_token() -> str:
    """A random URL-safe access token."""
    return secrets.token_urlsafe(24)


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback ``host`` unless ``allow_remote`` (raise :class:`ConfigError`)."""
    if allow_remote or host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"the dashboard would listen on {host}, reachable from other machines; it shows "
            "positions and PnL. Bind 127.0.0.1 (and tunnel, e.g. ssh -L) or pass "
            "--dashboard-allow-remote (allow_remote=True) to mean it")


def plotly_js_path() -> Path:
    """plotly.min.js inside the installed plotly package (found without importing plotly)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise ConfigError("the plotly package is not installed (pip install plotly)")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


def _presented_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    return request.query.get("token", "")


def _auth(token: str) -> Middleware:
    expected = token.encode()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not hmac.compare_digest(_presented_token(request).encode(), expected):
            return web.Response(status=401, text="401: a valid dashboard token is required "
                                "(?token=... or Authorization: Bearer ...)\n",
                                headers={"WWW-Authenticate": "Bearer"})
        return await handler(request)

    return middleware


async def _page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html",
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


async def _snapshot(request: web.Request) -> web.Response:
    hub: SnapshotHub = request.app[_HUB]
    if not hub.data:
        return web.Response(status=503, text="no snapshot yet\n")
    return web.Response(body=hub.data, content_type="application/json",
                        headers={"Cache-Control": "no-store"})


async def _events(request: web.Request) -> web.StreamResponse:
    hub: SnapshotHub = request.app[_HUB]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-store"})
    await response.prepare(request)
    sequence = 0
    with contextlib.suppress(ConnectionResetError):
        while True:
            try:  # asyncio.timeout, not wait_for: on 3.11 that can swallow a cancellation
                async with asyncio.timeout(_KEEPALIVE_S):
                    sequence, data = await hub.newer_than(sequence)
            except TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            await response.write(b"event: snapshot\ndata: " + data + b"\n\n")
    return response


_HUB = web.AppKey("hub", SnapshotHub)


def make_app(hub: SnapshotHub, token: str) -> web.Application:
    """The dashboard's aiohttp application, serving ``hub`` behind ``token``."""
    app = web.Application(middlewares=[_auth(token)])
    app[_HUB] = hub
    plotly = plotly_js_path()

    async def plotly_js(request: web.Request) -> web.FileResponse:
        return web.FileResponse(plotly, headers={"Cache-Control": "max-age=3600"})

    app.router.add_get("/", _page)
    app.router.add_get("/plotly.min.js", plotly_js)
    app.router.add_get("/api/snapshot", _snapshot)
    app.router.add_get("/events", _events)
    return app


class DashboardServer:
    """Serve a :class:`SnapshotHub` over HTTP; :meth:`start` returns the URL with the token."""

    def __init__(
        self,
        hub: SnapshotHub,
        *,
        host: str = "127.0.0.1",
        port: int = 8050,
        token: str | None = None,
        allow_remote: bool = False,
    ) -> None:
        check_host(host, allow_remote)
        self.hub = hub
        self.host = host
        self.port = port
        self.token = token or new_token()
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        return f"DashboardServer(host={self.host!r}, port={self.port})"  # never the token

    @property
    def url(self) -> str:
        """The page's address with the token (the port is the bound one once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/?token={self.token}"

    async def start(self) -> str:
        """Listen; return :attr:`url`. Port 0 picks a free port."""
        self._runner = web.AppRunner(make_app(self.hub, self.token), shutdown_timeout=0.5,
                                     access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as e:
            await self._runner.cleanup()
            self._runner = None
            raise listen_error("the dashboard", self.host, self.port, e, "--dashboard") from e
        self.port = self._runner.addresses[0][1]
        return self.url

    async def stop(self) -> None:
        """Close the listener and every open event stream."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
