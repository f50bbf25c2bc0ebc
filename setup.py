"""Build hook: compile the hot paths with mypyc for speed (same source, pure-Python fallback).

The order book and its sync, micro-unit numbers, the Polymarket parser, the engine clocks, loop and
state, and the backtest's replay loop; plus one C extension, the replay's frame assembler.
Set ``PENGINE_PURE_PYTHON=1`` to skip compilation (e.g. to debug them in Python).
"""

import os

from setuptools import setup

ext_modules = []
if os.environ.get("PENGINE_PURE_PYTHON") != "1":
    from mypyc.build import mypycify
    from setuptools import Extension

    ext_modules = mypycify(
        [
            "src/prediction_engine/core/book.py",
            "src/prediction_engine/core/book_sync.py",
            "src/prediction_engine/core/numbers.py",
            "src/prediction_engine/venues/polymarket/parse.py",
            "src/prediction_engine/engine/clock.py",
            "src/prediction_engine/engine/loop.py",
            "src/prediction_engine/engine/state.py",
            "src/prediction_engine/backtest/runner.py",
        ],
        opt_level="3",
    ) + [
        # The replay's frames straight from the store's columns (store/assemble.py is its twin).
        Extension("prediction_engine.store._assemble",
                  ["src/prediction_engine/store/_assemble.c"], extra_compile_args=["-O3"]),
    ]

setup(ext_modules=ext_modules)
