"""Shared benchmark helpers: repeat a timed run and report the best rate."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable


def best_rate(run: Callable[[], int], repeats: int = 5) -> float:
    """Run ``run`` (returns the number of operations it did) ``repeats`` times; best ops/s."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        ops = run()
        best = max(best, ops / (time.perf_counter() - start))
    return best


def machine() -> str:
    """One line describing where the numbers come from."""
    return f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}"
