"""Build hook: compile the order book with mypyc for speed (same source, pure-Python fallback).

Set ``PENGINE_PURE_PYTHON=1`` to skip compilation (e.g. to debug the book in Python).
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
        ],
        opt_level="3",
    )

setup(ext_modules=ext_modules)
