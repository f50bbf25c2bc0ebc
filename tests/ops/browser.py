"""Headless Chromium driven over the DevTools protocol (a websocket, with aiohttp)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import shutil
from pathlib import Path
from types import TracebackType

import aiohttp
import pytest

from tests.integration.harness import wait_for


def chromium_or_skip() -> str:
    """The chromium binary, or skip the test saying how to install it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium); "
                    "CI installs it")
    return found


class Page:
    """One page of a headless Chromium: evaluate JavaScript, take screenshots."""

    def __init__(self, url: str, profile: Path) -> None:
        self.url, self.profile = url, profile
        self._process: asyncio.subprocess.Process | None = None
        self._http: aiohttp.ClientSession | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)

    async def __aenter__(self) -> Page:
        self.profile.mkdir(parents=True, exist_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            chromium_or_skip(), "--headless=new", "--no-sandbox", "--disable-gpu",
            "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
            "--window-size=1400,1100", "--no-first-run", self.url,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        active = self.profile / "DevToolsActivePort"
        await wait_for(lambda: active.exists() and len(active.read_text().split()) >= 2, 30)
        port = active.read_text().split()[0]
        self._http = aiohttp.ClientSession()
        targets: list[dict[str, str]] = []
        for _ in range(100):
            async with self._http.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = [t for t in await response.json() if t.get("type") == "page"]
            if targets:
                break
            await asyncio.sleep(0.1)
        self._socket = await self._http.ws_connect(targets[0]["webSocketDebuggerUrl"],
                                                   max_msg_size=0)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._http is not None:
            await self._http.close()
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await asyncio.wait_for(self._process.wait(), 10)

    async def _call(self, method: str, params: dict[str, object]) -> dict[str, object]:
        assert self._socket is not None
        call_id = next(self._ids)
        await self._socket.send_json({"id": call_id, "method": method, "params": params})
        while True:
            message = await asyncio.wait_for(self._socket.receive_json(), 30)
            if message.get("id") == call_id:
                assert "error" not in message, message
                result: dict[str, object] = message["result"]
                return result

    async def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page."""
        result = await self._call("Runtime.evaluate",
                                  {"expression": expression, "returnByValue": True})
        assert "exceptionDetails" not in result, result
        value = result["result"]
        assert isinstance(value, dict)
        return value.get("value")

    async def screenshot(self, path: Path) -> None:
        """Save a PNG of the page."""
        result = await self._call("Page.captureScreenshot", {"format": "png"})
        data = result["data"]
        assert isinstance(data, str)
        await asyncio.to_thread(path.write_bytes, base64.b64decode(data))
