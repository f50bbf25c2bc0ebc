"""Operations: Prometheus metrics, alerts (Telegram), the live web dashboard, structured logs.

Everything here observes a running :class:`~prediction_engine.trading.runtime.TradingRuntime`
from the side: as a telemetry sink, as a service next to the engine, or through plain-data
snapshots the engine publishes. Nothing here mutates engine state or blocks the engine; a
failing observer (a dead Telegram endpoint, a slow browser) never slows trading.
"""
