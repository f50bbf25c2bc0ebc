"""Strategies: pure policies from a read-only state view (and an event) to order intents.

May import ``core`` only. No I/O, no clock (time comes in with the event), no hidden globals.
"""

from prediction_engine.strategy.sizing import Signal, kelly_fraction, kelly_size, select

__all__ = ["Signal", "kelly_fraction", "kelly_size", "select"]
