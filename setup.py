"""Build hook: compile the hot paths with mypyc for speed (same source, pure-Python fallback).

The order book and its sync, micro-unit numbers, the Polymarket parser, the engine clocks, loop and
state, and the backtest's frame cutting and replay loop.
Set ``PENGINE_PURE_PYTHON=1`` to skip compilation (e.g. to debug them in Python).
"""

import os

from setuptools import setup

ext_modules = []
if os.environ.get("PENGINE_PURE_PYTHON") != "1":
    from mypyc.build import mypycify

    ext_modules = mypycify(
        [
            "src/prediction_engine/core/book.py",
            "src/prediction_engine/core/book_sync.py",
            "src/prediction_engine/core/numbers.py",
            "src/prediction_engine/venues/polymarket/parse.py",
            "src/prediction_engine/engine/clock.py",
            "src/prediction_engine/engine/loop.py",
            "src/prediction_engine/engine/state.py",
            "src/prediction_engine/backtest/framing.py",
            "src/prediction_engine/backtest/runner.py",
        ],
        opt_level="3",
    )

setup(ext_modules=ext_modules)
