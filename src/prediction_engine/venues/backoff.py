"""Exponential backoff with jitter and bounded attempts, for HTTP retries and reconnects."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True)
class Backoff:
    """``delay = uniform(cap / 2, cap)`` with ``cap = min(max_delay, base * 2**(attempt-1))``.

    Half the cap is kept so a retry never fires at once; the other half is jitter, so many
    clients that failed together do not come back together.
    """

    max_attempts: int = 10
    base_delay_s: float = 0.25
    max_delay_s: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        cap = min(self.max_delay_s, self.base_delay_s * 2.0 ** (attempt - 1))
        return cap / 2 + rng.random() * cap / 2
