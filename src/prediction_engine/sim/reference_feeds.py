"""A local server for the reference feeds: Binance spot trades and Polymarket RTDS prices.

One aiohttp app speaks both wire protocols on 127.0.0.1, driven by one deterministic price
path (geometric Brownian motion from a seed, quantized to each symbol's tick):

- Binance: combined streams at ``/stream?streams=btcusdt@trade/…`` (frames wrapped as
  ``{"stream":…,"data":…}``), raw streams at ``/ws/<symbol>@trade``, the live
  ``SUBSCRIBE``/``UNSUBSCRIBE``/``LIST_SUBSCRIPTIONS`` requests with ``{"result":…,"id":…}``
  replies, and WebSocket-level pings from the server.
- RTDS at ``/``: a ``{"action":"subscribe",…}`` request for ``crypto_prices`` gets one
  ``subscribe`` history snapshot per symbol, then an ``update`` per symbol and step; one for
  ``crypto_prices_chainlink`` (filters ``{"symbol":"btc/usd"}`` or none for all) gets an
  ``update`` per step under the Chainlink symbol (``btc/usd``), from the same price path.

Test controls: :meth:`ReferenceFeedServer.drop_connections`, :meth:`~ReferenceFeedServer.stall`
(sockets stay open, nothing is sent), :meth:`~ReferenceFeedServer.broadcast_raw`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import msgspec
from aiohttp import web

from prediction_engine.sim.prices import (
    PricePath,
    ReferenceFeedSpec,
    Tick,
    binance_trade,
    chainlink_symbol,
    rtds_chainlink_update,
    rtds_snapshot,
    rtds_update,
)

__all__ = ["PricePath", "ReferenceFeedServer", "ReferenceFeedSpec", "Tick"]

Feed = Literal["binance", "rtds"]
Json = dict[str, Any]


# -- connections -----------------------------------------------------------------------------


@dataclass(eq=False)
class _Client:
    ws: web.WebSocketResponse
    feed: Feed
    combined: bool = True
    symbols: set[str] = field(default_factory=set)
    all_symbols: bool = False
    chainlink: set[str] = field(default_factory=set)  # RTDS Chainlink symbols (btc/usd)
    all_chainlink: bool = False
    stalled_until: float = 0.0
    pongs_while_stalled: bool = False

    def stalled(self, now: float) -> bool:
        return now < self.stalled_until

    def wants(self, symbol: str) -> bool:
        return self.all_symbols or symbol in self.symbols

    def wants_chainlink(self, symbol: str) -> bool:
        return self.all_chainlink or chainlink_symbol(symbol) in self.chainlink

    async def send(self, text: str) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(text)


def _trade_symbols(streams: Iterable[str]) -> set[str]:
    """``["btcusdt@trade", "ethusdt@depth"]`` -> ``{"btcusdt"}`` (only trades are served)."""
    return {s.partition("@")[0].lower() for s in streams if s.endswith("@trade")}


class ReferenceFeedServer:
    """Serve both reference feeds from one seeded price path until :meth:`stop`.

    By default the server steps its own path at ``spec.rate_hz``. Pass ``path`` (e.g. the
    Polymarket world's underlying) to serve that path instead: the owner then steps it and
    hands the ticks to :meth:`publish`, and the server runs no clock of its own.
    """

    def __init__(
        self, seed: int = 0, spec: ReferenceFeedSpec | None = None, path: PricePath | None = None
    ) -> None:
        self.spec = spec or (path.spec if path is not None else ReferenceFeedSpec())
        self.path = path or PricePath(seed, self.spec)
        self._driven = path is not None
        self.counters: dict[str, int] = {"ticks": 0, "frames_sent": 0, "stalls": 0, "drops": 0}
        self._clients: set[_Client] = set()
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._base = ""

    @property
    def binance_url(self) -> str:
        """Base URL for ``Config.binance.ws_url``."""
        return self._base

    @property
    def rtds_url(self) -> str:
        """URL for ``Config.polymarket.rtds_url``."""
        return self._base + "/"

    @property
    def connections(self) -> int:
        """Open client sockets, both feeds."""
        return len(self._clients)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0 picks a free port) and start printing prices."""
        app = web.Application()
        app.router.add_get("/stream", self._binance_combined)
        app.router.add_get("/ws/{streams:.+}", self._binance_raw)
        app.router.add_get("/", self._rtds)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        sock = socket.create_server((host, port))
        await web.SockSite(self._runner, sock).start()
        self._base = f"ws://{host}:{sock.getsockname()[1]}"
        if not self._driven:
            self._ticker = asyncio.create_task(self._run_ticks(), name="reference-feeds-ticker")

    async def stop(self) -> None:
        """Close every socket and stop listening."""
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
            self._ticker = None
        await self.drop_connections()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def drop_connections(self) -> None:
        """Close every open socket (clients see a normal close and should reconnect)."""
        self.counters["drops"] += len(self._clients)
        for client in list(self._clients):
            await client.ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)

    def stall(self, seconds: float, *, answer_pings: bool = False) -> None:
        """Keep the currently open sockets open but send them nothing for ``seconds``.

        With ``answer_pings`` they still get the RTDS keepalive reply (a feed that looks
        alive but carries no prices). Connections made later are served normally.
        """
        until = asyncio.get_running_loop().time() + seconds
        self.counters["stalls"] += 1
        for client in self._clients:
            client.stalled_until = until
            client.pongs_while_stalled = answer_pings

    async def broadcast_raw(self, text: str, feed: Feed | None = None) -> None:
        """Send ``text`` as is to every open socket (of one feed, if given)."""
        for client in list(self._clients):
            if feed is None or client.feed == feed:
                await client.send(text)

    # -- price loop --------------------------------------------------------------------------

    async def _run_ticks(self) -> None:
        loop = asyncio.get_running_loop()
        interval = 1 / self.spec.rate_hz
        next_at = loop.time()
        while True:
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            await self.publish(self.path.step())

    async def publish(self, ticks: Iterable[Tick]) -> None:
        """Send ticks to every client that wants them (stalled clients miss them)."""
        ticks = list(ticks)
        self.counters["ticks"] += len(ticks)
        now = asyncio.get_running_loop().time()
        for client in list(self._clients):
            if client.stalled(now):
                continue
            for tick in ticks:
                if client.wants(tick.symbol):
                    await client.send(self._render(client, tick))
                    self.counters["frames_sent"] += 1
                if client.feed == "rtds" and client.wants_chainlink(tick.symbol):
                    await client.send(msgspec.json.encode(rtds_chainlink_update(tick)).decode())
                    self.counters["frames_sent"] += 1

    @staticmethod
    def _render(client: _Client, tick: Tick) -> str:
        if client.feed == "rtds":
            return msgspec.json.encode(rtds_update(tick)).decode()
        data = binance_trade(tick)
        if client.combined:
            return msgspec.json.encode({"stream": f"{tick.symbol}@trade", "data": data}).decode()
        return msgspec.json.encode(data).decode()

    # -- handlers ----------------------------------------------------------------------------

    async def _serve(self, request: web.Request, client: _Client) -> web.WebSocketResponse:
        await client.ws.prepare(request)
        self._clients.add(client)
        try:
            async for msg in client.ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    await self._on_text(client, msg.data)
        finally:
            self._clients.discard(client)
        return client.ws

    async def _binance_combined(self, request: web.Request) -> web.WebSocketResponse:
        streams = request.query.get("streams", "").split("/")
        ws = web.WebSocketResponse(heartbeat=self.spec.binance_heartbeat_s)
        return await self._serve(request, _Client(ws, "binance", True, _trade_symbols(streams)))

    async def _binance_raw(self, request: web.Request) -> web.WebSocketResponse:
        streams = request.match_info["streams"].split("/")
        ws = web.WebSocketResponse(heartbeat=self.spec.binance_heartbeat_s)
        return await self._serve(request, _Client(ws, "binance", False, _trade_symbols(streams)))

    async def _rtds(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, _Client(web.WebSocketResponse(), "rtds"))

    async def _on_text(self, client: _Client, text: str) -> None:
        if client.feed == "binance":
            await self._on_binance_request(client, text)
        elif text == "PING":
            await self._on_rtds_ping(client)
        else:
            await self._on_rtds_request(client, text)

    async def _on_binance_request(self, client: _Client, text: str) -> None:
        try:
            request = msgspec.json.decode(text)
            method, params, request_id = request["method"], request.get("params", []), request["id"]
        except (msgspec.DecodeError, KeyError, TypeError):
            await client.send('{"error":{"code":2,"msg":"Invalid request"},"id":null}')
            return
        result: list[str] | None = None
        if method == "SUBSCRIBE":
            client.symbols |= _trade_symbols(params)
        elif method == "UNSUBSCRIBE":
            client.symbols -= _trade_symbols(params)
        elif method == "LIST_SUBSCRIPTIONS":
            result = sorted(f"{s}@trade" for s in client.symbols)
        await client.send(msgspec.json.encode({"result": result, "id": request_id}).decode())

    async def _on_rtds_ping(self, client: _Client) -> None:
        quiet = client.stalled(asyncio.get_running_loop().time()) and not client.pongs_while_stalled
        if self.spec.rtds_pong_text is not None and not quiet:
            await client.send(self.spec.rtds_pong_text)

    async def _on_rtds_request(self, client: _Client, text: str) -> None:
        try:
            request = msgspec.json.decode(text)
            subscriptions = request["subscriptions"] if request["action"] == "subscribe" else []
        except (msgspec.DecodeError, KeyError, TypeError):
            return  # the real server's answer to garbage is undocumented: ignore it
        for sub in subscriptions:
            if not isinstance(sub, dict):
                continue
            if sub.get("topic") == "crypto_prices":
                await self._subscribe_rtds(client, sub.get("filters") or "")
            elif sub.get("topic") == "crypto_prices_chainlink":
                self._subscribe_chainlink(client, sub.get("filters") or "")

    @staticmethod
    def _subscribe_chainlink(client: _Client, filters: str) -> None:
        """``{"symbol":"btc/usd"}`` as a JSON string, or nothing for every symbol."""
        try:
            wanted = msgspec.json.decode(filters).get("symbol") if filters else None
        except (msgspec.DecodeError, AttributeError):
            return  # undocumented answer to a bad filter: ignore it, as for garbage
        if wanted is None:
            client.all_chainlink = True
        elif isinstance(wanted, str):
            client.chainlink.add(wanted.lower())

    async def _subscribe_rtds(self, client: _Client, filters: str) -> None:
        wanted = {s.strip().lower() for s in filters.split(",") if s.strip()}
        client.all_symbols = client.all_symbols or not wanted
        client.symbols |= wanted
        for symbol in self.spec.symbols:
            if client.wants(symbol):
                snapshot = rtds_snapshot(symbol, self.path.history[symbol], self.path.now_ms)
                await client.send(msgspec.json.encode(snapshot).decode())
