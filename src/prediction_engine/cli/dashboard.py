"""``pengine dashboard``: serve a run's live dashboard from another process."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated

import typer

from prediction_engine.cli import app
from prediction_engine.config import ConfigError
from prediction_engine.ops.dashboard import DashboardServer, SnapshotHub, serve_snapshot_file


@app.command(
    "dashboard",
    help="Serve the live web dashboard of a running (or finished) paper run from its run "
    "directory: the run writes RUN_DIR/dashboard.json about twice a second and this page "
    "follows it (books, positions, open orders, fills, signals, PnL chart, feed health, "
    "counters, kill switch).\n\n"
    "Every request needs the token: open the printed URL (it carries ?token=...) or send "
    "'Authorization: Bearer TOKEN' to /api/snapshot and /events. Without --token a random "
    "one is made for this run.\n\n"
    "Example: pengine dashboard --from runs/paper-1 --port 8050\n\n"
    "To watch a paper run in the same process instead, pass --dashboard to pengine paper.",
)
def dashboard(
    run_dir: Annotated[Path, typer.Option(
        "--from", help="Run directory holding dashboard.json (what the paper run writes).",
        exists=True, file_okay=False, dir_okay=True)],
    host: Annotated[str, typer.Option(
        help="Address to listen on. Loopback only unless --allow-remote; from another "
        "machine prefer an SSH tunnel (ssh -L 8050:127.0.0.1:8050 HOST).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8050,
    token: Annotated[str | None, typer.Option(
        help="Access token to require (default: a random one, printed in the URL). Also "
        "read from PENGINE_DASHBOARD_TOKEN.", envvar="PENGINE_DASHBOARD_TOKEN")] = None,
    allow_remote: Annotated[bool, typer.Option(
        "--allow-remote", help="Allow a non-loopback --host such as 0.0.0.0 (the page shows "
        "positions and PnL to anyone with the token).")] = False,
) -> None:
    """Serve RUN_DIR/dashboard.json until Ctrl-C."""
    try:
        server = DashboardServer(SnapshotHub(), host=host, port=port, token=token,
                                 allow_remote=allow_remote)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(run_dir, server))
    except ConfigError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None


async def _serve(run_dir: Path, server: DashboardServer) -> None:
    def announce(url: str) -> None:
        typer.echo(f"dashboard of {run_dir} at {url}  (Ctrl-C to stop)")

    await serve_snapshot_file(run_dir, server, asyncio.Event(), announce)
