"""`pengine backtest`: being written for issue 5."""

from __future__ import annotations
