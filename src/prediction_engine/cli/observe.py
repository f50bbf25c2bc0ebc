"""The observability flags that ``pengine paper`` and ``pengine updown`` share.

Metrics, dashboard and Telegram options are checked when the command starts (a bad one exits
2 before any trading); the ``ops`` modules behind them are imported only when asked for.
"""

from __future__ import annotations

import dataclasses
import socket
import sys
from datetime import datetime
from datetime import time as day_time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from prediction_engine.cli.common import fail
from prediction_engine.config import ConfigError
from prediction_engine.ops.listen import listen_error
from prediction_engine.ops.logs import configure_logging
from prediction_engine.trading.observe import ObservabilityOptions

if TYPE_CHECKING:
    from prediction_engine.ops.dashboard import DashboardOptions
    from prediction_engine.ops.telegram import TelegramConfig

__all__ = [
    "DashboardHostOption",
    "DashboardOption",
    "DashboardPortOption",
    "DashboardRemoteOption",
    "DashboardTokenOption",
    "LogJsonOption",
    "LogLevelOption",
    "MetricsHostOption",
    "MetricsPortOption",
    "TelegramFillsOption",
    "TelegramOption",
    "TelegramOrdersOption",
    "TelegramSummaryOption",
    "announce_metrics",
    "configure_logs",
    "observability_options",
]

_OBSERVE = "Observability"
MetricsPortOption = Annotated[int | None, typer.Option(
    help="Serve Prometheus metrics at http://METRICS_HOST:PORT/metrics (ops/ scrapes 9000; "
    "0: any free port). Default: no metrics.", min=0, rich_help_panel=_OBSERVE)]
MetricsHostOption = Annotated[str, typer.Option(
    help="Address the metrics listen on (keep it local: they show positions and PnL).",
    rich_help_panel=_OBSERVE)]
DashboardOption = Annotated[bool, typer.Option(
    "--dashboard", help="Serve the live web dashboard; its URL (with the token) is printed.",
    rich_help_panel=_OBSERVE)]
DashboardHostOption = Annotated[str, typer.Option(
    help="Address the dashboard listens on: loopback unless --dashboard-allow-remote.",
    rich_help_panel=_OBSERVE)]
DashboardPortOption = Annotated[int, typer.Option(
    help="Dashboard port (0: any free port).", min=0, rich_help_panel=_OBSERVE)]
DashboardTokenOption = Annotated[str | None, typer.Option(
    help="Token the dashboard requires (default: a random one). Also read from "
    "PENGINE_DASHBOARD_TOKEN.", envvar="PENGINE_DASHBOARD_TOKEN", rich_help_panel=_OBSERVE)]
DashboardRemoteOption = Annotated[bool, typer.Option(
    "--dashboard-allow-remote", help="Allow a non-loopback --dashboard-host such as 0.0.0.0.",
    rich_help_panel=_OBSERVE)]
TelegramOption = Annotated[bool, typer.Option(
    "--telegram", help="Send alerts (start/stop, orders, fills, errors, kill switch, daily "
    "summary) to Telegram: needs PENGINE_TELEGRAM_TOKEN and PENGINE_TELEGRAM_CHAT_ID.",
    rich_help_panel=_OBSERVE)]
TelegramOrdersOption = Annotated[bool, typer.Option(
    "--telegram-orders/--no-telegram-orders", help="Alert every order state.",
    rich_help_panel=_OBSERVE)]
TelegramFillsOption = Annotated[bool, typer.Option(
    "--telegram-fills/--no-telegram-fills", help="Alert every fill.", rich_help_panel=_OBSERVE)]
TelegramSummaryOption = Annotated[str, typer.Option(
    help="Daily summary time, HH:MM UTC ('off': none).", rich_help_panel=_OBSERVE)]
LogJsonOption = Annotated[bool, typer.Option(
    "--log-json", help="Log to stderr as JSON lines with the run id (and venue, market, ...).",
    rich_help_panel=_OBSERVE)]
LogLevelOption = Annotated[str | None, typer.Option(
    help="DEBUG, INFO, WARNING or ERROR (default: INFO with --log-json, else warnings only).",
    rich_help_panel=_OBSERVE)]


def observability_options(  # noqa: PLR0917 - the observability flags, as the command got them
    metrics_port: int | None,
    metrics_host: str,
    dashboard: bool,
    dashboard_host: str,
    dashboard_port: int,
    dashboard_token: str | None,
    dashboard_allow_remote: bool,
    telegram: bool,
    telegram_orders: bool,
    telegram_fills: bool,
    telegram_summary_utc: str,
    out: Path,
) -> ObservabilityOptions:
    """The observers the flags ask for, checked now: a bad one exits 2 before any trading."""
    try:
        if metrics_port is not None:
            _check_free(metrics_host, metrics_port, "metrics", "--metrics")
        return ObservabilityOptions(
            metrics_port=metrics_port,
            metrics_host=metrics_host,
            dashboard=_dashboard_options(dashboard_host, dashboard_port, dashboard_token,
                                         dashboard_allow_remote, out) if dashboard else None,
            telegram=_telegram_config(telegram_orders, telegram_fills,
                                      telegram_summary_utc) if telegram else None,
        )
    except ConfigError as e:
        fail(str(e), 2)


def _dashboard_options(
    host: str, port: int, token: str | None, allow_remote: bool, out: Path
) -> DashboardOptions:
    from prediction_engine.ops.dashboard import DashboardOptions, check_host  # only if asked

    check_host(host, allow_remote)
    _check_free(host, port, "the dashboard", "--dashboard")
    return DashboardOptions(host=host, port=port, token=token, allow_remote=allow_remote,
                            out_dir=out)


def _check_free(host: str, port: int, what: str, flags: str) -> None:
    """Refuse a port another process listens on now, before trading starts (the server
    binds it later; this only makes the common mistake fail early and plainly)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
        try:
            probe.bind((host, port))
        except OSError as e:
            raise listen_error(what, host, port, e, flags) from e


def _telegram_config(orders: bool, fills: bool, summary_utc: str) -> TelegramConfig:
    from prediction_engine.ops.telegram import TelegramConfig  # only if asked

    at: day_time | None = None
    if summary_utc != "off":
        try:
            at = datetime.strptime(summary_utc, "%H:%M").time()
        except ValueError:
            raise typer.BadParameter("must be HH:MM (UTC) or 'off'",
                                     param_hint="--telegram-summary-utc") from None
    return dataclasses.replace(TelegramConfig.from_env(), notify_orders=orders,
                               notify_fills=fills, summary_at_utc=at)


_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def configure_logs(log_json: bool, log_level: str | None, run_id: str) -> None:
    """Log to stderr as the flags ask (JSON lines name ``run_id``); no flag: leave logging be.

    Call before the live table starts: it takes over stdout and stderr while it runs.
    """
    if not log_json and log_level is None:
        return
    level = (log_level or "INFO").upper()
    if level not in _LEVELS:
        raise typer.BadParameter(f"unknown log level {log_level!r}: use {', '.join(_LEVELS)}",
                                 param_hint="--log-level")
    configure_logging(log_json, level, run_id, stream=sys.stderr)


def announce_metrics(console: Console, options: ObservabilityOptions) -> None:
    """Say where the metrics are (before the run: the live table then owns the screen)."""
    if options.metrics_port:  # port 0: the bound port is logged once it listens
        console.print(f"metrics at http://{options.metrics_host}:{options.metrics_port}/metrics")

