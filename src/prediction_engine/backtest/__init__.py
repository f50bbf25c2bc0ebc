"""Backtests: the event store replayed through the production engine on a replay clock."""
