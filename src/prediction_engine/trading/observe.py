"""Observers of a trading run: Prometheus metrics, the web dashboard, Telegram alerts.

:class:`ObservabilityOptions` says which are on; :func:`observers` builds them as the
runtime's extra telemetry sinks and services. The ``ops`` modules (aiohttp's server,
prometheus_client, plotly's page) are imported only for the observers that are on, so a plain
run starts as fast as before.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prediction_engine.engine.telemetry import TelemetrySink
from prediction_engine.trading.runtime import Service

if TYPE_CHECKING:
    from prediction_engine.ops.dashboard import DashboardOptions
    from prediction_engine.ops.telegram import TelegramConfig
    from prediction_engine.storage.journal import Journal

__all__ = ["ObservabilityOptions", "Observers", "observers"]


@dataclass(frozen=True)
class ObservabilityOptions:
    """Which observers watch a run (all off by default)."""

    metrics_port: int | None = None
    """Serve ``http://metrics_host:metrics_port/metrics`` (``None``: no metrics; 0: any port)."""
    metrics_host: str = "127.0.0.1"
    dashboard: DashboardOptions | None = None
    """Serve the live web dashboard (``None``: no dashboard)."""
    telegram: TelegramConfig | None = field(default=None, repr=False)
    """Send alerts to Telegram (``None``: no alerts)."""


@dataclass(frozen=True)
class Observers:
    """What to hand to :class:`~prediction_engine.trading.runtime.TradingRuntime`."""

    sinks: tuple[TelemetrySink, ...] = ()
    services: tuple[Service, ...] = ()


@contextlib.contextmanager
def observers(
    options: ObservabilityOptions,
    *,
    journal: Journal | None = None,
    on_message: Callable[[str], None] | None = None,
) -> Iterator[Observers]:
    """Build the observers ``options`` asks for; inside, ERROR logs also go to Telegram.

    Metrics export the ``journal``'s lag when there is one; ``on_message`` hears where the
    dashboard is (``dashboard at URL``, the URL with its token). Raise
    :class:`~prediction_engine.config.ConfigError` for a dashboard host that is not allowed.
    """
    sinks: list[TelemetrySink] = []
    services: list[Service] = []
    # The ops modules are imported here, only for what is on: they pull in aiohttp's server
    # and prometheus_client, which a plain run does not need.
    if options.metrics_port is not None:
        from prediction_engine.ops.metrics import Metrics, metrics_service

        lag = None if journal is None else _journal_lag(journal)
        metrics = Metrics(journal_lag=lag)
        sinks.append(metrics)
        services.append(metrics_service(metrics, options.metrics_host, options.metrics_port))
    if options.dashboard is not None:
        from prediction_engine.ops.dashboard import Dashboard

        announce = None if on_message is None else (lambda url: on_message(f"dashboard at {url}"))
        dashboard = Dashboard(options.dashboard, announce=announce)
        sinks.append(dashboard.publisher)
        services.append(dashboard.service)
    handler: logging.Handler | None = None
    if options.telegram is not None:
        from prediction_engine.ops.telegram import TelegramNotifier

        notifier = TelegramNotifier(options.telegram)
        handler = notifier.error_handler()
        sinks.append(notifier)
        services.append(notifier.service)
        logging.getLogger().addHandler(handler)
    try:
        yield Observers(tuple(sinks), tuple(services))
    finally:
        if handler is not None:
            logging.getLogger().removeHandler(handler)


def _journal_lag(journal: Journal) -> Callable[[], float]:
    return lambda: journal.lag().oldest_pending_s
