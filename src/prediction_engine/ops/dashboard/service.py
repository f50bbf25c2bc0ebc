"""Run the dashboard: inside a paper run (:class:`Dashboard`) or from a run's snapshot file.

In-process::

    dashboard = Dashboard(DashboardOptions(port=8050, out_dir=run_dir))
    TradingRuntime(..., sinks=[dashboard.publisher], services=[dashboard.service])

Separate process: the run writes ``<run_dir>/dashboard.json``; :func:`serve_snapshot_file`
follows that file and serves it (``pengine dashboard --from RUN_DIR``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from prediction_engine.ops.dashboard.publisher import SNAPSHOT_FILE, DashboardPublisher, SnapshotHub
from prediction_engine.ops.dashboard.server import DashboardServer
from prediction_engine.ops.dashboard.snapshot import decode_snapshot

if TYPE_CHECKING:
    from prediction_engine.trading.runtime import TradingRuntime

__all__ = ["Dashboard", "DashboardOptions", "follow_snapshot_file", "serve_snapshot_file"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DashboardOptions:
    """Where the dashboard listens and how often it publishes. ``token=None``: a random one."""

    host: str = "127.0.0.1"
    port: int = 8050
    token: str | None = field(default=None, repr=False)
    allow_remote: bool = False
    interval_s: float = 0.5
    out_dir: Path | None = None
    """Also write each snapshot to ``<out_dir>/dashboard.json`` (for ``pengine dashboard``)."""


class Dashboard:
    """Publisher (a telemetry sink) and web server for one runtime, run as one service."""

    def __init__(
        self, options: DashboardOptions, announce: Callable[[str], None] | None = None
    ) -> None:
        self.options = options
        self.hub = SnapshotHub()
        self.publisher = DashboardPublisher(
            self.hub, interval_s=options.interval_s, out_dir=options.out_dir
        )
        self.server = DashboardServer(
            self.hub, host=options.host, port=options.port, token=options.token,
            allow_remote=options.allow_remote,
        )
        self._announce = announce

    @property
    def url(self) -> str:
        """The page's address with its token (the bound port once the service started)."""
        return self.server.url

    async def service(self, runtime: TradingRuntime) -> None:
        """Serve and publish until cancelled (a runtime :data:`Service`)."""
        url = await self.server.start()
        log.info("dashboard at %s", url)
        if self._announce is not None:
            self._announce(url)
        try:
            await self.publisher.run(runtime)
        finally:
            await self.server.stop()


async def follow_snapshot_file(path: Path, hub: SnapshotHub, poll_s: float = 0.25) -> None:
    """Put every new valid version of ``path`` into ``hub``, until cancelled."""
    seen: tuple[int, int] | None = None
    while True:
        try:
            stat = await asyncio.to_thread(path.stat)
            version = (stat.st_mtime_ns, stat.st_size)
            if version != seen:
                data = await asyncio.to_thread(path.read_bytes)
                decode_snapshot(data)  # the writer renames whole files; a foreign file is refused
                hub.put(data)
                seen = version
        except FileNotFoundError:
            pass  # the run has not published yet
        except msgspec.DecodeError as e:
            log.warning("%s is not a dashboard snapshot: %s", path, e)
            seen = version
        await asyncio.sleep(poll_s)


async def serve_snapshot_file(
    run_dir: Path, server: DashboardServer, stop: asyncio.Event,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve ``<run_dir>/dashboard.json`` through ``server`` until ``stop`` is set."""
    url = await server.start()
    if announce is not None:
        announce(url)
    follower = asyncio.create_task(follow_snapshot_file(run_dir / SNAPSHOT_FILE, server.hub))
    try:
        await stop.wait()
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        await server.stop()
